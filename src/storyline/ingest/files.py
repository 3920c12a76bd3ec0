"""Files and directories: which files are articles, and reading each kind within bounded memory.

Directories are walked by hand over os.walk because pathlib's rglob says nothing about what it cannot
enter: here an unreadable directory, a symbolic link loop and a broken link are each one rejection.
"""

from __future__ import annotations

import errno
import gzip
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from storyline.ingest.decoding import InputError, decode
from storyline.ingest.feeds import read_feed
from storyline.ingest.records import Line, read_json, read_jsonl
from storyline.model import RawDocument, Rejected

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
FEED_SUFFIXES = {".xml", ".rss", ".atom"}
WARC_SUFFIXES = {".warc"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | FEED_SUFFIXES | WARC_SUFFIXES
GZIP_SUFFIX = ".gz"
# The largest article, page, feed or JSON file read whole (after decompression): a news article is tens of
# kilobytes, so this is a dump or a mistake. JSONL files are streamed a line at a time, each line capped.
MAX_FILE_BYTES = 50 * 2**20
MAX_LINE_BYTES = 20 * 2**20
_READ_CHUNK = 2**20
# A .txt file is read as a web page only when it opens like one: scraped text often keeps a stray <br /> or
# <p> inside a paragraph, and read as HTML such a file lost its text.
_PAGE_START = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!doctype html|<html\b|<head\b|<body\b)", re.IGNORECASE)


def inner_suffix(path: Path) -> str:
    """The suffix that says what a file holds: `.jsonl` for `docs.jsonl.gz`, `.txt` for `a.txt`."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == GZIP_SUFFIX:
        return suffixes[-2] if len(suffixes) > 1 else GZIP_SUFFIX
    return suffixes[-1] if suffixes else ""


def stem(path: Path) -> str:
    """The file's name without what `inner_suffix` and a `.gz` add: `docs` for `docs.jsonl.gz`."""
    name = path.name
    for suffix in (GZIP_SUFFIX, inner_suffix(path)):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name


def walk(root: Path) -> Iterator[Path | Rejected]:
    """Every supported, non-hidden file under `root` in sorted order; what cannot be entered is rejected.
    Symbolic links are followed, each real directory once, so a link loop ends the walk there."""
    seen: set[str] = {os.path.realpath(root)}
    problems: list[Rejected] = []

    def unreadable(error: OSError) -> None:
        problems.append(Rejected(str(error.filename or root), f"cannot read directory: {error.strerror}"))

    for folder, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        yield from problems
        problems.clear()
        here = Path(folder)
        kept = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            real = os.path.realpath(here / name)
            if real in seen:
                yield Rejected(str(here / name), "symbolic link loop (directory already read)")
                continue
            seen.add(real)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or inner_suffix(path) not in SUPPORTED_SUFFIXES:
                continue
            problem = link_problem(path)
            yield Rejected(str(path), problem) if problem else path
    yield from problems


def link_problem(path: Path) -> str | None:
    """Why a path that is listed cannot be opened as a file (a link loop, a broken link), or None."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
        if path.is_symlink():
            return f"broken symbolic link to {os.readlink(path)}"
        return error.strerror or str(error)
    return None


def read_file(path: Path) -> Iterator[RawDocument | Rejected]:
    """Read one file of any supported kind; problems become `Rejected` records."""
    suffix = inner_suffix(path)
    if suffix in WARC_SUFFIXES:
        from storyline.ingest.warc import read_warc

        yield from read_warc(path)
        return
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl(path, _lines(path), stem(path))
        return
    try:
        text = decode(_read_capped(path))
    except (OSError, EOFError, zlib.error, InputError) as error:
        yield Rejected(str(path), _reason(error))
        return
    if suffix in JSON_SUFFIXES:
        yield from read_json(path, text, stem(path))
    elif suffix in FEED_SUFFIXES:
        yield from read_feed(str(path), stem(path), text)
    else:
        kind = "html" if suffix in HTML_SUFFIXES or _PAGE_START.match(text) else "text"
        yield RawDocument(id=stem(path), source=str(path), kind=kind, content=text, site=path.parent.name,
                          origin=str(path.resolve()))


def _open(path: Path) -> BinaryIO:
    if path.name.lower().endswith(GZIP_SUFFIX):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _read_capped(path: Path) -> bytes:
    """The file's bytes (decompressed), refusing more than MAX_FILE_BYTES: a gzip bomb stops at the cap."""
    with _open(path) as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"larger than {MAX_FILE_BYTES // 2**20} MiB")
    return data


def _lines(path: Path) -> Iterator[Line | Rejected]:
    """The decoded lines of a JSONL file, read a line at a time; an overlong line is rejected and skipped,
    the whole file is one rejection when it cannot be read or decoded at all."""
    try:
        with _open(path) as stream:
            head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
            if head in {b"\xff\xfe", b"\xfe\xff"}:  # UTF-16 is read whole: its newlines are two bytes wide
                yield from enumerate(decode(_read_capped(path)).splitlines(), 1)
                return
            number = 0
            while line := stream.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while (rest := stream.readline(_READ_CHUNK)) and not rest.endswith(b"\n"):
                        pass
                    yield Rejected(f"{path}:{number}", f"line longer than {MAX_LINE_BYTES // 2**20} MiB")
                    continue
                try:
                    yield number, line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError:
                    try:
                        yield number, decode(line) if line.strip() else ""
                    except InputError as error:
                        yield Rejected(f"{path}:{number}", str(error))
    except (OSError, EOFError, zlib.error, InputError) as error:
        yield Rejected(str(path), _reason(error))


def _reason(error: Exception) -> str:
    if isinstance(error, InputError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return f"unreadable compressed file: {error}" if isinstance(error, EOFError | zlib.error | gzip.BadGzipFile) \
        else str(error)
