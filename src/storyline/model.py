"""The data model shared by every stage: small, typed, slotted records.

Ids are stable strings. An article read from a file has the file's stem as its id, so re-running on the
same inputs produces the same ids and the store can skip what it already has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storyline.normalize import normalize

ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")


@dataclass(slots=True)
class RawDocument:
    """One input as read from disk or a feed, before extraction.

    `kind` says how `content` must be read: "html", "text" (scraped plain text, headline on the first
    line) or "record" (already split into title and text by a JSON record or a feed item).
    `origin` is set when the id was made from a name (a file's stem, a URL's last segment, a record's line)
    rather than given by the input: it names the one input the id belongs to, so the pipeline can tell two
    inputs whose names give the same id apart. `warnings` are problems with optional fields that were dropped.
    """

    id: str
    source: str
    kind: str
    content: str
    title: str | None = None
    url: str | None = None
    published: datetime | None = None
    lang: str | None = None
    site: str | None = None
    origin: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Article:
    """A cleaned article: `text` is the body without the headline."""

    id: str
    title: str
    text: str
    source: str = ""
    url: str | None = None
    published: datetime | None = None
    lang: str | None = None
    author: str | None = None
    site: str | None = None
    duplicate_of: str | None = None
    origin: str | None = None


@dataclass(slots=True)
class Entity:
    id: str
    name: str
    type: str
    variants: list[str] = field(default_factory=list)

    def name_keys(self) -> set[str]:
        """Each spelling normalised: the keys the store's registry finds an entity by."""
        return {key for key in map(normalize, [self.name, *self.variants]) if key}


@dataclass(slots=True)
class Mention:
    article: str
    entity: str
    start: int
    end: int
    text: str
    type: str = "MISC"


@dataclass(slots=True)
class Quote:
    article: str
    speaker: str | None
    speaker_name: str | None
    text: str
    cue: str | None
    direct: bool
    start: int = 0
    end: int = 0


@dataclass(slots=True)
class Action:
    """Who did what to whom: `actor`/`target` are entity ids when resolved, `actor_name`/`target_name` the
    phrases as written (like Quote.speaker and speaker_name)."""

    article: str
    actor: str | None
    actor_name: str | None
    verb: str
    code: str
    target: str | None
    target_name: str | None
    date: str | None = None


@dataclass(slots=True)
class Event:
    id: str
    story: str
    title: str
    summary: str
    date: str | None
    languages: list[str]
    articles: list[str]
    # Articles whose main event is another but whose later segment reports this one (multi-topic articles).
    related_articles: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TimelineEntry:
    date: str | None
    event: str
    title: str


@dataclass(slots=True)
class Story:
    id: str
    title: str
    summary: str
    languages: list[str]
    events: list[str]
    articles: list[str]
    timeline: list[TimelineEntry] = field(default_factory=list)


@dataclass(slots=True)
class Rejected:
    """An input that could not be used, and why. `source` names the file (and line, for JSONL)."""

    source: str
    reason: str


@dataclass(slots=True)
class Digest:
    """Everything one run of the pipeline knows, in the shape of the JSON export."""

    articles: list[Article] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    # Stories absorbed by later evidence (incremental analysis): absorbed id -> the story that took it over.
    merges: dict[str, str] = field(default_factory=dict)
