"""WARC input: HTML responses become documents, other records are skipped, broken files are named rejections."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from storyline.ingest import warc
from storyline.ingest.warc import read_warc
from storyline.model import RawDocument, Rejected

HARBOUR_URI = "https://news.example.org/2024/harbour"
HARBOUR_DATE = "2024-03-01T08:30:00Z"
HARBOUR_HTML = "<html><body><p>The harbour reopened on Friday after a week of storms.</p></body></html>"
BUDGET_URI = "https://vesti.example.ru/budget"
BUDGET_DATE = "2024-03-02T17:05:00Z"
BUDGET_HTML = "<html><body><p>Городской совет утвердил новый бюджет на следующий год.</p></body></html>"


def _response(
    writer: WARCWriter, uri: str, date: str, body: bytes, kind: str = "text/html; charset=utf-8", status: str = "200 OK"
) -> None:
    http = StatusAndHeaders(status, [("Content-Type", kind)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        uri, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict={"WARC-Date": date}
    )
    writer.write_record(record)


def _id(stem: str, uri: str, date: str) -> str:
    key = f"{uri}\0{date}".encode()
    return f"{stem}-{hashlib.sha1(key).hexdigest()[:10]}"


def _two_stories(path: Path, gzip: bool = True) -> Path:
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        _response(writer, HARBOUR_URI, HARBOUR_DATE, HARBOUR_HTML.encode())
        _response(writer, BUDGET_URI, BUDGET_DATE, BUDGET_HTML.encode())
    return path


@pytest.mark.parametrize("gzip", [True, False])
def test_only_2xx_html_responses_become_documents(tmp_path: Path, gzip: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gzip else "crawl.warc")
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "storyline tests"}))
        request = StatusAndHeaders("GET /2024/harbour HTTP/1.1", [("Host", "news.example.org")], is_http_request=True)
        writer.write_record(
            writer.create_warc_record(HARBOUR_URI, "request", payload=io.BytesIO(b""), http_headers=request)
        )
        _response(writer, HARBOUR_URI, HARBOUR_DATE, HARBOUR_HTML.encode())
        _response(
            writer, BUDGET_URI, BUDGET_DATE, BUDGET_HTML.encode("windows-1251"), "text/html; charset=windows-1251"
        )
        _response(writer, "https://news.example.org/logo.png", HARBOUR_DATE, b"\x89PNG\r\n\x1a\n\0\0", "image/png")
        missing = b"<html><body><p>This page does not exist.</p></body></html>"
        _response(writer, "https://news.example.org/gone", HARBOUR_DATE, missing, status="404 Not Found")
        outlinks = io.BytesIO(b"outlink: https://news.example.org/2024/ferry\r\n")
        writer.write_record(
            writer.create_warc_record(
                HARBOUR_URI, "metadata", payload=outlinks, warc_content_type="application/warc-fields"
            )
        )
        notes = io.BytesIO(b"<html><body><p>Crawler notes, not news.</p></body></html>")
        writer.write_record(
            writer.create_warc_record("file:///notes.html", "resource", payload=notes, warc_content_type="text/html")
        )
        unchanged = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_revisit_record(HARBOUR_URI, "sha1:AAAA", HARBOUR_URI, HARBOUR_DATE, http_headers=unchanged)
        )
    harbour, budget = read_warc(path)
    assert isinstance(harbour, RawDocument) and isinstance(budget, RawDocument)
    assert (harbour.source, harbour.id) == (f"{path}#record3", _id("crawl", HARBOUR_URI, HARBOUR_DATE))
    assert (budget.source, budget.id) == (f"{path}#record4", _id("crawl", BUDGET_URI, BUDGET_DATE))
    assert (harbour.kind, harbour.url, harbour.site) == ("html", HARBOUR_URI, "news.example.org")
    assert harbour.published == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert "harbour reopened on Friday" in harbour.content
    assert (budget.url, budget.site, budget.published) == (
        BUDGET_URI,
        "vesti.example.ru",
        datetime(2024, 3, 2, 17, 5, tzinfo=UTC),
    )
    assert "Городской совет утвердил новый бюджет" in budget.content


def test_xhtml_with_an_unknown_charset_is_decoded_by_guessing(tmp_path: Path) -> None:
    path = tmp_path / "mixed.warc"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        _response(
            writer, HARBOUR_URI, HARBOUR_DATE, BUDGET_HTML.encode(), "application/xhtml+xml; charset=no-such-code"
        )
    [document] = read_warc(path)
    assert isinstance(document, RawDocument) and "Городской совет" in document.content


def test_declared_charset_wins_over_guessing(tmp_path: Path) -> None:
    path = tmp_path / "polish.warc"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        body = "<html><body><p>Łódź otworzyła nowy most.</p></body></html>".encode("iso-8859-2")
        _response(writer, "https://wiadomosci.example.pl/most", HARBOUR_DATE, body, "text/html; charset=ISO-8859-2")
    [document] = read_warc(path)
    assert isinstance(document, RawDocument) and "Łódź otworzyła nowy most." in document.content


# Cut halfway into the second record (its headers or body), or a few bytes short of its end (warcio is silent).
@pytest.mark.parametrize(("name", "short"), [("cut.warc.gz", None), ("cut.warc", None), ("cut.warc", 10)])
def test_truncated_file_keeps_the_records_before_the_cut(tmp_path: Path, name: str, short: int | None) -> None:
    path = _two_stories(tmp_path / name, gzip=name.endswith(".gz"))
    data = path.read_bytes()
    records = ArchiveIterator(io.BytesIO(data))
    second = [records.get_record_offset() for _ in records][1]
    path.write_bytes(data[: len(data) - short if short else (second + len(data)) // 2])
    first, rejection = read_warc(path)
    assert isinstance(first, RawDocument) and first.url == HARBOUR_URI
    assert rejection.source == f"{path}#record2"
    assert isinstance(rejection, Rejected) and rejection.reason.startswith("broken WARC record: ")


def test_random_bytes_are_one_rejection(tmp_path: Path) -> None:
    path = tmp_path / "noise.warc"
    path.write_bytes(random.Random(7).randbytes(4096))
    [rejection] = read_warc(path)
    assert isinstance(rejection, Rejected) and rejection.source == f"{path}#record1"
    assert rejection.reason.startswith("broken WARC record: ")


def test_oversized_record_is_rejected_and_the_next_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        _response(writer, BUDGET_URI, BUDGET_DATE, b"<html><body><p>" + b"Long report. " * 50 + b"</p></body></html>")
        _response(writer, HARBOUR_URI, HARBOUR_DATE, HARBOUR_HTML.encode())
    monkeypatch.setattr(warc, "MAX_RECORD_BYTES", len(HARBOUR_HTML))
    rejection, document = read_warc(path)
    assert isinstance(rejection, Rejected) and rejection.source == f"{path}#record1"
    assert rejection.reason.startswith("record larger than ")
    assert isinstance(document, RawDocument) and document.url == HARBOUR_URI


def test_empty_and_binary_html_payloads_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.warc"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        _response(writer, HARBOUR_URI, HARBOUR_DATE, b"", "text/html")
        _response(writer, BUDGET_URI, BUDGET_DATE, b"\0\1\2<html>\0\0\0", "text/html")
    assert list(read_warc(path)) == [
        Rejected(f"{path}#record1", "empty HTML payload"),
        Rejected(f"{path}#record2", "undecodable HTML payload: binary file (NUL bytes), not text"),
    ]


def test_warc_without_html_responses_is_one_rejection(tmp_path: Path) -> None:
    path = tmp_path / "images.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "storyline tests"}))
        _response(writer, "https://news.example.org/logo.png", HARBOUR_DATE, b"\x89PNG\r\n\x1a\n\0\0", "image/png")
    assert list(read_warc(path)) == [Rejected(str(path), "no HTML response records in the WARC file")]


def test_unreadable_file_is_rejected_with_the_os_reason(tmp_path: Path) -> None:
    path = tmp_path / "missing.warc"
    assert list(read_warc(path)) == [Rejected(str(path), "No such file or directory")]


def test_captures_of_one_url_at_two_dates_have_distinct_ids(tmp_path: Path) -> None:
    path = tmp_path / "recrawl.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        _response(writer, HARBOUR_URI, HARBOUR_DATE, HARBOUR_HTML.encode())
        _response(writer, HARBOUR_URI, "2024-03-08T08:30:00Z", HARBOUR_HTML.replace("Friday", "Monday").encode())
    ids = [item.id for item in read_warc(path) if isinstance(item, RawDocument)]
    assert ids == [_id("recrawl", HARBOUR_URI, HARBOUR_DATE), _id("recrawl", HARBOUR_URI, "2024-03-08T08:30:00Z")]


def test_ids_are_stable_across_reads(tmp_path: Path) -> None:
    path = _two_stories(tmp_path / "again.warc.gz")
    first = [item.id for item in read_warc(path) if isinstance(item, RawDocument)]
    assert len(first) == 2 and first == [item.id for item in read_warc(path) if isinstance(item, RawDocument)]
