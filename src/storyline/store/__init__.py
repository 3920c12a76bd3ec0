"""Stage 8, store: SQLite (WAL, FTS5) by default, PostgreSQL for a shared server, behind the `Store` protocol.

`protocol.py` says what a store does, `sql.py` holds the SQL both share, `sqlite.py` and `postgres.py` the
parts where the dialects differ (connecting, locking, full-text search).
"""

from __future__ import annotations

from pathlib import Path

from storyline.store.postgres import PostgresStore
from storyline.store.protocol import ClosedEvent, EntityRecord, Filters, Increment, Page, Store, StoryRow, StorySort
from storyline.store.sql import SCHEMA_VERSION, SQLStore
from storyline.store.sqlite import SQLiteStore, StoreMissing

__all__ = ["SCHEMA_VERSION", "ClosedEvent", "EntityRecord", "Filters", "Increment", "Page", "PostgresStore", "SQLStore",
           "SQLiteStore", "Store", "StoreMissing", "StoryRow", "StorySort", "open_store"]


def open_store(target: str | Path, create: bool = True, read_only: bool = False) -> Store:
    """A store for `--db`: a `postgresql://` URL for PostgreSQL, anything else is a SQLite file path, which
    is created when missing only if `create` (writers do; readers raise StoreMissing instead). A `read_only`
    store writes nothing, not even its schema, and refuses writes (readers: the CLI's, the web server's)."""
    if str(target).startswith(("postgresql://", "postgres://")):
        return PostgresStore(str(target), read_only)
    return SQLiteStore(target, create, read_only)
