"""Run every benchmark and write their tables to docs/benchmarks.md, with the command behind each.

Usage: python bench/run.py [NAME ...]   (default: all benchmarks listed in BENCHMARKS)
"""

from __future__ import annotations

import datetime
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent / "docs" / "benchmarks.md"
BENCHMARKS = ["extraction", "entities", "similarity", "clustering", "quotes", "actions"]


def main() -> int:
    names = sys.argv[1:] or BENCHMARKS
    sections = [
        "# Benchmarks\n",
        f"Written by `make bench` (`python bench/run.py`) on {datetime.date.today().isoformat()}, "
        f"Python {platform.python_version()}, {platform.machine()}; data from `../shared/data`.\n",
    ]
    status = 0
    for name in names:
        command = [sys.executable, str(HERE / f"{name}.py")]
        result = subprocess.run(command, capture_output=True, text=True, cwd=HERE, check=False)
        status = status or result.returncode
        sections.append(f"## {name}\n\nCommand: `python bench/{name}.py`\n\n{result.stdout.strip()}\n")
        if result.returncode:
            sections.append(f"(exit {result.returncode}: {result.stderr.strip()[-500:]})\n")
        print(result.stdout, end="")
        print(result.stderr, end="", file=sys.stderr)
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text("\n".join(sections), encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
