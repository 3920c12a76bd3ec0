"""What one server was started with, shared by the pages and the API through `app.state.settings`."""

from __future__ import annotations

from dataclasses import dataclass, field

from storyline.serve.cache import CACHE_ENTRIES
from storyline.serve.stores import READ_DEADLINE_SECONDS, StoreSource

# The largest request body taken, in bytes: a POST of records carries articles of tens of kilobytes each,
# and the CLI reads one file of up to 50 MiB (ingest/files.py); a web request gets a fifth of that.
MAX_BODY_BYTES = 10 * 2**20


@dataclass(slots=True)
class Settings:
    """`token` None means no write is taken (every write needs one); `language` is the one analysis titles
    and summaries are written in, as `storyline ingest` and `watch --language` take it."""

    db: str
    token: str | None = None
    read_only: bool = False
    language: str = "en"
    max_body: int = MAX_BODY_BYTES
    deadline: float = READ_DEADLINE_SECONDS
    # Host names requests may name (any when empty): a server on loopback answers only to loopback names, so a
    # web page elsewhere cannot read it through a name of its own that resolves to 127.0.0.1 (DNS rebinding).
    hosts: tuple[str, ...] = ()
    cache_entries: int = CACHE_ENTRIES  # answers kept until the store changes (0: none)
    source: StoreSource = field(init=False)

    def __post_init__(self) -> None:
        self.source = StoreSource(self.db, self.deadline)

    @property
    def writes(self) -> bool:
        """Whether POST /api/articles can succeed on this server."""
        return not self.read_only and self.token is not None
