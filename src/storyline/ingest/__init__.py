"""Stage 1, ingest: read files, directories, JSON/JSONL records and RSS/Atom feeds (files or URLs) and web
pages by URL into raw documents.

One bad input never stops the batch: every problem becomes a `Rejected` record that names the input
(the file, and the line for JSONL) and the reason, and reading goes on with the next input.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import charset_normalizer
import ftfy

from storyline.model import RawDocument, Rejected

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson"}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES | FEED_SUFFIXES

# A file whose first 8 KiB hold a NUL byte, or more than this share of other control characters, is
# binary (an image, a PDF, a zip), not text in some unusual encoding.
BINARY_CONTROL_SHARE = 0.10
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_TAG = re.compile(r"<(?:html|body|p|div|article|br|head)\b", re.IGNORECASE)
_URL = re.compile(r"https?://", re.IGNORECASE)
# A fetched text that opens like this is a feed whatever its Content-Type says.
_FEED_START = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.DOTALL)
# Fetching a URL: seconds to wait for the server, and the largest body read (a page or feed, not a dump).
URL_TIMEOUT_SECONDS = 30
MAX_URL_BYTES = 20 * 2**20
USER_AGENT = "storyline (news clustering; offline-first)"


class InputError(ValueError):
    """An input that cannot be read; the message names the reason, the caller adds the input's name."""


def read_documents(paths: Iterable[str | Path]) -> Iterator[RawDocument | Rejected]:
    """Yield a raw document for every readable article under `paths`, a `Rejected` for every bad one.

    Directories are walked recursively in sorted order, skipping hidden entries and files whose suffix
    storyline does not read. A file named explicitly with an unknown suffix is rejected. An http(s) URL is
    fetched: a feed gives its items, a web page one article.
    """
    for item in paths:
        if isinstance(item, str) and _URL.match(item):
            yield from read_url(item)
            continue
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not any(
                    part.startswith(".") for part in relative
                ):
                    yield from read_file(child)
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield from read_file(path)
            else:
                yield Rejected(str(path), f"unsupported file type {path.suffix or '(no suffix)'!r}")
        else:
            yield Rejected(str(path), "no such file or directory")


def read_file(path: Path) -> Iterator[RawDocument | Rejected]:
    """Read one file of any supported kind; problems become `Rejected` records."""
    try:
        text = decode(path.read_bytes())
    except (OSError, InputError) as error:
        yield Rejected(str(path), str(error))
        return
    suffix = path.suffix.lower()
    if suffix in RECORD_SUFFIXES:
        yield from _read_records(path, text)
    elif suffix in FEED_SUFFIXES:
        yield from _read_feed(str(path), path.stem, text)
    else:
        kind = "html" if suffix in HTML_SUFFIXES or _TAG.search(text[:2000]) else "text"
        yield RawDocument(id=path.stem, source=str(path), kind=kind, content=text, site=path.parent.name)


def read_url(url: str) -> Iterator[RawDocument | Rejected]:
    """Fetch one URL: an RSS/Atom feed gives its items, anything else is one web page (an article)."""
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    try:
        request = Request(url, headers={"User-Agent": USER_AGENT})
        with urlopen(request, timeout=URL_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_URL_BYTES + 1)
            kind = response.headers.get_content_type()
    except HTTPError as error:
        yield Rejected(url, f"HTTP {error.code} {error.reason}")
        return
    except (URLError, OSError, ValueError) as error:  # unreachable, refused, timed out, malformed URL
        yield Rejected(url, f"cannot fetch: {getattr(error, 'reason', None) or error}")
        return
    if len(data) > MAX_URL_BYTES:
        yield Rejected(url, f"larger than {MAX_URL_BYTES // 2**20} MiB")
        return
    try:
        text = decode(data)
    except InputError as error:
        yield Rejected(url, str(error))
        return
    parts = urlparse(url)
    stem = Path(parts.path).stem or parts.netloc
    if "xml" in kind or "rss" in kind or "atom" in kind or _FEED_START.match(text):
        yield from _read_feed(url, stem, text)
    else:
        yield RawDocument(id=stem, source=url, kind="html", content=text, url=url, site=parts.netloc)


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 when valid, else the encoding charset-normalizer finds; mojibake repaired."""
    if not data.strip():
        raise InputError("empty file")
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        match = charset_normalizer.from_bytes(data).best()
        if match is None:
            raise InputError("undecodable text: no character encoding fits the bytes") from None
        text = str(match)
    sample = text[:8192]
    if sample and len(_CONTROL.findall(sample)) / len(sample) > BINARY_CONTROL_SHARE:
        raise InputError("binary file (control characters), not text")
    # Curly quotes stay curly: they carry the quotation style that quote attribution reads.
    text = ftfy.fix_text(text, uncurl_quotes=False)
    if not text.strip():
        raise InputError("empty file")
    return text


def _read_records(path: Path, text: str) -> Iterator[RawDocument | Rejected]:
    """JSON (one record or a list) and JSONL (one record a line) with the fields of DESIGN.md."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            yield Rejected(str(path), f"malformed JSON: {error.msg} at line {error.lineno}")
            return
        items = data if isinstance(data, list) else [data]
        for number, item in enumerate(items, 1):
            where = f"{path}#{number}" if isinstance(data, list) else str(path)
            yield _record(item, where, path, number if isinstance(data, list) else None)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield Rejected(where, f"malformed JSON line: {error.msg} at column {error.colno}")
            continue
        yield _record(item, where, path, number)


def _record(item: object, where: str, path: Path, number: int | None) -> RawDocument | Rejected:
    if not isinstance(item, dict):
        return Rejected(where, f"record is a JSON {type(item).__name__}, expected an object")
    body = item.get("text") or item.get("html")
    if not isinstance(body, str) or not body.strip():
        return Rejected(where, "record has neither a non-empty 'text' nor 'html' field")
    record_id = item.get("id")
    if record_id is None or not str(record_id).strip():
        record_id = path.stem if number is None else f"{path.stem}-{number}"
    published = item.get("published")
    try:
        when = parse_date(published) if published else None
    except ValueError:
        return Rejected(where, f"unreadable 'published' date {published!r}")
    title = item.get("title")
    kind = "record" if item.get("text") else "html"
    return RawDocument(
        id=str(record_id),
        source=where,
        kind=kind,
        content=body,
        title=str(title).strip() if title else None,
        url=item.get("url") or None,
        published=when,
        lang=item.get("lang") or None,
        site=item.get("source") or path.stem,
    )


def _read_feed(source: str, stem: str, text: str) -> Iterator[RawDocument | Rejected]:
    """RSS 2.0 and Atom through feedparser; each item is an article, its id stable across feed updates.
    `source` names the feed (file or URL) in records and errors, `stem` starts its items' ids."""
    import feedparser  # imported here: the other input kinds do not need it

    feed = feedparser.parse(text)
    usable = [entry for entry in feed.entries if _entry_body(entry)]
    if (feed.bozo and not usable) or not feed.entries:
        reason = getattr(feed, "bozo_exception", None) or "no items"
        yield Rejected(source, f"broken feed: {reason}")
        return
    site = feed.feed.get("title") or stem
    for number, entry in enumerate(feed.entries, 1):
        where = f"{source}#item{number}"
        body = _entry_body(entry)
        if not body:
            yield Rejected(where, "feed item has no text")
            continue
        key = entry.get("id") or entry.get("link") or f"{entry.get('title')}{number}"
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        yield RawDocument(
            id=f"{stem}-{hashlib.sha1(key.encode()).hexdigest()[:8]}",
            source=where,
            kind="html" if _TAG.search(body) else "record",
            content=body,
            title=(entry.get("title") or "").strip() or None,
            url=entry.get("link"),
            published=datetime(*parsed[:6]).replace(tzinfo=UTC) if parsed else None,
            lang=(entry.get("language") or feed.feed.get("language") or "")[:2] or None,
            site=site,
        )


def _entry_body(entry: Any) -> str:
    """The fullest text a feed item carries: its content, else its summary or description."""
    content = entry.get("content")
    body = (content[0].get("value") if content else None) or entry.get("summary") or entry.get("description")
    return body.strip() if isinstance(body, str) else ""


def parse_date(value: object) -> datetime:
    """ISO 8601 dates and datetimes (a trailing Z allowed); naive values are taken as UTC."""
    if not isinstance(value, str):
        raise ValueError(f"not a date string: {value!r}")
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
