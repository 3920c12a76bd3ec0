"""Helpers shared by the benchmark scripts: locating ../shared, reading its data, printing one table."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
FLOORS = Path(__file__).resolve().parent / "floors"


def read_jsonl(relative: str) -> Iterator[dict[str, Any]]:
    """Records of a gzip JSONL file under ../shared/data; when it is absent, says so and exits 0 (skipped)."""
    path = DATA / relative
    if not path.is_file():
        print(f"skipped: benchmark data {relative} not found under {DATA}")
        sys.exit(0)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def shared_script(name: str) -> ModuleType:
    """Import one of the scoring scripts in ../shared/bench by file name (they are not a package)."""
    path = SHARED / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        sys.exit(f"scoring script {path} not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table with a heading line."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def floors(benchmark: str) -> dict[str, float]:
    """The floors of one benchmark, from bench/floors/<benchmark>.json (re-pinning one is a deliberate edit)."""
    loaded: dict[str, float] = json.loads((FLOORS / f"{benchmark}.json").read_text(encoding="utf-8"))
    return loaded


def check_floors(benchmark: str, figures: dict[str, float]) -> list[str]:
    """The figures that fell below their floor, as messages."""
    wanted = floors(benchmark)
    return [
        f"{name}: {value:.4f} < floor {wanted[name]:.4f}"
        for name, value in figures.items() if name in wanted and value < wanted[name]
    ]


def gate(benchmark: str, figures: dict[str, float], enabled: bool, extra: Sequence[str] = ()) -> int:
    """Report every figure below its floor (and any `extra` failure) on stderr; exit status 1 when gating."""
    failures = [*check_floors(benchmark, figures), *extra]
    for failure in failures:
        print(f"FLOOR BROKEN {failure}", file=sys.stderr)
    return 1 if enabled and failures else 0


def bcubed(truth: dict[str, str], found: dict[str, str]) -> float:
    """BCubed F1 of a clustering (Bagga & Baldwin): per item, precision and recall of its cluster."""
    by_truth: dict[str, set[str]] = defaultdict(set)
    by_found: dict[str, set[str]] = defaultdict(set)
    for item in truth:
        by_truth[truth[item]].add(item)
        by_found[found[item]].add(item)
    precision = recall = 0.0
    for item in truth:
        same = len(by_truth[truth[item]] & by_found[found[item]])
        precision += same / len(by_found[found[item]])
        recall += same / len(by_truth[truth[item]])
    precision, recall = precision / len(truth), recall / len(truth)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
