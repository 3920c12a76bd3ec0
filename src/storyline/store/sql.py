"""The SQL both stores share: schema, migrations, writes, and the readers' indexed queries.

Articles are written as soon as they are extracted, each batch in one transaction, so nothing ingested
is lost when a later stage fails. Derived results (entities, events, stories) are replaced as a whole
after every full run: they are recomputed from the stored articles, which makes re-runs idempotent. They are
saved with the key of the code and settings that made them (with the clusterer's state), so a run that finds
nothing waiting, nothing changed and the same key keeps them without reading the articles.

Readers see the last complete analysis: an article stored after it (by a run still analysing, or one killed
while analysing) has no event yet and is counted as pending, not shown. One analysis runs at a time
(`analysis_lock`), so two writers on one store never save results that miss each other's articles.
"""

from __future__ import annotations

import base64
import json
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from storyline.model import (
    Action,
    Article,
    Digest,
    Entity,
    Event,
    Mention,
    Quote,
    Rejected,
    Story,
    TimelineEntry,
)
from storyline.normalize import normalize
from storyline.store.protocol import (
    ClosedEvent,
    EntityRecord,
    Filters,
    Increment,
    MergedKind,
    Page,
    StoryRow,
    StorySort,
)
from storyline.store.reading import PageReads

# Version 2 added events.related; version 4 articles.origin, .event and .added, the story columns readers
# sort by and the entity name keys. Derived tables are rebuilt by every analysis, so migrating a store is
# dropping them and creating them anew; articles and rejections are kept, with columns added to articles
# (ARTICLE_COLUMNS_ADDED, by the version that added them).
SCHEMA_VERSION = 4
ARTICLE_COLUMNS_ADDED = {4: ("origin", "event", "added", "analysed_hash")}
# Ids per IN (...) list: SQLite's limit on bound variables is 32,766, PostgreSQL's 65,535.
ID_CHUNK = 500
# A closed event found for a late article ended at most this many days after the article's span (an
# event lasting longer, one that kept receiving articles for a month, is not found by articles of its start).
CLOSED_SPAN_DAYS = 30
# Items per piece of `scan` (what an export holds at once).
SCAN_CHUNK = 1000
# A story's growth is the number of its articles stored in this window before its last analysis.
GROWTH_WINDOW = timedelta(days=1)
# A story list filtered by text keeps the stories of this many matching articles (SQLite: the newest; PostgreSQL:
# the best-ranked): a common word matches a good part of a big store, and a list is read from its top. At 1M
# articles a title word's list took 28 ms (median, one reader) with 1,000, 16 ms with 500.
TEXT_FILTER_HITS = 500
# Search ranks this many full-text matches (or ten times the page, when deeper) before its filters (SQLite: the
# newest; PostgreSQL: the best-ranked); a common word matches much of a big store and nobody reads past its
# first pages. Ranking is most of a search's cost: at 1M articles a title word took 25 ms (median, one client)
# with 2,000, 11 ms with 500, 7 ms with 200.
SEARCH_DEPTH = 500
# The WHERE clause of a story list without filters.
NO_FILTER = "1 = 1"
# Entity hits rank before full-text hits in search: a query naming an entity wants its articles first.
ENTITY_HIT_RANK = -1e9
# Seconds a writer waits for another's transaction to end before giving up (SQLite's busy timeout).
BUSY_TIMEOUT_SECONDS = 600

# Tables shared by both stores, in SQL that SQLite and PostgreSQL both read. Membership is normalised
# (articles.event, events.story, mentions by entity, entity_names by key) and indexed for the readers; the
# lists kept as JSON text (variants, languages, timelines, member ids) are only ever read whole.
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT, published TEXT, lang TEXT, title TEXT NOT NULL,
    text TEXT NOT NULL, author TEXT, site TEXT, duplicate_of TEXT, content_hash TEXT NOT NULL, origin TEXT,
    event TEXT, added TEXT, analysed_hash TEXT
);
CREATE TABLE IF NOT EXISTS analysis_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS merges (absorbed TEXT PRIMARY KEY, survivor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entity_merges (absorbed TEXT PRIMARY KEY, survivor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (
    article TEXT NOT NULL, part TEXT NOT NULL, model TEXT NOT NULL, vector TEXT NOT NULL,
    PRIMARY KEY (article, model, part)
);
CREATE TABLE IF NOT EXISTS closed_events (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, first TEXT, last TEXT, state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS closed_events_last ON closed_events (last);
CREATE TABLE IF NOT EXISTS closed_features (
    feature TEXT NOT NULL, last TEXT NOT NULL, event TEXT NOT NULL, PRIMARY KEY (feature, last, event)
);
CREATE INDEX IF NOT EXISTS closed_features_event ON closed_features (event);
CREATE TABLE IF NOT EXISTS rejected (
    source TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (source, reason)
);
CREATE TABLE IF NOT EXISTS entities (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, variants TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mentions (
    article TEXT NOT NULL, entity TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quotes (
    article TEXT NOT NULL, speaker TEXT, speaker_name TEXT, text TEXT NOT NULL, cue TEXT, direct INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
    article TEXT NOT NULL, actor TEXT, actor_name TEXT, verb TEXT NOT NULL, code TEXT NOT NULL, target TEXT,
    target_name TEXT, date TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, story TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, date TEXT,
    languages TEXT NOT NULL, articles TEXT NOT NULL, related TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stories (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, languages TEXT NOT NULL,
    events TEXT NOT NULL, articles TEXT NOT NULL, timeline TEXT NOT NULL, size INTEGER NOT NULL,
    event_count INTEGER NOT NULL, first_date TEXT, last_date TEXT, recent INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS watch_state (
    source TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (source, key)
);
CREATE TABLE IF NOT EXISTS source_lines (
    site TEXT NOT NULL, line TEXT NOT NULL, articles INTEGER NOT NULL, PRIMARY KEY (site, line)
);
CREATE TABLE IF NOT EXISTS entity_names (entity TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (key, entity));
CREATE TABLE IF NOT EXISTS story_languages (
    story TEXT NOT NULL, lang TEXT NOT NULL, last_date TEXT, recent INTEGER NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (lang, story)
);
CREATE TABLE IF NOT EXISTS story_entities (story TEXT NOT NULL, entity TEXT NOT NULL, PRIMARY KEY (entity, story));
CREATE INDEX IF NOT EXISTS mentions_article ON mentions (article);
DROP INDEX IF EXISTS mentions_entity;
CREATE INDEX IF NOT EXISTS mentions_entity_article ON mentions (entity, article);
CREATE INDEX IF NOT EXISTS quotes_article ON quotes (article);
CREATE INDEX IF NOT EXISTS quotes_speaker ON quotes (speaker);
CREATE INDEX IF NOT EXISTS actions_article ON actions (article);
CREATE INDEX IF NOT EXISTS actions_actor ON actions (actor);
CREATE INDEX IF NOT EXISTS actions_target ON actions (target);
CREATE INDEX IF NOT EXISTS events_story ON events (story);
CREATE INDEX IF NOT EXISTS articles_event ON articles (event);
CREATE INDEX IF NOT EXISTS articles_lang ON articles (lang);
CREATE INDEX IF NOT EXISTS articles_order ON articles (published, id);
CREATE INDEX IF NOT EXISTS articles_pending ON articles ((published IS NULL), published, id) WHERE event IS NULL;
CREATE INDEX IF NOT EXISTS articles_changed ON articles (id)
    WHERE event IS NOT NULL AND (analysed_hash IS NULL OR analysed_hash <> content_hash);
CREATE INDEX IF NOT EXISTS stories_last ON stories (last_date DESC, id);
CREATE INDEX IF NOT EXISTS stories_recent ON stories (recent DESC, last_date DESC, id);
CREATE INDEX IF NOT EXISTS stories_size ON stories (size DESC, last_date DESC, id);
CREATE INDEX IF NOT EXISTS story_languages_last ON story_languages (lang, last_date DESC, story);
CREATE INDEX IF NOT EXISTS story_languages_recent ON story_languages (lang, recent DESC, last_date DESC, story);
CREATE INDEX IF NOT EXISTS story_languages_size ON story_languages (lang, size DESC, last_date DESC, story)
"""
_ARTICLE_COLUMNS = ("id", "source", "url", "published", "lang", "title", "text", "author", "site", "duplicate_of",
                    "content_hash", "origin", "added")
_UPSERT_ARTICLE = (  # an update keeps when the article was first stored
    f"INSERT INTO articles ({', '.join(_ARTICLE_COLUMNS)}) VALUES ({', '.join('?' * len(_ARTICLE_COLUMNS))})"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _ARTICLE_COLUMNS[1:-1])
)
_DERIVED_TABLES = ("entities", "entity_names", "mentions", "quotes", "actions", "events", "stories", "story_languages",
                   "story_entities", "closed_events", "closed_features")
_STORY_ROW = ", ".join(f"s.{column}" for column in ("id", "title", "languages", "size", "event_count", "first_date",
                                                    "last_date", "recent"))


class SQLStore(PageReads):
    """Everything both SQL stores share. SQL is written with `?` placeholders; subclasses say how to
    connect, open a transaction, and index and search full text, the only parts where the dialects differ."""

    placeholder = "?"
    db: Any

    def _sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def _rows(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.db.execute(self._sql(statement), params).fetchall())

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _index_text(self, db: Any, article: Article) -> None:
        raise NotImplementedError

    def _unindex_text(self, db: Any, article_id: str) -> None:
        db.execute(self._sql("DELETE FROM articles_fts WHERE id = ?"), (article_id,))

    def analysis_lock(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _text_hits(self, query: str, depth: int) -> tuple[str, list[Any]] | None:
        """A query of (id, rank) rows for the `depth` best articles matching `query` in full text, lower rank
        first; None when the query holds no searchable word."""
        raise NotImplementedError

    def _check_schema(self) -> None:
        """For a reader, which never writes (no schema statements, no migration): the store must be one this
        storyline wrote, at its schema version."""
        try:
            found = self._rows("SELECT value FROM meta WHERE key = 'schema_version'")
        except Exception as error:  # no meta table: some other database
            raise ValueError(f"not a storyline store ({one_line(error)})") from error
        if not found or int(found[0]["value"]) != SCHEMA_VERSION:
            version = found[0]["value"] if found else "none"
            raise ValueError(f"the store has schema version {version}, this storyline reads {SCHEMA_VERSION}: "
                             "a writer (storyline ingest or rebuild) upgrades it")

    def _create_schema(self, extra: str) -> None:
        """Tables and indexes (`extra`: the backend's full-text index). A store of an older version loses its
        derived tables and its full-text index, which is rebuilt from the articles."""
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = self._rows("SELECT value FROM meta WHERE key = 'schema_version'")
            migrated = bool(found) and int(found[0]["value"]) < SCHEMA_VERSION
            if migrated:
                for table in (*_DERIVED_TABLES, "articles_fts", "analysis_state"):
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                present = {column[0] for column in db.execute("SELECT * FROM articles LIMIT 0").description}
                for version, columns in ARTICLE_COLUMNS_ADDED.items():
                    for column in columns:
                        if int(found[0]["value"]) < version and column not in present:
                            db.execute(f"ALTER TABLE articles ADD COLUMN {column} TEXT")
            for statement in (_TABLES + ";" + extra).split(";"):
                if statement.strip():
                    db.execute(statement)
            if migrated:
                for row in self._rows("SELECT * FROM articles"):
                    self._index_text(db, _article(row))
            db.execute(self._sql("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE"
                                 " SET value = excluded.value"), (str(SCHEMA_VERSION),))

    def stored(self, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """The content hash and origin (the input a name-made id belongs to; None for ids inputs gave) of each
        of `ids` the store holds: what an ingest compares its inputs with, without reading the rest."""
        rows = self._chunks("SELECT id, content_hash, origin FROM articles WHERE id IN ({marks})", ids)
        return {r["id"]: (r["content_hash"], r["origin"]) for r in rows}

    def add_articles(self, articles: Iterable[tuple[Article, str]]) -> int:
        """Insert or update articles (an id seen again with new content is updated); returns the count."""
        count, now = 0, datetime.now(UTC).isoformat()
        with self._transaction() as db:
            for article, content_hash in articles:
                db.execute(self._sql(_UPSERT_ARTICLE), (
                    article.id, article.source, article.url, _iso(article.published), article.lang, article.title,
                    article.text, article.author, article.site, article.duplicate_of, content_hash, article.origin,
                    now))
                self._index_text(db, article)
                db.execute(self._sql("DELETE FROM vectors WHERE article = ?"), (article.id,))  # of an old text
                count += 1
        return count

    def add_rejected(self, rejected: Iterable[Rejected]) -> None:
        with self._transaction() as db:
            for item in rejected:
                db.execute(self._sql("INSERT INTO rejected VALUES (?, ?) ON CONFLICT DO NOTHING"),
                           (item.source, item.reason))

    def remove_articles(self, ids: Iterable[str]) -> None:
        """Take out articles that analysis cannot use (each one already recorded as rejected)."""
        with self._transaction() as db:
            for article_id in ids:
                self._unindex_text(db, article_id)
                db.execute(self._sql("DELETE FROM vectors WHERE article = ?"), (article_id,))
                db.execute(self._sql("DELETE FROM articles WHERE id = ?"), (article_id,))

    def articles(self) -> list[Article]:
        """Every stored article, analysed or not (what analysis reads)."""
        return [_article(row) for row in self._rows("SELECT * FROM articles ORDER BY id")]

    def pending_articles(self, limit: int | None = None) -> list[Article]:
        """The articles stored after the last complete analysis, the first `limit` of them in publication order
        (undated last): what analysis reads next, a window at a time."""
        bound = "" if limit is None else f" LIMIT {int(limit)}"
        return [_article(row) for row in self._rows(
            "SELECT * FROM articles WHERE event IS NULL ORDER BY (published IS NULL), published, id" + bound)]

    def reset_results(self) -> None:
        """Forget every result (a full analysis starts over): every article waits for analysis again."""
        with self._transaction() as db:
            for table in _DERIVED_TABLES:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM analysis_state")
            db.execute("UPDATE articles SET event = NULL WHERE event IS NOT NULL")

    def totals(self) -> tuple[int, int, int]:
        """Articles placed, events and stories of the last analysis (counted through indexes)."""
        row = self._rows("SELECT (SELECT COUNT(*) FROM articles WHERE event IS NOT NULL) AS a,"
                         " (SELECT COUNT(*) FROM events) AS e, (SELECT COUNT(*) FROM stories) AS s")[0]
        return int(row["a"]), int(row["e"]), int(row["s"])

    def pending(self) -> int:
        """Articles stored after the last complete analysis: no reader shows them until one places them."""
        return int(self._rows("SELECT COUNT(*) AS n FROM articles WHERE event IS NULL")[0]["n"])

    def save_results(self, digest: Digest, state: tuple[str, bytes] | None = None) -> None:
        """Replace everything derived from the articles by this run's results, in one transaction, with the
        clusterer `state` a later run continues from, under the key of the code and settings that made both
        (None: results of a one-off scorer, which no later run keeps)."""
        rows = {**self._result_rows(digest), "entity_names": _entity_names(digest.entities),
                "story_entities": _story_entities(digest)}
        with self._transaction() as db:
            cursor = db.cursor()
            for table in _DERIVED_TABLES:
                cursor.execute(f"DELETE FROM {table}")
                if rows.get(table):  # a whole result has no closed events: its analysis kept no state
                    marks = ", ".join("?" * len(rows[table][0]))
                    cursor.executemany(self._sql(f"INSERT INTO {table} VALUES ({marks})"), rows[table])
            # Analysis may link a copy or date an undated article from its text: keep both with the article.
            event_of = {article: event.id for event in digest.events for article in event.articles}
            cursor.execute("UPDATE articles SET event = NULL")
            cursor.executemany(
                self._sql("UPDATE articles SET duplicate_of = ?, published = ?, event = ?,"
                          " analysed_hash = content_hash WHERE id = ?"),
                [(a.duplicate_of, _iso(a.published), event_of[a.id], a.id) for a in digest.articles])
            self._save_state(cursor, state)

    def _result_rows(self, digest: Digest) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of a digest's results, table by table (entity names and story entities aside: a full
        save derives them from the digest, an increment from what the store already holds)."""
        stories = self._story_rows(digest)
        return {
            "entities": [(e.id, e.name, e.type, _json(e.variants)) for e in digest.entities],
            "mentions": [(m.article, m.entity, m.start, m.end, m.text, m.type) for m in digest.mentions],
            "quotes": [(q.article, q.speaker, q.speaker_name, q.text, q.cue, int(q.direct), q.start, q.end)
                       for q in digest.quotes],
            "actions": [(a.article, a.actor, a.actor_name, a.verb, a.code, a.target, a.target_name, a.date)
                        for a in digest.actions],
            "events": [(e.id, e.story, e.title, e.summary, e.date, _json(e.languages), _json(e.articles),
                        _json(e.related_articles)) for e in digest.events],
            "stories": stories,
            # the sort keys ride along, so a page of one language's stories is an index range
            "story_languages": [(row[0], lang, row[10], row[11], row[7]) for row, story in zip(
                stories, digest.stories, strict=True) for lang in story.languages],
        }

    def _story_rows(self, digest: Digest) -> list[tuple[Any, ...]]:
        """Story rows with what readers sort and filter by: size, event count, date span and growth."""
        since = (datetime.now(UTC) - GROWTH_WINDOW).isoformat()
        members = sorted({a for s in digest.stories for a in s.articles})
        recent = {row["id"] for row in self._chunks("SELECT id FROM articles WHERE id IN ({marks}) AND added >= ?",
                                                    members, (since,))}
        rows = []
        for s in digest.stories:
            known = sorted(entry.date for entry in s.timeline if entry.date)
            rows.append((s.id, s.title, s.summary, _json(s.languages), _json(s.events), _json(s.articles),
                         _json([asdict(t) for t in s.timeline]), len(s.articles), len(s.events),
                         known[0] if known else None, known[-1] if known else None,
                         sum(a in recent for a in s.articles)))
        return rows

    def line_counts(self, site: str, keys: Sequence[str]) -> dict[str, int]:
        """Per-source line statistics (storyline.extraction.evidence): of each line key of `site`, the number of
        distinct articles of the site it was seen in, for the keys seen at all. Kept across analyses and
        rebuilds: it is evidence gathered at ingest, not a result."""
        rows = self._chunks("SELECT line, articles FROM source_lines WHERE line IN ({marks}) AND site = ?", keys,
                            (site,))
        return {r["line"]: int(r["articles"]) for r in rows}

    def add_line_counts(self, site: str, counts: Mapping[str, int]) -> None:
        """Add articles to the counts of line keys of `site`, in one transaction."""
        with self._transaction() as db:
            db.cursor().executemany(self._sql(
                "INSERT INTO source_lines VALUES (?, ?, ?) ON CONFLICT (site, line)"
                " DO UPDATE SET articles = source_lines.articles + excluded.articles"),
                [(site, key, n) for key, n in sorted(counts.items())])

    def watch_state(self, source: str) -> dict[str, str]:
        """What `storyline watch` remembers of one source (validators, file signatures, failures)."""
        return {r["key"]: r["value"] for r in self._rows("SELECT key, value FROM watch_state WHERE source = ?",
                                                          (source,))}

    def set_watch_state(self, source: str, state: dict[str, str]) -> None:
        """Replace what is remembered of `source`, in one transaction (a kill keeps the old state or the new)."""
        with self._transaction() as db:
            db.execute(self._sql("DELETE FROM watch_state WHERE source = ?"), (source,))
            for key, value in state.items():
                db.execute(self._sql("INSERT INTO watch_state VALUES (?, ?, ?)"), (source, key, value))

    def pending_ids(self) -> list[str]:
        """The ids of the articles waiting for analysis."""
        return [r["id"] for r in self._rows("SELECT id FROM articles WHERE event IS NULL ORDER BY id")]

    def stories_holding(self, article_ids: Sequence[str]) -> dict[str, tuple[str, int, int]]:
        """The stories these articles are in: each one's title, size, and how many of the articles it holds
        (what a poller tells from what it added: a story made of them only is new, else it grew)."""
        found: dict[str, tuple[str, int, int]] = {}
        for r in self._chunks("SELECT s.id, s.title, s.size, COUNT(*) AS n FROM articles a JOIN events e"
                              " ON e.id = a.event JOIN stories s ON s.id = e.story WHERE a.id IN ({marks})"
                              " GROUP BY s.id, s.title, s.size", article_ids):
            held = found.get(r["id"], ("", 0, 0))[2]
            found[r["id"]] = (r["title"], int(r["size"]), held + int(r["n"]))
        return found

    def _save_state(self, cursor: Any, state: tuple[str, bytes] | None) -> None:
        cursor.execute("DELETE FROM analysis_state")
        if state is not None:
            cursor.execute(self._sql("INSERT INTO analysis_state VALUES (?, ?)"),
                           (state[0], base64.b64encode(state[1]).decode()))

    def analysis_state(self) -> tuple[str, bytes] | None:
        """The clusterer state of the last analysis, with the key of the code and settings that made it."""
        rows = self._rows("SELECT key, value FROM analysis_state")
        return (rows[0]["key"], base64.b64decode(rows[0]["value"])) if rows else None

    def changed_since_analysis(self) -> int:
        """Analysed articles whose content changed since (an input updated in place): incremental analysis
        cannot take an article back out of its event, so these call for a full analysis."""
        return int(self._rows("SELECT COUNT(*) AS n FROM articles WHERE event IS NOT NULL"
                              " AND (analysed_hash IS NULL OR analysed_hash <> content_hash)")[0]["n"])

    def _chunks(self, statement: str, ids: Sequence[str], then: Sequence[Any] = ()) -> list[Any]:
        """Rows of `statement` (with one `{marks}` for an IN list, then the parameters `then`) over `ids`, in
        chunks of ID_CHUNK."""
        rows: list[Any] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = list(ids[start:start + ID_CHUNK])
            rows.extend(self._rows(statement.format(marks=", ".join("?" * len(chunk))), [*chunk, *then]))
        return rows

    def preceding_texts(self, published: str | None, article_id: str, limit: int, chars: int) -> list[tuple[str, str]]:
        """Headline and first `chars` characters of text of the `limit` articles that come before this place in
        publication order (undated last, then by id), nearest first: the stream's recent writing, the same
        whichever batches the articles came in."""
        columns = f"SELECT title, substr(text, 1, {int(chars)}) AS text FROM articles WHERE"
        rows: list[Any] = []
        params: list[Any] = []
        dated = ""
        if published is None:  # undated articles come after every dated one
            rows = self._rows(f"{columns} published IS NULL AND id < ? ORDER BY id DESC LIMIT {int(limit)}",
                              [article_id])
        else:
            dated = " AND (published < ? OR (published = ? AND id < ?))"
            params = [published, published, article_id]
        if len(rows) < limit:
            rows += self._rows(f"{columns} published IS NOT NULL{dated} ORDER BY published DESC, id DESC"
                               f" LIMIT {int(limit) - len(rows)}", params)
        return [(r["title"], r["text"]) for r in rows]

    def articles_by_id(self, ids: Sequence[str]) -> list[Article]:
        return [_article(r) for r in self._chunks("SELECT * FROM articles WHERE id IN ({marks})", ids)]

    def stories_of_events(self, ids: Sequence[str]) -> dict[str, str]:
        return {r["id"]: r["story"] for r in self._chunks("SELECT id, story FROM events WHERE id IN ({marks})", ids)}

    def events_of_stories(self, ids: Sequence[str]) -> list[Event]:
        return [_event(r) for r in self._chunks("SELECT * FROM events WHERE story IN ({marks})", ids)]

    def entities_by_id(self, ids: Sequence[str]) -> dict[str, Entity]:
        return {r["id"]: _entity(r) for r in self._chunks("SELECT * FROM entities WHERE id IN ({marks})", ids)}

    def entities_by_keys(self, keys: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for r in self._chunks("SELECT key, entity FROM entity_names WHERE key IN ({marks})", keys):
            found[r["key"]].append(r["entity"])
        return dict(found)

    def save_increment(self, increment: Increment, state_key: str | None) -> None:
        """Write what an incremental run changed, in one transaction: new articles' mentions, quotes and
        actions, and their events; the rows of every touched event, story and entity; merges; the clusterer
        state under `state_key` (None: results of a one-off scorer, whose state no later run continues)."""
        with self._transaction() as db:
            cursor = db.cursor()
            story_ids = sorted({s.id for s in increment.stories} | set(increment.merges))
            event_ids = [e.id for e in increment.events]
            for table, column, ids in (("events", "id", event_ids), ("stories", "id", story_ids),
                                       ("story_languages", "story", story_ids),
                                       ("story_entities", "story", story_ids),
                                       ("entities", "id", [e.id for e in increment.entities])):
                for start in range(0, len(ids), ID_CHUNK):
                    chunk = ids[start:start + ID_CHUNK]
                    cursor.execute(self._sql(f"DELETE FROM {table} WHERE {column} IN ({', '.join('?' * len(chunk))})"),
                                   chunk)
            digest = Digest(articles=increment.articles, events=increment.events, stories=increment.stories,
                            entities=increment.entities, mentions=increment.mentions, quotes=increment.quotes,
                            actions=increment.actions)
            event_of = {article: event.id for event in increment.events for article in event.articles}
            cursor.executemany(
                self._sql("UPDATE articles SET duplicate_of = ?, published = ?, event = ?,"
                          " analysed_hash = content_hash WHERE id = ?"),
                [(a.duplicate_of, _iso(a.published), event_of[a.id], a.id) for a in increment.articles])
            for table, values in self._result_rows(digest).items():
                if values:
                    marks = ", ".join("?" * len(values[0]))
                    cursor.executemany(self._sql(f"INSERT INTO {table} VALUES ({marks})"), values)
            cursor.executemany(self._sql("INSERT INTO entity_names VALUES (?, ?) ON CONFLICT DO NOTHING"),
                               _entity_names(increment.entities))
            for start in range(0, len(story_ids), ID_CHUNK):
                chunk = story_ids[start:start + ID_CHUNK]
                cursor.execute(self._sql(
                    "INSERT INTO story_entities SELECT DISTINCT e.story, m.entity FROM mentions m JOIN articles a"
                    " ON a.id = m.article JOIN events e ON e.id = a.event WHERE e.story IN"
                    f" ({', '.join('?' * len(chunk))})"), chunk)
            cursor.executemany(self._sql("INSERT INTO merges VALUES (?, ?) ON CONFLICT (absorbed) DO UPDATE"
                                         " SET survivor = excluded.survivor"), sorted(increment.merges.items()))
            self._merge_entities(cursor, increment.entity_merges)
            self._save_closed(cursor, increment.closed)
            if increment.vector_model is not None:
                cursor.executemany(self._sql("INSERT INTO vectors VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"), [
                    (article, part, increment.vector_model, _packed(vector))
                    for (article, part), vector in sorted(increment.vectors.items())])
            self._save_state(cursor, None if state_key is None else (state_key, increment.state))

    def _merge_entities(self, cursor: Any, merges: Mapping[str, str]) -> None:
        """Point every row naming an absorbed entity at its survivor (whose row the increment wrote) and drop
        the absorbed one, remembering where it went for links made before."""
        stored = self.entities_by_id(sorted(merges))
        for absorbed, survivor in sorted(merges.items()):
            for table, column in (("mentions", "entity"), ("quotes", "speaker"), ("actions", "actor"),
                                  ("actions", "target")):
                cursor.execute(self._sql(f"UPDATE {table} SET {column} = ? WHERE {column} = ?"), (survivor, absorbed))
            cursor.execute(self._sql("INSERT INTO story_entities SELECT story, CAST(? AS TEXT) FROM story_entities"
                                     " WHERE entity = ? ON CONFLICT DO NOTHING"), (survivor, absorbed))
            for table, column in (("story_entities", "entity"), ("entities", "id")):
                cursor.execute(self._sql(f"DELETE FROM {table} WHERE {column} = ?"), (absorbed,))
            names = sorted(stored[absorbed].name_keys()) if absorbed in stored else []  # by key: the index's order
            cursor.executemany(self._sql("DELETE FROM entity_names WHERE key = ? AND entity = ?"),
                               [(key, absorbed) for key in names])
            cursor.execute(self._sql("UPDATE entity_merges SET survivor = ? WHERE survivor = ?"), (survivor, absorbed))
        cursor.executemany(self._sql("INSERT INTO entity_merges VALUES (?, ?) ON CONFLICT (absorbed) DO UPDATE"
                                     " SET survivor = excluded.survivor"), sorted(merges.items()))

    def _save_closed(self, cursor: Any, closed: Sequence[ClosedEvent]) -> None:
        ids = [c.id for c in closed]
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start:start + ID_CHUNK]
            for table, column in (("closed_events", "id"), ("closed_features", "event")):
                cursor.execute(self._sql(f"DELETE FROM {table} WHERE {column} IN ({', '.join('?' * len(chunk))})"),
                               chunk)
        cursor.executemany(self._sql("INSERT INTO closed_events VALUES (?, ?, ?, ?, ?)"),
                           [(c.id, c.story, c.first, c.last, base64.b64encode(c.state).decode()) for c in closed])
        cursor.executemany(self._sql("INSERT INTO closed_features VALUES (?, ?, ?)"),
                           [(feature, c.last, c.id) for c in closed if c.last for feature in sorted(set(c.features))])

    def vectors(self, article_ids: Sequence[str], model: str) -> dict[tuple[str, str], list[float]]:
        """The dense vectors `model` made of these articles before, by (article, part): kept across analyses
        and rebuilds (an article is embedded once), dropped when its text changes."""
        rows = self._chunks("SELECT article, part, vector FROM vectors WHERE article IN ({marks}) AND model = ?",
                            article_ids, (model,))
        return {(r["article"], r["part"]): _unpacked(r["vector"]) for r in rows}

    def closed_events(self, features: Sequence[str], first: str, last: str, limit: int) -> list[ClosedEvent]:
        """The closed events overlapping [first, last] (ISO dates) that share most of `features`, at most
        `limit`, found through the (feature, last date) index: each feature's postings are read only for
        events that ended in the span or up to CLOSED_SPAN_DAYS after it, so a common word costs a month of
        events, not the whole archive."""
        if not features:
            return []
        marks = ", ".join("?" * len(features))
        until = (datetime.fromisoformat(last) + timedelta(days=CLOSED_SPAN_DAYS)).isoformat()
        rows = self._rows(
            "SELECT c.id, c.story, c.first, c.last, c.state FROM (SELECT f.event AS id, COUNT(*) AS hits"
            f" FROM closed_features f WHERE f.feature IN ({marks}) AND f.last >= ? AND f.last <= ?"
            " GROUP BY f.event) h JOIN closed_events c ON c.id = h.id WHERE c.first <= ?"
            " ORDER BY h.hits DESC, c.id LIMIT ?", [*features, first, until, last, limit])
        return [ClosedEvent(r["id"], r["story"], r["first"], r["last"], base64.b64decode(r["state"])) for r in rows]

    def merged_into(self, item_id: str, kind: MergedKind = "story") -> str | None:
        """The story (or entity) that absorbed `item_id`, following merges to the survivor."""
        seen: set[str] = set()
        current = item_id
        query = f"SELECT survivor FROM {'merges' if kind == 'story' else 'entity_merges'} WHERE absorbed = ?"
        while (rows := self._rows(query, (current,))) and current not in seen:
            seen.add(current)
            current = rows[0]["survivor"]
        return current if current != item_id else None

    def stories(self, filters: Filters | None = None, sort: StorySort = "recent", limit: int = 20,
                offset: int = 0) -> Page[StoryRow]:
        """One page of stories, newest (last event date), fastest-growing or largest first. With a language,
        the page is read from that language's rows of story_languages, which carry the sort keys."""
        filters = filters or Filters()
        where, params = self._story_filters(replace(filters, language=None))
        source, keys = "stories s", "s"
        if filters.language:
            source, keys = "story_languages d JOIN stories s ON s.id = d.story", "d"
            where, params = f"d.lang = ? AND {where}", [filters.language, *params]
        order = {"recent": "{k}.last_date DESC NULLS LAST, {k}.{id}",
                 "growth": "{k}.recent DESC, {k}.last_date DESC NULLS LAST, {k}.{id}",
                 "size": "{k}.size DESC, {k}.last_date DESC NULLS LAST, {k}.{id}"}[sort].format(
                     k=keys, id="story" if keys == "d" else "id")  # each the order of an index
        counted = source if where == NO_FILTER else f"{source} WHERE {where}"  # SQLite counts a bare table fast
        total = int(self._rows(f"SELECT COUNT(*) AS n FROM {counted}", params)[0]["n"])
        rows = self._rows(f"SELECT {_STORY_ROW} FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                          [*params, limit, offset])
        items = [StoryRow(r["id"], r["title"], json.loads(r["languages"]), r["size"], r["event_count"],
                          r["first_date"], r["last_date"], r["recent"]) for r in rows]
        return Page(items, total, offset, limit)

    def _story_filters(self, filters: Filters) -> tuple[str, list[Any]]:
        """A WHERE clause over stories `s`: each filter keeps the stories with an article that passes it."""
        clauses: list[str] = []
        params: list[Any] = []
        if filters.since:
            clauses.append("s.last_date >= ?")  # an undated story is in no date range
            params.append(filters.since)
        if filters.until:
            clauses.append("s.first_date <= ?")
            params.append(filters.until)
        if filters.entity:
            entities, entity_params = self._entity_ids(filters.entity)
            clauses.append(f"s.id IN (SELECT story FROM story_entities WHERE entity IN ({entities}))")
            params.extend(entity_params)
        if filters.text:
            hits = self._text_hits(filters.text, TEXT_FILTER_HITS)
            if hits is None:
                clauses.append("1 = 0")
            else:
                clauses.append("s.id IN (SELECT e.story FROM events e JOIN articles a ON a.event = e.id WHERE a.id IN"
                               f" (SELECT id FROM ({hits[0]}) h))")
                params.extend(hits[1])
        return " AND ".join(clauses) or NO_FILTER, params

    def _entity_ids(self, entity: str) -> tuple[str, list[Any]]:
        """A subquery of the entity ids that `entity` names: the id itself, or any spelling an entity has."""
        return "SELECT id FROM entities WHERE id = ? UNION SELECT entity FROM entity_names WHERE key = ?", [
            entity, normalize(entity)]

    def story(self, story_id: str) -> Story | None:
        rows = self._rows("SELECT * FROM stories WHERE id = ?", (story_id,))
        return _story(rows[0]) if rows else None

    def event(self, event_id: str) -> Event | None:
        rows = self._rows("SELECT * FROM events WHERE id = ?", (event_id,))
        return _event(rows[0]) if rows else None

    def article(self, article_id: str) -> Article | None:
        """An analysed article (one waiting for analysis is not shown yet)."""
        rows = self._rows("SELECT * FROM articles WHERE id = ? AND event IS NOT NULL", (article_id,))
        return _article(rows[0]) if rows else None

    def placement(self, article_id: str) -> tuple[str, str] | None:
        """The event and story of an analysed article."""
        rows = self._rows("SELECT e.id AS event, e.story FROM articles a JOIN events e ON e.id = a.event"
                          " WHERE a.id = ?", (article_id,))
        return (rows[0]["event"], rows[0]["story"]) if rows else None

    def entity(self, entity_id: str) -> EntityRecord | None:
        rows = self._rows("SELECT * FROM entities WHERE id = ?", (entity_id,))
        if not rows:
            return None
        articles = [r["article"] for r in self._rows(
            "SELECT DISTINCT article FROM mentions WHERE entity = ? ORDER BY article", (entity_id,))]
        return EntityRecord(_entity(rows[0]), articles)

    def search(self, query: str, limit: int = 20, filters: Filters | None = None, offset: int = 0) -> list[Article]:
        """Analysed articles matching `query`, entity-aware: when it names an entity in any spelling or script
        it has, that entity's articles in every language come first, then full-text hits (BM25 / ts_rank)."""
        filters = filters or Filters()
        depth = max(SEARCH_DEPTH, 10 * (offset + limit))
        hits = self._text_hits(query, depth)
        key = normalize(query)
        if hits is None and not key:
            return []
        parts, params = [], []
        if key:  # an entity in a million articles: its first `depth` by id, from the index alone
            parts.append(f"SELECT * FROM (SELECT DISTINCT m.article AS id, {ENTITY_HIT_RANK} AS rank"
                         " FROM entity_names n JOIN mentions m ON m.entity = n.entity WHERE n.key = ?"
                         " ORDER BY m.article LIMIT ?) e")
            params.extend([key, depth])
        if hits is not None:
            parts.append(hits[0])
            params.extend(hits[1])
        clauses = ["a.event IS NOT NULL"]
        if filters.language:
            clauses.append("a.lang = ?")
            params.append(filters.language)
        if filters.since:
            clauses.append("a.published >= ?")
            params.append(filters.since)
        if filters.until:
            clauses.append("a.published < ?")
            params.append(_next_day(filters.until))
        if filters.entity:
            entities, entity_params = self._entity_ids(filters.entity)
            clauses.append(f"a.id IN (SELECT article FROM mentions WHERE entity IN ({entities}))")
            params.extend(entity_params)
        union = " UNION ALL ".join(parts)
        # The page is chosen from the hits' ids and ranks, and only its articles are read whole: sorting the
        # joined rows would carry every hit's body through the sort.
        rows = self._rows(
            f"SELECT a.* FROM (SELECT h.id, h.rank FROM (SELECT id, MIN(rank) AS rank FROM ({union}) u GROUP BY id) h"
            f" JOIN articles a ON a.id = h.id WHERE {' AND '.join(clauses)} ORDER BY h.rank, h.id LIMIT ? OFFSET ?)"
            " p JOIN articles a ON a.id = p.id ORDER BY p.rank, p.id", [*params, limit, offset])
        return [_article(row) for row in rows]

    def load(self) -> Digest:
        """The last complete analysis, with the articles it placed (never one that waits for analysis)."""
        return Digest(
            articles=[_article(row)
                      for row in self._rows("SELECT * FROM articles WHERE event IS NOT NULL ORDER BY id")],
            events=[_event(r) for r in self._rows("SELECT * FROM events ORDER BY date, id")],
            stories=[_story(r) for r in self._rows("SELECT * FROM stories")],
            entities=[_entity(r) for r in self._rows("SELECT * FROM entities ORDER BY id")],
            mentions=[_mention(r) for r in self._rows("SELECT * FROM mentions")],
            quotes=[_quote(r) for r in self._rows("SELECT * FROM quotes")],
            actions=[_action(r) for r in self._rows("SELECT * FROM actions")],
            rejected=[Rejected(r["source"], r["reason"])
                      for r in self._rows("SELECT * FROM rejected ORDER BY source, reason")],
            merges={r["absorbed"]: r["survivor"] for r in self._rows("SELECT * FROM merges ORDER BY absorbed")},
        )

    def scan(self, section: str, chunk: int = SCAN_CHUNK) -> Iterator[Digest]:
        """The last complete analysis, one section of the export at a time (export.SECTIONS), in pieces of at
        most `chunk` items read by id through the indexes: what `load` holds, never all of it at once. A piece
        of articles holds their events, a piece of entities the mentions of them."""
        if section == "articles":
            for rows in self._pages("SELECT * FROM articles WHERE event IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
                                    chunk):
                events = self._chunks("SELECT * FROM events WHERE id IN ({marks})", sorted({r["event"] for r in rows}))
                yield Digest(articles=[_article(r) for r in rows], events=[_event(r) for r in events])
        elif section in ("events", "stories", "entities"):
            for rows in self._pages(f"SELECT * FROM {section} WHERE id > ? ORDER BY id LIMIT ?", chunk):
                if section == "events":
                    yield Digest(events=[_event(r) for r in rows])
                elif section == "stories":
                    yield Digest(stories=[_story(r) for r in rows])
                else:
                    mentions = self._chunks("SELECT * FROM mentions WHERE entity IN ({marks})", [r["id"] for r in rows])
                    yield Digest(entities=[_entity(r) for r in rows], mentions=[_mention(m) for m in mentions])
        elif section in ("quotes", "actions"):
            for rows in self._pages("SELECT id FROM articles WHERE event IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
                                    chunk):
                found = self._chunks(f"SELECT * FROM {section} WHERE article IN ({{marks}})", [r["id"] for r in rows])
                yield (Digest(quotes=[_quote(r) for r in found]) if section == "quotes"
                       else Digest(actions=[_action(r) for r in found]))
        elif section == "rejected":
            yield Digest(rejected=[Rejected(r["source"], r["reason"])
                                   for r in self._rows("SELECT * FROM rejected ORDER BY source, reason")])
        elif section == "merges":
            yield Digest(merges={r["absorbed"]: r["survivor"]
                                 for r in self._rows("SELECT * FROM merges ORDER BY absorbed")})
        else:
            raise ValueError(f"no export section {section!r}")

    def _pages(self, statement: str, chunk: int) -> Iterator[list[Any]]:
        """Keyset pages of `statement` (parameters: the last id of the page before, the page size)."""
        after = ""
        while rows := self._rows(statement, (after, chunk)):
            yield rows
            after = rows[-1]["id"]

    def close(self) -> None:
        self.db.close()


def _packed(vector: Sequence[float]) -> str:
    """A vector as base64 of little-endian float32 (1.4 KB for 384 dimensions)."""
    return base64.b64encode(array("f", vector).tobytes()).decode()


def _unpacked(text: str) -> list[float]:
    values = array("f")
    values.frombytes(base64.b64decode(text))
    return values.tolist()


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _article(row: Any) -> Article:
    return Article(
        id=row["id"], title=row["title"], text=row["text"], source=row["source"], url=row["url"],
        published=datetime.fromisoformat(row["published"]) if row["published"] else None, lang=row["lang"],
        author=row["author"], site=row["site"], duplicate_of=row["duplicate_of"], origin=row["origin"],
    )


def _entity_names(entities: Iterable[Entity]) -> list[tuple[str, str]]:
    """(entity, key) for the normalised form of every spelling of every entity."""
    return sorted({(e.id, key) for e in entities for key in e.name_keys()})


def _story_entities(digest: Digest) -> list[tuple[str, str]]:
    """(story, entity) for every entity mentioned in a story's articles."""
    story_of = {article: event.story for event in digest.events for article in event.articles}
    return sorted({(story_of[m.article], m.entity) for m in digest.mentions if m.article in story_of})


def _mention(r: Any) -> Mention:
    return Mention(r["article"], r["entity"], r["start"], r["end"], r["text"], r["type"])


def _quote(r: Any) -> Quote:
    return Quote(r["article"], r["speaker"], r["speaker_name"], r["text"], r["cue"], bool(r["direct"]), r["start"],
                 r["end"])


def _action(r: Any) -> Action:
    return Action(r["article"], r["actor"], r["actor_name"], r["verb"], r["code"], r["target"], r["target_name"],
                  r["date"])


def _event(r: Any) -> Event:
    return Event(r["id"], r["story"], r["title"], r["summary"], r["date"], json.loads(r["languages"]),
                 json.loads(r["articles"]), json.loads(r["related"]))


def _story(r: Any) -> Story:
    return Story(r["id"], r["title"], r["summary"], json.loads(r["languages"]), json.loads(r["events"]),
                 json.loads(r["articles"]), [TimelineEntry(**t) for t in json.loads(r["timeline"])])


def _entity(r: Any) -> Entity:
    return Entity(r["id"], r["name"], r["type"], json.loads(r["variants"]))


def _next_day(day: str) -> str:
    """The ISO date after `day`: `until` includes its whole day, so timestamps are compared below the next."""
    return (datetime.fromisoformat(day[:10]) + timedelta(days=1)).date().isoformat()


def one_line(error: Exception) -> str:
    """A driver's message on one line (psycopg's span several), for the CLI's one line per problem."""
    return " ".join(str(error).split())
