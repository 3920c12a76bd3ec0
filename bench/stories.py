"""Stories against the topics of real sets: each set digested by the pipeline as a user would (ingest, then
analyse, default settings: the encoder where it installs), the found stories scored against the set's topics
by BCubed F1, with the largest story and what it mixes.

    python bench/stories.py [--sets dev timelines timelines-txt unannotated] [--limit N] [--keep DIR]
                            [--replay SETTING=VALUE ...]

With --replay, each run also records the closed events its story grouper is given, in order, and the story
decisions are replayed with each SETTING of storyline.cluster changed (e.g. STORY_WINDOW_SHARE=0.5
COUNTRY_SHARE=2): the events do not depend on the story settings, so a replay gives what a run with the
setting would, in seconds instead of minutes (BSNLP dev's figure moves by 0.05 between runs of nearly the same
code: compare settings on one run's events).

- dev: BSNLP dev (3,183 articles, six topics in six Slavic languages), as JSONL records;
- timelines / timelines-txt: the timelines docs (1,671 es/fr/it articles on four Arab Spring crises over
  years), as JSONL records with their dates, and as one `.txt` file per article (no date but what the text
  says: as a folder of scraped files arrives);
- unannotated: BSNLP unannotated (1,452 articles, covid-19 and the 2020 US election), as JSONL records.
A topic is the true story. Not a unit test: about 25 minutes for all four on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import bcubed, read_jsonl, table

from storyline import cluster, pipeline, relatedness
from storyline.model import Entity
from storyline.store import SQLiteStore

SETS = {"dev": "bsnlp/dev.jsonl.gz", "timelines": "timelines/docs.jsonl.gz",
        "timelines-txt": "timelines/docs.jsonl.gz", "unannotated": "bsnlp/unannotated.jsonl.gz"}


def records(name: str, limit: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A set's documents as storyline records in a shuffled order, and each record's topic by id. The ids
    (and file names) are hashes: an undated article streams in id order, which topic-named ids would sort
    by topic."""
    found: dict[str, dict[str, Any]] = {}
    topic: dict[str, str] = {}
    for row in read_jsonl(SETS[name]):
        key = hashlib.sha1(f"{row['topic']}/{row['lang']}/{row['doc_id']}".encode()).hexdigest()[:16]
        topic[key] = row["topic"]
        found.setdefault(key, {"id": key, "title": row.get("title") or "", "text": row["text"], "lang": row["lang"],
                               "published": row.get("date") or ""})
    return sorted(found.values(), key=lambda r: r["id"])[:limit], topic


def written(name: str, rows: list[dict[str, Any]], folder: Path) -> tuple[list[Path], dict[str, str]]:
    """The rows as the input files of a run, and each input's record id by the source name ingest records."""
    if name.endswith("-txt"):
        folder.mkdir(parents=True)
        paths = []
        for row in rows:
            path = folder / f"{row['id']}.txt"
            path.write_text(f"{row['title']}\n\n{row['text']}" if row["title"] else row["text"], encoding="utf-8")
            paths.append(path)
        return paths, {str(p): p.stem for p in paths}
    path = folder.with_suffix(".jsonl")
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return [path], {r["id"]: r["id"] for r in rows}


def scored(name: str, limit: int, folder: Path, replays: list[str]) -> list[list[object]]:
    rows, topic_of = records(name, limit)
    paths, record_of = written(name, rows, folder / name)
    store = SQLiteStore(folder / f"{name}.db")
    began = time.perf_counter()
    pipeline.ingest(paths, store)
    with recorded() as closed:
        pipeline.analyse(store, load=False)
    seconds = time.perf_counter() - began
    digest = store.load()
    store.close()
    topic = {a.id: topic_of[record_of.get(a.id) or record_of[a.source]] for a in digest.articles}
    story = {a: event.story for event in digest.events for a in event.articles}
    truth = {a: topic[a] for a in story}
    sizes = Counter(story.values())
    largest, size = sizes.most_common(1)[0]
    mix = Counter(truth[a] for a, s in story.items() if s == largest).most_common(3)
    everything = {a: "one" for a in story}
    found = [[name, len(story), len(set(truth.values())), len(sizes), len(digest.events),
              f"{bcubed(truth, story):.3f}", f"{bcubed(truth, everything):.3f}",
              f"{size}: " + ", ".join(f"{t} {n}" for t, n in mix), shared_names(digest.entities), f"{seconds:.0f}"]]
    for setting in ["replayed as run", *replays]:
        stories = replayed(closed, setting)
        found.append([f"{name}, {setting}", len(stories), "", len(set(stories.values())), "",
                      f"{bcubed({a: topic[a] for a in stories}, stories):.3f}", "", "", "", ""])
    return found if replays else found[:1]


def shared_names(entities: list[Entity]) -> str:
    """How many spellings (normalised) name more than one entity of one type, and how many entities those are:
    the duplicates a run's windows left in the registry (one spelling of two people is rarer)."""
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entity in entities:
        for key in entity.name_keys():
            owners[entity.type, key].add(entity.id)
    shared = [ids for ids in owners.values() if len(ids) > 1]
    return f"{len(shared)} / {len(set().union(*shared))}"


@contextmanager
def recorded() -> Iterator[list[bytes]]:
    """The closed events the story grouper is given during the block, pickled in order: those of the
    clusterer's state, then those a run's last window groups provisionally (on a copy of the state, after
    every other)."""
    closed: list[bytes] = []
    add = cluster.StoryGrouper.add

    def spy(grouper: cluster.StoryGrouper, event: cluster.Group) -> str:
        closed.append(pickle.dumps(event))
        return add(grouper, event)

    cluster.StoryGrouper.add = spy  # type: ignore[method-assign, assignment]
    try:
        yield closed
    finally:
        cluster.StoryGrouper.add = add  # type: ignore[method-assign]


def replayed(closed: list[bytes], setting: str) -> dict[str, str]:
    """Article -> story when the recorded events meet a story grouper with one setting of storyline.cluster
    changed ("NAME=VALUE"; anything else replays the run as it was)."""
    name, _, value = setting.partition("=")
    before = getattr(cluster, name, None)
    if value:
        setattr(cluster, name, type(before)(value) if before is not None else float(value))
    try:
        grouper = cluster.StoryGrouper(relatedness.default())
        story: dict[str, str] = {}
        for blob in closed:
            event = pickle.loads(blob)
            story.update(dict.fromkeys(event.members, grouper.add(event)))
        return story
    finally:
        if value:
            setattr(cluster, name, before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--limit", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="a folder for the stores (kept), instead of a temporary one")
    parser.add_argument("--replay", nargs="+", default=[], metavar="SETTING=VALUE",
                        help="replay each run's story decisions with a setting of storyline.cluster changed")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="storyline-stories-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = [row for name in args.sets for row in scored(name, args.limit, folder, args.replay)]
    print(table("Stories against the topics, full pipeline (ingest + analyse)",
                ["set", "articles", "topics", "stories", "events", "story BCubed F1", "all in one story",
                 "largest story: topics", "spellings in two entities / entities", "seconds"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
