"""The JSON export of DESIGN.md ("Contracts"), and its validation against the JSON Schema in the package."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from typing import Any

from storyline.model import Article, Digest, Entity, Event, Story


def to_json(digest: Digest) -> dict[str, Any]:
    """The export as plain JSON data; articles carry their event and story, entities their articles."""
    event_of = {a: e.id for e in digest.events for a in e.articles}
    story_of = {e.id: e.story for e in digest.events}
    articles_of: dict[str, set[str]] = defaultdict(set)
    for mention in digest.mentions:
        articles_of[mention.entity].add(mention.article)
    return {
        "articles": [article_json(a, event_of[a.id], story_of[event_of[a.id]]) for a in digest.articles],
        "events": [event_json(e) for e in digest.events],
        "stories": [story_json(s) for s in digest.stories],
        "entities": [entity_json(e, sorted(articles_of[e.id])) for e in digest.entities],
        "quotes": [
            {"article": q.article, "speaker": q.speaker, "speaker_name": q.speaker_name, "text": q.text,
             "cue": q.cue, "direct": q.direct}
            for q in digest.quotes
        ],
        "actions": [
            {"article": a.article, "actor": a.actor, "actor_name": a.actor_name, "verb": a.verb, "code": a.code,
             "target": a.target, "target_name": a.target_name, "date": a.date}
            for a in digest.actions
        ],
        "rejected": [{"source": r.source, "reason": r.reason} for r in digest.rejected],
        "merges": [{"absorbed": old, "survivor": new} for old, new in sorted(digest.merges.items())],
    }


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
    article_ids = {a["id"] for a in export["articles"]}
    in_events = [a for e in export["events"] for a in e["articles"]]
    if sorted(in_events) != sorted(article_ids):
        raise ValueError("every article must be in exactly one event")
    event_ids = {e["id"] for e in export["events"]}
    in_stories = [e for s in export["stories"] for e in s["events"]]
    if sorted(in_stories) != sorted(event_ids):
        raise ValueError("every event must be in exactly one story")
