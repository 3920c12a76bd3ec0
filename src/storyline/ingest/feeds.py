"""RSS 2.0 and Atom feeds (files or URLs) through feedparser: each item is an article."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from storyline.ingest.records import normalise_url
from storyline.language import fold_language_tag
from storyline.model import RawDocument, Rejected

_TAG = re.compile(r"<(?:html|body|p|div|article|br|head)\b", re.IGNORECASE)
# Real feeds declare no entities of their own; a DOCTYPE that does is a billion-laughs bomb or an attempt to
# read local files (external entities). Only the prolog, before the root element, can declare them.
_ENTITY_DECLARATION = re.compile(r"<!ENTITY\b", re.IGNORECASE)
MAX_PROLOG_CHARS = 64 * 1024


def read_feed(source: str, stem: str, text: str) -> Iterator[RawDocument | Rejected]:
    """Every item of a feed, its id stable across feed updates. `source` names the feed (file or URL) in
    records and errors, `stem` starts its items' ids."""
    import feedparser  # imported here: the other input kinds do not need it

    if _ENTITY_DECLARATION.search(text[:MAX_PROLOG_CHARS]):
        yield Rejected(source, "feed declares XML entities (refused: entity expansion is a way to bomb a parser)")
        return
    feed = feedparser.parse(text)
    usable = [entry for entry in feed.entries if _entry_body(entry)]
    if (feed.bozo and not usable) or not feed.entries:
        reason = getattr(feed, "bozo_exception", None) or "no items"
        yield Rejected(source, f"broken feed: {' '.join(str(reason).split())}")
        return
    site = " ".join(str(feed.feed.get("title") or stem).split())
    language = fold_language_tag(str(feed.feed.get("language") or ""))
    seen: dict[str, str] = {}
    for number, entry in enumerate(feed.entries, 1):
        where = f"{source}#item{number}"
        body = _entry_body(entry)
        if not body:
            yield Rejected(where, "feed item has no text")
            continue
        key = str(entry.get("id") or entry.get("link") or f"{entry.get('title')}{number}")
        item_id = f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
        if item_id in seen:
            yield Rejected(where, f"repeated item id {key!r} (first used by {seen[item_id]})")
            continue
        seen[item_id] = where
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        yield RawDocument(
            id=item_id,
            source=where,
            kind="html" if _TAG.search(body) else "record",
            content=body,
            title=" ".join(str(entry.get("title") or "").split()) or None,
            url=normalise_url(entry.get("link")),
            published=datetime(*parsed[:6]).replace(tzinfo=UTC) if parsed else None,
            lang=fold_language_tag(str(entry.get("language") or "")) or language,
            site=site,
        )


def _entry_body(entry: Any) -> str:
    """The fullest text a feed item carries: its content, else its summary or description."""
    content = entry.get("content")
    body = (content[0].get("value") if content else None) or entry.get("summary") or entry.get("description")
    return body.strip() if isinstance(body, str) else ""
