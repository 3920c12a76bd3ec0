"""Stage 10, scale: where the per-document work runs.

The pipeline's per-document stages (extraction, and the clusterer's profiles and dense vectors) are pure
functions of one document. An `Engine` maps such a function over many documents: `InProcess` in this
process, one after the other (the default), or `DaskEngine` (`storyline.engine.on_dask`) on the workers of
a dask.distributed cluster. Everything that needs the whole stream (line evidence across a source, entity
resolution, placing articles in publication order, summaries, the store) stays in the calling process, so
both engines give the same articles, events and stories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")


class Engine(Protocol):
    """Maps a per-document function over documents, results in input order."""

    def map(self, fn: Callable[[C, T], R], shared: C, items: Sequence[T]) -> Iterator[R]:
        """`fn(shared, item)` for each item, yielded in the order of `items` as they are ready. `fn` is a
        module-level function (a worker imports it by name); `shared` is sent to each worker once."""
        ...

    def describe(self) -> str:
        """One line for the user: the engine, its workers, its dashboard."""
        ...

    def close(self) -> None: ...


class InProcess:
    """The default engine: this process, lazily, one document at a time (memory stays that of one)."""

    def map(self, fn: Callable[[C, T], R], shared: C, items: Sequence[T]) -> Iterator[R]:
        return (fn(shared, item) for item in items)

    def describe(self) -> str:
        return "in-process"

    def close(self) -> None:
        pass


ENGINES = ("local", "dask")


def open_engine(name: str = "local", scheduler: str | None = None, workers: int | None = None) -> Engine:
    """The engine a user names: "local" (in-process) or "dask" (a scheduler's address, else a local cluster
    of `workers` processes). Raises ValueError for an unknown name and ImportError when dask.distributed is
    not installed (the `dask` extra)."""
    if name == "local":
        if scheduler:
            raise ValueError("--scheduler needs --engine dask")
        return InProcess()
    if name == "dask":
        from storyline.engine.on_dask import DaskEngine

        return DaskEngine(scheduler, workers)
    raise ValueError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "InProcess", "open_engine"]
