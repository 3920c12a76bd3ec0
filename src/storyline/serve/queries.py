"""Readers the pages need that the `Store` protocol lacks: counts per day, the entities and quotes of a story,
an entity's neighbours. Plain SQL over the tables of `storyline.store.sql`, in the dialect SQLite and
PostgreSQL share, each through an index the store keeps (mentions by entity, articles by event, events by
story, quotes by speaker). They belong in the store; until they are there, they live here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from storyline.model import Action, Entity, Mention, Quote
from storyline.normalize import normalize
from storyline.store import SQLStore, Store

# Ids per IN (...) list, as the store chunks them (SQLite's bound-variable limit).
ID_CHUNK = 500
_DAY = "substr(a.published, 1, 10)"  # published is ISO text: its first ten characters are the date
# Up to `?` of the articles naming entity `?`, as its index gives them: what an entity page's lists are drawn
# from, so that an entity named in 250,000 articles costs what one named in 5,000 does.
_SAMPLE = "SELECT DISTINCT article FROM mentions WHERE entity = ? LIMIT ?"


def _sql(store: Store) -> SQLStore:
    if not isinstance(store, SQLStore):
        raise TypeError(f"the web pages read SQL stores, not {type(store).__name__}")
    return store


def _rows(store: Store, statement: str, params: Sequence[Any] = ()) -> list[Any]:
    return _sql(store)._rows(statement, params)


def _chunked(store: Store, statement: str, ids: Sequence[str], params: Sequence[Any] = ()) -> list[Any]:
    """Rows of `statement` (one `{marks}` for an IN list, then `params`) over `ids`, ID_CHUNK at a time."""
    rows: list[Any] = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = list(ids[start:start + ID_CHUNK])
        rows.extend(_rows(store, statement.format(marks=", ".join("?" * len(chunk))), [*chunk, *params]))
    return rows


def story_volumes(store: Store, story_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
    """Articles per publication day of each story (dated articles only), days in order."""
    rows = _chunked(store, f"SELECT e.story AS story, {_DAY} AS day, COUNT(*) AS n FROM events e JOIN articles a"
                           f" ON a.event = e.id WHERE e.story IN ({{marks}}) AND a.published IS NOT NULL"
                           f" GROUP BY e.story, {_DAY}", story_ids)
    volumes: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r["story"], r["day"])):
        volumes[r["story"]].append((r["day"], int(r["n"])))
    return volumes


def story_days(store: Store, story_id: str) -> list[tuple[str | None, str, int]]:
    """(day, language, articles) of one story's articles; the day is None for the undated ones."""
    rows = _rows(store, f"SELECT {_DAY} AS day, a.lang, COUNT(*) AS n FROM events e JOIN articles a"
                        f" ON a.event = e.id WHERE e.story = ? GROUP BY {_DAY}, a.lang", (story_id,))
    return sorted(((r["day"], r["lang"] or "?", int(r["n"])) for r in rows), key=lambda r: (r[0] or "", r[1]))


def story_entities(store: Store, story_id: str, limit: int) -> list[tuple[Entity, int]]:
    """The entities named in most of a story's articles, with how many articles name each."""
    rows = _rows(store, "SELECT en.id, en.name, en.type, en.variants, COUNT(DISTINCT m.article) AS n FROM events e"
                        " JOIN articles a ON a.event = e.id JOIN mentions m ON m.article = a.id JOIN entities en"
                        " ON en.id = m.entity WHERE e.story = ? GROUP BY en.id, en.name, en.type, en.variants"
                        " ORDER BY n DESC, en.name LIMIT ?", (story_id, limit))
    return [(_entity(r), int(r["n"])) for r in rows]


def story_quotes(store: Store, story_id: str, limit: int) -> list[tuple[Quote, str | None]]:
    """Direct quotes of a story's articles, attributed speakers first, with each article's language."""
    rows = _rows(store, "SELECT q.*, a.lang FROM events e JOIN articles a ON a.event = e.id JOIN quotes q"
                        " ON q.article = a.id WHERE e.story = ? AND q.direct = 1"
                        " ORDER BY q.speaker IS NULL, a.published, q.article, q.start LIMIT ?", (story_id, limit))
    return [(_quote(r), r["lang"]) for r in rows]


def article_quotes(store: Store, article_ids: Sequence[str]) -> list[Quote]:
    """Every quote of these articles, in article and text order."""
    rows = _chunked(store, "SELECT * FROM quotes WHERE article IN ({marks})", article_ids)
    return sorted((_quote(r) for r in rows), key=lambda q: (q.article, q.start))


def article_actions(store: Store, article_ids: Sequence[str]) -> list[Action]:
    """Every action (who did what to whom) of these articles."""
    rows = _chunked(store, "SELECT * FROM actions WHERE article IN ({marks})", article_ids)
    return sorted((Action(r["article"], r["actor"], r["actor_name"], r["verb"], r["code"], r["target"],
                          r["target_name"], r["date"]) for r in rows), key=lambda a: (a.article, a.date or "", a.verb))


def article_mentions(store: Store, article_ids: Sequence[str]) -> list[Mention]:
    """Every mention of these articles (offsets over "title\\n\\ntext", as recognition counts them)."""
    rows = _chunked(store, 'SELECT article, entity, start, "end", text, type FROM mentions WHERE article IN ({marks})',
                    article_ids)
    return sorted((Mention(r["article"], r["entity"], r["start"], r["end"], r["text"], r["type"]) for r in rows),
                  key=lambda m: (m.article, m.start))


def placements(store: Store, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The (event, story) of each analysed article among these."""
    rows = _chunked(store, "SELECT a.id, e.id AS event, e.story FROM articles a JOIN events e ON e.id = a.event"
                           " WHERE a.id IN ({marks})", article_ids)
    return {r["id"]: (r["event"], r["story"]) for r in rows}


def copies(store: Store, event_id: str, article_id: str) -> list[str]:
    """The syndicated copies of an article within its event (dedup links a copy to its original)."""
    return [r["id"] for r in _rows(store, "SELECT id FROM articles WHERE event = ? AND duplicate_of = ? ORDER BY id",
                                   (event_id, article_id))]


def titles(store: Store, table: str, ids: Sequence[str]) -> dict[str, str]:
    """The titles of these stories or events (`table`), without reading their member lists."""
    if table not in {"stories", "events"}:
        raise ValueError(f"no titles in {table!r}")
    return {r["id"]: r["title"] for r in _chunked(store, f"SELECT id, title FROM {table} WHERE id IN ({{marks}})",
                                                  ids)}


def entities_named(store: Store, query: str, limit: int) -> list[Entity]:
    """Entities one of whose spellings, in any script, is `query` (normalised as the store keys names)."""
    key = normalize(query)
    if not key:
        return []
    rows = _rows(store, "SELECT e.* FROM entity_names n JOIN entities e ON e.id = n.entity WHERE n.key = ?"
                        " ORDER BY e.id LIMIT ?", (key, limit))
    return [_entity(r) for r in rows]


def entity_article_count(store: Store, entity_id: str) -> int:
    """How many articles name the entity."""
    return int(_rows(store, "SELECT COUNT(DISTINCT article) AS n FROM mentions WHERE entity = ?", (entity_id,))[0]["n"])


def entity_stories(store: Store, entity_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The newest stories naming the entity (id, title, languages, last date, size), and how many there are."""
    total = int(_rows(store, "SELECT COUNT(*) AS n FROM story_entities WHERE entity = ?", (entity_id,))[0]["n"])
    rows = _rows(store, "SELECT s.id, s.title, s.languages, s.last_date, s.size FROM story_entities x JOIN stories s"
                        " ON s.id = x.story WHERE x.entity = ? ORDER BY s.last_date DESC NULLS LAST, s.id LIMIT ?",
                 (entity_id, limit))
    return [{"id": r["id"], "title": r["title"], "languages": json.loads(r["languages"]), "last_date": r["last_date"],
             "article_count": int(r["size"])} for r in rows], total


def entity_events(store: Store, entity_id: str, limit: int, sample: int) -> list[dict[str, Any]]:
    """The newest events with one of `sample` articles naming the entity, and how many of those they hold."""
    rows = _rows(store, f"SELECT e.id, e.title, e.date, e.story, e.languages, COUNT(*) AS n FROM ({_SAMPLE}) m"
                        " JOIN articles a ON a.id = m.article JOIN events e ON e.id = a.event"
                        " GROUP BY e.id, e.title, e.date, e.story, e.languages"
                        " ORDER BY e.date DESC NULLS LAST, e.id LIMIT ?", (entity_id, sample, limit))
    return [{"id": r["id"], "title": r["title"], "date": r["date"], "story": r["story"],
             "languages": json.loads(r["languages"]), "articles_naming": int(r["n"])} for r in rows]


def speaker_quotes(store: Store, entity_id: str, limit: int) -> list[tuple[Quote, str | None]]:
    """What the entity said, newest first, with each article's language."""
    rows = _rows(store, "SELECT q.*, a.lang FROM quotes q JOIN articles a ON a.id = q.article WHERE q.speaker = ?"
                        " ORDER BY a.published DESC NULLS LAST, q.article, q.start LIMIT ?", (entity_id, limit))
    return [(_quote(r), r["lang"]) for r in rows]


def cooccurring(store: Store, entity_id: str, limit: int, sample: int) -> list[tuple[Entity, int]]:
    """The entities named most often in `sample` of the articles naming this one, with how many they share."""
    rows = _rows(store, "SELECT en.id, en.name, en.type, en.variants, COUNT(DISTINCT o.article) AS n"
                        f" FROM ({_SAMPLE}) m JOIN mentions o ON o.article = m.article AND o.entity <> ?"
                        " JOIN entities en ON en.id = o.entity GROUP BY en.id, en.name, en.type, en.variants"
                        " ORDER BY n DESC, en.name LIMIT ?", (entity_id, sample, entity_id, limit))
    return [(_entity(r), int(r["n"])) for r in rows]


def mentions_per_day(store: Store, entity_id: str) -> list[tuple[str, int]]:
    """Mentions of the entity per publication day of the analysed articles that carry them."""
    rows = _rows(store, f"SELECT {_DAY} AS day, COUNT(*) AS n FROM mentions m JOIN articles a ON a.id = m.article"
                        f" WHERE m.entity = ? AND a.event IS NOT NULL AND a.published IS NOT NULL GROUP BY {_DAY}"
                        " ORDER BY day", (entity_id,))
    return [(r["day"], int(r["n"])) for r in rows]


def _entity(r: Any) -> Entity:
    return Entity(r["id"], r["name"], r["type"], json.loads(r["variants"]))


def _quote(r: Any) -> Quote:
    return Quote(r["article"], r["speaker"], r["speaker_name"], r["text"], r["cue"], bool(r["direct"]), r["start"],
                 r["end"])
