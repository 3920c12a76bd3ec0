"""Stage 1, ingest: read files, directories, JSON/JSONL records, RSS/Atom feeds, WARC archives and web pages
by URL into raw documents.

One bad input never stops the batch: every problem becomes a `Rejected` record that names the input
(the file, and the line for JSONL) and the reason, and reading goes on with the next input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlparse

from storyline.ingest.decoding import InputError, decode, parse_date
from storyline.ingest.feeds import read_feed
from storyline.ingest.fetch import Fetched, FetchError, FetchPolicy, fetch
from storyline.ingest.files import SUPPORTED_SUFFIXES, inner_suffix, link_problem, read_file, walk
from storyline.model import RawDocument, Rejected

__all__ = ["FetchPolicy", "InputError", "decode", "parse_date", "read_documents", "read_fetched", "read_file",
           "read_url"]

_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# A fetched text that opens like this is a feed whatever its Content-Type says.
_FEED_START = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.DOTALL)


def read_documents(paths: Iterable[str | Path], policy: FetchPolicy | None = None) -> Iterator[RawDocument | Rejected]:
    """Yield a raw document for every readable article under `paths`, a `Rejected` for every bad one.

    Directories are walked recursively in sorted order, skipping hidden entries and files whose suffix
    storyline does not read. A file named explicitly with an unknown suffix is rejected. A URL is fetched
    under `policy` (by default: http and https only, no private addresses): a feed gives its items, a web
    page one article.
    """
    for item in paths:
        if isinstance(item, str) and _URL.match(item):
            yield from read_url(item, policy or FetchPolicy())
            continue
        path = Path(item)
        if path.is_dir():
            for found in walk(path):
                yield from [found] if isinstance(found, Rejected) else read_file(found)
        elif path.is_file():
            if inner_suffix(path) in SUPPORTED_SUFFIXES:
                yield from read_file(path)
            else:
                yield Rejected(str(path), f"unsupported file type {path.suffix or '(no suffix)'!r}")
        elif os.path.lexists(path):
            yield Rejected(str(path), link_problem(path) or "neither a file nor a directory")
        else:
            yield Rejected(str(path), "no such file or directory")


def read_url(url: str, policy: FetchPolicy) -> Iterator[RawDocument | Rejected]:
    """Fetch one URL: an RSS/Atom feed gives its items, anything else is one web page (an article)."""
    try:
        fetched = fetch(url, policy)
    except FetchError as error:
        yield Rejected(url, str(error))
        return
    yield from read_fetched(url, fetched)


def read_fetched(url: str, fetched: Fetched) -> Iterator[RawDocument | Rejected]:
    """The documents of a fetched answer to `url`: a feed's items, or the page as one article."""
    try:
        text = decode(fetched.data)
    except InputError as error:
        yield Rejected(url, str(error))
        return
    parts = urlparse(fetched.url)
    stem = Path(parts.path).stem or parts.netloc
    kind = fetched.content_type
    if "xml" in kind or "rss" in kind or "atom" in kind or _FEED_START.match(text):
        yield from read_feed(url, stem, text)
    else:
        yield RawDocument(id=stem, source=url, kind="html", content=text, url=fetched.url, site=parts.netloc,
                          origin=fetched.url)
