"""Store: SQLite in WAL mode; ingested articles survive a failure in a later stage; search works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storyline import increment, pipeline
from storyline.export import to_json
from storyline.store import PostgresStore, SQLiteStore, Store, open_store


def _corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "one.txt").write_text("Talks open in Geneva\n\nMinisters met in Geneva on Monday.", encoding="utf-8")
    (folder / "two.txt").write_text("محادثات في جنيف\n\nالتقى الوزيران في جنيف يوم الاثنين.", encoding="utf-8")
    return folder


def test_store_uses_wal_journal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_ingested_articles_survive_a_crash_in_a_later_stage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: object) -> None:
        raise RuntimeError("clustering blew up")

    monkeypatch.setattr(increment, "cluster_more", crash)
    store = SQLiteStore(tmp_path / "s.db")
    with pytest.raises(RuntimeError):
        pipeline.digest([_corpus(tmp_path)], store)
    store.close()
    reopened = SQLiteStore(tmp_path / "s.db")
    assert [a.id for a in reopened.articles()] == ["one", "two"]
    reopened.close()


def test_search_finds_arabic_and_english_articles(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    pipeline.digest([_corpus(tmp_path)], store)
    assert [a.id for a in store.search("Geneva")] == ["one"]
    assert [a.id for a in store.search("جنيف")] == ["two"]
    assert store.search("   ") == []
    store.close()


def test_a_common_word_is_searched_in_its_newest_matches_ranked_by_relevance(tmp_path: Path) -> None:
    # A word in much of a big store is searched among its SEARCH_DEPTH newest matches (stored last), which
    # are then ranked: ranking every match costs a million-article store hundreds of milliseconds.
    folder = tmp_path / "in"
    folder.mkdir()
    texts = {"old": "Harbour strike talks.", "mid": "Harbour strike. Harbour strike. Harbour pay.",
             "new": "Harbour news today, and a strike."}
    store = SQLiteStore(tmp_path / "s.db")
    for name, text in texts.items():  # stored one after another: "new" is the newest
        (folder / f"{name}.txt").write_text(f"Port\n\n{text}", encoding="utf-8")
        pipeline.digest([folder / f"{name}.txt"], store)
    assert [a.id for a in store.search("harbour strike")] == ["mid", "old", "new"]  # ranked by relevance
    statement, params = store._text_hits("harbour strike", 2)
    newest = store._rows(f"SELECT id FROM ({statement}) h ORDER BY rank", params)
    assert [row["id"] for row in newest] == ["mid", "new"]  # the two newest matches, ranked
    store.close()


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url)
    assert isinstance(store, PostgresStore)
    yield store
    for table in ("articles", "articles_fts", "rejected", "entities", "mentions", "quotes", "actions", "events",
                  "stories"):
        store.db.execute(f"DELETE FROM {table}")
    store.db.execute("DELETE FROM analysis_state")
    store.close()


def test_postgres_store_holds_the_same_digest_as_sqlite(tmp_path: Path, postgres: Store) -> None:
    corpus = _corpus(tmp_path)
    (corpus / "bad.jsonl").write_text("{broken\n", encoding="utf-8")
    lite = SQLiteStore(tmp_path / "s.db")
    _, expected = pipeline.digest([corpus], lite)
    _, got = pipeline.digest([corpus], postgres)
    assert to_json(got) == to_json(expected)
    assert [r.source.endswith("bad.jsonl:1") for r in got.rejected] == [True]
    lite.close()


def test_postgres_rerun_adds_nothing_and_search_works(tmp_path: Path, postgres: Store) -> None:
    corpus = _corpus(tmp_path)
    first, _ = pipeline.digest([corpus], postgres)
    second, result = pipeline.digest([corpus], postgres)
    assert (first.added, second.added, second.read) == (2, 0, 2)
    assert len(result.articles) == 2
    assert [a.id for a in postgres.search("geneva")] == ["one"]
    assert [a.id for a in postgres.search("جنيف")] == ["two"]


def test_store_of_an_older_schema_is_migrated_and_keeps_its_articles(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    pipeline.digest([_corpus(tmp_path)], store)
    store.db.execute("DROP TABLE events")
    store.db.execute("CREATE TABLE events (id TEXT PRIMARY KEY)")  # the shape of an older version
    store.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    store.db.commit()
    store.close()
    migrated = SQLiteStore(tmp_path / "s.db")
    assert [a.id for a in migrated.articles()] == ["one", "two"]
    result = pipeline.analyse(migrated)
    assert sorted(a for e in result.events for a in e.articles) == ["one", "two"]
    migrated.close()
