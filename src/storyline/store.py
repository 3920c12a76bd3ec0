"""Stage 8, store: SQLite (WAL, FTS5) by default, behind a small `Store` protocol.

Articles are written as soon as they are extracted, each batch in one transaction, so nothing ingested
is lost when a later stage fails. Derived results (entities, events, stories) are replaced as a whole
after every run: they are recomputed from the stored articles, which makes re-runs idempotent.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from storyline.model import (
    Action,
    Article,
    Digest,
    Entity,
    Event,
    Mention,
    Quote,
    Rejected,
    Story,
    TimelineEntry,
)
from storyline.normalize import normalize

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT, published TEXT, lang TEXT, title TEXT NOT NULL,
    text TEXT NOT NULL, author TEXT, site TEXT, duplicate_of TEXT, content_hash TEXT NOT NULL,
    added TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    id UNINDEXED, title, text, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS rejected (
    source TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (source, reason)
);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, variants TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mentions (
    article TEXT NOT NULL, entity TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quotes (
    article TEXT NOT NULL, speaker TEXT, speaker_name TEXT, text TEXT NOT NULL, cue TEXT, direct INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
    article TEXT NOT NULL, actor TEXT, verb TEXT NOT NULL, code TEXT NOT NULL, target TEXT, date TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, date TEXT,
    languages TEXT NOT NULL, articles TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, languages TEXT NOT NULL,
    events TEXT NOT NULL, articles TEXT NOT NULL, timeline TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions (article);
"""


class Store(Protocol):
    """What the pipeline needs from a store; SQLite and PostgreSQL implement it."""

    def content_hashes(self) -> dict[str, str]: ...
    def add_articles(self, articles: Iterable[tuple[Article, str]]) -> int: ...
    def add_rejected(self, rejected: Iterable[Rejected]) -> None: ...
    def articles(self) -> list[Article]: ...
    def save_results(self, digest: Digest) -> None: ...
    def load(self) -> Digest: ...
    def search(self, query: str, limit: int = 20) -> list[Article]: ...
    def close(self) -> None: ...


class SQLiteStore:
    """The embedded default: one file, WAL journal, FTS5 full-text index over normalised text."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self.db.commit()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    def content_hashes(self) -> dict[str, str]:
        return {row["id"]: row["content_hash"] for row in self.db.execute("SELECT id, content_hash FROM articles")}

    def add_articles(self, articles: Iterable[tuple[Article, str]]) -> int:
        """Insert or update articles (an id seen again with new content is updated); returns the count."""
        count = 0
        with self._transaction() as db:
            for article, content_hash in articles:
                db.execute(
                    "INSERT OR REPLACE INTO articles (id, source, url, published, lang, title, text, author, site,"
                    " duplicate_of, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (article.id, article.source, article.url, _iso(article.published), article.lang,
                     article.title, article.text, article.author, article.site, article.duplicate_of,
                     content_hash),
                )
                db.execute("DELETE FROM articles_fts WHERE id = ?", (article.id,))
                db.execute("INSERT INTO articles_fts (id, title, text) VALUES (?,?,?)",
                           (article.id, normalize(article.title), normalize(article.text)))
                count += 1
        return count

    def add_rejected(self, rejected: Iterable[Rejected]) -> None:
        with self._transaction() as db:
            db.executemany("INSERT OR IGNORE INTO rejected VALUES (?, ?)", [(r.source, r.reason) for r in rejected])

    def articles(self) -> list[Article]:
        return [_article(row) for row in self.db.execute("SELECT * FROM articles ORDER BY id")]

    def save_results(self, digest: Digest) -> None:
        """Replace everything derived from the articles by this run's results, in one transaction."""
        with self._transaction() as db:
            for table in ("entities", "mentions", "quotes", "actions", "events", "stories"):
                db.execute(f"DELETE FROM {table}")
            db.executemany("UPDATE articles SET duplicate_of = ? WHERE id = ?",
                           [(a.duplicate_of, a.id) for a in digest.articles])
            db.executemany("INSERT INTO entities VALUES (?,?,?,?)",
                           [(e.id, e.name, e.type, _json(e.variants)) for e in digest.entities])
            db.executemany("INSERT INTO mentions VALUES (?,?,?,?,?,?)",
                           [(m.article, m.entity, m.start, m.end, m.text, m.type) for m in digest.mentions])
            db.executemany("INSERT INTO quotes VALUES (?,?,?,?,?,?,?,?)",
                           [(q.article, q.speaker, q.speaker_name, q.text, q.cue, int(q.direct), q.start, q.end)
                            for q in digest.quotes])
            db.executemany("INSERT INTO actions VALUES (?,?,?,?,?,?)",
                           [(a.article, a.actor, a.verb, a.code, a.target, a.date) for a in digest.actions])
            db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?)",
                           [(e.id, e.story, e.title, e.summary, e.date, _json(e.languages), _json(e.articles))
                            for e in digest.events])
            db.executemany("INSERT INTO stories VALUES (?,?,?,?,?,?,?)",
                           [(s.id, s.title, s.summary, _json(s.languages), _json(s.events), _json(s.articles),
                             _json([asdict(t) for t in s.timeline])) for s in digest.stories])

    def load(self) -> Digest:
        db = self.db
        return Digest(
            articles=self.articles(),
            events=[Event(r["id"], r["story"], r["title"], r["summary"], r["date"], json.loads(r["languages"]),
                          json.loads(r["articles"])) for r in db.execute("SELECT * FROM events ORDER BY date, id")],
            stories=[Story(r["id"], r["title"], r["summary"], json.loads(r["languages"]), json.loads(r["events"]),
                           json.loads(r["articles"]), [TimelineEntry(**t) for t in json.loads(r["timeline"])])
                     for r in db.execute("SELECT * FROM stories")],
            entities=[Entity(r["id"], r["name"], r["type"], json.loads(r["variants"]))
                      for r in db.execute("SELECT * FROM entities ORDER BY id")],
            mentions=[Mention(r["article"], r["entity"], r["start"], r["end"], r["text"], r["type"])
                      for r in db.execute("SELECT * FROM mentions")],
            quotes=[Quote(r["article"], r["speaker"], r["speaker_name"], r["text"], r["cue"], bool(r["direct"]),
                          r["start"], r["end"]) for r in db.execute("SELECT * FROM quotes")],
            actions=[Action(r["article"], r["actor"], r["verb"], r["code"], r["target"], r["date"])
                     for r in db.execute("SELECT * FROM actions")],
            rejected=[Rejected(r["source"], r["reason"]) for r in db.execute("SELECT * FROM rejected ORDER BY source")],
        )

    def search(self, query: str, limit: int = 20) -> list[Article]:
        """Full-text search (BM25) over normalised headlines and bodies."""
        terms = " ".join(f'"{t}"' for t in normalize(query).replace('"', " ").split())
        if not terms:
            return []
        rows = self.db.execute(
            "SELECT a.* FROM articles_fts f JOIN articles a ON a.id = f.id WHERE articles_fts MATCH ?"
            " ORDER BY bm25(articles_fts) LIMIT ?", (terms, limit))
        return [_article(row) for row in rows]

    def close(self) -> None:
        self.db.close()


def open_store(target: str | Path) -> Store:
    """A store for `--db`: a `postgresql://` URL for PostgreSQL, anything else is a SQLite file path."""
    if str(target).startswith(("postgresql://", "postgres://")):
        raise ValueError("PostgreSQL store is not available yet: use a SQLite file path for --db")
    return SQLiteStore(target)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _article(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"], title=row["title"], text=row["text"], source=row["source"], url=row["url"],
        published=datetime.fromisoformat(row["published"]) if row["published"] else None, lang=row["lang"],
        author=row["author"], site=row["site"], duplicate_of=row["duplicate_of"],
    )
