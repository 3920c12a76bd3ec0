"""Store: SQLite in WAL mode; ingested articles survive a failure in a later stage; search works."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyline import pipeline
from storyline.store import SQLiteStore, open_store


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

    monkeypatch.setattr(pipeline, "cluster", crash)
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


def test_postgres_url_without_server_support_gives_a_clear_error() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        open_store("postgresql://localhost/news")
