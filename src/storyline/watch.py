"""`storyline watch`: poll feeds, pages and folders, ingest and analyse what is new, and say which stories are
new or grew. Everything it remembers (validators, file signatures, failures) is kept in the store and written
only after what it describes is stored, so a restart, even after kill -9, resumes without losing or doubling.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from storyline.ingest import FetchPolicy, read_fetched
from storyline.ingest.fetch import FetchError, Validators, fetch
from storyline.ingest.files import read_file, walk
from storyline.model import RawDocument, Rejected
from storyline.pipeline import RunReport, analyse, ingest_documents
from storyline.store import Store

# Seconds between two polls of a source, unless told otherwise (EMM NewsBrief refreshes every ten minutes).
DEFAULT_EVERY_SECONDS = 600.0
# A failing source waits `every` x 2^failures before its next try, at most this long.
MAX_BACKOFF_SECONDS = 6 * 3600.0
# Seconds between two requests to one host within a poll: a feed and its pages on one site are not hammered.
HOST_SPACING_SECONDS = 2.0
_URL = re.compile(r"https?://", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """`10m`, `30s`, `1h`, `2d` or plain seconds, as seconds (at least one)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if match is None:
        raise ValueError(f"not an interval: {text!r} (e.g. 30s, 10m, 1h)")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds < 1:
        raise ValueError(f"interval {text!r} is shorter than a second")
    return seconds


@dataclass(slots=True)
class Change:
    """A story that a poll made: new (`before` 0) or grown."""

    story: str
    title: str
    before: int
    after: int

    def line(self) -> str:
        if self.before == 0:
            return f"NEW  {self.story}: {self.title} ({self.after} article{'s' * (self.after != 1)})"
        return f"GREW {self.story}: {self.title} (+{self.after - self.before}, {self.after} articles)"


@dataclass(slots=True)
class Watcher:
    """Polls `sources` into `store`. `say` is told one line per new or grown story, `warn` one line per problem,
    naming the source."""

    sources: Sequence[str]
    store: Store
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    every: float = DEFAULT_EVERY_SECONDS
    say: Callable[[str], None] = print
    warn: Callable[[str], None] = print
    language: str = "en"
    incremental: bool = True  # only the new articles are analysed (False: everything, at each poll)
    stop: threading.Event = field(default_factory=threading.Event)
    _last_request: dict[str, float] = field(default_factory=dict)

    def run(self) -> None:
        """Poll until `stop` is set, sleeping until the next source is due."""
        while not self.stop.is_set():
            for change in self.poll():
                self.say(change.line())
            self.stop.wait(max(0.0, self._next_due() - time.time()))

    def poll(self) -> list[Change]:
        """One round over the sources that are due; then analysis when anything is new or waits for it."""
        added = 0
        for source in self.sources:
            if self.stop.is_set():
                break
            state = self.store.watch_state(source)
            if float(state.get("next_due", 0)) > time.time():
                continue
            added += self._poll_url(source, state) if _URL.match(source) else self._poll_path(source, state)
        if not added and not self.store.pending():
            return []
        report = RunReport(read=0, added=0, rejected=[])
        waiting = self.store.pending_ids()
        analyse(self.store, self.language, report=report, load=False, incremental=self.incremental)
        self._report(report)
        return [Change(story, title, size - held, size)
                for story, (title, size, held) in sorted(self.store.stories_holding(waiting).items())]

    def _poll_url(self, url: str, state: dict[str, str]) -> int:
        """A conditional request: an unchanged feed answers 304 and costs nothing more."""
        self._be_polite(url)
        try:
            fetched = fetch(url, self.policy, Validators(state.get("etag"), state.get("last_modified")))
        except FetchError as error:
            failures = int(state.get("failures", 0)) + 1
            wait = min(self.every * 2 ** failures, MAX_BACKOFF_SECONDS)
            self.warn(f"storyline: rejected {url}: {error} (try {failures}; next in {math.ceil(wait)} s)")
            self.store.set_watch_state(url, {**state, "failures": str(failures), "next_due": str(time.time() + wait)})
            return 0
        added = 0 if fetched.not_modified else self._ingest(read_fetched(url, fetched))
        remembered = {"etag": fetched.validators.etag, "last_modified": fetched.validators.last_modified,
                      "next_due": str(time.time() + self.every)}
        self.store.set_watch_state(url, {key: value for key, value in remembered.items() if value})
        return added

    def _poll_path(self, source: str, state: dict[str, str]) -> int:
        """Files whose size or modification time changed since the last poll are read again; problems with
        the folder itself (a link loop, an unreadable directory) are said once, when they first appear."""
        path = Path(source)
        seen: dict[str, str] = {}
        changed: list[Path] = []
        problems: list[Rejected] = []
        for found in _listing(path):
            if isinstance(found, Rejected):
                seen[f"problem:{found.source}"] = found.reason
                if state.get(f"problem:{found.source}") != found.reason:
                    problems.append(found)
                continue
            info = found.stat()
            signature = f"{info.st_mtime_ns}:{info.st_size}"
            seen[f"file:{found}"] = signature
            if state.get(f"file:{found}") != signature:
                changed.append(found)
        added = self._ingest(_read_all(changed, problems))
        self.store.set_watch_state(source, {**seen, "next_due": str(time.time() + self.every)})
        return added

    def _ingest(self, items: Iterator[RawDocument | Rejected]) -> int:
        report = ingest_documents(items, self.store)
        self._report(report)
        return report.added

    def _report(self, report: RunReport) -> None:
        for rejected in report.rejected:
            self.warn(f"storyline: rejected {rejected.source}: {rejected.reason}")
        for warned in report.warnings:
            self.warn(f"storyline: warning: {warned.source}: {warned.reason}")

    def _be_polite(self, url: str) -> None:
        host = urlparse(url).netloc
        wait = self._last_request.get(host, 0.0) + HOST_SPACING_SECONDS - time.time()
        if wait > 0:
            self.stop.wait(wait)
        self._last_request[host] = time.time()

    def _next_due(self) -> float:
        due = [float(self.store.watch_state(source).get("next_due", 0)) for source in self.sources]
        return min(due, default=time.time() + self.every)


def _listing(path: Path) -> Iterator[Path | Rejected]:
    if path.is_dir():
        yield from walk(path)
    elif path.is_file():
        yield path
    else:
        yield Rejected(str(path), "no such file or directory")


def _read_all(paths: list[Path], problems: list[Rejected]) -> Iterator[RawDocument | Rejected]:
    yield from problems
    for path in paths:
        yield from read_file(path)
