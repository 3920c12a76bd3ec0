"""Extraction benchmark: storyline.extract on the article-extraction benchmark pages (HTML and rendered text).

Usage: python bench/extraction.py [--gate]   (--gate: exit 1 when a figure drops below bench/floors/extraction.json)
Scored by ../shared/bench/score_extraction.py; plain text comes from ../shared/bench/render_text.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from common import check_floors, read_jsonl, shared_script, table

from storyline import extract

# Published or measured anchors on this split (see ../shared/data/README.md and the issue).
ANCHORS = {"html": [("trafilatura alone", 0.954)],
           "text": [("no cleaning", 0.652), ("justext on the text", 0.746), ("trafilatura on the text", 0.672)]}


def timed(function: Callable[[str], str], pages: list[str]) -> tuple[list[str], float]:
    """Outputs and the median milliseconds per page."""
    outputs, times = [], []
    for page in pages:
        start = time.perf_counter()
        outputs.append(function(page))
        times.append((time.perf_counter() - start) * 1000)
    return outputs, statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gate", action="store_true")
    args = parser.parse_args()
    import trafilatura

    scorer = shared_script("score_extraction")
    render = shared_script("render_text").render_text
    records = list(read_jsonl("extraction/dev.jsonl.gz"))
    pages = [r["html"] for r in records]
    truths = [r["body"] for r in records]

    def ours_html(page: str) -> str:
        return _body(page, "html")

    def ours_text(page: str) -> str:
        return _body(page, "text")

    def bare(page: str) -> str:
        return trafilatura.extract(page) or ""

    baseline, baseline_ms = timed(bare, pages)
    html_out, html_ms = timed(ours_html, pages)
    texts = [render(page) for page in pages]
    text_out, text_ms = timed(ours_text, texts)
    raw = scorer.score(zip(truths, texts, strict=True))["f1"]
    figures = {
        "extraction.html.f1": scorer.score(zip(truths, html_out, strict=True))["f1"],
        "extraction.text.f1": scorer.score(zip(truths, text_out, strict=True))["f1"],
    }
    rows = [
        ["HTML", "storyline.extract(kind='html')", figures["extraction.html.f1"], f"{html_ms:.1f} ms/page"],
        ["HTML", "bare trafilatura.extract (same run)", scorer.score(zip(truths, baseline, strict=True))["f1"],
         f"{baseline_ms:.1f} ms/page"],
        *[["HTML", f"anchor: {name}", value, ""] for name, value in ANCHORS["html"]],
        ["text", "storyline.extract(kind='text')", figures["extraction.text.f1"],
         f"{1000 / text_ms if text_ms else 0:.0f} pages/s"],
        ["text", "no cleaning (same run)", raw, ""],
        *[["text", f"anchor: {name}", value, ""] for name, value in ANCHORS["text"]],
    ]
    print(table(f"Extraction, extraction/dev.jsonl.gz ({len(records)} pages), F1 of 4-token shingles",
                ["input", "system", "F1", "speed (median)"], rows))
    print(f"HTML time ratio storyline / bare trafilatura: {html_ms / baseline_ms:.2f}x")
    failures = check_floors("extraction", figures)
    for failure in failures:
        print(f"FLOOR BROKEN {failure}", file=sys.stderr)
    return 1 if args.gate and failures else 0


def _body(content: str, kind: str) -> str:
    try:
        article = extract(content, kind=kind)
    except ValueError:
        return ""
    return article.text


if __name__ == "__main__":
    sys.exit(main())
