"""WARC input: the HTML responses a crawler archived (`.warc`, `.warc.gz`) as raw documents, through warcio.

A WARC file holds many captures, so one bad record is a rejection of that record, not of the file; but a
broken record ends the file, because the format gives no way to find the start of the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from urllib.parse import urlparse

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecord

# The module, not its names: storyline.ingest imports this module, so its names may not exist yet at import.
from storyline.ingest.decoding import InputError, decode, parse_date
from storyline.model import RawDocument, Rejected

MAX_RECORD_BYTES = 20 * 2**20  # the largest HTML payload read from one record
CHUNK_BYTES = 2**16
WARC_SUFFIXES = (".warc.gz", ".warc")
HTML_TYPES = {"text/html", "application/xhtml+xml"}
# What warcio raises on bytes that do not parse as WARC or gzip; AttributeError on a header block cut short.
BROKEN = (ArchiveLoadFailed, zlib.error, OSError, ValueError, EOFError, AttributeError)


def read_warc(path: Path) -> Iterator[RawDocument | Rejected]:
    """Every HTML response record of a WARC file as a raw document; problems as rejections."""
    try:
        stream = path.open("rb")
    except OSError as error:
        yield Rejected(str(path), error.strerror or str(error))
        return
    with stream:
        records = ArchiveIterator(stream)
        found, number, stem = False, 0, _stem(path)
        while True:
            number += 1
            where = f"{path}#record{number}"
            try:
                record = next(records, None)
                if record is None:
                    # warcio stops quietly at a gzip member cut short: bytes left unread mean a broken record.
                    if records.offset < os.fstat(stream.fileno()).st_size:
                        raise ArchiveLoadFailed(f"unreadable data at byte {records.offset}")
                    break
                item = _read_record(record, where, stem)
                _check_complete(record)
            except BROKEN as error:
                detail = "malformed record headers" if isinstance(error, AttributeError) else str(error)
                if detail.startswith("Unknown archive format"):  # warcio quotes the raw first line
                    detail = "not a WARC record (unknown archive format)"
                yield Rejected(where, f"broken WARC record: {detail}")
                return
            if item is not None:
                found = True
                yield item
    if not found:
        yield Rejected(str(path), "no HTML response records in the WARC file")


def _read_record(record: ArcWarcRecord, where: str, stem: str) -> RawDocument | Rejected | None:
    """A 2xx HTML response as a document; None for every other record, which is not an article."""
    if record.rec_type != "response" or record.http_headers is None:
        return None
    if not record.http_headers.get_statuscode().startswith("2"):
        return None
    header = Message()
    header["Content-Type"] = record.http_headers.get_header("Content-Type") or ""
    if header.get_content_type() not in HTML_TYPES:
        return None
    payload = _read_payload(record)
    if payload is None:
        return Rejected(where, f"record larger than {MAX_RECORD_BYTES // 2**20} MiB")
    if not payload.strip():
        return Rejected(where, "empty HTML payload")
    try:
        text = _decode(payload, header.get_content_charset())
    except InputError as error:
        return Rejected(where, f"undecodable HTML payload: {error}")
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    date = record.rec_headers.get_header("WARC-Date") or ""
    try:
        published: datetime | None = parse_date(date).astimezone(UTC)
    except ValueError:
        published = None
    # The URI and the capture time together: the same page crawled twice is two documents.
    digest = hashlib.sha1(f"{uri}\0{date}".encode()).hexdigest()[:10]
    return RawDocument(
        id=f"{stem}-{digest}",
        source=where,
        kind="html",
        content=text,
        url=uri or None,
        published=published,
        site=urlparse(uri).netloc or None,
    )


def _read_payload(record: ArcWarcRecord) -> bytes | None:
    """The HTTP body in chunks, never more than the cap + 1 bytes in memory; None when over the cap."""
    content, chunks, size = record.content_stream(), [], 0
    while size <= MAX_RECORD_BYTES:
        chunk = content.read(min(CHUNK_BYTES, MAX_RECORD_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > MAX_RECORD_BYTES else b"".join(chunks)


def _decode(payload: bytes, charset: str | None) -> str:
    """The charset the server declared when Python knows it and it fits the bytes, else storyline's guess."""
    if charset:
        # Through decode() as UTF-8: the same checks (binary, empty) and mojibake repair as other inputs.
        with contextlib.suppress(LookupError, UnicodeError):
            payload = payload.decode(charset).encode("utf-8")
    return decode(payload)


def _check_complete(record: ArcWarcRecord) -> None:
    """Read the rest of the record and fail if it ends before its Content-Length (warcio does not)."""
    # warcio reads a missing or garbled Content-Length (a header cut short) as 0 and goes on.
    length = (record.rec_headers.get_header("Content-Length") or "").strip()
    if record.rec_type is None or not length.isdecimal():
        raise ArchiveLoadFailed("no WARC-Type or no valid Content-Length header")
    stream = record.raw_stream
    while stream.read(CHUNK_BYTES):
        pass
    if isinstance(stream, LimitReader) and stream.limit > 0:
        raise ArchiveLoadFailed(f"truncated, {stream.limit} of {length} bytes missing")


def _stem(path: Path) -> str:
    """The file name without `.warc` or `.warc.gz`: the prefix of its documents' ids."""
    name = path.name
    suffix = next((s for s in WARC_SUFFIXES if name.lower().endswith(s)), "")
    return name[: len(name) - len(suffix)]
