"""What the templates need to show stored text safely and legibly: links only to http(s) URLs, writing
direction, an article's text cut into marked segments (entities, quotes), variants grouped by script.

Nothing here builds HTML: templates autoescape every value, so a hostile title or name stays text.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from storyline.ingest.records import normalise_url

# Languages written right to left (ISO 639-1, and the 639-3 codes storyline's language tags may carry).
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "yi", "dv", "sd", "ug", "ku", "ckb", "arz", "syr"})
# The part of an article a list shows in place of its whole text, in characters.
LEAD_CHARS = 400
# Kinds of page an id links to, and the path each lives under.
PATHS = {"story": "stories", "event": "events", "article": "articles", "entity": "entities"}


def link(kind: str, item_id: str) -> str:
    """The page of a story, event, article or entity; the id is percent-encoded whole (ids may hold `/`, `?`)."""
    return f"/{PATHS[kind]}/{quote(item_id, safe='')}"


def http_url(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) URL (the records' own rule), else None: a `javascript:` or
    `data:` URL is never made a link."""
    return normalise_url(value)


def direction(lang: str | None) -> str:
    """The `dir` of text in `lang`: rtl for the right-to-left languages, else auto (the browser decides from
    the first strong character, which also keeps an Arabic name inside English text right)."""
    return "rtl" if lang and lang.split("-")[0].lower() in RTL_LANGUAGES else "auto"


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The opening of `text` up to `limit` characters, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > limit // 2 else limit] + " …"


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text with what covers it: a mention's entity, and whether a quote does."""

    text: str
    entity: str | None = None
    quoted: bool = False


def segments(text: str, mentions: Sequence[Mapping[str, Any]], quotes: Sequence[Mapping[str, Any]],
             offset: int = 0) -> list[Segment]:
    """`text` cut where mentions and quotes (as a page's data holds them: start, end, text, and a mention's
    entity) start and end. Mentions count offsets over "title\n\ntext" (pass `offset` = len(title) + 2 for
    the body, 0 for the title); quotes over the body (pass none with a title). A span whose text is not
    found at its offsets is left out rather than marked in the wrong place; of overlapping mentions the
    first is kept."""
    spans: list[tuple[int, int, str]] = []
    for m in sorted(mentions, key=lambda m: (m["start"], -m["end"])):
        start, end = m["start"] - offset, m["end"] - offset
        if 0 <= start < end <= len(text) and text[start:end] == m["text"] and (not spans or start >= spans[-1][1]):
            spans.append((start, end, m["entity"]))
    quoted = [(q["start"], q["end"]) for q in quotes
              if 0 <= q["start"] < q["end"] <= len(text) and text[q["start"]:q["end"]] == q["text"]]
    cuts = sorted({0, len(text), *(p for s in spans for p in s[:2]), *(p for q in quoted for p in q)})
    entity_at = {start: (end, entity) for start, end, entity in spans}
    out: list[Segment] = []
    current: str | None = None
    until = 0
    for start, end in itertools.pairwise(cuts):
        if start in entity_at:
            until, current = entity_at[start]
        elif start >= until:
            current = None
        out.append(Segment(text[start:end], current, any(a <= start and end <= b for a, b in quoted)))
    return out


def script(word: str) -> str:
    """The script of a name: the Unicode script word of its first letter (LATIN, ARABIC, CYRILLIC, CJK...)."""
    for char in word:
        if char.isalpha():
            return unicodedata.name(char, "OTHER").split()[0].title()
    return "Other"


def by_script(variants: list[str]) -> dict[str, list[str]]:
    """Variants grouped by script, Latin first, each group in sorted order."""
    groups: dict[str, list[str]] = defaultdict(list)
    for variant in sorted(set(variants)):
        groups[script(variant)].append(variant)
    return dict(sorted(groups.items(), key=lambda item: (item[0] != "Latin", item[0])))
