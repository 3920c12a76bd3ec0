"""HTML pages: main text and metadata through trafilatura, with a paragraph fallback cleaned like scraped text."""

from __future__ import annotations

import re
from typing import Any

from storyline.extraction.text import clean_text
from storyline.ingest.decoding import parse_date
from storyline.model import Article
from storyline.normalize import normalize

# trafilatura output shorter than this (characters) is treated as a miss and the fallback is tried. At 200
# the fallback replaced right short outputs on extraction-multilingual (F1 0.9255 -> 0.9245); at 100 it
# changes nothing there or on extraction/dev, where trafilatura always finds more.
MIN_HTML_TEXT = 100


def extract_html(page: str, url: str | None) -> Article:
    """One HTML page: trafilatura's text and metadata, its headline off the body."""
    import trafilatura  # heavy import, only needed for HTML

    document: Any = trafilatura.bare_extraction(
        page, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    text = (document.text or "") if document is not None else ""
    title = (document.title or "") if document is not None else ""
    title = title or _page_title(page)
    if len(text) < MIN_HTML_TEXT:
        # The page's paragraphs and list items, cleaned like scraped text: menus and link lists are <li>s too.
        fallback = clean_text(_paragraph_text(page), title=title or "Untitled").text
        if len(fallback) > len(text):
            text = fallback
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

