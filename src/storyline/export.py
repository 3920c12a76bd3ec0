"""The JSON export of DESIGN.md ("Contracts"), and its validation against the JSON Schema in the package."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal, TextIO

from storyline.model import Article, Digest, Entity, Event, Story

# The export's sections, in the order they are written.
Section = Literal["articles", "events", "stories", "entities", "quotes", "actions", "rejected", "merges"]
SECTIONS: tuple[Section, ...] = ("articles", "events", "stories", "entities", "quotes", "actions", "rejected",
                                 "merges")


def to_json(digest: Digest) -> dict[str, Any]:
    """The export as plain JSON data; articles carry their event and story, entities their articles."""
    return {section: list(section_records(section, digest)) for section in SECTIONS}


def section_records(section: str, digest: Digest) -> Iterator[dict[str, Any]]:
    """The records of one section of the export of `digest` (a whole analysis, or a piece of one from
    `Store.scan`: a piece of articles holds their events, a piece of entities the mentions of them)."""
    if section == "articles":
        event_of = {a: e for e in digest.events for a in e.articles}
        yield from (article_json(a, event_of[a.id].id, event_of[a.id].story) for a in digest.articles)
    elif section == "events":
        yield from map(event_json, digest.events)
    elif section == "stories":
        yield from map(story_json, digest.stories)
    elif section == "entities":
        articles_of: dict[str, set[str]] = defaultdict(set)
        for mention in digest.mentions:
            articles_of[mention.entity].add(mention.article)
        yield from (entity_json(e, sorted(articles_of[e.id])) for e in digest.entities)
    elif section == "quotes":
        yield from ({"article": q.article, "speaker": q.speaker, "speaker_name": q.speaker_name, "text": q.text,
                     "cue": q.cue, "direct": q.direct} for q in digest.quotes)
    elif section == "actions":
        yield from ({"article": a.article, "actor": a.actor, "actor_name": a.actor_name, "verb": a.verb,
                     "code": a.code, "target": a.target, "target_name": a.target_name, "date": a.date}
                    for a in digest.actions)
    elif section == "rejected":
        yield from ({"source": r.source, "reason": r.reason} for r in digest.rejected)
    elif section == "merges":
        yield from ({"absorbed": old, "survivor": new} for old, new in sorted(digest.merges.items()))


def write(scan: Callable[[Section], Iterable[Digest]], out: TextIO) -> int:
    """Write the export to `out` as JSON, section by section from the pieces `scan(section)` gives (e.g.
    `Store.scan`), one record per line, each validated against its part of the schema as it goes and the links
    checked at the end: a store of any size is exported holding one piece and the ids at a time. Returns the
    articles written; raises jsonschema.ValidationError or ValueError (see `validate`) when a record or a
    link breaks the contract."""
    links = _Links()
    for number, section in enumerate(SECTIONS):
        out.write(("{" if number == 0 else ",") + f'\n  "{section}": [')
        validator = _record_validator(section)
        first = True
        for piece in scan(section):
            for record in section_records(section, piece):
                validator.validate(record)
                links.add(section, record)
                out.write(("\n    " if first else ",\n    ") + json.dumps(record, ensure_ascii=False))
                first = False
        out.write("]" if first else "\n  ]")
    out.write("\n}\n")
    links.check()
    return links.articles


class _Links:
    """What `validate` checks across sections, from the ids alone."""

    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = defaultdict(list)
        self.articles = 0

    def add(self, section: str, record: dict[str, Any]) -> None:
        if section == "articles":
            self.ids["articles"].append(record["id"])
            self.articles += 1
        elif section == "events":
            self.ids["events"].append(record["id"])
            self.ids["in events"].extend(record["articles"])
        elif section == "stories":
            self.ids["in stories"].extend(record["events"])

    def check(self) -> None:
        if sorted(self.ids["in events"]) != sorted(self.ids["articles"]):
            raise ValueError("every article must be in exactly one event")
        if sorted(self.ids["in stories"]) != sorted(self.ids["events"]):
            raise ValueError("every event must be in exactly one story")


@cache
def _record_validator(section: str) -> Any:
    """A validator of one record of `section`, by the schema's item definition (with its shared $defs)."""
    import jsonschema

    root = schema()
    item = {"$defs": root.get("$defs", {}), **root["properties"][section]["items"]}
    return jsonschema.Draft202012Validator(item)


def article_json(a: Article, event: str, story: str) -> dict[str, Any]:
    return {"id": a.id, "source": a.source, "url": a.url, "published": a.published.isoformat() if a.published else None,
            "lang": a.lang, "title": a.title, "text": a.text, "author": a.author, "site": a.site,
            "duplicate_of": a.duplicate_of, "event": event, "story": story}


def event_json(e: Event) -> dict[str, Any]:
    return {"id": e.id, "story": e.story, "title": e.title, "summary": e.summary, "date": e.date,
            "languages": e.languages, "articles": e.articles, "related_articles": e.related_articles}


def story_json(s: Story) -> dict[str, Any]:
    timeline = [{"date": t.date, "event": t.event, "title": t.title} for t in s.timeline]
    return {"id": s.id, "title": s.title, "summary": s.summary, "languages": s.languages, "events": s.events,
            "articles": s.articles, "timeline": timeline}


def entity_json(e: Entity, articles: list[str]) -> dict[str, Any]:
    return {"id": e.id, "name": e.name, "type": e.type, "variants": e.variants, "articles": articles}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    text = resources.files("storyline").joinpath("schema/export.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(export: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError (or ValueError for broken links) when `export` breaks the contract."""
    import jsonschema

    jsonschema.validate(export, schema())
    links = _Links()
    for section in SECTIONS:
        for record in export[section]:
            links.add(section, record)
    links.check()
