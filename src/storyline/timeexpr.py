"""Time expressions: explicit and relative dates in text, normalised against the publication date.

News dates events relative to the day of publication: "on Monday", "الاثنين", "в среду", "am Montag",
"yesterday". A weekday means the last such day on or before publication (news reports what happened;
a future "next Monday" is rarer and not handled); relative words count days from publication. Explicit
dates ("2 March 2026", "March 2, 2026", "2 марта 2026", "2. März 2026", "2 de marzo de 2026", "2 مارس 2026",
"2026-03-02") need no anchor; without a year they take the publication year.

Month and weekday names come from CLDR through babel; extra forms (Russian accusative weekdays, Levantine
Arabic months) from `data/time_words.json`. dateparser was tried for this and left out: its
`search_dates` misreads Arabic running text (OFFLINE.md) and it is slow per sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Literal

from storyline.model import Article

LANGS = ("en", "ar", "ru", "de", "fr", "es")
# An article without a publication date is dated by an explicit full date only when it appears this early
# in its text (a dateline or the lead), where it dates the article rather than something it recalls.
DATELINE_CHARS = 300
# Years accepted in explicit dates: anything else is a number, not a year.
MIN_YEAR, MAX_YEAR = 1900, 2100

# 1:1 folds, so offsets in the folded text are offsets in the original.
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي",
                       **{chr(0x0660 + i): str(i) for i in range(10)}, **{chr(0x06F0 + i): str(i) for i in range(10)}})


@dataclass(frozen=True, slots=True)
class TimeExpression:
    start: int
    end: int
    text: str
    date: date


@dataclass(frozen=True, slots=True)
class _Table:
    explicit: list[re.Pattern[str]]
    months: dict[str, int]
    relative: re.Pattern[str]
    relative_days: dict[str, int]
    weekday: re.Pattern[str]
    weekdays: dict[str, int]


def _fold(text: str) -> str:
    folded = text.lower().translate(_FOLD)
    return folded if len(folded) == len(text) else text.translate(_FOLD)  # lower() may change lengths (İ)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True))


@cache
def _table(lang: str) -> _Table:
    from babel.dates import get_day_names, get_month_names

    extra = json.loads(resources.files("storyline").joinpath("data/time_words.json").read_text("utf-8")).get(lang, {})
    months: dict[str, int] = {}
    contexts: tuple[Literal["format", "stand-alone"], ...] = ("format", "stand-alone")
    for width in ("wide", "abbreviated"):
        for context in contexts:
            for number, name in get_month_names(width, context, locale=lang).items():
                months[_fold(name.strip("."))] = number
    for number, names in extra.get("months", {}).items():
        for name in names:
            months[_fold(name)] = int(number)
    weekdays: dict[str, int] = {}
    for context in contexts:
        for index, name in get_day_names("wide", context, locale=lang).items():
            weekdays[_fold(name)] = index + 1  # babel counts from Monday = 0
    for number, names in extra.get("weekdays", {}).items():
        for name in names:
            weekdays[_fold(name)] = int(number)
    relative = {_fold(k): int(v) for k, v in extra.get("relative", {}).items()}
    # Arabic news often names a month twice, in its Egyptian and Levantine forms: "5 مارس/آذار 2026".
    month = f"(?P<month>{_alternation(months)})(?:\\s*/\\s*(?:{_alternation(months)}))?"
    day = r"(?P<day>[0-3]?\d)"
    year = r"(?P<year>\d{4})"
    explicit = [
        re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<mon>[01]\d)-(?P<day>[0-3]\d)(?!\d)"),
        re.compile(rf"(?<![\w\d]){day}(?:er|st|nd|rd|th)?\.?\s+(?:de\s+)?{month}\.?(?:,?\s+(?:de\s+|del\s+)?{year})?(?![\w])"),
        re.compile(rf"(?<![\w]){month}\.?\s+{day}(?:st|nd|rd|th)?(?:,?\s+{year})?(?![\w\d])"),
    ]
    return _Table(
        explicit=explicit,
        months=months,
        relative=re.compile(rf"(?<!\w)[وف]?(?P<relative>{_alternation(relative)})(?!\w)") if relative
        else re.compile("(?!)"),
        relative_days=relative,
        weekday=re.compile(rf"(?<!\w)(?:[وف]?(?:يوم\s+)?)?(?P<weekday>{_alternation(weekdays)})(?!\w)"),
        weekdays=weekdays,
    )


def _as_date(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def time_expressions(text: str, lang: str, published: date | datetime | None = None) -> list[TimeExpression]:
    """Dates written in `text`, in text order: explicit ones, and relative ones when `published` is known."""
    if lang not in LANGS:
        return []
    table = _table(lang)
    anchor = _as_date(published)
    folded = _fold(text)
    found: list[TimeExpression] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, when: date | None) -> None:
        if when is not None and not any(start < e and s < end for s, e in taken):
            taken.append((start, end))
            found.append(TimeExpression(start, end, text[start:end], when))

    for pattern in table.explicit:
        for match in pattern.finditer(folded):
            add(match.start(), match.end(), _explicit(match, table, anchor))
    if anchor is not None:
        for match in table.relative.finditer(folded):
            offset = table.relative_days[re.sub(r"\s+", " ", match.group("relative"))]
            add(match.start("relative"), match.end(), anchor + timedelta(days=offset))
        for match in table.weekday.finditer(folded):
            weekday = table.weekdays[match.group("weekday")]
            add(match.start("weekday"), match.end(), anchor - timedelta(days=(anchor.isoweekday() - weekday) % 7))
    return sorted(found, key=lambda t: t.start)


def _explicit(match: re.Match[str], table: _Table, anchor: date | None) -> date | None:
    groups = match.groupdict()
    month = int(groups["mon"]) if groups.get("mon") else table.months.get(re.sub(r"\s+", " ", groups["month"]))
    year = int(groups["year"]) if groups.get("year") else (anchor.year if anchor else None)
    if month is None or year is None or not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, int(groups["day"]))
    except ValueError:
        return None


def normalise(text: str, lang: str, published: date | datetime | None = None) -> date | None:
    """The date of the first time expression in `text` (a sentence, usually), or None."""
    found = time_expressions(text, lang, published)
    return found[0].date if found else None


def dateline_date(text: str, lang: str | None) -> date | None:
    """An explicit full date (day, month and year) at the start of a text, or None.

    Used to date an article that has no publication date: only a date with its year and within the first
    DATELINE_CHARS characters counts, because a date later in the text is usually one the article recalls.
    """
    if lang not in LANGS:
        return None
    for expression in time_expressions(text[:DATELINE_CHARS], lang or "en"):
        if re.search(r"\d{4}", expression.text):
            return expression.date
    return None


def date_articles(articles: list[Article]) -> list[Article]:
    """Give articles without a publication date the date of their dateline, when they have one (in place)."""
    for article in articles:
        if article.published is None:
            found = dateline_date(f"{article.title}\n{article.text}", article.lang)
            if found is not None:
                article.published = datetime(found.year, found.month, found.day, tzinfo=UTC)
    return articles
