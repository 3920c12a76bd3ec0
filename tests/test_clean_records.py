"""Records, feed items and pages are cleaned whatever their kind (issue 13): lines recurring across one source's
articles are boilerplate, with the evidence kept in the store across ingests; a headline shared by many
articles of a source is not theirs; titles and summaries are never CSS, script or cookie text."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyline.cluster import Clustering
from storyline.extraction import extract_batch, source_key
from storyline.extraction.text import MADE_TITLE_WORDS
from storyline.ingest.records import read_jsonl
from storyline.model import Article, RawDocument
from storyline.store import PostgresStore, SQLiteStore, Store, open_store
from storyline.summarise import summarise

SITE = "harbour-gazette"
# A cookie banner that no pattern knows (it never says "cookie"): only the evidence can find it.
CRUMBS = "Harbour Gazette keeps small crumbs on your device to remember your reading choices"
SIDEBAR = "Council approves the new budget for the northern quays"
BODIES = [
    ("Ferry timetable changes from Monday",
     ["The harbour authority published a new ferry timetable on Friday, with earlier sailings to the islands.",
      "Ferries return to the north pier",
      "Captains said the change follows two years of complaints from commuters about crowded morning boats."]),
    ("Fishing fleet stays in port as storm nears",
     ["Most of the fishing fleet stayed in port on Tuesday as forecasters warned of gusts above ninety kilometres.",
      "Skippers said they expected to lose three days of work before the weather clears at the weekend."]),
    ("Old lighthouse reopens to visitors",
     ["The old lighthouse on the eastern breakwater reopened to visitors after a restoration that took a year.",
      "Volunteers repainted the lantern room and rebuilt the spiral stairs with timber from the old jetty."]),
    ("Dock workers vote on a new contract",
     ["Dock workers began voting on Wednesday on a contract that would raise night-shift pay by a tenth.",
      "Union officials expect the result to be announced on Friday evening at the port hall."]),
]


def _record(number: int, *extra: str, title: str | None = None, site: str = SITE, first: list[str] | None = None,
            doc_id: str | None = None) -> RawDocument:
    headline, body = BODIES[number]
    lines = [*(first or []), *body, *extra]
    return RawDocument(id=doc_id or f"gazette-{number}", source=f"gazette.jsonl:{number}", kind="record",
                       content="\n".join(lines), title=headline if title is None else title or None, site=site)


def _ingest_one(doc: RawDocument, store: Store) -> Article:
    """One batch of one through extraction with the store's line evidence, then stored (as the pipeline does)."""
    [article] = list(extract_batch([doc], store))
    assert isinstance(article, Article)
    store.add_articles([(article, f"hash-{article.id}")])
    return article


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = SQLiteStore(tmp_path / "s.db")
    yield opened
    opened.close()


def test_a_banner_shared_by_records_of_one_source_is_dropped_across_separate_ingests(store: Store) -> None:
    first = _ingest_one(_record(0, CRUMBS), store)
    assert CRUMBS in first.text  # one article is no evidence yet
    for number in (1, 2, 3):
        article = _ingest_one(_record(number, CRUMBS), store)
        assert CRUMBS not in article.text, number
        assert article.text.split("\n\n") == BODIES[number][1]


def test_the_evidence_is_kept_per_source(store: Store) -> None:
    _ingest_one(_record(0, CRUMBS), store)
    other = _ingest_one(_record(1, CRUMBS, site="lagoon-daily"), store)
    assert CRUMBS in other.text  # another site's one article says nothing about this one
    assert CRUMBS not in _ingest_one(_record(2, CRUMBS), store).text


def test_the_counts_are_stored_by_hash_and_grow_with_each_article(store: Store) -> None:
    from storyline.extraction.evidence import line_key
    from storyline.normalize import normalize

    key = line_key(normalize(CRUMBS))
    assert store.line_counts(SITE, [key]) == {}
    for number in range(3):
        _ingest_one(_record(number, CRUMBS), store)
        assert store.line_counts(SITE, [key]) == {key: number + 1}


def test_a_line_repeated_only_in_copies_of_one_article_is_kept(store: Store) -> None:
    subheading = BODIES[0][1][1]
    _ingest_one(_record(0), store)
    copy = _ingest_one(_record(0, doc_id="gazette-0-syndicated"), store)  # the same story under another id
    update = _ingest_one(_record(0, "Updated at noon with the new Sunday sailings.", doc_id="gazette-0-v2"), store)
    for article in (copy, update, _ingest_one(_record(1), store)):
        assert subheading in _ingest_one(_record(0, doc_id=f"again-{article.id}"), store).text
    in_one_batch = [_record(0, doc_id="a"), _record(0, doc_id="b"), _record(1, doc_id="c")]
    results = [r for r in extract_batch(in_one_batch) if isinstance(r, Article)]
    assert all(subheading in r.text for r in results if r.id in {"a", "b"})


def test_a_sidebar_headline_shared_by_many_articles_is_not_their_title(store: Store) -> None:
    articles = [_ingest_one(_record(n, first=[SIDEBAR, BODIES[n][0]], title=""), store) for n in range(4)]
    for article in articles[1:]:
        headline = BODIES[int(article.id.split("-")[1])][0]
        assert article.title == headline
        assert SIDEBAR not in article.text
    given = _ingest_one(_record(0, title=SIDEBAR, doc_id="given"), store)  # a record whose own title is that line
    assert given.title != SIDEBAR and given.title
    assert given.text.split("\n\n")[0] == BODIES[0][1][0]


def test_an_event_is_not_titled_with_a_headline_its_source_gives_many_articles() -> None:
    articles = [Article(f"a{n}", SIDEBAR, "\n\n".join(BODIES[n][1]), site=SITE, lang="en") for n in range(3)]
    clustering = Clustering({a.id: "ev" for a in articles}, {"ev": "st"}, {})
    [event], [story] = summarise(articles, clustering)
    assert event.title != SIDEBAR and story.title != SIDEBAR
    assert event.title and len(event.title.split()) <= MADE_TITLE_WORDS + 1


JUNK = [
    ".alogo{display: block;text-indent: -1000px;width: 330px;height: 80px;}",
    "document.addEventListener('consent-ready', loadWidgets, false);",
    "var pageTracker = window.trackers || [];",
    "function loadWidgets() {",
    "Usamos cookies para mejorar tu experiencia de navegación y mostrarte publicidad.",
    "Ce site utilise des cookies pour améliorer votre expérience de navigation.",
    "Questo sito utilizza cookie tecnici e di profilazione: continuando la navigazione accetti.",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Please enable JavaScript to read this page.",
    "© 2026 Harbour Gazette Media. All rights reserved.",
    # A sentence a site glued to its serialized data (a timelines event summary).
    'Le ultime notizie dal porto e dalla politica locale. a:2:{s:5:"pages";a:5:{i:1;s:0:"";i:2;s:30:"Porto',
]


@pytest.mark.parametrize("junk", JUNK)
def test_css_script_and_cookie_text_is_never_a_title_or_a_summary(junk: str) -> None:
    docs = [_record(0, title=junk, doc_id="given"),  # a record whose title field holds it
            _record(1, title="", first=[junk, junk], doc_id="opens"),  # a title-less record opening with it
            RawDocument(id="page", source="page.txt", kind="text", content="\n".join([junk, *BODIES[2][1][:1]]))]
    articles = [r for r in extract_batch(docs) if isinstance(r, Article)]
    assert len(articles) == 3
    for article in articles:
        assert article.title and article.title != junk
        assert junk not in article.text
    clustering = Clustering({a.id: f"ev-{a.id}" for a in articles}, {f"ev-{a.id}": "st" for a in articles}, {})
    events, stories = summarise(articles, clustering)
    for item in [*events, *stories]:
        assert junk not in item.title and junk not in item.summary


def test_a_summary_skips_a_leading_byline_dateline_and_a_quoted_line_in_another_script() -> None:
    text = "\n\n".join(["By Jane Doe | Harbour Gazette",
                        "VALLETTA (Harbour Wire) - The harbour authority published a new ferry timetable on Friday.",
                        "«Нам нужны ранние паромы», — написал один из пассажиров в соцсетях.",
                        "Captains said the change follows two years of complaints."])
    article = Article("a", "Ferry timetable changes", text, lang="en")
    [event], _ = summarise([article], Clustering({"a": "ev"}, {"ev": "st"}, {}))
    assert event.summary == ("The harbour authority published a new ferry timetable on Friday. "
                             "Captains said the change follows two years of complaints.")
    credited = Article("c", "Huelga en el puerto", "Ana Ruiz (Enviada especial) | La Valeta. Los estibadores votaron "
                       "la huelga el lunes. El tráfico está parado.", lang="es")
    [event], _ = summarise([credited], Clustering({"c": "ev"}, {"ev": "st"}, {}))
    assert event.summary == "Los estibadores votaron la huelga el lunes. El tráfico está parado."


def test_a_story_title_and_summary_are_in_one_language() -> None:
    english = [Article(f"en{n}", BODIES[n][0], "\n\n".join(BODIES[n][1]), lang="en") for n in range(2)]
    spanish = Article("es0", "Cambia el horario de los ferris", "La autoridad portuaria publicó el viernes un nuevo "
                      "horario de ferris con salidas más tempranas hacia las islas.", lang="es")
    articles = [*english, spanish]
    clustering = Clustering({"en0": "ev0", "en1": "ev1", "es0": "ev2"}, {"ev0": "st", "ev1": "st", "ev2": "st"}, {})
    _, [story] = summarise(articles, clustering, language="es")
    assert story.summary.startswith("La autoridad portuaria") and story.title == "Cambia el horario de los ferris"
    assert "harbour" not in story.summary
    _, [story] = summarise(articles, clustering, language="fr")  # not in the reader's: the main language
    assert "portuaria" not in story.summary and "harbour authority" in story.summary
    assert story.title in {BODIES[0][0], BODIES[1][0]}


def test_a_titleless_record_opening_with_a_paragraph_gets_a_short_title_and_keeps_its_text() -> None:
    opening = ("The harbour authority published a new ferry timetable on Friday, with earlier sailings to the "
               "islands, later returns on weekdays and a second boat on Sunday mornings for the summer months.")
    rest = BODIES[0][1][2]
    doc = RawDocument(id="p", source="p.jsonl:1", kind="record", content=f"{opening}\n{rest}", site=SITE)
    [article] = list(extract_batch([doc]))
    assert isinstance(article, Article)
    assert article.text.split("\n\n") == [opening, rest]
    assert 0 < len(article.title.split()) <= MADE_TITLE_WORDS + 1
    assert opening.startswith(article.title.removesuffix(" …"))
    short = RawDocument(id="s", source="s.jsonl:1", kind="record", content=f"Ferry timetable changes\n{opening}")
    [article] = list(extract_batch([short]))
    assert isinstance(article, Article)
    assert (article.title, article.text) == ("Ferry timetable changes", opening)


def test_a_record_without_a_source_is_of_its_urls_site(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"r{n}", "url": url, "text": "Body text of the record."})
             for n, url in enumerate(["https://www.harbour.example/a", "https://lagoon.example:8080/b", None])]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    docs = [d for d in read_jsonl(path, enumerate(lines, 1), "dump") if isinstance(d, RawDocument)]
    assert [d.site for d in docs] == ["harbour.example", "lagoon.example", "dump"]
    assert source_key(RawDocument(id="x", source="x", kind="html", content="", url="https://www.a.example/x")) \
        == "a.example"


def test_the_postgres_store_keeps_line_counts_too(postgres_url: str) -> None:
    store = open_store(postgres_url)
    assert isinstance(store, PostgresStore)
    site = f"site-{uuid.uuid4().hex}"
    try:
        store.add_line_counts(site, {"k1": 1, "k2": 2})
        store.add_line_counts(site, {"k1": 1})
        assert store.line_counts(site, ["k1", "k2", "k3"]) == {"k1": 2, "k2": 2}
    finally:
        store.close()


def test_a_title_field_holding_a_paragraph_gives_a_short_title() -> None:
    glued = ("Ferry timetable changes from MondayThe harbour authority published a new ferry timetable on Friday, "
             "with earlier sailings to the islands and later returns on weekdays for the summer months.")
    [article] = list(extract_batch([_record(1, title=glued)]))
    assert isinstance(article, Article)
    assert 0 < len(article.title.split()) <= MADE_TITLE_WORDS + 1 and glued.startswith(article.title[:20])
    assert article.text.split("\n\n") == BODIES[1][1]


def test_an_article_updated_in_place_keeps_its_headline(tmp_path: Path) -> None:
    from storyline import pipeline

    def write(body: str) -> Path:
        path = tmp_path / "gazette.jsonl"
        path.write_text(json.dumps({"id": "ferry", "source": SITE, "title": BODIES[0][0], "text": body}) + "\n",
                        encoding="utf-8")
        return path

    store = SQLiteStore(tmp_path / "s.db")
    pipeline.ingest([write("\n".join(BODIES[0][1]))], store)
    pipeline.ingest([write("\n".join([*BODIES[0][1], "The first sailing now leaves at six."]))], store)
    [article] = store.pending_articles()  # the update: its headline was counted once, not twice
    assert article.title == BODIES[0][0] and article.text.endswith("leaves at six.")
    store.close()


def test_a_made_title_is_no_dateline_or_byline_but_the_first_real_sentence() -> None:
    # A record whose given headline recurs across its source gets a title made from its text; a place alone
    # ("Лондон.") or an author credit ("Автор: ...") opening the text is no headline.
    from storyline.extraction.text import made_title

    body = "Британският премиер заяви, че ще има нов референдум за излизането от ЕС."
    assert made_title(f"Лондон.\n\n{body}") == body
    assert made_title(f"Автор: Иван Петров\n\n{body}") == body
    assert made_title("Ceasefire holds.") == "Ceasefire holds."  # nothing longer: the short sentence it is


@pytest.mark.parametrize("line", [
    "время публикации: 02 ноября 2018 г., 12:22 | последнее обновление: 02 ноября 2018 г.",
    "2 часа ago 06.01.2021", "Публикувана: 5 ноември, 2020 12:53.", "-15 cms - Hora: 04:26:00"])
def test_a_timestamp_line_is_no_title_and_no_summary_lead(line: str) -> None:
    # Seen as story and event titles on BSNLP articles: a page's publication stamp, in any language.
    from storyline.extraction import is_junk_line, usable_headline

    assert is_junk_line(line) and not usable_headline(line)
    assert not is_junk_line("Biden wins the 2020 election after four days of counting")
    assert not is_junk_line("Ministers meet at 10:30 in Geneva")


@pytest.mark.parametrize(("given", "site", "expected"), [
    ("Начало / Свят / Америка / Сенатът одобри новия бюджет след дълги преговори", "",
     "Сенатът одобри новия бюджет след дълги преговори"),  # a breadcrumb trail
    ("Пристанището спира работа заради стачкаРаботниците искат по-високи заплати …", "",
     "Пристанището спира работа заради стачка"),  # the lead run into the headline, no space
    ("Harbour fees rise for ferries and PlayStation shipments", "", None),  # a name written so stays whole
    ("Пристанището спира работа заради стачка. Фото: БТА", "", "Пристанището спира работа заради стачка."),
    ("Форум Портовик", "portovik.example", ""),  # the site's name: a title made from the text
])
def test_a_given_title_loses_its_breadcrumbs_and_glued_lead_and_is_never_the_site_name(
        given: str, site: str, expected: str | None) -> None:
    [article] = list(extract_batch([_record(1, title=given, site=site or None)]))
    assert isinstance(article, Article)
    if expected == "":
        assert article.title != given and article.title.split()[0] == BODIES[1][1][0].split()[0]
    else:
        assert article.title == (given if expected is None else expected)


def test_a_short_line_with_a_clock_time_is_no_title() -> None:
    from storyline.extraction import is_junk_line

    assert is_junk_line("Смотреть видео 01:56") and is_junk_line("Updated 14:05")
    assert not is_junk_line("Polls close at 20:00 across the country as counting begins")


@pytest.mark.parametrize(("given", "site", "expected"), [
    ("Sněmovna schválila rozpočet na příští rok - Aktuálně.cz", "", "Sněmovna schválila rozpočet na příští rok"),
    ("04:11 Sněmovna schválila rozpočet", "", "Sněmovna schválila rozpočet"),  # a list's time stamp
    ("Talks resume in Geneva | Harbour News", "harbournews.example", "Talks resume in Geneva"),
    ("Talks resume in Geneva | Harbour News", "", "Talks resume in Geneva | Harbour News"),  # whose name?
])
def test_a_site_name_after_a_title_is_no_part_of_it(given: str, site: str, expected: str) -> None:
    from storyline.extraction.text import headline

    assert headline(given, site) == expected


def test_a_dateline_given_as_a_title_is_no_headline() -> None:
    [article] = list(extract_batch([_record(1, title="Москва.")]))
    assert isinstance(article, Article) and article.title.split()[0] == BODIES[1][1][0].split()[0]


@pytest.mark.parametrize("line", ["¿Desea activar las notificaciones en el escritorio?",
                                  "Voulez-vous activer les notifications ?", "Enable desktop notifications",
                                  "Вы используете устаревшую версию браузера. Для оптимальной работы с MSN"])
def test_a_browser_prompt_is_junk_but_a_sentence_about_notifications_is_not(line: str) -> None:
    # Seen as a timelines story's summary and a BSNLP story's title (a site's browser prompts).
    from storyline.extraction import is_junk_line

    assert is_junk_line(line)
    assert not is_junk_line("El gobierno decidió activar las notificaciones de alerta sísmica en todo el país.")


@pytest.mark.parametrize("line", [
    "Per offrirle un servizio migliore raccogliamo informazioni di natura tecnica sulla sua navigazione.",
    "Legga l'informativa sull'utilizzo dei dati personali prima di proseguire.",
    "BBC News Navigation", "Skip to main content"])
def test_a_privacy_notice_or_navigation_label_is_no_title(line: str) -> None:
    # Seen as story titles on the timelines .txt files: an Italian site's data notice, a menu's label.
    from storyline.extraction import is_junk_line, usable_headline

    assert is_junk_line(line) and not usable_headline(line)
    assert not is_junk_line("Il governo raccoglie le firme per il referendum sulla navigazione fluviale")


def test_paragraphs_glued_by_a_scraper_are_split_and_an_account_notice_is_no_title() -> None:
    # Seen on the timelines records: "... servicios gratuitos de <paper>.Obtén mucho más, suscríbete ahora."
    # above the headline, which titled two events.
    from storyline.extraction import extract_document

    content = ("Como desbloquear las notificaciones del navegador.\n"
               "Cuenta de acceso a los servicios gratuitos de Gaceta del Puerto.Obtén mucho más, suscríbete ahora.\n"
               "El puerto reabre el muelle norte tras la tormenta\n"
               "Las autoridades portuarias reabrieron ayer el muelle norte.Los ferris volverán a atracar el lunes.\n"
               "El alcalde visitó las obras con los técnicos de la U.S.A. Marine Company.")
    article = extract_document(RawDocument(id="g", source="g.json", kind="record", content=content, lang="es"))
    assert article.title == "El puerto reabre el muelle norte tras la tormenta"
    assert "suscríbete" not in article.text and "Cuenta de acceso" not in article.text
    assert "muelle norte.\n\nLos ferris volverán" in article.text
    assert "U.S.A. Marine Company" in article.text
