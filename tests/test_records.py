"""JSON records: every field validated at ingest, named in the rejection or the warning; nothing of the wrong
type reaches a later stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.ingest import read_documents
from storyline.model import RawDocument, Rejected

GOOD = {"id": "r1", "title": "Port reopens", "text": "The port reopened on Wednesday after talks."}


def _read_lines(tmp_path: Path, *records: object) -> list[RawDocument | Rejected]:
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return list(read_documents([path]))


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("text", 42, "field 'text' must be a string, not number"),
    ("html", {"p": "x"}, "field 'html' must be a string, not object"),
    ("id", ["a", "b"], "field 'id' must be a string, not array"),
    ("id", {"k": 1}, "field 'id' must be a string, not object"),
    ("id", True, "field 'id' must be a string, not boolean"),
    ("id", "two\nlines", "field 'id' holds control characters"),
    ("id", "x" * 201, "field 'id' is longer than 200 characters"),
])
def test_a_wrong_type_in_a_required_field_rejects_the_record_naming_the_field(
        tmp_path: Path, field: str, value: object, reason: str) -> None:
    items = _read_lines(tmp_path, {**GOOD, field: value}, {**GOOD, "id": "r2"})
    assert isinstance(items[0], Rejected)
    assert (items[0].source.endswith("wire.jsonl:1"), items[0].reason) == (True, reason)
    assert isinstance(items[1], RawDocument) and items[1].id == "r2"


@pytest.mark.parametrize(("field", "value", "warning"), [
    ("source", {"name": "Wire"}, "field 'source' is not a string (object); dropped"),
    ("source", ["Wire"], "field 'source' is not a string (array); dropped"),
    ("title", ["Port", "reopens"], "field 'title' is not a string (array); dropped"),
    ("lang", ["en"], "field 'lang' names no known language (array); detected instead"),
    ("lang", 42, "field 'lang' names no known language (42); detected instead"),
    ("lang", True, "field 'lang' names no known language (true); detected instead"),
    ("lang", "klingon", "field 'lang' names no known language ('klingon'); detected instead"),
    ("url", ["http://example.org"], "field 'url' is not an http(s) URL (array); dropped"),
    ("url", "javascript:alert(1)", "field 'url' is not an http(s) URL ('javascript:alert(1)'); dropped"),
    ("published", 12345, "field 'published' is not a date (12345); dropped"),
    ("published", "yesterday", "field 'published' is not a date ('yesterday'); dropped"),
    ("published", "1970-01-01", "field 'published' is the Unix epoch ('1970-01-01'), a missing date written as"
                                " zero; dropped"),
])
def test_a_wrong_optional_field_is_dropped_with_a_warning_and_the_article_kept(
        tmp_path: Path, field: str, value: object, warning: str) -> None:
    [doc] = _read_lines(tmp_path, {**GOOD, field: value})
    assert isinstance(doc, RawDocument)
    assert doc.warnings == [warning]
    assert (doc.site, doc.url, doc.published) == ("wire", None, None)
    assert doc.lang is None and doc.title in {None, "Port reopens"}


@pytest.mark.parametrize(("tag", "code"), [("en-US", "en"), ("EN", "en"), ("pt_BR", "pt"), ("ara", "ar"),
                                           ("zh-Hant-TW", "zh"), (" fr ", "fr"), ("iw", "he")])
def test_language_tags_are_folded_to_iso_639_1_without_a_warning(tmp_path: Path, tag: str, code: str) -> None:
    [doc] = _read_lines(tmp_path, {**GOOD, "lang": tag})
    assert isinstance(doc, RawDocument)
    assert (doc.lang, doc.warnings) == (code, [])


def test_string_fields_are_normalised(tmp_path: Path) -> None:
    [doc] = _read_lines(tmp_path, {**GOOD, "id": 7, "title": "  Port\n reopens\t", "source": " Wire\nDesk ",
                                   "url": " https://example.org/a ", "published": "Wed, 04 Mar 2026 09:00:00 GMT"})
    assert isinstance(doc, RawDocument)
    assert (doc.id, doc.title, doc.site, doc.url) == ("7", "Port reopens", "Wire Desk", "https://example.org/a")
    assert doc.published is not None and doc.published.isoformat() == "2026-03-04T09:00:00+00:00"


def test_a_repeated_id_inside_one_file_is_rejected_naming_its_line(tmp_path: Path) -> None:
    items = _read_lines(tmp_path, GOOD, {**GOOD, "id": "r2"}, {**GOOD, "text": "Another body."})
    assert [i.id for i in items if isinstance(i, RawDocument)] == ["r1", "r2"]
    [rejected] = [i for i in items if isinstance(i, Rejected)]
    assert rejected.source.endswith("wire.jsonl:3")
    assert rejected.reason.startswith("repeated id 'r1' (first used by ") and rejected.reason.endswith(":1)")


def test_a_deeply_nested_an_empty_and_a_blank_json_file_are_each_rejected(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    (tmp_path / "blank.jsonl").write_text("\n\n", encoding="utf-8")
    (tmp_path / "good.json").write_text(json.dumps([GOOD]), encoding="utf-8")
    items = list(read_documents([tmp_path]))
    assert [i.id for i in items if isinstance(i, RawDocument)] == ["r1"]
    reasons = {Path(i.source).name: i.reason for i in items if isinstance(i, Rejected)}
    assert reasons == {"deep.json": "malformed JSON: nested too deeply",
                       "empty.json": "no records: the JSON file holds an empty list",
                       "blank.jsonl": "no records: the file holds no JSON lines"}


def test_a_date_field_stands_for_published_when_published_is_missing(tmp_path: Path) -> None:
    items = _read_lines(tmp_path, {**GOOD, "date": "2020-03-08"}, {**GOOD, "id": "r2", "date": "soon"},
                        {**GOOD, "id": "r3", "date": "2020-03-08", "published": "2021-01-01T10:00:00Z"})
    docs = [i for i in items if isinstance(i, RawDocument)]
    assert [d.published.isoformat() if d.published else None for d in docs] == [
        "2020-03-08T00:00:00+00:00", None, "2021-01-01T10:00:00+00:00"]
    assert docs[1].warnings == ["field 'date' is not a date ('soon'); dropped"]
