"""The shapes of the API's answers, for its OpenAPI document and for checking each answer on the way out.
Field names are the export's (storyline/schema/export.schema.json); a list row has counts where the export
has id lists, named `article_count` and `event_count` so that no field changes meaning."""

from __future__ import annotations

from pydantic import BaseModel


class ArticleOut(BaseModel):
    id: str
    source: str
    url: str | None
    published: str | None
    lang: str | None
    title: str
    text: str
    author: str | None
    site: str | None
    duplicate_of: str | None
    event: str
    story: str


class TimelineOut(BaseModel):
    date: str | None
    event: str
    title: str


class StoryOut(BaseModel):
    id: str
    title: str
    summary: str
    languages: list[str]
    events: list[str]
    articles: list[str]
    timeline: list[TimelineOut]


class EventOut(BaseModel):
    id: str
    story: str
    title: str
    summary: str
    date: str | None
    languages: list[str]
    articles: list[str]
    related_articles: list[str]


class EntityOut(BaseModel):
    id: str
    name: str
    type: str
    variants: list[str]
    articles: list[str]


class StoryRowOut(BaseModel):
    """A story in a list: `recent` counts its articles stored in the day before its last analysis."""

    id: str
    title: str
    languages: list[str]
    article_count: int
    event_count: int
    first_date: str | None
    last_date: str | None
    recent: int


class StoriesOut(BaseModel):
    """One page of stories; `next` is the offset of the next page (null on the last)."""

    items: list[StoryRowOut]
    total: int
    offset: int
    limit: int
    next: int | None


class EntityBriefOut(BaseModel):
    id: str
    name: str
    type: str


class SearchOut(BaseModel):
    """One page of hits; `entities` are the entities the query names (any spelling, any script)."""

    query: str
    entities: list[EntityBriefOut]
    items: list[ArticleOut]
    offset: int
    limit: int
    next: int | None


class RejectedOut(BaseModel):
    source: str
    reason: str


class PlacedOut(BaseModel):
    id: str
    event: str
    story: str


class IngestOut(BaseModel):
    """What one POST did, as `storyline ingest` reports it: records read, articles new to the store,
    rejections and warnings (each naming the record), where each analysed article went, and how many
    articles still wait for analysis."""

    read: int
    added: int
    rejected: list[RejectedOut]
    warnings: list[RejectedOut]
    articles: list[PlacedOut]
    pending: int


class HealthOut(BaseModel):
    status: str
    version: str
    read_only: bool
    writes: bool
    pending: int
