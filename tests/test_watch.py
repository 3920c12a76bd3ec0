"""`storyline watch`: polls feeds and folders, costs one conditional request for an unchanged feed, says which
stories are new or grew, backs off a failing source, stops cleanly on SIGTERM and resumes after kill -9."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storyline.ingest import FetchPolicy
from storyline.store import SQLiteStore
from storyline.watch import Watcher, parse_interval

ITEM = """<item><title>{title}</title><link>https://wire.example/{guid}</link><guid>{guid}</guid>
<pubDate>Wed, 04 Mar 2026 {hour}:00:00 GMT</pubDate><description>{body}</description></item>"""
STRIKE = [("Dock workers strike at Valletta port", "Dock workers at the port of Valletta walked out on Wednesday "
           "over pay, union leader Tomas Reinholt said, and forty ships waited offshore."),
          ("Valletta port strike halts shipping", "Shipping at the port of Valletta stopped on Wednesday as dock "
           "workers went on strike over pay, Tomas Reinholt said; forty ships waited offshore."),
          ("Strike at Valletta port enters second day", "The dock workers' strike at the port of Valletta went "
           "on for a second day over pay, Tomas Reinholt said, with forty ships waiting offshore.")]


def _feed(count: int) -> str:
    items = "".join(ITEM.format(title=t, body=b, guid=f"g{n}", hour=10 + n) for n, (t, b) in enumerate(STRIKE[:count]))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'


class _Site:
    """A feed server whose feed the test changes; it answers conditional requests with 304 and counts them."""

    def __init__(self) -> None:
        self.items, self.status, self.requests, self.not_modified = 1, 200, 0, 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests += 1
                if site.status != 200:
                    self.send_error(site.status)
                    return
                etag = f'"v{site.items}"'
                if self.headers.get("If-None-Match") == etag:
                    site.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                body = _feed(site.items).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rss.xml"


@pytest.fixture
def site() -> Iterator[_Site]:
    site = _Site()
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    yield site
    site.server.shutdown()
    site.server.server_close()


def _watcher(store: SQLiteStore, sources: list[str], lines: list[str]) -> Watcher:
    return Watcher(sources, store, FetchPolicy(allow_private=True), every=1.0, say=lines.append, warn=lines.append)


def test_an_unchanged_feed_costs_one_conditional_request_and_a_grown_one_is_said(site: _Site, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storyline.watch.HOST_SPACING_SECONDS", 0.0)
    store = SQLiteStore(tmp_path / "s.db")
    lines: list[str] = []
    watcher = _watcher(store, [site.url], lines)
    [new] = watcher.poll()
    assert (new.before, new.after) == (0, 1) and new.line().startswith("NEW  st-")
    store.set_watch_state(site.url, {**store.watch_state(site.url), "next_due": "0"})
    assert watcher.poll() == [] and (site.requests, site.not_modified) == (2, 1)
    site.items = 3
    store.set_watch_state(site.url, {**store.watch_state(site.url), "next_due": "0"})
    [grew] = watcher.poll()
    assert (grew.story, grew.before, grew.after) == (new.story, 1, 3)
    assert grew.line() == f"GREW {new.story}: {grew.title} (+2, 3 articles)"
    assert lines == [] and store.pending() == 0
    store.close()


def test_a_failing_feed_is_said_once_per_try_and_backed_off(site: _Site, tmp_path: Path) -> None:
    site.status = 500
    store = SQLiteStore(tmp_path / "s.db")
    lines: list[str] = []
    watcher = _watcher(store, [site.url], lines)
    assert watcher.poll() == [] and watcher.poll() == []  # the second poll is inside the back-off: no request
    assert site.requests == 1
    assert len(lines) == 1 and lines[0].startswith(f"storyline: rejected {site.url}: HTTP 500")
    assert lines[0].endswith("(try 1; next in 2 s)")
    assert store.watch_state(site.url)["failures"] == "1"
    store.close()


def test_a_folder_is_read_again_only_where_files_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(f"{STRIKE[0][0]}\n\n{STRIKE[0][1]}", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    store = SQLiteStore(tmp_path / "s.db")
    lines: list[str] = []
    watcher = _watcher(store, [str(folder)], lines)
    read: list[str] = []
    import storyline.watch as watch

    real = watch.read_file
    monkeypatch.setattr(watch, "read_file", lambda path: (read.append(path.name), real(path))[1])
    assert [c.after for c in watcher.poll()] == [1]
    assert sorted(read) == ["a.txt", "empty.txt"] and lines == [f"storyline: rejected {folder}/empty.txt: empty file"]
    (folder / "b.txt").write_text(f"{STRIKE[1][0]}\n\n{STRIKE[1][1]}", encoding="utf-8")
    store.set_watch_state(str(folder), {**store.watch_state(str(folder)), "next_due": "0"})
    read.clear()
    [grew] = watcher.poll()
    assert read == ["b.txt"] and (grew.before, grew.after) == (1, 2)
    store.close()


def test_intervals_read_as_people_write_them() -> None:
    assert [parse_interval(t) for t in ("30s", "10m", "1h", "2d", "45")] == [30, 600, 3600, 172800, 45]
    with pytest.raises(ValueError):
        parse_interval("soon")


def _watch_process(site: _Site, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "storyline", "watch", site.url, "--db", str(db), "--every", "1s",
                             "--allow-private-urls"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _next_line(process: subprocess.Popen[str], timeout: float = 60.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "watch printed nothing in time"
    return process.stdout.readline()


def test_the_watch_command_follows_a_feed_stops_on_sigterm_and_resumes_after_kill_9(site: _Site,
                                                                                    tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    process = _watch_process(site, db)
    assert _next_line(process).startswith("NEW  st-")
    site.items = 2
    assert _next_line(process).startswith("GREW st-")
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "Traceback" not in err
    site.items = 3
    for moment in (2.5, 4.0, 5.5):  # starting, polling, analysing: wherever it has got to
        killed = _watch_process(site, db)
        time.sleep(moment)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
    resumed = subprocess.run([sys.executable, "-m", "storyline", "watch", site.url, "--db", str(db), "--once",
                              "--allow-private-urls"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr
    store = SQLiteStore(db)
    articles = store.load().articles
    assert len(articles) == 3 and len({a.id for a in articles}) == 3 and store.pending() == 0
    store.close()


def test_a_watch_and_a_manual_ingest_on_one_store_lose_nothing_and_leave_nothing_unanalysed(tmp_path: Path) -> None:
    watched, manual = tmp_path / "watched", tmp_path / "manual"
    for folder, offset in ((watched, 0), (manual, 1)):
        folder.mkdir()
        for n, (title, body) in enumerate(STRIKE[offset:offset + 2]):
            (folder / f"{folder.name}-{n}.txt").write_text(f"{title}\n\n{body}", encoding="utf-8")
    db = tmp_path / "s.db"
    watch = subprocess.Popen([sys.executable, "-m", "storyline", "watch", str(watched), "--db", str(db), "--every",
                              "1s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ingest = subprocess.run([sys.executable, "-m", "storyline", "ingest", str(manual), "--db", str(db)],
                            capture_output=True, text=True, timeout=120)
    assert ingest.returncode == 0 and "Traceback" not in ingest.stderr
    assert _next_line(watch).startswith(("NEW  st-", "GREW st-"))
    watch.send_signal(signal.SIGTERM)
    _, err = watch.communicate(timeout=60)
    assert watch.returncode == 0 and "Traceback" not in err and "locked" not in err
    store = SQLiteStore(db)
    assert sorted(a.id for a in store.load().articles) == ["manual-0", "manual-1", "watched-0", "watched-1"]
    assert store.pending() == 0
    store.close()
