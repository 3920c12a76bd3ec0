"""Answers reused while the store has not changed.

Readers of a news tracker ask for the same few things (the home page, the top stories, their pages) far more
often than the store changes (a watcher's run every few minutes), and each answer costs milliseconds of
queries and rendering. So a successful GET is kept, whole, and given again for the same path, query, Accept
and Host headers until anything commits to the store: the store's data version (StoreSource.version) is part of
the key, so what `storyline watch` or `POST /api/articles` adds shows on the next request, as without the
cache. A store that cannot tell its version (PostgreSQL) is never cached. Written here as ASGI middleware:
HTTP caches (and Starlette) have no notion of a store's version.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Answers kept at once (least recently used dropped first), the largest one kept and all of them together,
# in bytes.
CACHE_ENTRIES = 2048
MAX_CACHED_BYTES = 2**20
CACHE_BYTES = 64 * 2**20
_Key = tuple[str, bytes, bytes, bytes]


class ResponseCache:
    """ASGI middleware: a GET answered with 200 is answered again from memory while `version()` (of the
    store) stays the same; `entries` 0 turns it off. The API's documentation and static files are left to
    their own handlers."""

    def __init__(self, app: ASGIApp, version: Callable[[], int | None], entries: int = CACHE_ENTRIES,
                 skip: tuple[str, ...] = ("/static", "/api/docs")) -> None:
        self.app = app
        self.version = version
        self.entries = entries
        self.skip = skip
        self.kept: OrderedDict[_Key, tuple[list[Message], int]] = OrderedDict()
        self.held = 0  # bytes kept
        self.seen: int | None = None  # the store's version the kept answers are of
        self.hits = self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not self.entries \
                or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        version = self.version()
        if version is None:
            await self.app(scope, receive, send)
            return
        if version != self.seen:  # the store changed: every kept answer may be stale
            self.kept.clear()
            self.held, self.seen = 0, version
        headers = dict(scope["headers"])  # the host too: an answer may one day hold absolute links
        key = (scope["path"], scope.get("query_string", b""), headers.get(b"accept", b""), headers.get(b"host", b""))
        kept = self.kept.get(key)
        if kept is not None:
            self.hits += 1
            self.kept.move_to_end(key)
            for message in kept[0]:
                await send(dict(message))  # a copy: middleware outside adds headers to what it is sent
            return
        self.misses += 1
        messages: list[Message] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            messages.append(dict(message))
            await send(message)

        await self.app(scope, receive, keep)
        if messages and messages[0].get("status") == 200 and size <= MAX_CACHED_BYTES \
                and self.version() == version:  # not an answer read across a commit
            self.kept[key] = (messages, size)
            self.held += size
            while len(self.kept) > self.entries or self.held > CACHE_BYTES:
                self.held -= self.kept.popitem(last=False)[1][1]
