"""Stage 8, store: SQLite (WAL, FTS5) by default, PostgreSQL for a shared server, behind a `Store` protocol.

Articles are written as soon as they are extracted, each batch in one transaction, so nothing ingested
is lost when a later stage fails. Derived results (entities, events, stories) are replaced as a whole
after every run: they are recomputed from the stored articles, which makes re-runs idempotent. The results
carry the fingerprint of what they were computed from, so a run with nothing new can keep them.

Readers see the last complete analysis: an article stored after it (by a run still analysing, or one killed
while analysing) has no event yet and is counted as pending, not shown. One analysis runs at a time
(`analysis_lock`), so two writers on one store never save results that miss each other's articles.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
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

# Version 2 added events.related, version 4 articles.origin and articles.event. Derived tables are rebuilt
# by every analysis, so migrating a store is dropping them and creating them anew; articles and rejections
# are kept, with columns added to articles (ARTICLE_COLUMNS_ADDED, by the version that added them).
SCHEMA_VERSION = 4
# The key of the PostgreSQL advisory lock that one analysis at a time holds (any fixed 64-bit number).
ANALYSIS_LOCK_KEY = 0x5354_4F52_594C
ARTICLE_COLUMNS_ADDED = {4: ("origin", "event")}
# Seconds a writer waits for another's transaction to end before giving up (SQLite's busy timeout).
BUSY_TIMEOUT_SECONDS = 600

# Tables shared by both stores, in SQL that SQLite and PostgreSQL both read. Lists (variants, languages,
# member ids, timelines) are stored as JSON text: they are always read whole, never queried inside.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT, published TEXT, lang TEXT, title TEXT NOT NULL,
    text TEXT NOT NULL, author TEXT, site TEXT, duplicate_of TEXT, content_hash TEXT NOT NULL, origin TEXT,
    event TEXT
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
    article TEXT NOT NULL, actor TEXT, actor_name TEXT, verb TEXT NOT NULL, code TEXT NOT NULL, target TEXT,
    target_name TEXT, date TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, date TEXT,
    languages TEXT NOT NULL, articles TEXT NOT NULL, related TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, languages TEXT NOT NULL,
    events TEXT NOT NULL, articles TEXT NOT NULL, timeline TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions (article);
CREATE INDEX IF NOT EXISTS articles_event ON articles (event)
"""
_ARTICLE_COLUMNS = ("id", "source", "url", "published", "lang", "title", "text", "author", "site", "duplicate_of",
                    "content_hash", "origin")
_UPSERT_ARTICLE = (
    f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}) VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))})"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _ARTICLE_COLUMNS[1:])
)
_DERIVED_TABLES = ("entities", "mentions", "quotes", "actions", "events", "stories")


class Store(Protocol):
    """What the pipeline needs from a store; SQLite and PostgreSQL implement it."""

    def content_hashes(self) -> dict[str, str]: ...
    def origins(self) -> dict[str, str | None]: ...
    def add_articles(self, articles: Iterable[tuple[Article, str]]) -> int: ...
    def add_rejected(self, rejected: Iterable[Rejected]) -> None: ...
    def remove_articles(self, ids: Iterable[str]) -> None: ...
    def articles(self) -> list[Article]: ...
    def analysis_lock(self) -> AbstractContextManager[None]: ...
    def save_results(self, digest: Digest, fingerprint: str = "") -> None: ...
    def fingerprint(self) -> str | None: ...
    def pending(self) -> int: ...
    def load(self) -> Digest: ...
    def search(self, query: str, limit: int = 20) -> list[Article]: ...
    def close(self) -> None: ...


class SQLStore:
    """Everything both SQL stores share. SQL is written with `?` placeholders; subclasses say how to
    connect, open a transaction, and index and search full text, the only parts where the dialects differ."""

    placeholder = "?"
    db: Any

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.db.execute(self._sql(statement), params).fetchall())

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _index_text(self, db: Any, article: Article) -> None:
        raise NotImplementedError

    def _unindex_text(self, db: Any, article_id: str) -> None:
        db.execute(self._sql("DELETE FROM articles_fts WHERE id = ?"), (article_id,))

    def analysis_lock(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def search(self, query: str, limit: int = 20) -> list[Article]:
        raise NotImplementedError

    def _create_schema(self, extra: str) -> None:
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = self._rows("SELECT value FROM meta WHERE key = 'schema_version'")
            if found and int(found[0]["value"]) < SCHEMA_VERSION:
                for table in _DERIVED_TABLES:
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute("DELETE FROM meta WHERE key = 'analysis'")  # the results it fingerprints are gone
                present = {column[0] for column in db.execute("SELECT * FROM articles LIMIT 0").description}
                for version, columns in ARTICLE_COLUMNS_ADDED.items():
                    for column in columns:
                        if int(found[0]["value"]) < version and column not in present:
                            db.execute(f"ALTER TABLE articles ADD COLUMN {column} TEXT")
            for statement in (_TABLES + ";" + extra).split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(self._sql("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE"
                                 " SET value = excluded.value"), (str(SCHEMA_VERSION),))

    def content_hashes(self) -> dict[str, str]:
        return {row["id"]: row["content_hash"] for row in self._rows("SELECT id, content_hash FROM articles")}

    def origins(self) -> dict[str, str | None]:
        """Each stored article's origin: the input its name-made id belongs to (None for ids inputs gave)."""
        return {row["id"]: row["origin"] for row in self._rows("SELECT id, origin FROM articles")}

    def add_articles(self, articles: Iterable[tuple[Article, str]]) -> int:
        """Insert or update articles (an id seen again with new content is updated); returns the count."""
        count = 0
        with self._transaction() as db:
            for article, content_hash in articles:
                db.execute(self._sql(_UPSERT_ARTICLE), (
                    article.id, article.source, article.url, _iso(article.published), article.lang, article.title,
                    article.text, article.author, article.site, article.duplicate_of, content_hash, article.origin))
                self._index_text(db, article)
                count += 1
        return count

    def add_rejected(self, rejected: Iterable[Rejected]) -> None:
        with self._transaction() as db:
            for item in rejected:
                db.execute(self._sql("INSERT INTO rejected VALUES (?, ?) ON CONFLICT DO NOTHING"),
                           (item.source, item.reason))

    def remove_articles(self, ids: Iterable[str]) -> None:
        """Take out articles that analysis cannot use (each one already recorded as rejected)."""
        with self._transaction() as db:
            for article_id in ids:
                db.execute(self._sql("DELETE FROM articles WHERE id = ?"), (article_id,))
                self._unindex_text(db, article_id)

    def articles(self) -> list[Article]:
        """Every stored article, analysed or not (what analysis reads)."""
        return [_article(row) for row in self._rows("SELECT * FROM articles ORDER BY id")]

    def pending(self) -> int:
        """Articles stored after the last complete analysis: no reader shows them until one places them."""
        return int(self._rows("SELECT COUNT(*) AS n FROM articles WHERE event IS NULL")[0]["n"])

    def save_results(self, digest: Digest, fingerprint: str = "") -> None:
        """Replace everything derived from the articles by this run's results, in one transaction, with the
        fingerprint of the articles and settings they come from ("" when unknown)."""
        rows: dict[str, list[tuple[Any, ...]]] = {
            "entities": [(e.id, e.name, e.type, _json(e.variants)) for e in digest.entities],
            "mentions": [(m.article, m.entity, m.start, m.end, m.text, m.type) for m in digest.mentions],
            "quotes": [(q.article, q.speaker, q.speaker_name, q.text, q.cue, int(q.direct), q.start, q.end)
                       for q in digest.quotes],
            "actions": [(a.article, a.actor, a.actor_name, a.verb, a.code, a.target, a.target_name, a.date)
                        for a in digest.actions],
            "events": [(e.id, e.story, e.title, e.summary, e.date, _json(e.languages), _json(e.articles),
                        _json(e.related_articles)) for e in digest.events],
            "stories": [(s.id, s.title, s.summary, _json(s.languages), _json(s.events), _json(s.articles),
                         _json([asdict(t) for t in s.timeline])) for s in digest.stories],
        }
        with self._transaction() as db:
            cursor = db.cursor()
            for table in _DERIVED_TABLES:
                cursor.execute(f"DELETE FROM {table}")
                if rows[table]:
                    marks = ", ".join("?" * len(rows[table][0]))
                    cursor.executemany(self._sql(f"INSERT INTO {table} VALUES ({marks})"), rows[table])
            # Analysis may link a copy or date an undated article from its text: keep both with the article.
            event_of = {article: event.id for event in digest.events for article in event.articles}
            cursor.execute("UPDATE articles SET event = NULL")
            cursor.executemany(
                self._sql("UPDATE articles SET duplicate_of = ?, published = ?, event = ? WHERE id = ?"),
                [(a.duplicate_of, _iso(a.published), event_of[a.id], a.id) for a in digest.articles])
            cursor.execute(self._sql("INSERT INTO meta VALUES ('analysis', ?) ON CONFLICT (key) DO UPDATE"
                                     " SET value = excluded.value"), (fingerprint,))

    def fingerprint(self) -> str | None:
        """The fingerprint saved with the stored results; None before the first analysis or when unknown."""
        found = self._rows("SELECT value FROM meta WHERE key = 'analysis'")
        return (found[0]["value"] or None) if found else None

    def load(self) -> Digest:
        """The last complete analysis, with the articles it placed (never one that waits for analysis)."""
        return Digest(
            articles=[_article(row)
                      for row in self._rows("SELECT * FROM articles WHERE event IS NOT NULL ORDER BY id")],
            events=[Event(r["id"], r["story"], r["title"], r["summary"], r["date"], json.loads(r["languages"]),
                          json.loads(r["articles"]), json.loads(r["related"]))
                    for r in self._rows("SELECT * FROM events ORDER BY date, id")],
            stories=[Story(r["id"], r["title"], r["summary"], json.loads(r["languages"]), json.loads(r["events"]),
                           json.loads(r["articles"]), [TimelineEntry(**t) for t in json.loads(r["timeline"])])
                     for r in self._rows("SELECT * FROM stories")],
            entities=[Entity(r["id"], r["name"], r["type"], json.loads(r["variants"]))
                      for r in self._rows("SELECT * FROM entities ORDER BY id")],
            mentions=[Mention(r["article"], r["entity"], r["start"], r["end"], r["text"], r["type"])
                      for r in self._rows("SELECT * FROM mentions")],
            quotes=[Quote(r["article"], r["speaker"], r["speaker_name"], r["text"], r["cue"], bool(r["direct"]),
                          r["start"], r["end"]) for r in self._rows("SELECT * FROM quotes")],
            actions=[Action(r["article"], r["actor"], r["actor_name"], r["verb"], r["code"], r["target"],
                            r["target_name"], r["date"])
                     for r in self._rows("SELECT * FROM actions")],
            rejected=[Rejected(r["source"], r["reason"])
                      for r in self._rows("SELECT * FROM rejected ORDER BY source, reason")],
        )

    def close(self) -> None:
        self.db.close()


class SQLiteStore(SQLStore):
    """The embedded default: one file, WAL journal, FTS5 full-text index over normalised text."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = str(path)
        if not create and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreMissing(f"no store at {self.path} (digest or ingest creates one)")
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self._create_schema(
                "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
                "id UNINDEXED, title, text, tokenize = 'unicode61 remove_diacritics 2')"
            )
        except sqlite3.Error as error:  # a directory, another kind of file, a damaged database
            raise ValueError(f"not a usable SQLite database ({_one_line(error)})") from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    @contextmanager
    def analysis_lock(self) -> Iterator[None]:
        """An exclusive lock on a file beside the database, held from reading the articles to saving the
        results. flock is released by the kernel when the holder dies, so a killed run never leaves it
        held (a lock row in the database would stay behind after kill -9)."""
        if self.path == ":memory:":
            yield
            return
        import fcntl

        with open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _index_text(self, db: Any, article: Article) -> None:
        db.execute("DELETE FROM articles_fts WHERE id = ?", (article.id,))
        db.execute("INSERT INTO articles_fts (id, title, text) VALUES (?,?,?)",
                   (article.id, normalize(article.title), normalize(article.text)))

    def search(self, query: str, limit: int = 20) -> list[Article]:
        """Full-text search (BM25) over normalised headlines and bodies."""
        terms = " ".join(f'"{t}"' for t in normalize(query).replace('"', " ").split())
        if not terms:
            return []
        rows = self._rows(
            "SELECT a.* FROM articles_fts f JOIN articles a ON a.id = f.id WHERE articles_fts MATCH ?"
            " AND a.event IS NOT NULL ORDER BY bm25(articles_fts) LIMIT ?", (terms, limit))
        return [_article(row) for row in rows]


class PostgresStore(SQLStore):
    """The shared server store (psycopg 3): same tables, full text through a tsvector column and GIN index."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as error:
            raise ValueError("the PostgreSQL store needs the 'postgres' extra: pip install 'storyline[postgres]'") \
                from error
        try:
            self.db = psycopg.connect(url, row_factory=dict_row, autocommit=True)
            self._create_schema(
                "CREATE TABLE IF NOT EXISTS articles_fts (id TEXT PRIMARY KEY, doc tsvector NOT NULL);"
                "CREATE INDEX IF NOT EXISTS articles_fts_doc ON articles_fts USING gin (doc)"
            )
        except psycopg.Error as error:  # no server there, refused credentials, no such database
            raise ValueError(f"cannot use the PostgreSQL database ({_one_line(error)})") from error

    def _transaction(self) -> AbstractContextManager[Any]:
        @contextmanager
        def transaction() -> Iterator[Any]:
            with self.db.transaction():
                yield self.db

        return transaction()

    @contextmanager
    def analysis_lock(self) -> Iterator[None]:
        """A session-level advisory lock: the server releases it when the holder's connection ends."""
        self.db.execute("SELECT pg_advisory_lock(%s)", (ANALYSIS_LOCK_KEY,))
        try:
            yield
        finally:
            self.db.execute("SELECT pg_advisory_unlock(%s)", (ANALYSIS_LOCK_KEY,))

    def _index_text(self, db: Any, article: Article) -> None:
        db.execute(
            "INSERT INTO articles_fts VALUES (%s, to_tsvector('simple', %s)) "
            "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
            (article.id, normalize(f"{article.title} {article.text}")),
        )

    def search(self, query: str, limit: int = 20) -> list[Article]:
        """Full-text search ranked by ts_rank over normalised headlines and bodies."""
        if not normalize(query).split():
            return []
        rows = self._rows(
            "SELECT a.* FROM articles_fts f JOIN articles a ON a.id = f.id,"
            " plainto_tsquery('simple', ?) q WHERE f.doc @@ q AND a.event IS NOT NULL"
            " ORDER BY ts_rank(f.doc, q) DESC, a.id LIMIT ?",
            (normalize(query), limit))
        return [_article(row) for row in rows]


class StoreMissing(ValueError):
    """A reader named a SQLite store that does not exist (it is not created: a typo must not make one)."""


def open_store(target: str | Path, create: bool = True) -> Store:
    """A store for `--db`: a `postgresql://` URL for PostgreSQL, anything else is a SQLite file path, which
    is created when missing only if `create` (writers do; readers raise StoreMissing instead)."""
    if str(target).startswith(("postgresql://", "postgres://")):
        return PostgresStore(str(target))
    return SQLiteStore(target, create)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _article(row: Any) -> Article:
    return Article(
        id=row["id"], title=row["title"], text=row["text"], source=row["source"], url=row["url"],
        published=datetime.fromisoformat(row["published"]) if row["published"] else None, lang=row["lang"],
        author=row["author"], site=row["site"], duplicate_of=row["duplicate_of"], origin=row["origin"],
    )


def _one_line(error: Exception) -> str:
    """A driver's message on one line (psycopg's span several), for the CLI's one line per problem."""
    return " ".join(str(error).split())
