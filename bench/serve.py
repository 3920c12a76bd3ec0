"""Latency of `storyline serve` under 32 concurrent clients: the home page, a story page, /api/stories and
/api/search, on stores of 100k and 1M articles (the synthetic stores of bench/store.py).

The server is the real CLI (`storyline serve --read-only`) in its own process on 127.0.0.1; the clients are
threads, each with one keep-alive HTTP connection, so what is measured is a request's whole round trip on
the same machine. Each kind of request runs REQUESTS times (after WARMUP untimed ones) over random story ids,
page offsets and search words read from the store through the API. A store is served read-only, in place:
it is never copied, and its schema version must be the code's (an older one would be migrated, which
rewrites it). Without --db a small store is built by bench/store.py's `build`.

    python bench/serve.py [--db STORE.db ...] [--build SIZE ...] [--requests N] [--cache-entries N]

The server keeps answers until the store changes (serve/cache.py); the requests here repeat (each kind draws
from SAMPLE ids, offsets and words), so run with `--cache-entries 0` too for the figures of a store read for
every request.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from common import table

from storyline.store import SCHEMA_VERSION

CLIENTS = 32
REQUESTS = 2000
WARMUP = 200
SOLO = 200  # requests of each kind by one client alone
# The number of story ids, offsets and words each kind of request draws from.
SAMPLE = 300
# The goals: p99 under 50 ms at 1M articles for the API, under 100 ms for pages.
GOALS = {"home page": 100.0, "story page": 100.0, "/api/stories": 50.0, "/api/search": 50.0}
BUILT_SIZE = 10_000


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that can neither write the store nor create a file where there is none."""
    if not path.is_file() or not path.stat().st_size:
        sys.exit(f"no store at {path}")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _schema_version(path: Path) -> int:
    """The store's schema version: the server would migrate (rewrite) an older store."""
    with _read_only(path) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _articles(path: Path) -> int:
    with _read_only(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    answer = connection.getresponse()
    return answer.status, answer.read()


def _started(port: int, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server ended with status {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if _get(connection, "/api/health")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not start")


def _samples(port: int, rng: random.Random) -> dict[str, Callable[[], str]]:
    """Request paths of each kind, drawn from ids, offsets and words found through the API."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    total = json.loads(_get(connection, "/api/stories?limit=1")[1])["total"]
    ids: list[str] = []
    titles: list[str] = []
    for _ in range(SAMPLE // 100):
        offset = min(rng.randrange(max(total - 100, 1)), 100_000)  # the API's deepest offset
        page = json.loads(_get(connection, f"/api/stories?limit=100&offset={offset}")[1])
        ids += [s["id"] for s in page["items"]]
        titles += [s["title"] for s in page["items"]]
    words = sorted({w for t in titles for w in t.split() if w.isalpha() and len(w) > 4}) or ["news"]
    offsets = [rng.randrange(0, min(total, 5000)) for _ in range(SAMPLE)]
    sorts = ("growth", "recent", "size")
    return {
        "home page": lambda: "/",
        "story page": lambda: f"/stories/{quote(rng.choice(ids), safe='')}",
        "/api/stories": lambda: "/api/stories?" + urlencode({"sort": rng.choice(sorts), "offset": rng.choice(offsets)}),
        "/api/search": lambda: "/api/search?" + urlencode({"q": rng.choice(words)}),
    }


def _load(port: int, paths: list[str], clients: int = CLIENTS) -> tuple[list[float], int]:
    """Run `paths` over `clients` keep-alive connections at once; latencies in ms, and the non-200 count."""
    times: list[float] = []
    failures = [0]
    lock = threading.Lock()
    queue = list(reversed(paths))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            began = time.perf_counter()
            status, _ = _get(connection, path)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                times.append(elapsed)
                failures[0] += status != 200

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, failures[0]


def measure(path: Path, requests: int, workers: int, rng: random.Random,
            cache: int | None = None) -> dict[str, tuple[float, ...]]:
    """Of each kind of request on one store: p50 and p99 (ms) and requests per second with CLIENTS clients,
    failures, and the p50 of one client alone (the time to serve a request, without waiting in line)."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "storyline", "serve", "--db", str(path), "--read-only",
                               "--port", str(port), "--workers", str(workers),
                               *(["--cache-entries", str(cache)] if cache is not None else [])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _started(port, server)
        kinds = _samples(port, rng)
        figures: dict[str, tuple[float, ...]] = {}
        for name, draw in kinds.items():
            _load(port, [draw() for _ in range(WARMUP)])
            began = time.perf_counter()
            times, failed = _load(port, [draw() for _ in range(requests)])
            seconds = time.perf_counter() - began
            times.sort()
            alone, failed_alone = _load(port, [draw() for _ in range(SOLO)], clients=1)
            figures[name] = (statistics.median(times), times[int(len(times) * 0.99) - 1], len(times) / seconds,
                             failed + failed_alone, statistics.median(alone))
            print(f"{path.name}: {name} done", file=sys.stderr)
        return figures
    finally:
        server.terminate()
        server.wait(timeout=30)


def _built(folder: Path, size: int) -> Path:
    """A store of `size` articles by bench/store.py's `build` (it needs ../shared/data, else skips)."""
    from store import _texts, build

    path = folder / f"store-{size}.db"
    seconds, _ = build(path, size, _texts(), random.Random(size))
    print(f"built {size:,} articles in {seconds:.0f} s", file=sys.stderr)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, nargs="+", default=[], help="SQLite stores to serve, in place")
    parser.add_argument("--build", type=int, nargs="+", default=[], metavar="SIZE",
                        help=f"also build stores of SIZE articles in a temporary folder (default without --db:"
                             f" {BUILT_SIZE})")
    parser.add_argument("--requests", type=int, default=REQUESTS, help=f"timed requests of each kind ({REQUESTS})")
    parser.add_argument("--workers", type=int, default=1, help="server processes (storyline serve --workers)")
    parser.add_argument("--cache-entries", type=int, help="storyline serve --cache-entries (0: no cache)")
    args = parser.parse_args()
    sizes_built = args.build or ([] if args.db else [BUILT_SIZE])
    folder = Path(tempfile.mkdtemp(prefix="storyline-bench-serve-"))
    try:
        return _run([*(_built(folder, size) for size in sizes_built), *args.db], args.requests, args.workers,
                    args.cache_entries)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(paths: list[Path], requests: int, workers: int, cache: int | None) -> int:
    for path in paths:
        if _schema_version(path) != SCHEMA_VERSION:
            sys.exit(f"{path}: schema version {_schema_version(path)}, not {SCHEMA_VERSION}: serving it would "
                     "migrate (rewrite) it; rebuild it with bench/store.py --keep")
    sizes = {path: _articles(path) for path in paths}
    paths.sort(key=lambda p: sizes[p])
    results = {path: measure(path, requests, workers, random.Random(7), cache) for path in paths}
    header = ["request", *(f"p50 / p99 ms at {sizes[p]:,}" for p in paths), *(f"req/s at {sizes[p]:,}" for p in paths),
              *(f"1 client p50 ms at {sizes[p]:,}" for p in paths), *(f"not 200 at {sizes[p]:,}" for p in paths),
              "goal p99 ms"]
    rows = [[name, *(f"{results[p][name][0]:.1f} / {results[p][name][1]:.1f}" for p in paths),
             *(f"{results[p][name][2]:.0f}" for p in paths), *(f"{results[p][name][4]:.1f}" for p in paths),
             *(f"{results[p][name][3]:.0f}" for p in paths), f"{GOALS[name]:.0f}"] for name in GOALS]
    failures = sum(f[3] for figures in results.values() for f in figures.values())
    cached = "" if cache is None else f" --cache-entries {cache}"
    print(table(f"storyline serve --workers {workers}{cached}, {CLIENTS} concurrent clients on 127.0.0.1, {requests}"
                " requests of each kind",
                header, rows))
    if failures:
        print(f"{failures} requests did not answer 200", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
