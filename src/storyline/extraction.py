"""Stage 2, extract: main text and metadata from HTML pages and from scraped plain text.

HTML goes through trafilatura (the best open extractor), with a plain-paragraph fallback when it finds
too little. Plain text that a scraper already flattened has no markup left to judge, and no open tool
cleans it, so `clean_text` is written here: it drops lines that match per-language boilerplate patterns
(`data/boilerplate.json`), repeated lines (captions scraped two or three times), link lists under a
"most read" heading or at the end, and lines that recur across articles of one source (evidence from
the whole batch, see `recurring_lines`). Bylines and datelines become metadata.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from storyline.ingest import parse_date
from storyline.model import Article, RawDocument, Rejected
from storyline.normalize import normalize

# trafilatura output shorter than this (characters) is treated as a miss and the fallback is tried.
MIN_HTML_TEXT = 200
# A line of at most this many words without sentence-final punctuation is "short": a link, a caption,
# a button. Runs of short lines under a list heading or at the very end are link lists.
SHORT_LINE_WORDS = 12
# The tail of a text is a link list when at least this many short lines end it.
MIN_TAIL_LIST = 3
# A line recurring in this many articles of one source (that are not copies of each other) is boilerplate.
MIN_RECURRENCE = 2
# Two articles sharing more than this share of their lines are copies; their common lines are content.
COPY_LINE_SHARE = 0.5

# Bullets and dashes a scraper leaves in front of menu and share lines.
BULLETS = "•·*▪►-–— "
_SENTENCE_END = re.compile(r"[.!?؟。…:\"”»“]$")
_HTML_HINT = re.compile(r"<(?:html|body|p|div|article|br|head|span|a)\b", re.IGNORECASE)
# "GENEVA (Reuters) - ", "MOSCOW, March 2 (TASS): ", "PARIS — ": an upper-case place, an optional
# date and agency in brackets, then a dash or colon. Written by hand: no library parses datelines.
_DATELINE = re.compile(
    r"^(?P<place>[A-ZÀ-ÝА-ЯЁ][A-ZÀ-ÝА-ЯЁ .'-]{1,30})(?:,\s*[\w .]{1,25})?\s*"
    r"(?:\((?P<agency>[^)]{1,30})\))?\s*(?:[-–—:]|\|)\s+"
)


@dataclass(frozen=True, slots=True)
class _Patterns:
    junk: re.Pattern[str]
    list_headings: re.Pattern[str]
    bylines: re.Pattern[str]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    """All languages' patterns at once: a scraped page's language is not known before it is cleaned."""
    table = json.loads(resources.files("storyline").joinpath("data/boilerplate.json").read_text("utf-8"))
    merged: dict[str, list[str]] = defaultdict(list)
    for lang, groups in table.items():
        if not lang.startswith("_"):
            for name, patterns in groups.items():
                merged[name].extend(patterns)

    def compile_all(name: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in merged[name]), flags)

    return _Patterns(compile_all("junk"), compile_all("list_headings"), compile_all("bylines", 0))


def extract(content: str, kind: str = "auto", url: str | None = None) -> Article:
    """Extract one article: `title` is the headline, `text` the clean body without it.

    `kind` is "html", "text" (scraped plain text, headline on the first non-empty line) or "auto".
    Raises ValueError when no article text can be found.
    """
    return _extract(content, kind, url, frozenset())


def _extract(content: str, kind: str, url: str | None, boilerplate: frozenset[str]) -> Article:
    if kind not in {"html", "text", "auto"}:
        raise ValueError(f"unknown kind {kind!r}: expected 'html', 'text' or 'auto'")
    if kind == "auto":
        kind = "html" if _HTML_HINT.search(content[:5000]) else "text"
    article = _extract_html(content, url) if kind == "html" else clean_text(content, boilerplate)
    if not article.text.strip() and not article.title.strip():
        raise ValueError("no article text found")
    article.url = article.url or url
    return article


def extract_batch(documents: Iterable[RawDocument]) -> Iterator[Article | Rejected]:
    """Extract every document, using lines that recur across articles of one source as evidence."""
    documents = list(documents)
    boilerplate = recurring_lines(
        (doc.site or "", doc.content) for doc in documents if doc.kind == "text"
    )
    for doc in documents:
        try:
            yield extract_document(doc, boilerplate.get(doc.site or "", frozenset()))
        except ValueError as error:
            yield Rejected(doc.source, str(error))


def extract_document(doc: RawDocument, boilerplate: frozenset[str] = frozenset()) -> Article:
    """Extract a raw document, keeping the metadata its record or feed item already carried."""
    if doc.kind == "record":
        body = clean_text(f"{doc.title}\n\n{doc.content}" if doc.title else doc.content, boilerplate)
    else:
        body = _extract(doc.content, doc.kind, doc.url, boilerplate)
    return Article(
        id=doc.id,
        title=doc.title or body.title,
        text=body.text,
        source=doc.source,
        url=doc.url or body.url,
        published=doc.published or body.published,
        lang=doc.lang or body.lang,
        author=body.author,
        site=body.site or doc.site,
    )


def recurring_lines(documents: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Per source, the normalised lines found in several of its articles that are not copies of each other."""
    lines_by_source: dict[str, list[set[str]]] = defaultdict(list)
    for source, text in documents:
        lines_by_source[source].append({normalize(line.strip()) for line in text.splitlines() if line.strip()})
    result: dict[str, frozenset[str]] = {}
    for source, docs in lines_by_source.items():
        seen_in: dict[str, list[int]] = defaultdict(list)
        for index, lines in enumerate(docs):
            for line in lines:
                seen_in[line].append(index)
        recurring = set()
        for line, where in seen_in.items():
            if len(where) >= MIN_RECURRENCE and _independent(docs, where):
                recurring.add(line)
        result[source] = frozenset(recurring)
    return result


def _independent(docs: list[set[str]], where: list[int]) -> bool:
    """True when at least two of the articles in `where` are not copies of each other."""
    first = docs[where[0]]
    for other in where[1:]:
        shared = len(first & docs[other]) / max(1, min(len(first), len(docs[other])))
        if shared <= COPY_LINE_SHARE:
            return True
    return False


def clean_text(content: str, boilerplate: frozenset[str] = frozenset()) -> Article:
    """Recover headline, body and byline from scraped plain text (headline on the first non-empty line)."""
    patterns = _patterns()
    lines = [line.strip() for line in content.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return Article(id="", title="", text="")
    title, body_lines = lines[0], lines[1:]
    author: str | None = None
    site: str | None = None
    kept: list[str] = []
    seen: set[str] = set()
    in_list = False
    for line in body_lines:
        line = line.lstrip(BULLETS)
        key = normalize(line)
        short = _is_short(line)
        if in_list and short:
            continue
        in_list = False
        if patterns.list_headings.search(line) and short:
            in_list = True
            continue
        if key in seen or key == normalize(title) or key in boilerplate or patterns.junk.search(line):
            continue
        if short and patterns.bylines.search(line):
            author = author or line.split("|")[0].removeprefix("By ").removeprefix("by ").strip()
            continue
        seen.add(key)
        kept.append(line)
    while len(kept) >= MIN_TAIL_LIST and all(_is_short(line) for line in kept[-MIN_TAIL_LIST:]):
        while kept and _is_short(kept[-1]):
            kept.pop()
    if kept:
        match = _DATELINE.match(kept[0])
        if match and len(kept[0]) > match.end() + 20:
            site = match.group("agency")
            kept[0] = kept[0][match.end():]
    return Article(id="", title=title, text="\n\n".join(kept), author=author, site=site)


def _is_short(line: str) -> bool:
    return len(line.split()) <= SHORT_LINE_WORDS and not _SENTENCE_END.search(line)


def _extract_html(page: str, url: str | None) -> Article:
    import trafilatura  # heavy import, only needed for HTML

    document: Any = trafilatura.bare_extraction(
        page, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    text = (document.text or "") if document is not None else ""
    title = (document.title or "") if document is not None else ""
    if len(text) < MIN_HTML_TEXT:
        fallback = _paragraph_text(page)
        if len(fallback) > len(text):
            text = fallback
    title = title or _page_title(page)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and normalize(lines[0]) == normalize(title):
        lines = lines[1:]
    published = None
    if document is not None and document.date:
        try:
            published = parse_date(document.date)
        except ValueError:
            published = None
    return Article(
        id="",
        title=title.strip(),
        text="\n\n".join(lines),
        url=(document.url if document is not None else None) or url,
        published=published,
        author=document.author if document is not None else None,
        site=document.sitename if document is not None else None,
        lang=document.language if document is not None else None,
    )


def _paragraph_text(page: str) -> str:
    """Fallback: the text of every paragraph-like element, for pages trafilatura finds too little in."""
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(page)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return ""
    for bad in root.xpath("//script|//style|//nav|//header|//footer|//aside|//form|//noscript"):
        bad.drop_tree()
    blocks = [" ".join(el.text_content().split()) for el in root.xpath("//p|//h2|//h3|//li|//blockquote")]
    return "\n".join(block for block in blocks if block)


def _page_title(page: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""

