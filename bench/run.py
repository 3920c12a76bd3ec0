"""Run benchmarks and write their tables to docs/benchmarks.md, with the command behind each.

Usage: python bench/run.py [NAME[:ARGS] ...]
  (default: every benchmark in BENCHMARKS). Naming some re-runs only those and keeps the other sections of
  docs/benchmarks.md as they are; ARGS are passed on, e.g. "clustering:--scale 10000 100000 1000000".
"""

from __future__ import annotations

import datetime
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent / "docs" / "benchmarks.md"
BENCHMARKS = ["extraction", "language", "entities", "similarity", "clustering", "stories", "quotes", "actions", "store",
              "throughput", "incremental", "tracking", "serve", "backfill"]


def existing_sections() -> dict[str, str]:
    """The sections of the current docs/benchmarks.md by benchmark name."""
    if not OUTPUT.is_file():
        return {}
    parts = re.split(r"^## (\w+)\n", OUTPUT.read_text(encoding="utf-8"), flags=re.M)
    return {name: f"## {name}\n{body.rstrip()}\n" for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def run(name: str, args: list[str]) -> tuple[str, int]:
    command = [sys.executable, str(HERE / f"{name}.py"), *args]
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE, check=False)
    shown = shlex.join([f"bench/{name}.py", *args])
    section = f"## {name}\n\nCommand: `python {shown}` (on {datetime.date.today().isoformat()})\n\n" \
              f"{result.stdout.strip()}\n"
    if result.returncode:
        section += f"\n(exit {result.returncode}: {result.stderr.strip()[-500:]})\n"
    print(result.stdout, end="")
    print(result.stderr, end="", file=sys.stderr)
    return section, result.returncode


def main() -> int:
    requested = [spec.partition(":") for spec in sys.argv[1:]] or [(name, "", "") for name in BENCHMARKS]
    sections = existing_sections() if sys.argv[1:] else {}
    status = 0
    for name, _, args in requested:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        sections[name], code = run(name, shlex.split(args))
        status = status or code
    header = ["# Benchmarks\n",
              f"Written by `make bench` (`python bench/run.py`), Python {platform.python_version()}, "
              f"{platform.machine()}; data from `../shared/data`. Each section names its command and date.\n"]
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text("\n".join(header + [sections[n] for n in BENCHMARKS if n in sections]), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
