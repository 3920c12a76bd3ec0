"""Reader latency of the store: `stories`, `show` and `search` on stores of 10k to 1M articles.

The stores hold real article texts (BSNLP and SemEval texts, cycled and given new ids and dates) in synthetic
events (5 articles), stories (4 events) and entities (a Zipf-like pool: a few entities in many articles, most
in few), written through the Store API the pipeline uses. Each query kind runs QUERIES times on random
ids and words; the table gives p50 and p99 in milliseconds, the build time and the bytes on disk per article.

    python bench/store.py --sizes 10000 100000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import read_jsonl, table

from storyline.model import Article, Digest, Entity, Event, Mention, Story, TimelineEntry
from storyline.store import Filters, SQLiteStore

QUERIES = 200
EVENT_SIZE, STORY_EVENTS, MENTIONS_PER_ARTICLE = 5, 4, 3
LANGS = ("en", "de", "fr", "ru", "ar", "es", "pl", "it")
START = datetime(2020, 1, 1, tzinfo=UTC)


def _texts() -> list[tuple[str, str]]:
    texts = [(r.get("title") or r["text"][:80], r["text"]) for r in read_jsonl("bsnlp/unannotated.jsonl.gz")]
    return texts[:5000]


def build(path: Path, size: int, texts: list[tuple[str, str]], rng: random.Random,
          write: bool = True) -> tuple[float, Digest]:
    """A store of `size` articles; returns the seconds it took and the digest written (with `write` False,
    only the digest: the one a store built before from the same seed holds)."""
    articles, events, stories, mentions = [], [], [], []
    entities = [Entity(f"ent-{n}", f"Entity {n} Name", "PER" if n % 3 else "ORG", [f"Entity {n} Name", f"E{n}"])
                for n in range(max(100, size // 20))]
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(entities))))  # cumulative, once
    for n in range(size):
        title, text = texts[n % len(texts)]
        when = START + timedelta(minutes=7 * n)
        articles.append(Article(id=f"a{n}", title=title[:300], text=text, source=f"bench/{n}.txt",
                                lang=LANGS[n % len(LANGS)], published=when))
        for entity in rng.choices(entities, cum_weights=weights, k=MENTIONS_PER_ARTICLE):
            mentions.append(Mention(f"a{n}", entity.id, 0, 5, entity.name, entity.type))
    for start in range(0, size, EVENT_SIZE):
        members = [a.id for a in articles[start:start + EVENT_SIZE]]
        story = f"st-{start // (EVENT_SIZE * STORY_EVENTS)}"
        day = articles[start].published
        events.append(Event(f"ev-{start}", story, articles[start].title, "Summary.", day.date().isoformat() if day
                            else None, sorted({articles[start].lang or "en"}), members))
    by_story: dict[str, list[Event]] = {}
    for event in events:
        by_story.setdefault(event.story, []).append(event)
    for story_id, members_of in by_story.items():
        stories.append(Story(story_id, members_of[0].title, "Summary.", sorted({lang for e in members_of
                                                                                for lang in e.languages}),
                             [e.id for e in members_of], [a for e in members_of for a in e.articles],
                             [TimelineEntry(e.date, e.id, e.title) for e in members_of]))
    digest = Digest(articles=articles, events=events, stories=stories, entities=entities, mentions=mentions)
    if not write:
        return 0.0, digest
    began = time.perf_counter()
    store = SQLiteStore(path)
    store.add_articles((a, f"h{a.id}") for a in articles)
    store.save_results(digest)
    store.close()
    return time.perf_counter() - began, digest


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def measure(path: Path, digest: Digest, rng: random.Random) -> dict[str, tuple[float, float]]:
    """p50 and p99 (ms) of each reader query."""
    store = SQLiteStore(path)
    words = [w for _, text in _texts()[:500] for w in text.split()[:30] if w.isalpha() and len(w) > 4]
    ids = [a.id for a in digest.articles]
    queries: dict[str, Callable[[], object]] = {
        "stories (newest page)": lambda: store.stories(),
        "stories (page 50, growth)": lambda: store.stories(sort="growth", offset=1000),
        "stories --language": lambda: store.stories(Filters(language=rng.choice(LANGS))),
        "stories --entity": lambda: store.stories(Filters(entity=rng.choice(digest.entities[:500]).name)),
        "stories --text": lambda: store.stories(Filters(text=rng.choice(words))),
        "show story": lambda: store.story(rng.choice(digest.stories).id),
        "show event": lambda: store.event(rng.choice(digest.events).id),
        "show article": lambda: (store.article(aid := rng.choice(ids)), store.placement(aid)),
        "show entity (tail)": lambda: store.entity(rng.choice(digest.entities[len(digest.entities) // 2:]).id),
        "search word": lambda: store.search(rng.choice(words)),
        "search entity name": lambda: store.search(rng.choice(digest.entities[:500]).variants[1]),
    }
    figures = {}
    for name, run in queries.items():
        run()  # warm the page cache
        times = sorted(_timed(run) for _ in range(QUERIES))
        figures[name] = (statistics.median(times), times[int(len(times) * 0.99) - 1])
    store.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", type=Path, help="build the stores in this folder and keep them; a store"
                                                   " already there is measured as it is (built by this script)")
    args = parser.parse_args()
    texts = _texts()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="storyline-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    results, builds = {}, {}
    for size in args.sizes:
        rng = random.Random(size)
        path = folder / f"store-{size}.db"
        seconds, digest = build(path, size, texts, rng, write=not (args.keep and path.exists()))
        disk = sum(p.stat().st_size for p in folder.glob(f"store-{size}.db*"))
        builds[size] = (seconds, disk / size)
        results[size] = measure(path, digest, rng)
        print(f"built and measured {size} articles", file=sys.stderr)
    header = ["query", *(f"p50 / p99 ms at {size:,}" for size in args.sizes)]
    rows: list[list[object]] = [[name, *(f"{results[s][name][0]:.2f} / {results[s][name][1]:.2f}" for s in args.sizes)]
                                for name in results[args.sizes[0]]]
    rows.append(["build (s) / bytes on disk per article", *(f"{builds[s][0]:.0f} / {builds[s][1]:.0f}"
                                                           for s in args.sizes)])
    print(table(f"Store readers (SQLite), {QUERIES} queries each", header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
