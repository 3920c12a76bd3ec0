"""End-to-end `digest` throughput on real multilingual articles, against a floor run in the same process.

The articles are the SemEval-2022 Task 8 texts and the BSNLP unannotated and dev documents (real news in 10+
languages), written as one JSONL file of records. The floor is what no news pipeline can skip: reading the
file, tokenising and a scikit-learn TfidfVectorizer over the same texts. The table gives articles per
second, the ratio to the floor, and the seconds of each stage (the stages the CLI reports), so the next
optimisation knows where the time goes.

    python bench/throughput.py [--articles 5000] [--encoder off|on|both]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import read_jsonl, table

from storyline import pipeline, relatedness
from storyline.store import SQLiteStore


def corpus(limit: int) -> list[dict[str, str]]:
    """Distinct real articles as records, SemEval first, then BSNLP."""
    records: dict[str, dict[str, str]] = {}
    for row in read_jsonl("semeval2022t8/train.jsonl.gz"):
        for side, article_id in zip(("1", "2"), row["pair_id"].split("_"), strict=False):
            text = row.get(f"text{side}") or ""
            if text.strip() and article_id not in records:
                records[article_id] = {"id": f"se-{article_id}", "text": text, "lang": row[f"lang{side}"]}
    for name in ("bsnlp/unannotated.jsonl.gz", "bsnlp/dev.jsonl.gz"):
        for row in read_jsonl(name):
            key = f"bs-{name[6:9]}-{row['topic']}-{row['lang']}-{row['doc_id']}"
            records.setdefault(key, {"id": key, "title": row.get("title") or "", "text": row["text"],
                                     "lang": row["lang"], "published": row.get("date") or ""})
    return list(records.values())[:limit]


def floor_seconds(path: Path) -> float:
    """Read the JSONL file, tokenise and fit TF-IDF over its texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    began = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    TfidfVectorizer(min_df=1).fit_transform(texts)
    return time.perf_counter() - began


class StageClock:
    """Seconds spent in each analysis stage, told by the pipeline's stage callback."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def __call__(self, name: str) -> None:
        self.stop()
        self._current = (name, time.perf_counter())

    def stop(self) -> None:
        if self._current is not None:
            name, began = self._current
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began
            self._current = None


def digest_run(path: Path, folder: Path, scorer: relatedness.Relatedness) -> tuple[int, float, float, StageClock]:
    """Articles added, seconds in all and for ingest, and the stage clock of one digest into a new store."""
    store = SQLiteStore(folder / f"s-{id(scorer)}.db")
    clock = StageClock()
    began = time.perf_counter()
    report = pipeline.ingest([path], store)
    ingest_seconds = time.perf_counter() - began
    pipeline.analyse(store, stage=clock, scorer=scorer)
    clock.stop()
    total = time.perf_counter() - began
    store.close()
    return report.added, total, ingest_seconds, clock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--encoder", choices=("off", "on", "both"), default="both",
                        help="similarity without the multilingual encoder (the lexical model), with it, or both")
    args = parser.parse_args()
    records = corpus(args.articles)
    folder = Path(tempfile.mkdtemp(prefix="storyline-throughput-"))
    path = folder / "articles.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    floor = floor_seconds(path)
    scorers = {"encoder off": relatedness.shipped(), "encoder on": relatedness.default()}
    chosen = [name for name in scorers if args.encoder == "both" or name == f"encoder {args.encoder}"]
    runs = {name: digest_run(path, folder, scorers[name]) for name in chosen}
    languages = len({r["lang"] for r in records})
    stages = sorted({stage for *_, clock in runs.values() for stage in clock.seconds}, key=list(
        pipeline.ANALYSIS_STAGES).index)
    rows: list[list[object]] = [
        ["articles (languages)", *[f"{added} ({languages})" for added, *_ in runs.values()]],
        ["floor: read + tokenise + TF-IDF (s)", *[f"{floor:.1f}" for _ in runs]],
        ["digest (s)", *[f"{total:.1f}" for _, total, *_ in runs.values()]],
        ["digest articles/s", *[f"{added / total:.1f}" for added, total, *_ in runs.values()]],
        ["digest / floor", *[f"{total / floor:.1f}x" for _, total, *_ in runs.values()]],
        ["  read, extract, language, store (s)", *[f"{ingest:.1f}" for _, _, ingest, _ in runs.values()]],
    ]
    rows += [[f"  {stage} (s)", *[f"{clock.seconds.get(stage, 0.0):.1f}" for *_, clock in runs.values()]]
             for stage in stages]
    print(table("Digest throughput, SemEval-2022 Task 8 and BSNLP texts as JSONL records", ["figure", *runs],
                rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
