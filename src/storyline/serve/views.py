"""The data of each page, as plain JSON: the template renders it and the page's `.json` twin returns it as
is, so the two never disagree. Records use the export's field names (storyline.export); lists the export
does not have use names of their own (`article_count` for a count, where the export's `articles` is a list).

Each view reads the store through its indexes and returns None for an id it does not hold.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from storyline.export import article_json, entity_json, event_json, story_json
from storyline.model import Action, Article, Entity, Quote
from storyline.serve import grouping
from storyline.serve.text import by_script, lead
from storyline.store import Filters, Store, StoryRow, StorySort

# Longest page of a list, and the deepest offset (an OFFSET walks the rows it skips).
MAX_LIMIT = 100
MAX_OFFSET = 100_000
DEFAULT_LIMIT = 20
# What the story, event and entity pages list of each kind.
STORY_ENTITIES = 20
STORY_QUOTES = 20
ENTITY_STORIES = 20
ENTITY_EVENTS = 20
ENTITY_QUOTES = 20
NEIGHBOURS = 15
# The entity page draws its events and neighbours from this many of the entity's articles: the head entity of
# a 1M-article store (bench/store.py: 263,000 articles) took 3.5 s for each over all of them, 0.1 s this way.
ENTITY_SAMPLE = 5000
EVENT_LISTED = 100  # quotes, and actions, an event page lists
SEARCH_ENTITIES = 10
# Longest filter value and search query accepted, in characters.
MAX_FILTER_CHARS = 500


class BadRequest(ValueError):
    """A parameter no page can answer (a date that is no date, a page past MAX_OFFSET)."""


def filters(language: str | None = None, since: str | None = None, until: str | None = None,
            entity: str | None = None, text: str | None = None) -> Filters:
    """Filters from query parameters: empty values are no filter, dates must be ISO dates."""
    values = {"language": language, "since": since, "until": until, "entity": entity, "text": text}
    clean: dict[str, str | None] = {}
    for name, value in values.items():
        value = (value or "").strip() or None
        if value is not None and len(value) > MAX_FILTER_CHARS:
            raise BadRequest(f"{name} is longer than {MAX_FILTER_CHARS} characters")
        if value is not None and name in {"since", "until"}:
            try:
                value = date.fromisoformat(value).isoformat()
            except ValueError:
                raise BadRequest(f"{name} is not a date (YYYY-MM-DD): {value!r}") from None
        clean[name] = value
    return Filters(**clean)


def paging(limit: int, offset: int) -> tuple[int, int]:
    """A page's size and start, refused past MAX_LIMIT and MAX_OFFSET (requests stay bounded in time)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"offset must be from 0 to {MAX_OFFSET}")
    return limit, offset


def story_row(row: StoryRow) -> dict[str, Any]:
    """A story of a list: counts named apart from the export's id lists."""
    return {"id": row.id, "title": row.title, "languages": row.languages, "article_count": row.articles,
            "event_count": row.events, "first_date": row.first_date, "last_date": row.last_date,
            "recent": row.recent}


def quote_json(q: Quote, lang: str | None = None) -> dict[str, Any]:
    """A quote as the export writes it, with its article's language (for the text's direction)."""
    return {"article": q.article, "speaker": q.speaker, "speaker_name": q.speaker_name, "text": q.text,
            "cue": q.cue, "direct": q.direct, "lang": lang}


def action_json(a: Action) -> dict[str, Any]:
    """An action as the export writes it."""
    return {"article": a.article, "actor": a.actor, "actor_name": a.actor_name, "verb": a.verb, "code": a.code,
            "target": a.target, "target_name": a.target_name, "date": a.date}


def _entity_brief(entity: Entity, count: int | None = None) -> dict[str, Any]:
    """An entity as a list links it, with the articles it is counted in when `count` is given."""
    brief: dict[str, Any] = {"id": entity.id, "name": entity.name, "type": entity.type}
    if count is not None:
        brief["article_count"] = count
    return brief


def _next(offset: int, limit: int, total: int) -> int | None:
    """The offset of the next page, None on the last."""
    return offset + limit if offset + limit < total else None


def home(store: Store, found: Filters, sort: StorySort, limit: int, offset: int) -> dict[str, Any]:
    """One page of stories with each one's articles per day, fastest-growing first by default."""
    page = store.stories(found, sort, limit, offset)
    volumes = store.story_volumes([r.id for r in page.items])
    stories = [{**story_row(r), "volume": [{"date": d, "articles": n} for d, n in volumes.get(r.id, [])]}
               for r in page.items]
    return {"stories": stories, "total": page.total, "offset": offset, "limit": limit,
            "next": _next(offset, limit, page.total), "sort": sort, "filters": asdict(found),
            "pending": store.pending()}


def story(store: Store, story_id: str) -> dict[str, Any] | None:
    """A story: its summary and timeline, the entities in most of its articles, quotes, articles per day."""
    found = store.story(story_id)
    if found is None:
        return None
    events = {e.id: e for e in store.events_of_stories([story_id])}
    days = store.story_days(story_id)
    timeline = [{"date": t.date, "event": t.event, "title": t.title,
                 "languages": events[t.event].languages if t.event in events else [],
                 "article_count": len(events[t.event].articles) if t.event in events else 0}
                for t in found.timeline]
    return {
        "story": story_json(found),
        "timeline": timeline,
        "entities": [_entity_brief(e, n) for e, n in store.story_entities(story_id, STORY_ENTITIES)],
        "quotes": [quote_json(q, lang) for q, lang in store.story_quotes(story_id, STORY_QUOTES)],
        "articles_per_day": [{"date": d, "lang": lang, "articles": n} for d, lang, n in days if d],
        "undated_articles": sum(n for d, _, n in days if not d),
    }


def _card(a: Article) -> dict[str, Any]:
    """An article as a list shows it: its fields without the text, and the text's opening."""
    return {"id": a.id, "title": a.title, "lang": a.lang, "source": a.source, "site": a.site, "url": a.url,
            "published": a.published.isoformat() if a.published else None, "duplicate_of": a.duplicate_of,
            "lead": lead(a.text)}


def event(store: Store, event_id: str, scores: bool = False) -> dict[str, Any] | None:
    """An event: its articles side by side by language (syndicated copies folded under the article they
    copy), quotes and actions, and the signals that grouped them."""
    found = store.event(event_id)
    if found is None:
        return None
    order = {article_id: n for n, article_id in enumerate(found.articles)}
    articles = sorted(store.articles_by_id(found.articles), key=lambda a: order[a.id])
    members = {a.id for a in articles}
    copies: dict[str, list[str]] = {}
    for a in articles:
        if a.duplicate_of in members:
            copies.setdefault(a.duplicate_of, []).append(a.id)
    columns: dict[str, list[dict[str, Any]]] = {}
    for a in articles:
        if a.duplicate_of not in members:
            columns.setdefault(a.lang or "?", []).append({**_card(a), "copies": copies.get(a.id, [])})
    mentions = store.mentions_of_articles(found.articles)
    entities = store.entities_by_id(sorted({m.entity for m in mentions}))
    lang_of = {a.id: a.lang for a in articles}
    related = store.articles_by_id(found.related_articles)
    return {
        "event": event_json(found),
        "story": {"id": found.story, "title": store.story_titles([found.story]).get(found.story)},
        "languages": [{"lang": lang, "articles": cards} for lang, cards in sorted(columns.items())],
        "quotes": [quote_json(q, lang_of.get(q.article))
                   for q in store.quotes_of_articles(found.articles)[:EVENT_LISTED]],
        "actions": [action_json(a) for a in store.actions_of_articles(found.articles)[:EVENT_LISTED]],
        "why": grouping.signals(articles, mentions, entities, scores),
        "related_articles": [{"id": a.id, "title": a.title, "lang": a.lang} for a in related],
    }


def article(store: Store, article_id: str) -> dict[str, Any] | None:
    """An analysed article with its mentions, quotes and actions, its event and story, and its copies."""
    found = store.article(article_id)
    placed = store.placement(article_id) if found else None
    if found is None or placed is None:
        return None
    event_id, story_id = placed
    mentions = store.mentions_of_articles([article_id])
    entities = store.entities_by_id(sorted({m.entity for m in mentions}))
    return {
        "article": article_json(found, event_id, story_id),
        "event": {"id": event_id, "title": store.event_titles([event_id]).get(event_id)},
        "story": {"id": story_id, "title": store.story_titles([story_id]).get(story_id)},
        "copies": store.article_copies(event_id, article_id),
        "mentions": [{"entity": m.entity, "start": m.start, "end": m.end, "text": m.text, "type": m.type}
                     for m in mentions],
        "entities": {e.id: _entity_brief(e) for e in entities.values()},
        "quotes": [{**quote_json(q, found.lang), "start": q.start, "end": q.end}
                   for q in store.quotes_of_articles([article_id])],
        "actions": [action_json(a) for a in store.actions_of_articles([article_id])],
    }


def entity(store: Store, entity_id: str) -> dict[str, Any] | None:
    """An entity: its spellings by script, the stories and events naming it, its quotes, the entities most
    often beside it, and its mentions per day. Events and neighbours come from `sampled_articles` of its
    articles (all of them up to ENTITY_SAMPLE)."""
    found = store.entities_by_id([entity_id]).get(entity_id)
    if found is None:
        return None
    stories, story_total = store.entity_stories(entity_id, ENTITY_STORIES)
    count = store.entity_article_count(entity_id)
    return {
        "entity": {"id": found.id, "name": found.name, "type": found.type, "variants": found.variants},
        "variants_by_script": by_script([found.name, *found.variants]),
        "article_count": count,
        "sampled_articles": min(count, ENTITY_SAMPLE),
        "stories": stories,
        "story_count": story_total,
        "events": store.entity_events(entity_id, ENTITY_EVENTS, ENTITY_SAMPLE),
        "quotes": [quote_json(q, lang) for q, lang in store.speaker_quotes(entity_id, ENTITY_QUOTES)],
        "cooccurring": [_entity_brief(e, n)
                        for e, n in store.cooccurring_entities(entity_id, NEIGHBOURS, ENTITY_SAMPLE)],
        "mentions_per_day": [{"date": d, "mentions": n} for d, n in store.mentions_per_day(entity_id)],
    }


def search(store: Store, query: str, found: Filters, limit: int, offset: int) -> dict[str, Any]:
    """Articles matching `query` in full text and by entity name in any script, with the entities it names."""
    query = query.strip()
    if len(query) > MAX_FILTER_CHARS:
        raise BadRequest(f"the query is longer than {MAX_FILTER_CHARS} characters")
    hits = store.search(query, limit + 1, found, offset) if query else []
    places = store.placements([a.id for a in hits[:limit]])
    items = [article_json(a, *places[a.id]) for a in hits[:limit] if a.id in places]
    return {"query": query, "filters": asdict(found),
            "entities": [_entity_brief(e) for e in store.entities_named(query, SEARCH_ENTITIES)],
            "items": items, "offset": offset, "limit": limit, "next": offset + limit if len(hits) > limit else None}


def entity_record(store: Store, entity_id: str) -> dict[str, Any] | None:
    """The export record of an entity (`/api/entities/{id}`): with every article naming it."""
    found = store.entity(entity_id)
    return entity_json(found.entity, found.articles) if found else None
