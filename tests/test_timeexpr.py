"""Time expressions normalised against the publication date, in six languages (invented sentences)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storyline.model import Article
from storyline.timeexpr import date_articles, dateline_date, normalise, time_expressions

THURSDAY = date(2026, 3, 5)

# (language, text, expected date of its first time expression, published on Thursday 5 March 2026)
CASES = [
    ("en", "Olsen said on Monday that talks would go on.", date(2026, 3, 2)),
    ("en", "The talks ended yesterday.", date(2026, 3, 4)),
    ("en", "The talks on Thursday were useful.", date(2026, 3, 5)),
    ("en", "They met on 2 March 2026 in Oslo.", date(2026, 3, 2)),
    ("en", "They met on March 2, 2026 in Oslo.", date(2026, 3, 2)),
    ("en", "They met on 28 February in Oslo.", date(2026, 2, 28)),
    ("en", "They met on 2026-02-27.", date(2026, 2, 27)),
    ("ar", "وقال حداد الاثنين إن المحادثات مستمرة.", date(2026, 3, 2)),
    ("ar", "التقى الوزيران يوم الأربعاء في عمان.", date(2026, 3, 4)),
    ("ar", "جرت المحادثات في 2 مارس 2026.", date(2026, 3, 2)),
    ("ar", "الخميس 5 مارس/آذار 2026 - 02:45 مساءً", date(2026, 3, 5)),
    ("ar", "جرت المحادثات في ٢ آذار ٢٠٢٦.", date(2026, 3, 2)),
    ("ar", "وأمس التقى الوزيران.", date(2026, 3, 4)),
    ("ru", "Петров заявил в среду, что переговоры продолжатся.", date(2026, 3, 4)),
    ("ru", "Переговоры прошли 2 марта 2026 года.", date(2026, 3, 2)),
    ("ru", "Вчера министры встретились.", date(2026, 3, 4)),
    ("de", "Weber sagte am Montag, die Gespräche gingen weiter.", date(2026, 3, 2)),
    ("de", "Die Gespräche fanden am 2. März 2026 statt.", date(2026, 3, 2)),
    ("fr", "Dupont a déclaré lundi que les discussions continueraient.", date(2026, 3, 2)),
    ("fr", "Les discussions ont eu lieu le 2 mars 2026.", date(2026, 3, 2)),
    ("es", "Ruiz dijo el martes que las conversaciones seguirán.", date(2026, 3, 3)),
    ("es", "Las conversaciones fueron el 2 de marzo de 2026.", date(2026, 3, 2)),
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES)
def test_normalise(lang: str, text: str, expected: date) -> None:
    assert normalise(text, lang, THURSDAY) == expected


def test_relative_dates_need_a_publication_date() -> None:
    assert time_expressions("Olsen spoke on Monday.", "en") == []
    assert normalise("They met on 2 March 2026.", "en") == date(2026, 3, 2)


def test_expressions_carry_offsets() -> None:
    text = "Olsen spoke on Monday."
    [expression] = time_expressions(text, "en", THURSDAY)
    assert text[expression.start : expression.end] == expression.text == "Monday"


def test_dateline_dates_only_with_a_full_date_near_the_start() -> None:
    assert dateline_date("OSLO, 2 March 2026 - Talks began.", "en") == date(2026, 3, 2)
    assert dateline_date("Talks began on Monday.", "en") is None
    assert dateline_date("x " * 400 + "on 2 March 2026", "en") is None


def test_articles_without_a_date_get_their_dateline_date() -> None:
    undated = Article(id="a", title="Talks", text="MOSCOW, 2 марта 2026 - Переговоры.", lang="ru")
    dated = Article(id="b", title="Talks", text="2 March 2026", lang="en",
                    published=datetime(2026, 1, 1, tzinfo=UTC))
    date_articles([undated, dated])
    assert undated.published == datetime(2026, 3, 2, tzinfo=UTC)
    assert dated.published == datetime(2026, 1, 1, tzinfo=UTC)
