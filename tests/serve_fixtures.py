"""What the serve tests share: the sample corpus analysed once per session by the real pipeline, private
copies of that store for tests that write, hostile records, and a real uvicorn server on a free port."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from storyline import pipeline
from storyline.serve import Settings, create_app
from storyline.store import SQLiteStore

from .conftest import CORPUS

TOKEN = "test-token-5f1c"
# Each hostile record sets window.__xss (or opens a dialog) if any of its fields ever runs as script.
HOSTILE: list[dict[str, Any]] = [
    {"id": "xss-script", "title": "Harbour <script>window.__xss = 'title'; alert(1)</script> strike news",
     "text": "Dock workers <script>window.__xss = 'text'; alert(2)</script> walked out in Valletta on Monday, "
             "union leader Tomas Reinholt said. <img src=x onerror=\"window.__xss = 'img'; alert(3)\"> "
             "Ships waited off Marsaxlokk as the strike went on. <a href=\"javascript:window.__xss='a'\">more</a>",
     "source": "<svg onload=\"window.__xss = 'source'; alert(4)\">", "url": "javascript:window.__xss='url'",
     "published": "2026-03-10T08:00:00Z", "lang": "en"},
    {"id": "xss-\"><img src=x onerror=alert(5)>", "title": "\"><img src=x onerror=\"window.__xss='id'\"> Port talks",
     "text": "Talks on the port of Valletta resumed on Tuesday with \" onerror=\"window.__xss='attr'\" mediators. "
             "Tomas Reinholt said \"<b onmouseover=alert(6)>we wait</b>\" before the meeting.",
     "source": "javascript:alert(7)", "url": "https://evil.example.com/\"><script>window.__xss='href'</script>",
     "published": "2026-03-10T09:00:00Z", "lang": "en"},
    {"id": "xss-ar", "title": "<script>window.__xss='ar'</script> إضراب في ميناء مرسى شلوق",
     "text": "قال توماس راينهولت <img src=x onerror=\"window.__xss='ar-text'\"> إن العمال مستمرون في الإضراب في "
             "ميناء مرسى شلوق في مالطا.", "published": "2026-03-10T10:00:00Z", "lang": "ar"},
]
# What the escaped payloads must never be found as in a page: markup that a browser would run.
RAW_PAYLOADS = ("<script>window", "<img src=x", "<svg onload", "<b onmouseover", "href=\"javascript:", "\" onerror=\"")


@pytest.fixture(scope="session")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/corpus digested by the real pipeline into a SQLite store, once per session (both serve test
    modules find it under the session's base temporary folder)."""
    db = tmp_path_factory.getbasetemp() / "serve-corpus" / "corpus.db"
    if not db.exists():
        db.parent.mkdir(exist_ok=True)
        store = SQLiteStore(db)
        try:
            report, _ = pipeline.digest([CORPUS], store)
        finally:
            store.close()
        assert report.read == 28 and not report.rejected
    return db


def copy_store(source: Path, folder: Path) -> Path:
    """A private copy of a store (SQLite's backup API: WAL content included), for a test that writes."""
    target = folder / "copy.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(settings: Settings) -> Iterator[str]:
    """A real uvicorn server for `settings` on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
