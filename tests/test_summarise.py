"""Summaries: titles from the central article in the reader's language, leads, timelines, segment links."""

from __future__ import annotations

from datetime import UTC, datetime

from storyline.cluster import Clustering
from storyline.export import to_json, validate
from storyline.model import Article, Digest, Event
from storyline.summarise import stories_of, summarise


def _article(article_id: str, title: str, text: str, lang: str, day: int | None) -> Article:
    when = datetime(2026, 3, day, 9, tzinfo=UTC) if day else None
    return Article(article_id, title, text, source=f"{article_id}.txt", lang=lang, published=when)


ARTICLES = [
    _article("talks-en", "Ministers open dam talks in Geneva", "The ministers met in Geneva on Monday. They spoke "
             "for five hours about the dam.", "en", 2),
    _article("talks-fr", "Les ministres ouvrent à Genève", "Les ministres se sont réunis lundi à Genève.", "fr", 2),
    _article("deal-en", "Dam deal signed in Cairo", "The two sides signed the water deal in Cairo. It takes effect "
             "in April.", "en", 9),
    _article("quake-en", "Earthquake near Izmir", "A strong earthquake struck near Izmir.", "en", None),
]
CLUSTERING = Clustering(
    event_of={"talks-en": "ev-talks", "talks-fr": "ev-talks", "deal-en": "ev-deal", "quake-en": "ev-quake"},
    story_of={"ev-talks": "st-dam", "ev-deal": "st-dam", "ev-quake": "st-quake"},
    related={"ev-quake": ["deal-en"]},
)


def test_event_title_comes_from_an_article_in_the_readers_language() -> None:
    events, _ = summarise(ARTICLES, CLUSTERING, language="fr")
    assert next(e for e in events if e.id == "ev-talks").title == "Les ministres ouvrent à Genève"
    events, _ = summarise(ARTICLES, CLUSTERING, language="en")
    talks = next(e for e in events if e.id == "ev-talks")
    assert talks.title == "Ministers open dam talks in Geneva"
    assert talks.summary.startswith("The ministers met in Geneva on Monday.")
    assert (talks.date, talks.languages) == ("2026-03-02", ["en", "fr"])


def test_story_timeline_is_ordered_by_date_and_its_title_is_its_largest_event() -> None:
    _, stories = summarise(ARTICLES, CLUSTERING)
    dam = next(s for s in stories if s.id == "st-dam")
    assert [(t.date, t.event) for t in dam.timeline] == [("2026-03-02", "ev-talks"), ("2026-03-09", "ev-deal")]
    assert dam.title == "Ministers open dam talks in Geneva"
    assert sorted(dam.articles) == ["deal-en", "talks-en", "talks-fr"]


def test_an_article_segment_on_a_second_topic_is_listed_by_that_event_without_leaving_its_own() -> None:
    events, stories = summarise(ARTICLES, CLUSTERING)
    quake = next(e for e in events if e.id == "ev-quake")
    assert (quake.articles, quake.related_articles) == (["quake-en"], ["deal-en"])
    export = to_json(Digest(articles=ARTICLES, events=events, stories=stories))
    validate(export)
    assert next(a for a in export["articles"] if a["id"] == "deal-en")["event"] == "ev-deal"


def test_a_section_label_is_skipped_and_a_standfirst_does_not_run_into_the_next_sentence() -> None:
    article = _article("dam-en", "Dam talks", "World\n\nMinisters meet in Geneva over the Kessara dam\n\nThe "
                       "ministers met on Monday. They spoke for five hours.", "en", 2)
    events, _ = summarise([article], Clustering({"dam-en": "ev-dam"}, {"ev-dam": "st-dam"}, {}))
    assert events[0].summary == "Ministers meet in Geneva over the Kessara dam. The ministers met on Monday."


def test_story_summary_is_the_first_sentence_of_each_main_event_in_date_order() -> None:
    _, stories = summarise(ARTICLES, CLUSTERING)
    dam = next(s for s in stories if s.id == "st-dam")
    assert dam.summary == "The ministers met in Geneva on Monday. The two sides signed the water deal in Cairo."


def test_a_lead_skips_a_caption_in_another_language_and_a_notice_in_capitals() -> None:
    from storyline.summarise import lead_text

    article = Article(id="s1", title="Protestas en Damasco", lang="es", text=(
        "NO MARKETING NO ADVERTISING CAMPAIGNS DISTRIBUTED AS A SERVICE TO CLIENTS BY THE AGENCY.\n\n"
        "Thousands of people rally in the capital to show their support for the president on Tuesday.\n\n"
        "Miles de personas se manifestaron el martes en Damasco para pedir reformas al gobierno sirio. "
        "La policía dispersó a los manifestantes con gases lacrimógenos cerca de la mezquita."))
    lead = lead_text(article)
    assert lead.startswith("Miles de personas se manifestaron") and "rally" not in lead and "MARKETING" not in lead


def test_a_story_is_titled_by_an_event_its_other_events_share_a_subject_with_not_a_larger_stray_one() -> None:

    def event(eid: str, title: str, size: int) -> Event:
        return Event(eid, "st", title, f"{title}.", "2026-03-0" + eid[-1], ["en"], [f"{eid}-{i}" for i in range(size)])

    stray = event("e1", "Parliament of Norland approves the fishing quotas", 6)
    harbour = [event("e2", "Harbour strike closes Marsaxlokk terminal", 4),
               event("e3", "Marsaxlokk harbour strike enters second week", 3),
               event("e4", "Dockers end Marsaxlokk harbour strike after talks", 2)]
    story = stories_of([stray, *harbour], "en")[0]
    assert story.title == "Harbour strike closes Marsaxlokk terminal"
    alone = stories_of([stray, event("e5", "Weather turns cold in Norland", 2)], "en")[0]
    assert alone.title == stray.title  # nothing shared: the largest event still titles it


def test_a_byline_sentence_opening_the_text_is_no_part_of_the_summary() -> None:
    from storyline.summarise import lead_text

    credited = Article(id="c", title="Port", lang="fr", text="Par Jean Dupuis, ancien capitaine du port de Marseille. "
                       "Les dockers ont voté la grève lundi. Le trafic est arrêté.")
    assert lead_text(credited) == "Les dockers ont voté la grève lundi. Le trafic est arrêté."
    dated = Article(id="d", title="Port", lang="en", text="By the end of March, the dockers had voted to strike. "
                    "Traffic stopped.")
    assert lead_text(dated).startswith("By the end of March")
