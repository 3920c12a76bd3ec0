"""JSON and JSONL records (`{"id","url","title","text"|"html","published","source","lang"}`), every field
validated and normalised here, so nothing of the wrong type reaches a later stage or the store.

A record without a usable body or with an unusable id is rejected; an unusable optional field (a date that is
no date, a language that is no language, a URL that is no http(s) URL, a title or source that is no string)
is dropped with a warning and the article kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlparse

from storyline.ingest.decoding import parse_date, repair
from storyline.language import fold_language_tag
from storyline.model import RawDocument, Rejected

# Field limits: an id is a key, not a text; a source or site name is a name; a URL fits a browser.
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 200
MAX_URL_CHARS = 2048
# A date on this day is a missing date written as zero (a Unix timestamp of 0): scrapers emit it, and
# analysis would read the article as published half a century before the rest of the stream.
UNIX_EPOCH = date(1970, 1, 1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Line = tuple[int, str]


def read_json(path: Path, text: str, stem: str) -> Iterator[RawDocument | Rejected]:
    """One record, or a list of records (each named `path#N`); `stem` (the file's name without its suffixes)
    makes the ids of records without one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        yield Rejected(str(path), f"malformed JSON: {error.msg} (line {error.lineno}, column {error.colno})")
        return
    except RecursionError:  # the C decoder recurses once per level: a 100,000-deep array
        yield Rejected(str(path), "malformed JSON: nested too deeply")
        return
    if isinstance(data, list) and not data:
        yield Rejected(str(path), "no records: the JSON file holds an empty list")
        return
    items = data if isinstance(data, list) else [data]
    seen: dict[str, str] = {}
    for number, item in enumerate(items, 1):
        where = f"{path}#{number}" if isinstance(data, list) else str(path)
        fallback = f"{stem}-{number}" if isinstance(data, list) else stem
        origin = f"{path.resolve()}#{number}"
        yield _unique(record_document(item, where, fallback, stem, origin), where, seen)


def read_jsonl(path: Path, lines: Iterable[Line | Rejected], stem: str) -> Iterator[RawDocument | Rejected]:
    """One record a line (`path:N`); a malformed line is rejected and the rest read."""
    seen: dict[str, str] = {}
    records = 0
    for line in lines:
        if isinstance(line, Rejected):
            yield line
            continue
        number, content = line
        if not content.strip():
            continue
        records += 1
        where = f"{path}:{number}"
        try:
            item = json.loads(content)
        except json.JSONDecodeError as error:
            yield Rejected(where, f"malformed JSON line: {error.msg} (column {error.colno})")
            continue
        except RecursionError:
            yield Rejected(where, "malformed JSON line: nested too deeply")
            continue
        origin = f"{path.resolve()}:{number}"
        yield _unique(record_document(item, where, f"{stem}-{number}", stem, origin), where, seen)
    if not records:
        yield Rejected(str(path), "no records: the file holds no JSON lines")


def _unique(item: RawDocument | Rejected, where: str, seen: dict[str, str]) -> RawDocument | Rejected:
    """A record whose id an earlier record of the same file already has is rejected, naming that record."""
    if isinstance(item, Rejected):
        return item
    if item.id in seen:
        return Rejected(where, f"repeated id {item.id!r} (first used by {seen[item.id]})")
    seen[item.id] = where
    return item


def record_document(item: object, where: str, fallback_id: str, site: str, origin: str) -> RawDocument | Rejected:
    """A validated raw document from one decoded record; `fallback_id` (and `origin`, the record's place)
    are used when it has no id of its own."""
    if not isinstance(item, dict):
        return Rejected(where, f"record is a JSON {_json_type(item)}, expected an object")
    for name in ("text", "html"):
        if item.get(name) is not None and not isinstance(item[name], str):
            return Rejected(where, f"field {name!r} must be a string, not {_json_type(item[name])}")
    text, html = item.get("text") or "", item.get("html") or ""
    if not text.strip() and not html.strip():
        return Rejected(where, "record has neither a non-empty 'text' nor 'html' field")
    record_id, problem = _record_id(item.get("id"))
    if problem:
        return Rejected(where, problem)
    warnings: list[str] = []
    title = _string(item, "title", warnings)
    source = _string(item, "source", warnings)
    url = _url(item.get("url"), warnings)
    return RawDocument(
        id=record_id or fallback_id,
        source=where,
        kind="record" if text.strip() else "html",
        content=repair(text) if text.strip() else html,
        title=" ".join(repair(title).split()) or None if title else None,
        url=url,
        published=_published(*_date_field(item), warnings),
        lang=_language(item.get("lang"), warnings),
        site=_site(source, url, site),
        origin=None if record_id else origin,
        warnings=warnings,
    )


def _site(source: str | None, url: str | None, fallback: str) -> str:
    """The record's site: its `source`, else its URL's host, else `fallback` (the file's stem). Lines that recur
    across the articles of one site are boilerplate (storyline.extraction.evidence), so a file of records from
    many sites with URLs but no source is many sites, not one."""
    if source and source.strip():
        return " ".join(source.split())[:MAX_NAME_CHARS]
    host = (urlparse(url).hostname or "").removeprefix("www.") if url else ""
    return host[:MAX_NAME_CHARS] or fallback


def _record_id(value: object) -> tuple[str | None, str | None]:
    """The record's own id (a string, or an integer written as one) and the problem with it, if any."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, f"field 'id' must be a string, not {_json_type(value)}"
    text = str(value).strip()
    if _CONTROL.search(text):
        return None, "field 'id' holds control characters"
    if len(text) > MAX_ID_CHARS:
        return None, f"field 'id' is longer than {MAX_ID_CHARS} characters"
    return text, None


def _string(item: dict[str, object], name: str, warnings: list[str]) -> str | None:
    value = item.get(name)
    if value is None or isinstance(value, str):
        return value
    warnings.append(f"field {name!r} is not a string ({_json_type(value)}); dropped")
    return None


def normalise_url(value: object) -> str | None:
    """An absolute http(s) URL, stripped; None for anything else (javascript:, relative, too long)."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    parts = urlparse(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or len(url) > MAX_URL_CHARS:
        return None
    if _CONTROL.search(url) or " " in url:
        return None
    return url


def _url(value: object, warnings: list[str]) -> str | None:
    if value is None or value == "":
        return None
    url = normalise_url(value)
    if url is None:
        warnings.append(f"field 'url' is not an http(s) URL ({_short(value)}); dropped")
    return url


def _date_field(item: dict[str, object]) -> tuple[str, object]:
    """The publication date's field: `published`, else `date`, the name many news dumps use (BSNLP, the
    timelines sets)."""
    name = "published" if item.get("published") not in (None, "") or "date" not in item else "date"
    return name, item.get(name)


def _published(name: str, value: object, warnings: list[str]) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        when = parse_date(value)
    except ValueError:
        warnings.append(f"field {name!r} is not a date ({_short(value)}); dropped")
        return None
    if when.date() == UNIX_EPOCH:
        warnings.append(f"field {name!r} is the Unix epoch ({_short(value)}), a missing date written as zero;"
                        " dropped")
        return None
    return when


def _language(value: object, warnings: list[str]) -> str | None:
    if value is None or value == "":
        return None
    code = fold_language_tag(value) if isinstance(value, str) else None
    if code is None:
        warnings.append(f"field 'lang' names no known language ({_short(value)}); detected instead")
    return code


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type, as a record's author wrote it."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value) if isinstance(value, int | float | bool) \
        else _json_type(value)
    return text if len(text) <= 40 else text[:37] + "..."
