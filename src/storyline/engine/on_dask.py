"""The Dask engine: per-document work on the workers of a dask.distributed cluster.

A scheduler's address (`tcp://HOST:PORT`) joins a running cluster; without one a `LocalCluster` of worker
processes is started on this machine and closed with the engine. Documents travel in chunks (one task
each) so that a task is worth its scheduling; the shared argument (a similarity model, the boilerplate of a
chunk's sources) is scattered to every worker once. A worker that dies mid-task has its tasks run again on
another (the scheduler's own retry: the functions are pure, so a task run twice gives the same result and
nothing is stored twice; the caller stores the results).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib.util import find_spec
from typing import Any, TypeVar

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")

# Tasks per worker a map is cut into: enough for the scheduler to balance uneven documents and to keep the
# workers busy while the calling process reads results in order, few enough that a task (at least a few
# documents) outweighs its ~1 ms of scheduling.
TASKS_PER_WORKER = 8
MAX_CHUNK = 64


class DaskEngine:
    """An `Engine` over dask.distributed: `scheduler` is a running scheduler's address; without one, a local
    cluster of `workers` processes (default: one per core), one task at a time each, whose encoder uses
    `threads` threads (default: the cores shared out between the workers)."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, threads: int | None = None) -> None:
        from dask.distributed import Client, LocalCluster

        self._cluster: Any = None
        if scheduler:
            self._client: Any = Client(scheduler)
        else:
            count = workers or os.cpu_count() or 1
            # Each worker embeds with one thread per core it has, not with every core of the machine.
            each = threads or max(1, (os.cpu_count() or 1) // count)
            self._environ = dict(os.environ)  # the nannies set their workers' variables here: put back below
            self._cluster = LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=":0", silence_logs=logging.ERROR,
                env={"OMP_NUM_THREADS": str(each), "OMP_WAIT_POLICY": "PASSIVE"})
            self._client = Client(self._cluster)
            _restore(self._environ)
        self._shared: tuple[object, Any] | None = None  # the last shared argument and its scattered future

    @property
    def workers(self) -> int:
        return max(1, len(self._client.scheduler_info().get("workers", {})))

    @property
    def dashboard(self) -> str | None:
        """The Dask dashboard's address, when the dashboard is installed (bokeh)."""
        return self._client.dashboard_link if find_spec("bokeh") else None

    def map(self, fn: Callable[[C, T], R], shared: C, items: Sequence[T]) -> Iterator[R]:
        if not items:
            return iter(())
        size = max(1, min(MAX_CHUNK, -(-len(items) // (self.workers * TASKS_PER_WORKER))))
        chunks = [list(items[i:i + size]) for i in range(0, len(items), size)]
        # The documents travel inside the task graph (a chunk of pages is megabytes, which dask warns about)
        # rather than scattered to one worker: the scheduler keeps them, so a task whose worker dies runs
        # again elsewhere; scattered data would die with its worker.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            futures = self._client.map(_run_chunk, [fn] * len(chunks), [self._scattered(shared)] * len(chunks),
                                       chunks, pure=False)
        return (result for future in futures for result in future.result())

    def _scattered(self, shared: object) -> Any:
        """`shared` on every worker, sent once while the caller maps with the same object (the scorer of a
        whole analysis)."""
        if self._shared is None or self._shared[0] is not shared:
            # In a list of one: dask scatters a dict as one future per key, named by the key, so two dicts
            # with the same keys (one source's recurring lines, chunk after chunk) would share stale futures.
            self._shared = (shared, self._client.scatter([shared], broadcast=True, hash=False)[0])
        return self._shared[1]

    def describe(self) -> str:
        where = "a local cluster" if self._cluster is not None else self._client.scheduler.address
        board = f", dashboard {self.dashboard}" if self.dashboard else ""
        return f"dask: {self.workers} workers on {where}{board}"

    def close(self) -> None:
        self._shared = None
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            _restore(self._environ)  # a restarted worker's nanny set them again


def _run_chunk(fn: Callable[[C, T], R], shared: C, chunk: list[T]) -> list[R]:
    return [fn(shared, item) for item in chunk]


def _restore(environ: dict[str, str]) -> None:
    """This process's environment as it was: the nannies of a local cluster leave their workers' variables in
    it (OMP_NUM_THREADS=1, a fixed PYTHONHASHSEED, ...), which every later subprocess would inherit."""
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    os.environ.update(environ)
