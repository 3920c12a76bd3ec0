"""The shared server store (psycopg 3): the same tables, full text through a tsvector column and GIN index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from storyline.model import Article
from storyline.normalize import normalize
from storyline.store.sql import SQLStore, one_line

# The key of the PostgreSQL advisory lock that one analysis at a time holds (any fixed 64-bit number).
ANALYSIS_LOCK_KEY = 0x5354_4F52_594C


class PostgresStore(SQLStore):
    """The shared server store (psycopg 3): same tables, full text through a tsvector column and GIN index."""

    placeholder = "%s"

    def __init__(self, url: str, read_only: bool = False) -> None:
        """`read_only`: a reader's connection, which writes nothing (not even the schema) and refuses writes."""
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as error:
            raise ValueError("the PostgreSQL store needs the 'postgres' extra: pip install 'storyline[postgres]'") \
                from error
        try:
            self.db = psycopg.connect(url, row_factory=dict_row, autocommit=True)
            if read_only:
                self.db.execute("SET default_transaction_read_only = on")
                self._check_schema()
                return
            self._create_schema(
                "CREATE TABLE IF NOT EXISTS articles_fts (id TEXT PRIMARY KEY, doc tsvector NOT NULL);"
                "CREATE INDEX IF NOT EXISTS articles_fts_doc ON articles_fts USING gin (doc)"
            )
        except psycopg.Error as error:  # no server there, refused credentials, no such database
            raise ValueError(f"cannot use the PostgreSQL database ({one_line(error)})") from error

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

    def _text_hits(self, query: str, depth: int) -> tuple[str, list[Any]] | None:
        """tsvector match ranked by ts_rank over normalised headlines and bodies."""
        if not normalize(query).split():
            return None
        return ("SELECT id, rank FROM (SELECT id, -ts_rank(doc, plainto_tsquery('simple', ?)) AS rank"
                " FROM articles_fts WHERE doc @@ plainto_tsquery('simple', ?) ORDER BY rank LIMIT ?) h",
                [normalize(query), normalize(query), depth])
