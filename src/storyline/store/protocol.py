"""What the pipeline and the readers need from a store, and the shapes of its answers to readers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

from storyline.model import Action, Article, Digest, Entity, Event, Mention, Quote, Rejected, Story

T = TypeVar("T")
StorySort = Literal["recent", "growth", "size"]


@dataclass(frozen=True, slots=True)
class Filters:
    """What readers narrow stories and search hits by. `entity` is an entity id or a name in any spelling or
    script that an entity carries; `since` and `until` are ISO dates (inclusive); `text` is a full-text query."""

    language: str | None = None
    since: str | None = None
    until: str | None = None
    entity: str | None = None
    text: str | None = None


@dataclass(slots=True)
class StoryRow:
    """A story as a list shows it: `recent` counts its articles stored in the day before its last analysis."""

    id: str
    title: str
    languages: list[str]
    articles: int
    events: int
    first_date: str | None
    last_date: str | None
    recent: int


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a longer answer: `total` counts every match, `offset` is where this page starts."""

    items: list[T]
    total: int
    offset: int
    limit: int


@dataclass(slots=True)
class EntityRecord:
    """An entity with the articles that mention it."""

    entity: Entity
    articles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Increment:
    """What one incremental run changes (`storyline.increment`): the new articles as analysed, the rows of every
    event, story and entity it touched, provisional stories absorbed (id -> survivor), and the clusterer state
    to continue from."""

    articles: list[Article]
    events: list[Event]
    stories: list[Story]
    merges: dict[str, str]
    entities: list[Entity]
    mentions: list[Mention] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    state: bytes = b""


class Store(Protocol):
    """SQLite and PostgreSQL implement it; tests/test_store_contract.py runs the same suite on both."""

    # writers: the pipeline
    def stored(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]: ...
    def add_articles(self, articles: Iterable[tuple[Article, str]]) -> int: ...
    def add_rejected(self, rejected: Iterable[Rejected]) -> None: ...
    def remove_articles(self, ids: Iterable[str]) -> None: ...
    def articles(self) -> list[Article]: ...
    def analysis_lock(self) -> AbstractContextManager[None]: ...
    def save_results(self, digest: Digest, state: tuple[str, bytes] | None = None) -> None: ...
    def analysis_state(self) -> tuple[str, bytes] | None: ...
    def changed_since_analysis(self) -> int: ...
    def articles_by_id(self, ids: Sequence[str]) -> list[Article]: ...
    def stories_of_events(self, ids: Sequence[str]) -> dict[str, str]: ...
    def events_of_stories(self, ids: Sequence[str]) -> list[Event]: ...
    def entities_by_id(self, ids: Sequence[str]) -> dict[str, Entity]: ...
    def entities_by_keys(self, keys: Sequence[str]) -> dict[str, list[str]]: ...
    def mention_entities(self, article_ids: Sequence[str]) -> dict[tuple[str, int, int], str]: ...
    def save_increment(self, increment: Increment, state_key: str) -> None: ...
    def merged_into(self, story_id: str) -> str | None: ...
    def watch_state(self, source: str) -> dict[str, str]: ...
    def set_watch_state(self, source: str, state: dict[str, str]) -> None: ...
    def story_sizes(self) -> dict[str, tuple[str, int]]: ...
    # readers: the last complete analysis, through indexes
    def pending(self) -> int: ...
    def pending_articles(self) -> list[Article]: ...
    def stories(self, filters: Filters | None = None, sort: StorySort = "recent", limit: int = 20,
                offset: int = 0) -> Page[StoryRow]: ...
    def story(self, story_id: str) -> Story | None: ...
    def event(self, event_id: str) -> Event | None: ...
    def article(self, article_id: str) -> Article | None: ...
    def placement(self, article_id: str) -> tuple[str, str] | None: ...
    def entity(self, entity_id: str) -> EntityRecord | None: ...
    def search(self, query: str, limit: int = 20, filters: Filters | None = None, offset: int = 0) -> list[Article]: ...
    def load(self) -> Digest: ...
    def close(self) -> None: ...
