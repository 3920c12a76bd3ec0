"""What a tracker's run costs as its store grows: a batch of 100 articles added to stores of 0 to 1M articles.

Each store holds SIZE articles analysed long ago (bench/store.py's stores: real texts in synthetic events,
stories and entities) and the state of a recent window: the first WARM articles of BSNLP dev (publication
order), analysed in full in a store of their own, whose results and clusterer state are written into the big
store as one increment. Then BATCHES batches of 100 further BSNLP dev articles are added, each by
`storyline ingest FILE` in a subprocess of its own (start-up included, as a poller's run pays
it). The table gives the median seconds per article of a batch, its ratio to the empty store's, and the peak
RSS of the runs; the same batches go to every store.

    python bench/tracking.py --sizes 0 10000 100000 1000000 [--stores DIR]

`--stores DIR` reuses `store-SIZE.db` files kept by `bench/store.py --keep DIR` (copied, never changed);
missing sizes are built.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import read_jsonl, table
from store import _texts, build

from storyline import pipeline
from storyline.store import Increment, SQLiteStore

WARM, BATCH, BATCHES = 600, 100, 5


def records() -> list[dict[str, Any]]:
    """BSNLP dev documents as dated records, in publication order."""
    found: dict[str, dict[str, Any]] = {}
    for row in read_jsonl("bsnlp/dev.jsonl.gz"):
        key = f"{row['topic']}-{row['lang']}-{row['doc_id']}"
        if (row.get("date") or "")[:2] in {"20", "19"}:
            found.setdefault(key, {"id": key, "title": row.get("title") or "", "text": row["text"],
                                   "lang": row["lang"], "published": row["date"]})
    return sorted(found.values(), key=lambda r: (r["published"], r["id"]))


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def warm_window(folder: Path, rows: list[dict[str, Any]]) -> tuple[Increment, str, dict[str, str]]:
    """The recent window analysed in full, as an increment any store can take, with its state key and the
    content hashes of its articles."""
    store = SQLiteStore(folder / "warm.db")
    pipeline.ingest([_write(folder / "warm.jsonl", rows)], store)
    pipeline.analyse(store, load=False)
    done, state = store.load(), store.analysis_state()
    assert state is not None
    hashes = {article_id: content_hash for article_id, (content_hash, _) in
              store.stored([a.id for a in done.articles]).items()}
    store.close()
    return (Increment(done.articles, done.events, done.stories, {}, done.entities, done.mentions, done.quotes,
                      done.actions, state[1]), state[0], hashes)


def prepared(folder: Path, size: int, stores: Path | None, window: tuple[Increment, str, dict[str, str]]) -> Path:
    """A store of `size` old analysed articles plus the analysed recent window."""
    path = folder / f"track-{size}.db"
    kept = stores / f"store-{size}.db" if stores else None
    if kept is not None and kept.exists():
        shutil.copyfile(kept, path)
    elif size:
        build(path, size, _texts(), random.Random(size))
    store = SQLiteStore(path)
    increment, key, hashes = window
    store.add_articles((a, hashes[a.id]) for a in increment.articles)
    store.save_increment(increment, key)
    store.close()
    return path


def add_batch(path: Path, batch: Path) -> tuple[float, int]:
    """Seconds and peak RSS (bytes) of one `storyline ingest` run (incremental) in a subprocess."""
    began = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "storyline", "ingest", str(batch), "--db", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    errors = child.stderr.read().decode() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"ingest of {batch} failed: {errors}")
    return seconds, usage.ru_maxrss * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000])
    parser.add_argument("--stores", type=Path, help="folder of store-SIZE.db files kept by bench/store.py")
    args = parser.parse_args()
    rows = records()
    if len(rows) < WARM + BATCH * BATCHES:
        raise SystemExit(f"BSNLP dev has {len(rows)} dated articles; {WARM + BATCH * BATCHES} are needed")
    folder = Path(tempfile.mkdtemp(prefix="storyline-tracking-"))
    window = warm_window(folder, rows[:WARM])
    batches = [_write(folder / f"batch-{n}.jsonl", rows[WARM + n * BATCH:WARM + (n + 1) * BATCH])
               for n in range(BATCHES)]
    figures: dict[int, tuple[float, int, float]] = {}
    for size in args.sizes:
        path = prepared(folder, size, args.stores, window)
        runs = [add_batch(path, batch) for batch in batches]
        store = SQLiteStore(path)
        assert store.pending() == 0 and store.changed_since_analysis() == 0
        if size:
            assert store.event("ev-0") is not None, "the old events were recomputed: the runs were not incremental"
        store.close()
        disk = sum(p.stat().st_size for p in folder.glob(f"track-{size}.db*"))
        figures[size] = (statistics.median(s for s, _ in runs) / BATCH, max(r for _, r in runs),
                         disk / (size + WARM + BATCH * BATCHES))
        for p in folder.glob(f"track-{size}.db*"):
            p.unlink()
        print(f"measured {size:,}", file=sys.stderr)
    base = figures[args.sizes[0]][0]
    table_rows: list[list[object]] = [
        [f"{size:,}", f"{cost * 1000:.0f}", f"{cost / base:.2f}", f"{rss / 2**20:.0f}", f"{disk:,.0f}"]
        for size, (cost, rss, disk) in figures.items()]
    print(table(f"Adding {BATCHES} batches of {BATCH} BSNLP dev articles (after a window of {WARM}) with"
                " `storyline ingest` (incremental)",
                ["articles in the store", "ms per article (median batch)", f"ratio to {args.sizes[0]:,}",
                 "peak RSS MiB", "bytes on disk per article"], table_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
