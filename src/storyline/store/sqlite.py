"""The embedded default store: one SQLite file, WAL journal, FTS5 full-text index over normalised text."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storyline.model import Article
from storyline.normalize import normalize
from storyline.store.sql import BUSY_TIMEOUT_SECONDS, SQLStore, one_line

# Tries at switching a new store to WAL while another writer holds it (about 10 s in all, see `_wal`).
WAL_ATTEMPTS = 20


class StoreMissing(ValueError):
    """A reader named a SQLite store that does not exist (it is not created: a typo must not make one)."""


class SQLiteStore(SQLStore):
    """The embedded default: one file, WAL journal, FTS5 full-text index over normalised text."""

    def __init__(self, path: str | Path, create: bool = True, read_only: bool = False) -> None:
        """`create`: make the file when it is missing (writers); `read_only`: a reader's connection, which
        writes nothing, not even the schema (opening a big store must not build an index), and refuses writes."""
        self.path = str(path)
        if (read_only or not create) and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreMissing(f"no store at {self.path} (digest or ingest creates one)")
        try:
            self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            self.db.row_factory = sqlite3.Row
            if read_only:
                self.db.execute("PRAGMA query_only = ON")
                self._check_schema()
                return
            self._wal()
            # The index's rowid is the article row's: FTS5 finds a row by rowid at once, while a lookup by an
            # UNINDEXED id column scans the whole index (which made every insert O(store)).
            self._create_schema(
                "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
                "title, text, tokenize = 'unicode61 remove_diacritics 2')"
            )
        except sqlite3.Error as error:  # a directory, another kind of file, a damaged database
            raise ValueError(f"not a usable SQLite database ({one_line(error)})") from error

    def _wal(self) -> None:
        """Switch to the WAL journal. Two writers creating one store at once race for it, and SQLite answers
        the loser "database is locked" at once, without its busy timeout: try again for a while."""
        for attempt in range(WAL_ATTEMPTS):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == WAL_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

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
        rowid = db.execute("SELECT rowid FROM articles WHERE id = ?", (article.id,)).fetchone()[0]
        db.execute("DELETE FROM articles_fts WHERE rowid = ?", (rowid,))
        db.execute("INSERT INTO articles_fts (rowid, title, text) VALUES (?,?,?)",
                   (rowid, normalize(article.title), normalize(article.text)))

    def _unindex_text(self, db: Any, article_id: str) -> None:
        db.execute("DELETE FROM articles_fts WHERE rowid = (SELECT rowid FROM articles WHERE id = ?)", (article_id,))

    def _text_hits(self, query: str, depth: int) -> tuple[str, list[Any]] | None:
        """FTS5 over normalised headlines and bodies, every word of the query matching: the `depth` newest
        matches (by rowid, the order articles were stored in), with their BM25 rank for the caller to order
        by. FTS5 walks a word's matches in rowid order and stops at `depth`, while ranking every match first
        costs a common word's hundreds of thousands of matches in a big store (bench/store.py)."""
        terms = " ".join(f'"{t}"' for t in normalize(query).replace('"', " ").split())
        if not terms:
            return None
        return ("SELECT a.id AS id, h.rank AS rank FROM (SELECT rowid, rank FROM articles_fts WHERE articles_fts"
                " MATCH ? ORDER BY rowid DESC LIMIT ?) h JOIN articles a ON a.rowid = h.rowid", [terms, depth])
