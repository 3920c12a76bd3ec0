"""One suite that every store backend runs (as Haystack's DocumentStoreBaseTests): the same writes give the
same answers to every reader query on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storyline.export import Section, to_json, validate, write
from storyline.model import Action, Article, Digest, Entity, Event, Mention, Quote, Story, TimelineEntry
from storyline.store import Filters, Increment, PostgresStore, SQLiteStore, Store, StoreMissing, open_store


def _article(article_id: str, lang: str, title: str, text: str, day: str) -> Article:
    return Article(id=article_id, title=title, text=text, source=f"{article_id}.txt", lang=lang,
                   published=datetime.fromisoformat(f"{day}T09:00:00+00:00"))


ARTICLES = [
    _article("dam-en", "en", "Dam talks open in Geneva", "Karim al-Haddad met Olena Verbytska in Geneva.",
             "2026-03-02"),
    _article("dam-ar", "ar", "محادثات السد في جنيف", "التقى كريم الحداد في جنيف بنظيرته.", "2026-03-02"),
    _article("dam-fr", "fr", "Accord sur le barrage", "Karim al-Haddad a signé l'accord au Caire.", "2026-03-09"),
    _article("port-en", "en", "Port strike in Valletta", "Dock workers in Valletta stopped work.", "2026-02-10"),
]


def _digest() -> Digest:
    events = [Event("ev-talks", "st-dam", "Dam talks open in Geneva", "Talks opened.", "2026-03-02", ["ar", "en"],
                    ["dam-ar", "dam-en"]),
              Event("ev-deal", "st-dam", "Deal signed in Cairo", "The deal was signed.", "2026-03-09", ["fr"],
                    ["dam-fr"]),
              Event("ev-port", "st-port", "Port strike in Valletta", "Workers struck.", "2026-02-10", ["en"],
                    ["port-en"])]
    stories = [Story("st-dam", "Kessara dam dispute", "Talks, then a deal.", ["ar", "en", "fr"],
                     ["ev-talks", "ev-deal"], ["dam-ar", "dam-en", "dam-fr"],
                     [TimelineEntry("2026-03-02", "ev-talks", "Dam talks open in Geneva"),
                      TimelineEntry("2026-03-09", "ev-deal", "Deal signed in Cairo")]),
               Story("st-port", "Valletta port strike", "Workers struck.", ["en"], ["ev-port"], ["port-en"],
                     [TimelineEntry("2026-02-10", "ev-port", "Port strike in Valletta")])]
    entities = [Entity("e-haddad", "Karim al-Haddad", "PER", ["Karim al-Haddad", "كريم الحداد"]),
                Entity("e-valletta", "Valletta", "LOC", ["Valletta"])]
    mentions = [Mention("dam-en", "e-haddad", 0, 15, "Karim al-Haddad", "PER"),
                Mention("dam-ar", "e-haddad", 6, 16, "كريم الحداد", "PER"),
                Mention("dam-fr", "e-haddad", 0, 15, "Karim al-Haddad", "PER"),
                Mention("port-en", "e-valletta", 15, 23, "Valletta", "LOC")]
    return Digest(articles=ARTICLES, events=events, stories=stories, entities=entities, mentions=mentions)


class StoreContract:
    """The behaviour every Store must have; a subclass gives the `store` fixture."""

    @pytest.fixture
    def filled(self, store: Store) -> Store:
        assert store.add_articles((a, f"hash-{a.id}") for a in ARTICLES) == len(ARTICLES)
        store.save_results(_digest(), ("key", b"state"))
        return store

    def test_an_article_stored_but_not_analysed_is_pending_and_shown_nowhere(self, store: Store) -> None:
        store.add_articles([(ARTICLES[0], "h")])
        assert store.pending() == 1
        assert store.load().articles == [] and store.article("dam-en") is None
        assert store.search("Geneva") == [] and store.stories().total == 0
        assert store.stored(["dam-en", "dam-fr"]) == {"dam-en": ("h", None)}

    def test_the_articles_before_a_place_in_publication_order_are_read_nearest_first(self, store: Store) -> None:
        undated = [replace(_article(f"u{n}", "en", f"Undated {n}", "Text", "2026-01-01"), published=None)
                   for n in range(2)]
        store.add_articles((a, "h") for a in [*ARTICLES, _article("dam-en-2", "en", "Later", "Texts", "2026-03-02"),
                                               *undated])
        assert store.preceding_texts("2026-03-02T09:00:00+00:00", "dam-en-2", 5, 100) == [
            ("Dam talks open in Geneva", ARTICLES[0].text), (ARTICLES[1].title, ARTICLES[1].text),
            ("Port strike in Valletta", ARTICLES[3].text)]
        assert store.preceding_texts("2026-03-02T09:00:00+00:00", "dam-ar", 1, 4) == [
            ("Port strike in Valletta", "Dock")]
        assert store.preceding_texts(None, "u1", 2, 5) == [("Undated 0", "Text"), ("Accord sur le barrage", "Karim")]
        assert store.preceding_texts("2026-02-10T09:00:00+00:00", "port-en", 5, 100) == []

    def test_results_are_saved_with_their_state_and_every_article_placed(self, filled: Store) -> None:
        assert filled.analysis_state() == ("key", b"state") and filled.pending() == 0
        assert filled.placement("dam-ar") == ("ev-talks", "st-dam")
        assert sorted(a.id for a in filled.load().articles) == sorted(a.id for a in ARTICLES)

    def test_the_export_is_streamed_in_pieces_with_the_records_of_one_whole_load(self, filled: Store) -> None:
        pieces: list[tuple[str, int]] = []

        def scan(section: Section) -> Iterator[Digest]:
            for piece in filled.scan(section, chunk=2):
                sizes = [len(piece.articles), len(piece.events) * (section != "articles"), len(piece.stories),
                         len(piece.entities), len(piece.quotes), len(piece.actions)]
                assert max(sizes) <= 2  # a piece holds at most `chunk` items of its section
                pieces.append((section, max(sizes)))
                yield piece

        out = io.StringIO()
        assert write(scan, out) == len(ARTICLES)
        streamed, whole = json.loads(out.getvalue()), to_json(filled.load())
        validate(streamed)
        assert {k: sorted(map(json.dumps, v)) for k, v in streamed.items()} == \
               {k: sorted(map(json.dumps, v)) for k, v in whole.items()}
        assert [n for section, n in pieces if section == "articles"] == [2, 2]

    def test_a_reader_answers_and_refuses_writes(self, filled: Store, reader: Store) -> None:
        assert reader.placement("dam-ar") == ("ev-talks", "st-dam") and reader.stories().total == 2
        with pytest.raises(Exception, match=r"(?i)read.only|readonly"):
            reader.add_articles([(_article("new", "en", "T", "Text.", "2026-03-03"), "h")])
        assert filled.stored(["new"]) == {}

    def test_stories_are_listed_newest_first_or_largest_first_and_paginated(self, filled: Store) -> None:
        page = filled.stories()
        assert [row.id for row in page.items] == ["st-dam", "st-port"] and page.total == 2
        dam = page.items[0]
        assert (dam.articles, dam.events, dam.first_date, dam.last_date) == (3, 2, "2026-03-02", "2026-03-09")
        assert dam.recent == 3  # all stored just now
        assert [row.id for row in filled.stories(sort="size").items] == ["st-dam", "st-port"]
        second = filled.stories(limit=1, offset=1)
        assert ([row.id for row in second.items], second.total, second.offset) == (["st-port"], 2, 1)

    @pytest.mark.parametrize(("filters", "expected"), [
        (Filters(language="fr"), ["st-dam"]),
        (Filters(language="de"), []),
        (Filters(entity="كريم الحداد"), ["st-dam"]),  # a spelling in another script names the same entity
        (Filters(entity="e-valletta"), ["st-port"]),
        (Filters(text="strike"), ["st-port"]),
        (Filters(since="2026-03-05"), ["st-dam"]),
        (Filters(until="2026-02-28"), ["st-port"]),
        (Filters(since="2026-02-01", until="2026-02-28", language="en"), ["st-port"]),
    ])
    def test_stories_are_filtered_by_language_entity_text_and_dates(self, filled: Store, filters: Filters,
                                                                    expected: list[str]) -> None:
        assert [row.id for row in filled.stories(filters).items] == expected

    def test_one_story_event_article_or_entity_is_read_with_its_parts(self, filled: Store) -> None:
        story = filled.story("st-dam")
        assert story is not None and story.events == ["ev-talks", "ev-deal"] and len(story.timeline) == 2
        event = filled.event("ev-talks")
        assert event is not None and event.articles == ["dam-ar", "dam-en"]
        article = filled.article("dam-fr")
        assert article is not None and article.lang == "fr" and article.published is not None
        found = filled.entity("e-haddad")
        assert found is not None and found.entity.variants == ["Karim al-Haddad", "كريم الحداد"]
        assert found.articles == ["dam-ar", "dam-en", "dam-fr"]
        assert (filled.story("nope"), filled.event("nope"), filled.entity("nope")) == (None, None, None)

    def test_search_naming_an_entity_in_any_script_finds_its_articles_in_every_language(self, filled: Store) -> None:
        assert sorted(a.id for a in filled.search("كريم الحداد")) == ["dam-ar", "dam-en", "dam-fr"]
        assert sorted(a.id for a in filled.search("Karim al-Haddad", filters=Filters(language="ar"))) == ["dam-ar"]
        assert [a.id for a in filled.search("Valletta")] == ["port-en"]
        assert [a.id for a in filled.search("barrage")] == ["dam-fr"]
        assert [a.id for a in filled.search("Geneva", filters=Filters(since="2026-03-03"))] == []
        assert [a.id for a in filled.search("accord", filters=Filters(until="2026-03-09"))] == ["dam-fr"]
        assert filled.search("   ") == []

    def test_removed_articles_leave_the_store_and_its_search(self, store: Store) -> None:
        store.add_articles((a, "h") for a in ARTICLES)
        store.remove_articles(["port-en"])
        assert sorted(store.stored([a.id for a in ARTICLES])) == ["dam-ar", "dam-en", "dam-fr"]

    def test_an_update_keeps_the_article_id_and_replaces_its_text(self, store: Store) -> None:
        store.add_articles([(ARTICLES[3], "h1")])
        changed = Article(**{**{f: getattr(ARTICLES[3], f) for f in Article.__slots__}, "text": "New text."})
        store.add_articles([(changed, "h2")])
        assert store.stored(["port-en"]) == {"port-en": ("h2", None)}
        assert [a.text for a in store.articles()] == ["New text."]

    def test_an_increment_rewrites_what_it_touched_and_keeps_the_rest(self, filled: Store) -> None:
        late = _article("deal-ar", "ar", "توقيع اتفاق السد", "وقع كريم الحداد الاتفاق في القاهرة.", "2026-03-09")
        filled.add_articles([(late, "h-late")])
        assert filled.pending() == 1 and filled.changed_since_analysis() == 0
        deal = Event("ev-deal", "st-dam", "Deal signed in Cairo", "The deal was signed.", "2026-03-09",
                     ["ar", "fr"], ["dam-fr", "deal-ar"])
        story = Story("st-dam", "Kessara dam dispute", "Talks, then a deal.", ["ar", "en", "fr"],
                      ["ev-talks", "ev-deal"], ["dam-ar", "dam-en", "dam-fr", "deal-ar"],
                      [TimelineEntry("2026-03-02", "ev-talks", "Dam talks open in Geneva"),
                       TimelineEntry("2026-03-09", "ev-deal", "Deal signed in Cairo")])
        haddad = Entity("e-haddad", "Karim al-Haddad", "PER", ["Karim al-Haddad", "كريم الحداد"])
        filled.save_increment(Increment([late], [deal], [story], {"st-old": "st-dam"}, [haddad],
                                        [Mention("deal-ar", "e-haddad", 4, 14, "كريم الحداد", "PER")],
                                        state=b"state2"), "key2")
        assert filled.pending() == 0 and filled.analysis_state() == ("key2", b"state2")
        assert filled.placement("deal-ar") == ("ev-deal", "st-dam")
        assert filled.merged_into("st-old") == "st-dam"
        found = filled.entity("e-haddad")
        assert found is not None and found.articles == ["dam-ar", "dam-en", "dam-fr", "deal-ar"]
        assert [row.articles for row in filled.stories().items] == [4, 1]
        assert [r.id for r in filled.stories(Filters(entity="كريم الحداد", language="ar")).items] == ["st-dam"]
        validate(to_json(filled.load()))

    def test_an_increment_merges_stored_entities_found_to_be_one(self, filled: Store) -> None:
        late = _article("port-mt", "en", "Strike ends in Valletta", "Workers in the Maltese capital went back.",
                        "2026-02-11")
        filled.add_articles([(late, "h-mt")])
        port = Event("ev-port", "st-port", "Port strike in Valletta", "Workers struck.", "2026-02-10", ["en"],
                     ["port-en", "port-mt"])
        story = Story("st-port", "Valletta port strike", "Workers struck.", ["en"], ["ev-port"],
                      ["port-en", "port-mt"], [TimelineEntry("2026-02-10", "ev-port", "Port strike in Valletta")])
        survivor = Entity("e-haddad", "Karim al-Haddad", "PER", ["Karim al-Haddad", "Valletta", "كريم الحداد"])
        filled.save_increment(Increment([late], [port], [story], {}, [survivor],
                                        [Mention("port-mt", "e-haddad", 0, 7, "Workers", "PER")],
                                        entity_merges={"e-valletta": "e-haddad"}), "key3")
        assert filled.entity("e-valletta") is None and filled.merged_into("e-valletta", "entity") == "e-haddad"
        found = filled.entity("e-haddad")
        assert found is not None and found.articles == ["dam-ar", "dam-en", "dam-fr", "port-en", "port-mt"]
        assert sorted(r.id for r in filled.stories(Filters(entity="Valletta")).items) == ["st-dam", "st-port"]
        assert filled.entities_by_keys(["valletta"]) == {"valletta": ["e-haddad"]}
        validate(to_json(filled.load()))

    def test_one_analysis_at_a_time(self, store: Store, second: Store) -> None:
        order: list[str] = []

        def later() -> None:
            with second.analysis_lock():
                order.append("second")

        with store.analysis_lock():
            thread = threading.Thread(target=later)
            thread.start()
            time.sleep(0.3)
            order.append("first")
        thread.join(5)
        assert order == ["first", "second"]

    def test_a_story_is_read_by_day_language_and_entity(self, filled: Store) -> None:
        assert filled.story_days("st-dam") == [("2026-03-02", "ar", 1), ("2026-03-02", "en", 1),
                                               ("2026-03-09", "fr", 1)]
        volumes = filled.story_volumes(["st-dam", "st-port", "nope"])
        assert dict(volumes) == {"st-dam": [("2026-03-02", 2), ("2026-03-09", 1)], "st-port": [("2026-02-10", 1)]}
        haddad, valletta = filled.entities_by_id(["e-haddad", "e-valletta"]).values()
        assert filled.story_entities("st-dam", 10) == [(haddad, 3)]
        assert filled.story_entities("st-port", 10) == [(valletta, 1)] and filled.story_entities("nope", 10) == []
        assert filled.story_titles(["st-dam", "nope"]) == {"st-dam": "Kessara dam dispute"}
        assert filled.event_titles(["ev-deal", "ev-port"]) == {"ev-deal": "Deal signed in Cairo",
                                                              "ev-port": "Port strike in Valletta"}

    def test_an_entity_is_read_with_its_stories_events_and_days(self, filled: Store) -> None:
        assert (filled.entity_article_count("e-haddad"), filled.entity_article_count("nope")) == (3, 0)
        assert filled.entity_stories("e-haddad", 10) == ([{
            "id": "st-dam", "title": "Kessara dam dispute", "languages": ["ar", "en", "fr"],
            "last_date": "2026-03-09", "article_count": 3}], 1)
        assert filled.entity_events("e-haddad", 10, 5000) == [  # newest first
            {"id": "ev-deal", "title": "Deal signed in Cairo", "date": "2026-03-09", "story": "st-dam",
             "languages": ["fr"], "articles_naming": 1},
            {"id": "ev-talks", "title": "Dam talks open in Geneva", "date": "2026-03-02", "story": "st-dam",
             "languages": ["ar", "en"], "articles_naming": 2}]
        assert [e["id"] for e in filled.entity_events("e-haddad", 1, 5000)] == ["ev-deal"]
        assert filled.mentions_per_day("e-haddad") == [("2026-03-02", 2), ("2026-03-09", 1)]
        assert [e.id for e in filled.entities_named("كريم الحداد", 10)] == ["e-haddad"]
        assert filled.entities_named("   ", 10) == [] and filled.cooccurring_entities("e-haddad", 10, 5000) == []

    def test_placements_and_mentions_are_read_for_many_articles_at_once(self, filled: Store) -> None:
        filled.add_articles([(_article("late", "en", "Late news", "Karim al-Haddad flew home.", "2026-03-10"), "h")])
        assert filled.placements(["dam-ar", "port-en", "late", "nope"]) == {"dam-ar": ("ev-talks", "st-dam"),
                                                                            "port-en": ("ev-port", "st-port")}
        assert filled.mentions_of_articles(["dam-en", "dam-ar"]) == [
            Mention("dam-ar", "e-haddad", 6, 16, "كريم الحداد", "PER"),
            Mention("dam-en", "e-haddad", 0, 15, "Karim al-Haddad", "PER")]
        assert filled.mentions_per_day("e-haddad") == [("2026-03-02", 2), ("2026-03-09", 1)]  # not "late"

    def test_quotes_actions_copies_and_neighbours_are_read_from_the_articles(self, store: Store) -> None:
        wire = replace(ARTICLES[0], id="dam-en-wire", source="dam-en-wire.txt", duplicate_of="dam-en")
        store.add_articles((a, f"hash-{a.id}") for a in [*ARTICLES, wire])
        said = Quote("dam-fr", "e-haddad", "Karim al-Haddad", "Nous avons un accord.", "a déclaré", True, 60, 81)
        unattributed = Quote("dam-en", None, None, "We will meet again.", "said", True, 70, 89)
        reported = Quote("dam-en", "e-haddad", "Karim al-Haddad", "the talks were useful", "said", False, 30, 51)
        signed = Action("dam-fr", "e-haddad", "Karim al-Haddad", "signed", "SIGN", None, "the accord", "2026-03-09")
        geneva = Entity("e-geneva", "Geneva", "LOC", ["Geneva", "جنيف"])
        digest = _digest()
        events = [replace(e, articles=[*e.articles, wire.id]) if e.id == "ev-talks" else e for e in digest.events]
        stories = [replace(s, articles=[*s.articles, wire.id]) if s.id == "st-dam" else s for s in digest.stories]
        store.save_results(replace(
            digest, articles=[*ARTICLES, wire], events=events, stories=stories, entities=[*digest.entities, geneva],
            mentions=[*digest.mentions, Mention("dam-en", "e-geneva", 18, 24, "Geneva", "LOC"),
                      Mention("dam-ar", "e-geneva", 16, 20, "جنيف", "LOC")],
            quotes=[said, unattributed, reported], actions=[signed]))
        # direct quotes only, attributed first
        assert store.story_quotes("st-dam", 10) == [(said, "fr"), (unattributed, "en")]
        assert store.story_quotes("st-dam", 1) == [(said, "fr")]
        assert store.speaker_quotes("e-haddad", 10) == [(said, "fr"), (reported, "en")]  # newest first
        assert store.quotes_of_articles(["dam-en", "dam-fr"]) == [reported, unattributed, said]
        assert store.actions_of_articles(["dam-fr", "port-en"]) == [signed]
        assert store.article_copies("ev-talks", "dam-en") == ["dam-en-wire"]
        assert store.article_copies("ev-talks", "dam-ar") == []
        haddad = store.entities_by_id(["e-haddad"])["e-haddad"]
        assert store.cooccurring_entities("e-haddad", 10, 5000) == [(geneva, 2)]
        assert store.cooccurring_entities("e-geneva", 10, 5000) == [(haddad, 2)]
        assert store.entities_named("جنيف", 10) == [geneva]


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = SQLiteStore(tmp_path / "s.db")
        yield store
        store.close()

    @pytest.fixture
    def second(self, tmp_path: Path, store: Store) -> Iterator[Store]:
        other = SQLiteStore(tmp_path / "s.db")
        yield other
        other.close()

    @pytest.fixture
    def reader(self, tmp_path: Path, store: Store) -> Iterator[Store]:
        other = SQLiteStore(tmp_path / "s.db", read_only=True)
        yield other
        other.close()


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[Store]:
        store = open_store(postgres_url)
        assert isinstance(store, PostgresStore)
        yield store
        for table in ("articles", "articles_fts", "rejected", "entities", "entity_names", "mentions", "quotes",
                      "actions", "events", "stories", "story_languages", "story_entities", "merges",
                      "analysis_state"):
            store.db.execute(f"DELETE FROM {table}")
        store.db.execute("DELETE FROM meta WHERE key = 'analysis'")
        store.close()

    @pytest.fixture
    def second(self, postgres_url: str, store: Store) -> Iterator[Store]:
        other = open_store(postgres_url)
        yield other
        other.close()

    @pytest.fixture
    def reader(self, postgres_url: str, store: Store) -> Iterator[Store]:
        other = open_store(postgres_url, read_only=True)
        yield other
        other.close()


def test_growth_counts_only_articles_stored_in_the_day_before_the_analysis(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.add_articles((a, "h") for a in ARTICLES)
    old = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
    store.db.execute("UPDATE articles SET added = ? WHERE id IN ('dam-en', 'dam-ar')", (old,))
    store.db.commit()
    store.save_results(_digest(), ("key", b"state"))
    assert [(row.id, row.recent) for row in store.stories(sort="growth").items] == [("st-dam", 1), ("st-port", 1)]
    store.close()


def test_a_sqlite_reader_writes_not_even_the_schema_and_names_a_store_it_cannot_read(tmp_path: Path) -> None:
    writer = SQLiteStore(tmp_path / "s.db")
    writer.db.execute("DROP INDEX articles_pending")  # as if a newer storyline had added it
    writer.db.commit()
    writer.close()
    reader = SQLiteStore(tmp_path / "s.db", read_only=True)
    assert reader.pending() == 0
    assert not reader.db.execute("SELECT name FROM sqlite_master WHERE name = 'articles_pending'").fetchall()
    reader.close()
    old = SQLiteStore(tmp_path / "s.db")
    old.db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    old.db.commit()
    old.close()
    with pytest.raises(ValueError, match=r"schema version 3, this storyline reads .*a writer .* upgrades it"):
        SQLiteStore(tmp_path / "s.db", read_only=True)
    with pytest.raises(StoreMissing):
        SQLiteStore(tmp_path / "none.db", read_only=True)
