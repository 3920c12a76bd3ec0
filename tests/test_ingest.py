"""Ingest: every supported input kind is read; every bad input becomes one named rejection."""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storyline.ingest import FetchPolicy, files, read_documents
from storyline.model import RawDocument, Rejected


def _read(*paths: Path) -> tuple[list[RawDocument], list[Rejected]]:
    items = list(read_documents(paths))
    return ([i for i in items if isinstance(i, RawDocument)], [i for i in items if isinstance(i, Rejected)])


def test_directory_is_read_recursively_with_file_stems_as_ids(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.txt").write_text("Headline one\n\nBody one.", encoding="utf-8")
    (tmp_path / "a" / "b" / "two.html").write_text("<html><body><p>Body two</p></body></html>", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored: not an article format", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("Hidden\n\nfile", encoding="utf-8")
    docs, rejected = _read(tmp_path)
    assert sorted((d.id, d.kind) for d in docs) == [("one", "text"), ("two", "html")]
    assert rejected == []


def test_empty_binary_and_undecodable_files_are_rejected_by_name(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"  \n\n ")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "noise.txt").write_bytes(bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D] * 40 + [0x01, 0x02, 0x03] * 30))
    (tmp_path / "good.txt").write_text("Good headline\n\nGood body.", encoding="utf-8")
    docs, rejected = _read(tmp_path)
    assert [d.id for d in docs] == ["good"]
    reasons = {Path(r.source).name: r.reason for r in rejected}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["image.txt"].startswith("binary file")
    assert "noise.txt" in reasons


def test_legacy_encoding_is_detected_and_mojibake_repaired(tmp_path: Path) -> None:
    russian = "Заголовок новости\n\nМинистр заявил, что переговоры продолжатся в среду."
    (tmp_path / "cp1251.txt").write_bytes(russian.encode("cp1251"))
    (tmp_path / "mojibake.txt").write_text("Headline\n\nThe café reopened â€” officials said.", encoding="utf-8")
    docs, rejected = _read(tmp_path)
    assert not rejected
    texts = {d.id: d.content for d in docs}
    assert "Министр заявил" in texts["cp1251"]
    assert "café reopened — officials" in texts["mojibake"]


def test_malformed_jsonl_line_is_rejected_by_line_and_a_bad_date_dropped_with_a_warning(tmp_path: Path) -> None:
    feed = tmp_path / "wire.jsonl"
    lines = [
        json.dumps({"id": "w1", "title": "First", "text": "First body.", "published": "2026-03-02T10:00:00Z"}),
        '{"id": "w2", "title": "Broken", "text": ',
        json.dumps({"id": "w3", "title": "No body"}),
        json.dumps({"id": "w4", "title": "Bad date", "text": "Body", "published": "yesterday-ish"}),
        json.dumps({"title": "Fourth", "html": "<p>Body in HTML</p>"}),
    ]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, rejected = _read(feed)
    assert [d.id for d in docs] == ["w1", "w4", "wire-5"]
    assert docs[0].published is not None and docs[0].published.isoformat() == "2026-03-02T10:00:00+00:00"
    assert docs[1].published is None
    assert docs[1].warnings == ["field 'published' is not a date ('yesterday-ish'); dropped"]
    assert docs[2].kind == "html"
    sources = {r.source: r.reason for r in rejected}
    assert sources[f"{feed}:2"].startswith("malformed JSON line")
    assert "neither" in sources[f"{feed}:3"]
    assert len(rejected) == 2


FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Desk</title>
        <item><title>Port reopens</title><link>http://example.org/1</link><guid>g1</guid>
        <pubDate>Wed, 04 Mar 2026 09:00:00 GMT</pubDate>
        <description>The port reopened on Wednesday.</description></item>
        <item><title>Talks end</title><link>http://example.org/2</link><guid>g2</guid>
        <description>&lt;p&gt;Talks ended late on Tuesday.&lt;/p&gt;</description></item>
        </channel></rss>"""


def test_rss_items_become_articles_and_a_broken_feed_is_rejected(tmp_path: Path) -> None:
    rss = tmp_path / "desk.xml"
    rss.write_text(FEED, encoding="utf-8")
    broken = tmp_path / "broken.xml"
    broken.write_text("<rss><channel><item><title>cut off", encoding="utf-8")
    docs, rejected = _read(rss, broken)
    assert [d.title for d in docs] == ["Port reopens", "Talks end"]
    assert docs[0].published is not None and docs[0].published.day == 4
    assert docs[1].kind == "html"
    assert len({d.id for d in docs}) == 2 and all(d.id.startswith("desk-") for d in docs)
    assert [(Path(r.source).name, r.reason.split(":")[0]) for r in rejected] == [("broken.xml", "broken feed")]


def test_missing_path_and_unknown_suffix_are_rejected(tmp_path: Path) -> None:
    odd = tmp_path / "data.bin"
    odd.write_bytes(b"x")
    _, rejected = _read(tmp_path / "nope", odd)
    assert [r.reason for r in rejected] == ["no such file or directory", "unsupported file type '.bin'"]


def test_curly_quotes_survive_decoding_so_json_and_quote_styles_stay_intact(tmp_path: Path) -> None:
    record = {"id": "q", "title": "Talks", "text": "„Wir verhandeln weiter“, sagte sie. “We go on,” he said."}
    (tmp_path / "q.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    docs, rejected = _read(tmp_path / "q.jsonl")
    assert not rejected
    assert docs[0].content == record["text"]


class _NewsSite(BaseHTTPRequestHandler):
    """A small web server: a feed served as text/plain (the body says it is RSS), a page, a missing page."""

    def do_GET(self) -> None:
        pages = {"/desk/rss.xml": ("text/plain", FEED),
                 "/2026/port-reopens.html": ("text/html", "<html><body><article><h1>Port reopens</h1><p>The "
                                             "port of Valletta reopened on Wednesday.</p></article></body></html>")}
        if self.path not in pages:
            self.send_error(404, "Not Found")
            return
        kind, body = pages[self.path]
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def news_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NewsSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_feed_and_a_page_are_fetched_by_url_and_a_missing_or_unreachable_one_is_rejected(news_site: str) -> None:
    feed, page, missing = f"{news_site}/desk/rss.xml", f"{news_site}/2026/port-reopens.html", f"{news_site}/gone"
    items = list(read_documents([feed, page, missing, "http://127.0.0.1:9/feed.xml"], FetchPolicy(allow_private=True)))
    docs = [i for i in items if isinstance(i, RawDocument)]
    assert [d.title for d in docs[:2]] == ["Port reopens", "Talks end"]
    assert all(d.id.startswith("rss-") and d.source.startswith(feed) for d in docs[:2])
    assert (docs[2].id, docs[2].kind, docs[2].url, docs[2].source) == ("port-reopens", "html", page, page)
    rejected = {i.source: i.reason for i in items if isinstance(i, Rejected)}
    assert rejected[missing] == "HTTP 404 Not Found"
    assert rejected["http://127.0.0.1:9/feed.xml"].startswith("cannot fetch: ")


def test_a_symlink_loop_and_a_broken_link_are_each_one_rejection_saying_so(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Good headline\n\nGood body.", encoding="utf-8")
    os.symlink(folder, folder / "loop")
    os.symlink(folder / "gone.txt", folder / "dangling.txt")
    os.symlink(tmp_path / "self.txt", tmp_path / "self.txt")
    docs, rejected = _read(folder, tmp_path / "self.txt")
    assert [d.id for d in docs] == ["good"]
    assert sorted((Path(r.source).name, r.reason.split(" to ")[0]) for r in rejected) == [
        ("dangling.txt", "broken symbolic link"), ("loop", "symbolic link loop (directory already read)"),
        ("self.txt", "symbolic link loop")]


def test_an_unreadable_directory_is_a_rejection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "good.txt").write_text("Good headline\n\nGood body.", encoding="utf-8")
    scandir = os.scandir

    def refuse(path: Any) -> Any:  # as root chmod cannot lock a directory, so the refusal is simulated
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    docs, rejected = _read(tmp_path)
    assert [d.id for d in docs] == ["good"]
    assert [(Path(r.source).name, r.reason) for r in rejected] == [
        ("locked", "cannot read directory: Permission denied")]


def test_gzipped_inputs_are_read_and_a_gzip_bomb_or_a_corrupt_file_is_rejected(tmp_path: Path) -> None:
    record = json.dumps({"id": "z1", "title": "Zipped", "text": "A zipped record."})
    (tmp_path / "docs.jsonl.gz").write_bytes(gzip.compress(record.encode() + b"\n"))
    (tmp_path / "story.txt.gz").write_bytes(gzip.compress(b"Zipped headline\n\nZipped body."))
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(b"a " * (30 * 2**20)))
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(b"Headline\n\nBody " * 100)[:40])
    (tmp_path / "wire.jsonl.gz").write_bytes(gzip.compress(b'{"text": "A record without an id."}\n'))
    docs, rejected = _read(tmp_path)
    assert sorted(d.id for d in docs) == ["story", "wire-1", "z1"]
    reasons = {Path(r.source).name: r.reason for r in rejected}
    assert reasons["bomb.txt.gz"] == "larger than 50 MiB"
    assert reasons["cut.txt.gz"].startswith("unreadable compressed file")
    assert len(reasons) == 2


def test_an_overlong_jsonl_line_is_rejected_and_the_next_line_read(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_LINE_BYTES", 1000)
    long = json.dumps({"id": "long", "text": "word " * 500})
    short = json.dumps({"id": "short", "text": "A short record."})
    (tmp_path / "w.jsonl").write_text(f"{long}\n{short}\n", encoding="utf-8")
    docs, rejected = _read(tmp_path / "w.jsonl")
    assert [d.id for d in docs] == ["short"]
    assert [(r.source.endswith("w.jsonl:1"), r.reason) for r in rejected] == [(True, "line longer than 0 MiB")]


def test_a_text_file_is_read_as_a_page_only_when_it_opens_like_one(tmp_path: Path) -> None:
    (tmp_path / "stray.txt").write_text("Final assault on the bunker<br />Mystery over the leader\nBody.", "utf-8")
    (tmp_path / "saved.txt").write_text("<!DOCTYPE html><html><body><p>A saved page.</p></body></html>", "utf-8")
    docs, _ = _read(tmp_path)
    assert {d.id: d.kind for d in docs} == {"saved": "html", "stray": "text"}


def test_a_large_ingest_is_stored_a_chunk_at_a_time_and_ids_still_never_collide(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyline import pipeline
    from storyline.store import SQLiteStore

    for folder in ("a", "b", "c"):  # the same stem in three folders: three inputs, three ids
        (tmp_path / "in" / folder).mkdir(parents=True)
        (tmp_path / "in" / folder / "report.txt").write_text(f"Report {folder}\n\nThe port of {folder} reopened.",
                                                             encoding="utf-8")
    records = [{"id": f"r{n}", "title": f"Record {n}", "text": f"Body of record {n}."} for n in range(4)]
    records.append({"id": "r1", "title": "Again", "text": "A second record with id r1."})
    (tmp_path / "in" / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    monkeypatch.setattr(pipeline, "INGEST_CHUNK", 2)
    store = SQLiteStore(tmp_path / "s.db")
    looked_up: list[int] = []
    stored = store.stored
    monkeypatch.setattr(store, "stored", lambda ids: looked_up.append(len(ids)) or stored(ids))
    report = pipeline.ingest([tmp_path / "in"], store)
    assert max(looked_up) <= 4 and len(looked_up) == 4  # 8 inputs, 2 at a time (an id and its qualified form)
    assert report.added == 7 and [r.reason for r in report.rejected] == [
        "repeated id 'r1' (first used by " + str(tmp_path / "in" / "records.jsonl") + ":2)"]
    ids = sorted(store.stored([a.id for a in store.pending_articles()]))
    assert len([i for i in ids if i.startswith("report")]) == 3 and "report" in ids
    assert len(store.load().rejected) == 1  # stored with its chunk
    store.close()
