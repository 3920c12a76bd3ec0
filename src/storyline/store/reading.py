"""The readers the web pages need beyond the pipeline's: counts per day, the entities and quotes of a story,
an entity's neighbours. They are `Store` methods so that any backend can serve the pages; `PageReads` holds
them for both SQL stores, in the dialect SQLite and PostgreSQL share, each through an index the store keeps
(mentions by entity, articles by event, events by story, quotes by speaker).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

from storyline.model import Action, Entity, Mention, Quote
from storyline.normalize import normalize

# The module, not its names: sql.py imports this one to define SQLStore, so its row converters (_entity,
# _quote, ...) are looked up when a query runs, by which time sql.py is whole.
from storyline.store import sql

_DAY = "substr(a.published, 1, 10)"  # published is ISO text: its first ten characters are the date
# Up to `?` of the articles naming entity `?`, as its index gives them: what an entity page's lists are drawn
# from, so that an entity named in 250,000 articles costs what one named in 5,000 does.
_SAMPLE = "SELECT DISTINCT article FROM mentions WHERE entity = ? LIMIT ?"


class _SQLHost(Protocol):
    """What `PageReads` needs of the class it is mixed into (SQLStore): its two ways of running a query."""

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]: ...
    def _chunks(self, statement: str, ids: Sequence[str], then: Sequence[Any] = ()) -> list[Any]: ...


class PageReads(_SQLHost):
    """The pages' readers over the tables of `storyline.store.sql`, mixed into SQLStore."""

    def story_volumes(self, story_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """Articles per publication day of each story, days in order: a story list's sparklines, read for a
        whole page of stories at once. Undated articles have no day to be drawn on and are left out."""
        rows = self._chunks(f"SELECT e.story AS story, {_DAY} AS day, COUNT(*) AS n FROM events e JOIN articles a"
                            f" ON a.event = e.id WHERE e.story IN ({{marks}}) AND a.published IS NOT NULL"
                            f" GROUP BY e.story, {_DAY}", story_ids)
        volumes: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for r in sorted(rows, key=lambda r: (r["story"], r["day"])):
            volumes[r["story"]].append((r["day"], int(r["n"])))
        return volumes

    def story_days(self, story_id: str) -> list[tuple[str | None, str, int]]:
        """(day, language, articles) of one story's articles, for its chart by language; the day is None for the
        undated ones, which the page counts apart."""
        rows = self._rows(f"SELECT {_DAY} AS day, a.lang, COUNT(*) AS n FROM events e JOIN articles a"
                          f" ON a.event = e.id WHERE e.story = ? GROUP BY {_DAY}, a.lang", (story_id,))
        return sorted(((r["day"], r["lang"] or "?", int(r["n"])) for r in rows), key=lambda r: (r[0] or "", r[1]))

    def story_entities(self, story_id: str, limit: int) -> list[tuple[Entity, int]]:
        """The entities named in most of a story's articles, with how many articles name each: who a story is
        about, counted by articles so that one article repeating a name does not outweigh the rest."""
        rows = self._rows("SELECT en.id, en.name, en.type, en.variants, COUNT(DISTINCT m.article) AS n"
                          " FROM events e JOIN articles a ON a.event = e.id JOIN mentions m ON m.article = a.id"
                          " JOIN entities en ON en.id = m.entity WHERE e.story = ?"
                          " GROUP BY en.id, en.name, en.type, en.variants ORDER BY n DESC, en.name LIMIT ?",
                          (story_id, limit))
        return [(sql._entity(r), int(r["n"])) for r in rows]

    def story_quotes(self, story_id: str, limit: int) -> list[tuple[Quote, str | None]]:
        """Direct quotes of a story's articles, attributed speakers first, with each article's language (the
        text's direction on the page)."""
        rows = self._rows("SELECT q.*, a.lang FROM events e JOIN articles a ON a.event = e.id JOIN quotes q"
                          " ON q.article = a.id WHERE e.story = ? AND q.direct = 1"
                          " ORDER BY q.speaker IS NULL, a.published, q.article, q.start LIMIT ?", (story_id, limit))
        return [(sql._quote(r), r["lang"]) for r in rows]

    def quotes_of_articles(self, article_ids: Sequence[str]) -> list[Quote]:
        """Every quote of these articles (an event's or one article's), in article and text order."""
        rows = self._chunks("SELECT * FROM quotes WHERE article IN ({marks})", article_ids)
        return sorted((sql._quote(r) for r in rows), key=lambda q: (q.article, q.start))

    def actions_of_articles(self, article_ids: Sequence[str]) -> list[Action]:
        """Every action (who did what to whom) of these articles, in article and date order."""
        rows = self._chunks("SELECT * FROM actions WHERE article IN ({marks})", article_ids)
        return sorted((sql._action(r) for r in rows), key=lambda a: (a.article, a.date or "", a.verb))

    def mentions_of_articles(self, article_ids: Sequence[str]) -> list[Mention]:
        """Every mention of these articles, in text order: what a page marks in the text (offsets over
        "title\\n\\ntext", as recognition counts them) and what an event's grouping signals compare."""
        rows = self._chunks('SELECT article, entity, start, "end", text, type FROM mentions WHERE article IN ({marks})',
                            article_ids)
        return sorted((sql._mention(r) for r in rows), key=lambda m: (m.article, m.start))

    def placements(self, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The (event, story) of each analysed article among these: `placement` for a page of search hits or
        a batch just ingested, in one query per chunk. Articles waiting for analysis are left out."""
        rows = self._chunks("SELECT a.id, e.id AS event, e.story FROM articles a JOIN events e ON e.id = a.event"
                            " WHERE a.id IN ({marks})", article_ids)
        return {r["id"]: (r["event"], r["story"]) for r in rows}

    def article_copies(self, event_id: str, article_id: str) -> list[str]:
        """The syndicated copies of an article within its event (dedup links a copy to its original), which an
        article page lists rather than repeating their text."""
        return [r["id"] for r in self._rows("SELECT id FROM articles WHERE event = ? AND duplicate_of = ? ORDER BY id",
                                            (event_id, article_id))]

    def story_titles(self, ids: Sequence[str]) -> dict[str, str]:
        """The titles of these stories, for links, without reading their member lists as `story` does."""
        return self._titles("stories", ids)

    def event_titles(self, ids: Sequence[str]) -> dict[str, str]:
        """The titles of these events, for links, without reading their member lists as `event` does."""
        return self._titles("events", ids)

    def _titles(self, table: str, ids: Sequence[str]) -> dict[str, str]:
        return {r["id"]: r["title"] for r in self._chunks(f"SELECT id, title FROM {table} WHERE id IN ({{marks}})",
                                                          ids)}

    def entities_named(self, query: str, limit: int) -> list[Entity]:
        """Entities one of whose spellings, in any script, is `query` (normalised as the store keys names): the
        entities a search names, shown above its hits."""
        key = normalize(query)
        if not key:
            return []
        rows = self._rows("SELECT e.* FROM entity_names n JOIN entities e ON e.id = n.entity WHERE n.key = ?"
                          " ORDER BY e.id LIMIT ?", (key, limit))
        return [sql._entity(r) for r in rows]

    def entity_article_count(self, entity_id: str) -> int:
        """How many articles name the entity, counted in its index without reading them (`entity` lists them
        all, which an entity in a million articles makes slow)."""
        return int(self._rows("SELECT COUNT(DISTINCT article) AS n FROM mentions WHERE entity = ?",
                              (entity_id,))[0]["n"])

    def entity_stories(self, entity_id: str, limit: int) -> tuple[list[dict[str, Any]], int]:
        """The newest stories naming the entity, as an entity page lists them (id, title, languages, last_date,
        article_count), and how many there are in all."""
        total = int(self._rows("SELECT COUNT(*) AS n FROM story_entities WHERE entity = ?", (entity_id,))[0]["n"])
        rows = self._rows("SELECT s.id, s.title, s.languages, s.last_date, s.size FROM story_entities x"
                          " JOIN stories s ON s.id = x.story WHERE x.entity = ?"
                          " ORDER BY s.last_date DESC NULLS LAST, s.id LIMIT ?", (entity_id, limit))
        return [{"id": r["id"], "title": r["title"], "languages": json.loads(r["languages"]),
                 "last_date": r["last_date"], "article_count": int(r["size"])} for r in rows], total

    def entity_events(self, entity_id: str, limit: int, sample: int) -> list[dict[str, Any]]:
        """The newest events with one of `sample` articles naming the entity (id, title, date, story, languages,
        articles_naming: how many of those they hold). A sample, so that a head entity costs what a rare one
        does."""
        rows = self._rows(f"SELECT e.id, e.title, e.date, e.story, e.languages, COUNT(*) AS n FROM ({_SAMPLE}) m"
                          " JOIN articles a ON a.id = m.article JOIN events e ON e.id = a.event"
                          " GROUP BY e.id, e.title, e.date, e.story, e.languages"
                          " ORDER BY e.date DESC NULLS LAST, e.id LIMIT ?", (entity_id, sample, limit))
        return [{"id": r["id"], "title": r["title"], "date": r["date"], "story": r["story"],
                 "languages": json.loads(r["languages"]), "articles_naming": int(r["n"])} for r in rows]

    def speaker_quotes(self, entity_id: str, limit: int) -> list[tuple[Quote, str | None]]:
        """What the entity said, newest first, with each article's language (the text's direction)."""
        rows = self._rows("SELECT q.*, a.lang FROM quotes q JOIN articles a ON a.id = q.article WHERE q.speaker = ?"
                          " ORDER BY a.published DESC NULLS LAST, q.article, q.start LIMIT ?", (entity_id, limit))
        return [(sql._quote(r), r["lang"]) for r in rows]

    def cooccurring_entities(self, entity_id: str, limit: int, sample: int) -> list[tuple[Entity, int]]:
        """The entities named most often in `sample` of the articles naming this one, with how many they share:
        an entity's neighbours, drawn from a sample for the same reason as `entity_events`."""
        rows = self._rows("SELECT en.id, en.name, en.type, en.variants, COUNT(DISTINCT o.article) AS n"
                          f" FROM ({_SAMPLE}) m JOIN mentions o ON o.article = m.article AND o.entity <> ?"
                          " JOIN entities en ON en.id = o.entity GROUP BY en.id, en.name, en.type, en.variants"
                          " ORDER BY n DESC, en.name LIMIT ?", (entity_id, sample, entity_id, limit))
        return [(sql._entity(r), int(r["n"])) for r in rows]

    def mentions_per_day(self, entity_id: str) -> list[tuple[str, int]]:
        """Mentions of the entity per publication day, days in order: its chart over time. Only analysed,
        dated articles count, as every reader shows the last complete analysis."""
        rows = self._rows(f"SELECT {_DAY} AS day, COUNT(*) AS n FROM mentions m JOIN articles a ON a.id = m.article"
                          f" WHERE m.entity = ? AND a.event IS NOT NULL AND a.published IS NOT NULL GROUP BY {_DAY}"
                          " ORDER BY day", (entity_id,))
        return [(r["day"], int(r["n"])) for r in rows]
