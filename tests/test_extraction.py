"""Extraction: clean body and metadata from HTML pages and from scraped plain text, in any language.

Every article text below is invented for these tests; the real seed articles are read from ../shared/seeds
at test time only (the test skips when they are absent).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyline import extract
from storyline.extraction import extract_batch
from storyline.extraction.text import made_title
from storyline.model import Article, RawDocument

# Invented articles: a headline, junk a scraper keeps, and body paragraphs that must all survive.
ARTICLES = {
    "en": {
        "title": "Harbour city opens new tram line after four years of works",
        "body": [
            "The city council opened the new tram line on Tuesday, linking the harbour district with the "
            "central railway station after four years of construction and several delays.",
            "Officials said the line would carry about forty thousand passengers a day once the timetable is "
            "fully in place, easing traffic on the coastal road during the summer months.",
            "Residents who had complained about noise during the works welcomed the opening, although some "
            "shop owners said the detours had cost them customers for most of last year.",
        ],
        "junk": ["Follow us on Facebook", "Share this article", "Comments are moderated before they appear.",
                 "Advertisement", "Read more"],
    },
    "de": {
        "title": "Hafenstadt eröffnet neue Straßenbahnlinie nach vier Jahren Bauzeit",
        "body": [
            "Der Stadtrat hat am Dienstag die neue Straßenbahnlinie eröffnet, die das Hafenviertel nach vier "
            "Jahren Bauzeit und mehreren Verzögerungen mit dem Hauptbahnhof verbindet.",
            "Nach Angaben der Verwaltung sollen täglich rund vierzigtausend Fahrgäste die Linie nutzen, sobald "
            "der Fahrplan vollständig gilt, was die Küstenstraße im Sommer entlasten soll.",
            "Anwohner, die sich während der Bauarbeiten über Lärm beklagt hatten, begrüßten die Eröffnung, "
            "auch wenn einige Ladenbesitzer von spürbaren Umsatzeinbußen im vergangenen Jahr berichteten.",
        ],
        "junk": ["Folgen Sie uns auf Twitter", "Artikel teilen", "Kommentare werden moderiert.", "Anzeige",
                 "Lesen Sie auch"],
    },
    "fr": {
        "title": "La ville portuaire inaugure une nouvelle ligne de tramway après quatre ans de travaux",
        "body": [
            "Le conseil municipal a inauguré mardi la nouvelle ligne de tramway, qui relie le quartier du port "
            "à la gare centrale après quatre années de chantier et plusieurs retards.",
            "Selon la mairie, la ligne devrait transporter environ quarante mille voyageurs par jour une fois "
            "les horaires complets en place, ce qui allégera la route côtière pendant l'été.",
            "Les riverains, qui s'étaient plaints du bruit pendant les travaux, ont salué l'ouverture, même si "
            "plusieurs commerçants affirment que les déviations leur ont fait perdre des clients.",
        ],
        "junk": ["Suivez-nous sur Instagram", "Partager", "Les commentaires sont modérés.", "Publicité",
                 "Lire aussi"],
    },
    "es": {
        "title": "La ciudad portuaria inaugura una nueva línea de tranvía tras cuatro años de obras",
        "body": [
            "El ayuntamiento inauguró el martes la nueva línea de tranvía, que une el barrio del puerto con la "
            "estación central de trenes tras cuatro años de obras y varios retrasos.",
            "Según el consistorio, la línea transportará unos cuarenta mil pasajeros al día cuando el horario "
            "esté completo, lo que aliviará el tráfico de la carretera costera en verano.",
            "Los vecinos, que se habían quejado del ruido durante las obras, celebraron la apertura, aunque "
            "algunos comerciantes aseguran que los desvíos les hicieron perder clientes.",
        ],
        "junk": ["Síguenos en Twitter", "Compartir", "Los comentarios son moderados.", "Publicidad",
                 "Lee también"],
    },
    "ru": {
        "title": "Портовый город открыл новую трамвайную линию после четырёх лет строительства",
        "body": [
            "Городской совет во вторник открыл новую трамвайную линию, которая после четырёх лет "
            "строительства и нескольких задержек связала портовый район с центральным вокзалом.",
            "По словам чиновников, линия будет перевозить около сорока тысяч пассажиров в день, когда "
            "расписание заработает полностью, и разгрузит прибрежную дорогу летом.",
            "Жители, жаловавшиеся на шум во время работ, приветствовали открытие, хотя некоторые владельцы "
            "магазинов говорят, что объезды лишили их покупателей в прошлом году.",
        ],
        "junk": ["Подписывайтесь на нас в Telegram", "Поделиться", "Комментарии модерируются.", "Реклама",
                 "Читайте также"],
    },
    "ar": {
        "title": "المدينة الساحلية تفتتح خط ترام جديدا بعد أربع سنوات من الأشغال",
        "body": [
            "افتتح المجلس البلدي يوم الثلاثاء خط الترام الجديد الذي يربط حي الميناء بمحطة القطارات المركزية "
            "بعد أربع سنوات من الأشغال وعدة تأخيرات في مواعيد التسليم.",
            "وقال مسؤولون إن الخط سينقل نحو أربعين ألف راكب يوميا عندما يكتمل جدول الرحلات، مما سيخفف "
            "الازدحام على الطريق الساحلي خلال أشهر الصيف.",
            "ورحب السكان الذين اشتكوا من الضجيج أثناء الأشغال بالافتتاح، رغم أن بعض أصحاب المحلات قالوا إن "
            "التحويلات أفقدتهم زبائن طوال العام الماضي.",
        ],
        "junk": ["تابعونا على فيسبوك", "شارك الخبر", "التعليقات تخضع للمراجعة.", "إعلان", "اقرأ أيضا"],
    },
}


def scraped(lang: str) -> str:
    """An invented scraped page: headline, junk interleaved with the body, as a flattening scraper leaves it."""
    article = ARTICLES[lang]
    junk, body = article["junk"], article["body"]
    lines = [article["title"], "", junk[0], body[0], junk[1], "", body[1], junk[2], junk[3], body[2], junk[4]]
    return "\n".join(lines)


@pytest.mark.parametrize("lang", sorted(ARTICLES))
def test_junk_lines_are_removed_and_body_kept_in_every_language(lang: str) -> None:
    article = extract(scraped(lang), kind="text")
    paragraphs = article.text.split("\n\n")
    assert article.title == ARTICLES[lang]["title"]
    assert paragraphs == ARTICLES[lang]["body"]
    for junk in ARTICLES[lang]["junk"]:
        assert junk not in article.text


def test_arabic_right_to_left_text_is_kept_intact() -> None:
    article = extract(scraped("ar"), kind="text")
    for paragraph in ARTICLES["ar"]["body"]:
        assert paragraph in article.text  # same code points, same order, nothing reversed or normalised
    assert "\u200f" not in article.text and "\u202b" not in article.text


def test_repeated_caption_is_kept_at_most_once() -> None:
    body = ARTICLES["en"]["body"]
    caption = "The mayor and the transport minister cut the ribbon at the harbour stop on Tuesday"
    text = "\n".join([ARTICLES["en"]["title"], body[0], "2 View gallery", caption, caption, caption,
                      "(Photo: City Hall)", body[1], body[2]])
    article = extract(text, kind="text")
    assert article.text.count(caption) <= 1
    assert "View gallery" not in article.text and "(Photo:" not in article.text
    assert all(paragraph in article.text for paragraph in body)


@pytest.mark.parametrize(
    ("heading", "links"),
    [
        ("Most read", ["Storm closes schools across the region", "Local team wins the cup final",
                       "New bakery opens on the main square", "Council approves the budget"]),
        ("الأكثر مشاهدة", ["افتتاح معرض الكتاب في العاصمة", "فوز الفريق المحلي بالكأس",
                            "ارتفاع أسعار الخضر في الأسواق", "وزير التعليم يزور المدارس"]),
    ],
)
def test_link_list_under_a_heading_is_removed(heading: str, links: list[str]) -> None:
    lang = "ar" if heading.startswith("ال") else "en"
    text = "\n".join([ARTICLES[lang]["title"], *ARTICLES[lang]["body"], heading, *links])
    article = extract(text, kind="text")
    assert heading not in article.text
    assert not any(link in article.text for link in links)
    assert article.text.split("\n\n") == ARTICLES[lang]["body"]


def test_dateline_with_agency_and_date_becomes_metadata() -> None:
    body = ARTICLES["en"]["body"]
    text = "\n".join([ARTICLES["en"]["title"], f"GENEVA, March 2, 2026 (Global Wire) - {body[0]}", *body[1:]])
    article = extract(text, kind="text")
    assert article.site == "Global Wire"
    assert article.published is not None and (article.published.year, article.published.month,
                                               article.published.day) == (2026, 3, 2)
    assert article.text.startswith(body[0])
    assert "GENEVA" not in article.text


def test_agency_dateline_with_colon_becomes_metadata() -> None:
    body = ARTICLES["en"]["body"]
    article = extract("\n".join([ARTICLES["en"]["title"], f"MOSCOW (TASS): {body[0]}", *body[1:]]), kind="text")
    assert article.site == "TASS"
    assert article.text.startswith(body[0])


@pytest.mark.parametrize(
    ("byline", "author"),
    [("By Jane Doe | Global Wire", "Jane Doe"), ("Associated Press|", "Associated Press")],
)
def test_byline_becomes_author_not_body(byline: str, author: str) -> None:
    body = ARTICLES["en"]["body"]
    article = extract("\n".join([ARTICLES["en"]["title"], byline, *body]), kind="text")
    assert article.author == author
    assert byline not in article.text
    assert article.text.split("\n\n") == body


def test_single_article_without_a_batch_is_cleaned() -> None:
    article = extract(scraped("de"), kind="auto")
    assert article.text.split("\n\n") == ARTICLES["de"]["body"]


def test_lines_recurring_across_articles_of_one_source_are_dropped() -> None:
    recurring = "Our weekly newsletter brings the best stories of the harbour city to your inbox every Friday."
    documents = [
        RawDocument(id=lang, source=f"{lang}.txt", kind="text", site="harbour-news",
                    content="\n".join([ARTICLES[lang]["title"], *ARTICLES[lang]["body"], recurring]))
        for lang in ("en", "de", "fr")
    ]
    results = list(extract_batch(documents))
    assert all(isinstance(result, Article) for result in results)
    for result in results:
        assert isinstance(result, Article)
        assert recurring not in result.text
        assert result.text.split("\n\n") == ARTICLES[result.id]["body"]


def test_a_standing_note_opening_many_articles_of_a_source_is_not_their_headline() -> None:
    notes = ["This post is part of our special coverage of the harbour strike in Valletta.",
             "This post is part of our special coverage of the dock protests of 2026.",
             "This post is part of our special coverage of the ferry crisis."]
    documents = [
        RawDocument(id=lang, source=f"{lang}.txt", kind="text", site="harbour-blog",
                    content="\n\n".join([note, ARTICLES[lang]["title"], *ARTICLES[lang]["body"]]))
        for note, lang in zip(notes, ("en", "de", "fr"), strict=True)
    ]
    results = [r for r in extract_batch(documents) if isinstance(r, Article)]
    assert [r.title for r in results] == [ARTICLES[lang]["title"] for lang in ("en", "de", "fr")]
    two = [r for r in extract_batch(documents[:2]) if isinstance(r, Article)]  # two are no evidence yet
    assert [r.title for r in two] == [made_title(notes[0]), made_title(notes[1])]



def test_bad_kind_raises_value_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        extract("Headline\n\nBody text.", kind="pdf")


def test_empty_content_raises_value_error() -> None:
    with pytest.raises(ValueError):
        extract("   \n  ", kind="text")


HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<title>Harbour city opens new tram line | Harbour News</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2026-03-02T10:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article>
<h1>Harbour city opens new tram line</h1>
{paragraphs}
</article>
<footer>Copyright Harbour News. All rights reserved.</footer>
</body></html>
"""


def html_page() -> str:
    return HTML_PAGE.format(paragraphs="\n".join(f"<p>{p}</p>" for p in ARTICLES["en"]["body"]))


def test_html_gives_title_date_author_and_body() -> None:
    article = extract(html_page(), kind="html")
    assert article.title.startswith("Harbour city opens new tram line")
    assert article.author == "Jane Doe"
    assert article.published is not None and article.published.date().isoformat() == "2026-03-02"
    assert article.text.split("\n\n") == ARTICLES["en"]["body"]
    assert "All rights reserved" not in article.text


def test_auto_kind_detects_html() -> None:
    assert extract(html_page()).text.split("\n\n") == ARTICLES["en"]["body"]


def test_html_falls_back_to_paragraphs_when_trafilatura_finds_too_little(monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *args, **kwargs: None)
    article = extract(html_page(), kind="html")
    assert article.title == "Harbour city opens new tram line | Harbour News"
    for paragraph in ARTICLES["en"]["body"]:
        assert paragraph in article.text


# Structural junk in scraped seeds: share/follow lines, galleries, photo credits, comment boxes, stray marks.
SEED_JUNK = re.compile(
    r"^(follow \w+ on|\d* ?view gallery$|\(photo:|comments?$|leave a comment$|the commenter agrees|\W*$)",
    re.IGNORECASE,
)
LIST_HEADING = re.compile(r"^(الأكثر|الاكثر) (قراء|مشاهد)|^most (read|viewed)", re.IGNORECASE)


def _prose(line: str) -> bool:
    """A body paragraph: a long line that ends a sentence (captions and link titles do not)."""
    return len(line.split()) >= 20 and bool(re.search(r"[.!?؟”\"]$", line))


def test_seed_articles_lose_their_junk_and_keep_every_body_paragraph(seeds: Path) -> None:
    paths = sorted(seeds.glob("*.txt"))
    documents = [RawDocument(id=p.stem, source=str(p), kind="text", content=p.read_text("utf-8")) for p in paths]
    results = {r.id: r for r in extract_batch(documents) if isinstance(r, Article)}
    assert len(results) == len(paths)
    for path in paths:
        raw = [line.strip().lstrip("•").strip() for line in path.read_text("utf-8").splitlines()]
        raw = [line for line in raw if line]
        kept = results[path.stem].text.split("\n\n")
        assert not [line for line in kept if SEED_JUNK.search(line)], path.name
        assert not [line for line in kept if LIST_HEADING.search(line)], path.name
        assert len(kept) == len(set(kept)), f"{path.name}: a line (a caption) kept more than once"
        heading = next((i for i, line in enumerate(raw) if LIST_HEADING.search(line)), len(raw))
        assert not set(raw[heading + 1:]) & set(kept), f"{path.name}: link list items kept"
        body = [line for line in raw[1:heading] if _prose(line) and not SEED_JUNK.search(line)]
        missing = [line for line in body if not any(line.endswith(k) or k in line for k in kept)]
        assert not missing, f"{path.name}: {len(missing)} body paragraphs lost"


@pytest.mark.parametrize("lang", sorted(ARTICLES))
def test_language_of_scraped_text_is_detected(lang: str) -> None:
    assert extract(scraped(lang), kind="text").lang == lang


def test_line_model_is_small_json_and_never_empties_a_page() -> None:
    import json
    from importlib import resources

    import numpy as np

    from storyline.extraction import select

    data = resources.files("storyline").joinpath("data/line_model.json").read_text("utf-8")
    assert len(data.encode("utf-8")) < 200_000
    assert {"first", "second", "threshold", "grow"} <= set(json.loads(data))
    assert select(np.array([0.01, 0.02, 0.015]), 0.5, 0.2) == [False, True, False]
    assert select(np.array([0.9, 0.3, 0.1, 0.8]), 0.5, 0.2) == [True, True, False, True]


def test_merged_patterns_match_like_one_alternation() -> None:
    """The junk, list-heading and byline tables are split into anchored (tried at the start only) and floating
    patterns for speed; every pattern must still match exactly where the plain alternation would."""

    from storyline.extraction import _patterns, _top_level_alternation, merged_patterns

    assert _top_level_alternation("^a|b") and not _top_level_alternation("^(a|b)")
    assert not _top_level_alternation(r"^[|]x") and not _top_level_alternation(r"^\|x")
    merged = merged_patterns()
    lines = [line for article in ARTICLES.values() for line in [article["title"], *article["body"], *article["junk"]]]
    lines += ["By Jane Doe | Global Wire", "Most read", "x Follow us on Twitter", "We use cookies, accept them"]
    compiled = _patterns()
    for name, flags in (("junk", re.IGNORECASE), ("list_headings", re.IGNORECASE), ("bylines", 0)):
        plain = re.compile("|".join(f"(?:{p})" for p in merged[name]), flags)
        for line in lines:
            assert getattr(compiled, name).search(line) == bool(plain.search(line)), (name, line)


@pytest.mark.parametrize(
    ("header", "day"),
    [
        ("Published 2 March 2026, 18:05 GMT", 2),
        ("2. März 2026, 17:30 Uhr", 2),
        ("Новый вестник | 9 марта 2026, 17:15", 9),
        ("الاثنين 2 مارس 2026 - 07:10 مساءً", 2),
    ],
)
def test_page_date_line_under_the_headline_becomes_the_publication_date(header: str, day: int) -> None:
    body = ("The ministers met for five hours and agreed to meet again within a month, officials said after "
            "the talks ended late in the evening.")
    article = extract(f"Ministers meet\n\n{header}\n\n{body}", kind="text")
    assert article.published is not None and (article.published.month, article.published.day) == (3, day)
    assert header not in article.text and body in article.text
