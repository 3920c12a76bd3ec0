"""Store connections for the server: one reader per worker thread, each query bounded in time, and a fresh
writer for each ingestion.

What `storyline watch` or `POST /api/articles` adds shows on the next page load: answers are reused only
while the store's data version (`StoreSource.version`) is the same (serve/cache.py). A SQLite connection
may only be used by the thread that opened it, and FastAPI runs each request's handler in a pool thread, so
each pool thread keeps its own reader.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from storyline.store import PostgresStore, SQLiteStore, Store, open_store

# Seconds one request's reads may take before the query in progress is interrupted (SQLite) or cancelled
# (PostgreSQL's statement_timeout): the readers answer a page in milliseconds at 1M articles
# (docs/benchmarks.md, serve), so this only stops a pathological query from holding a worker.
READ_DEADLINE_SECONDS = 5.0
# SQLite virtual-machine steps between two looks at the clock: a look costs well under a microsecond, and
# SQLite runs millions of steps a second.
PROGRESS_STEPS = 10_000

_Params = ParamSpec("_Params")
_Answer = TypeVar("_Answer")


class StoreSource:
    """Opens the store named by `--db`: `reader()` for the calling thread, `writer()` for one ingestion."""

    def __init__(self, target: str | Path, deadline: float = READ_DEADLINE_SECONDS) -> None:
        self.target = str(target)
        self.deadline = deadline
        self._local = threading.local()
        self._probe: sqlite3.Connection | None = None
        self._probe_lock = threading.Lock()

    def version(self) -> int | None:
        """A number that changes whenever anything commits to the store: SQLite's data version, read on a
        connection of this source's own that never writes (so every commit is another connection's). None
        for PostgreSQL, which has no such number."""
        if self.target.startswith(("postgresql://", "postgres://")):
            return None
        with self._probe_lock:
            if self._probe is None:
                self._probe = sqlite3.connect(f"{Path(self.target).resolve().as_uri()}?mode=ro", uri=True,
                                              check_same_thread=False)
            version: int = self._probe.execute("PRAGMA data_version").fetchone()[0]
            return version

    def reader(self) -> Store:
        """This thread's reader, its clock restarted: call it once at the start of each request."""
        local = self._local
        if getattr(local, "store", None) is None:
            local.store = open_store(self.target, create=False, read_only=True)
            local.until = 0.0
            if isinstance(local.store, SQLiteStore):
                local.store.db.set_progress_handler(lambda: time.monotonic() > local.until, PROGRESS_STEPS)
            elif isinstance(local.store, PostgresStore):
                local.store.db.execute(f"SET statement_timeout = {int(self.deadline * 1000)}")
        local.until = time.monotonic() + self.deadline
        store: Store = local.store
        return store

    @contextmanager
    def writer(self) -> Iterator[Store]:
        """A store of its own for one ingestion, with no deadline (analysis takes seconds), closed after."""
        store = open_store(self.target, create=False)
        try:
            yield store
        finally:
            store.close()


def threaded(read: Callable[_Params, _Answer]) -> Callable[_Params, Awaitable[_Answer]]:
    """An endpoint that reads the store, as a coroutine running `read` in a worker thread. FastAPI takes a
    plain function's endpoint to a thread twice (to run it, then to validate its answer against the response
    model), and a trip through the thread pool costs about what a cached answer does (bench/serve.py)."""

    @functools.wraps(read)
    async def endpoint(*args: _Params.args, **kwargs: _Params.kwargs) -> _Answer:
        return await run_in_threadpool(read, *args, **kwargs)

    return endpoint


def timed_out(error: BaseException) -> bool:
    """Whether `error` is a query stopped by the read deadline (SQLite's interrupt, PostgreSQL's cancel)."""
    if isinstance(error, sqlite3.OperationalError):
        return "interrupted" in str(error)
    return type(error).__name__ == "QueryCanceled"  # psycopg.errors, imported only with the postgres extra
