"""Scraped plain text (and the bodies of JSON records and feed items): headline, body and byline.

Plain text that a scraper already flattened has no markup left to judge, and no open tool cleans it, so
`clean_text` is written here, as a short cascade:
1. rules: lines that recur across articles of one source (evidence kept in the store, see `evidence`),
   repeated lines (captions scraped two or three times), per-language junk patterns and link lists under a
   "most read" heading (`data/boilerplate.json`), bylines (kept as the author);
2. a learned line classifier (`linemodel`), trained on public dev pages only by bench/train_line_model.py;
3. site notices (cookie banners, copyright, "enable JavaScript") and code (CSS, script) dropped, a link-list
   tail cut, and a dateline ("MOSCOW (TASS): ") moved into metadata (site, published).

The headline is the first line that is one: junk, code and recurring lines before it are skipped, and a
text that opens with a paragraph has no headline line; its title is then made from its first sentence.
"""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import UTC, datetime

from anyascii import anyascii

from storyline.extraction.evidence import opening
from storyline.extraction.linemodel import LineModel, _line_model
from storyline.extraction.patterns import (
    _WORD,
    BULLETS,
    SHORT_LINE_WORDS,
    _is_short,
    _patterns,
    is_junk_line,
    is_notice,
    without_markup,
)
from storyline.model import Article
from storyline.normalize import normalize, sentences
from storyline.timeexpr import LANGS, dateline_date

# Lines after the headline searched for the page's date line: scrapers keep the page header (byline, date,
# share buttons) in the first few lines; a date further down is one the article reports, not its own.
HEADER_LINES = 6
# The tail of a text is a link list when at least this many short lines end it.
MIN_TAIL_LIST = 3
# A dateline is only split off when at least this many characters of sentence follow it, so that a
# heading such as "UPDATE - " is not mistaken for one.
MIN_DATELINE_REST = 20
# A first line of more words than this is a paragraph, not a headline (the longest headlines of the
# extraction and timelines sets are under 25 words; the opening paragraphs of title-less records are longer),
# and so is a first line of PROSE_HEADLINE_WORDS or more that ends with a full stop (headlines do not).
MAX_HEADLINE_WORDS = 25
PROSE_HEADLINE_WORDS = 15
# A title made from a text's first sentence keeps at most this many words (then " …"); a sentence of fewer
# than MIN_MADE_TITLE_WORDS is a dateline or a caption ("London.", "Photo: AP"), no headline.
MADE_TITLE_WORDS = 14
MIN_MADE_TITLE_WORDS = 3
# A word at least this frequent (wordfreq's Zipf scale: 1 is once per 100 million words) is a word, not two
# glued together.
KNOWN_WORD_ZIPF = 1.5

# "GENEVA (Reuters) - ", "MOSCOW, March 2 (TASS): ", "PARIS — ": an upper-case place, an optional
# date and agency in brackets, then a dash or colon. Written by hand: no library parses datelines.
_DATELINE = re.compile(
    r"^(?P<place>[A-ZÀ-ÝА-ЯЁ][A-ZÀ-ÝА-ЯЁ .'-]{1,30})(?:,\s*(?P<date>[\w .,]{1,30}?))?\s*"
    r"(?:\((?P<agency>[^)]{1,30})\))?\s*(?:[-–—:]|\|)\s+"
)
_FULL_STOP = re.compile(r"[.。]$")
# An author's name and role, a bar and the place: "Rosa Meneses (Enviada especial) | Trípoli. ".
_CREDITED_DATELINE = re.compile(
    r"^[A-ZÀ-ÞА-ЯЁ][\w'’-]+(?: [A-ZÀ-ÞА-ЯЁ][\w'’-]+){1,3} \([^()]{3,30}\) ?\| ?[^.|]{1,40}\.\s+")
# Two paragraphs a scraper joined without a break: "… Diario de Navarra.Obtén mucho más …", "…el
# país.También …" (8% of the timelines articles). A lower-case word's full stop right before a capital
# and a lower-case letter; host names are lower case, and "U.S.A" has no lower-case letters around it.
_GLUED_SENTENCE = re.compile(r"(?<=[a-zß-ÿа-яё]{2}[.!?])(?=[A-ZÀ-ÞА-ЯЁ][a-zß-ÿа-яё])")
# "Home / Світ / Америка / Headline", "Начало › Свят › Headline": a trail of two or more short crumbs.
_BREADCRUMB = re.compile(r"^(?:[^\s/›»>]+(?:\s[^\s/›»>]+){0,2}\s[/›»>]\s){2,}")
# A title this short that names the site is the site's name ("Научный форум dxdy" on dxdy.ru), no headline.
SITE_NAME_WORDS = 4
_NOT_NAMES = frozenset({"www", "com", "org", "net", "gov", "edu", "co"})
_DOMAIN = re.compile(r"\w\.[a-z]{2,4}$", re.I)  # "Aktuálně.cz", "Info.sk" closing a title
_LEADING_CLOCK = re.compile(r"^\d{1,2}:\d{2}\s+(?=\w)")  # "04:11 Mąż uniewinnionej...": a list's time stamp
_DATELINE_ONLY = re.compile(r"[^\W\d_][\w-]*\.")  # one word and a full stop: "Москва.", "Reuters."
# A photo credit after a headline's last sentence ("... covid-19. Foto: Profimedia.cz", "... Фото: УП").
_TRAILING_CREDIT = re.compile(r"[.!?]\s+(?:foto|photo|фото|snímek|zdjęcie|imagen|immagine)\s*:\s*\S.{0,40}$",
                              re.IGNORECASE)
_SITE_SUFFIX = re.compile(r"\s[|–—-]\s[^|–—-]{1,40}$")


def clean_text(content: str, boilerplate: frozenset[str] = frozenset(), title: str | None = None) -> Article:
    """Recover headline, body and byline from scraped plain text (headline on the first non-empty line), or
    the body of a record or feed item whose `title` is given (used unless it is junk or boilerplate).

    Hard rules run first (recurring lines, repeats, per-language junk, code, link lists under a heading,
    bylines), then the learned line classifier (`data/line_model.json`) judges what is left, each line in
    the context of its neighbours, and a dateline at the start of the body becomes metadata.
    """
    return clean_with_model(content, boilerplate, _line_model(), title)


def clean_with_model(content: str, boilerplate: frozenset[str], model: LineModel,
                     title: str | None = None) -> Article:
    """`clean_text` with a given line classifier (bench/train_line_model.py scores candidate models)."""
    given = " ".join(without_markup(title).split()) if title else ""
    if given and usable_headline(given, boilerplate):
        # a title field that holds a paragraph (a headline run into its lead) gives a short title
        headline, candidates, author = _candidate_lines(
            content, boilerplate, made_title(given) if is_paragraph(given) else given)
    else:  # no title, or one that is no headline (a cookie banner, a sidebar line): the body's own
        headline, candidates, author = _candidate_lines(content, boilerplate)
    if not headline and not candidates:
        return Article(id="", title="", text="")
    keep = [kept and not is_notice(line) for line, kept in zip(candidates, model.keep(candidates, headline),
                                                                 strict=True)]
    article = assemble(headline, candidates, keep, author)
    if not headline:
        article.title = made_title(article.text)
    elif not article.text.strip() and len(headline.split()) >= PROSE_HEADLINE_WORDS:
        # all headline, and a sentence of some length (a one-line record or file): the line is the text too
        article.text = headline
        article.title = made_title(headline) if len(headline.split()) > MADE_TITLE_WORDS else headline
    dated = _header_date(candidates)
    if dated is not None:
        line, when = dated
        article.published = article.published or when
        article.text = "\n\n".join(paragraph for paragraph in article.text.split("\n\n") if paragraph != line)
    return article


def usable_headline(line: str, boilerplate: Container[str] = frozenset()) -> bool:
    """True when `line` can be a headline: not junk or code, not a line recurring across the source's
    articles or opening many of its headlines, not a byline."""
    return not (is_junk_line(line) or normalize(line) in boilerplate or opening(line) in boilerplate
                or is_byline(line))


def headline(title: str, site: str = "", lang: str | None = None) -> str:
    """A given title as a headline: without a time stamp or a breadcrumb trail before it or the site's name
    after it ("... | Info.sk"), cut where its lead was run into it with no space ("...носене на
    маскиОрганизацията..."), and empty when it is the site's name or a dateline ("Москва."). Written by hand:
    scrapers and feeds glue these, and no library takes them apart."""
    title = _LEADING_CLOCK.sub("", " ".join(title.replace("\ufffd", " ").split()))  # U+FFFD: a character cut
    crumbs = _BREADCRUMB.match(title)
    if crumbs and len(title[crumbs.end():].split()) >= MIN_MADE_TITLE_WORDS:
        title = title[crumbs.end():]
    glued = _glued_at(title, lang)
    if glued is not None:
        title = title[:glued]
    credit = _TRAILING_CREDIT.search(title)
    if credit and len(title[:credit.start()].split()) >= MIN_MADE_TITLE_WORDS:
        title = title[:credit.start() + 1]  # keep the sentence's own full stop
    labels = {label for label in site.lower().split(".")[:-1] if len(label) >= 3 and label not in _NOT_NAMES}
    suffix = _SITE_SUFFIX.search(title)
    if suffix and len(title[:suffix.start()].split()) >= 2 and (
            _DOMAIN.search(suffix.group()) or labels & _name_words(suffix.group())):
        title = title[:suffix.start()]
    if _DATELINE_ONLY.fullmatch(title):
        return ""
    words = normalize(title).split()
    return "" if len(words) <= SITE_NAME_WORDS and labels & _name_words(title) else title


def _name_words(text: str) -> set[str]:
    """A text's words as written and romanised, and all of them run together, to compare with a site's
    domain labels ("Форум Портовик" names portovik.example, "Harbour News" harbournews.example)."""
    words = [word for word in normalize(text).split() if any(c.isalnum() for c in word)]
    romanised = [anyascii(word).lower() for word in words]
    return {*words, *romanised, "".join(romanised)}


def _glued_at(title: str, lang: str | None) -> int | None:
    """Where a headline's lead begins when it was run into it: a word with a capital after three lower-case
    letters and before another, with MIN_MADE_TITLE_WORDS words before it, unless the word is one (a name
    written that way: PlayStation, AstraZeneca, WhatsApp)."""
    for match in re.finditer(r"\w+", title):
        word = match.group()
        for i in range(3, len(word) - 1):
            if word[i].isupper() and word[i - 3:i].isalpha() and word[i - 3:i].islower() \
                    and word[i + 1].isalpha() and word[i + 1].islower():
                cut = match.start() + i
                if len(title[:cut].split()) >= MIN_MADE_TITLE_WORDS and not _known_word(word.lower(), lang):
                    return cut
                break
    return None


def _known_word(word: str, lang: str | None) -> bool:
    from wordfreq import zipf_frequency

    for language in {lang or "en", "en"}:
        try:
            if zipf_frequency(word, language) >= KNOWN_WORD_ZIPF:
                return True
        except LookupError:  # a language wordfreq does not have
            continue
    return False


def is_byline(line: str) -> bool:
    """True for a short author credit ("By Jane Doe | Global Wire", "Por Juan Pérez")."""
    return _is_short(line) and bool(_patterns().bylines.search(" ".join(line.split())))


def is_paragraph(line: str) -> bool:
    """True for a line that is body text, not a headline: long, or a sentence of some length. A page title's
    site name ("... | Harbour News") does not count."""
    words = len(_SITE_SUFFIX.sub("", line).split())
    return words > MAX_HEADLINE_WORDS or (words >= PROSE_HEADLINE_WORDS and bool(_FULL_STOP.search(line)))


def made_title(text: str) -> str:
    """A short headline-like title for a text without a headline: the first sentence of a paragraph that can
    be one (no junk or byline, and not a dateline or caption: MIN_MADE_TITLE_WORDS words at least, unless
    the text has no longer one), cut to MADE_TITLE_WORDS words. Empty when the text has none."""
    short = ""
    for paragraph in text.split("\n\n"):
        first = sentences(paragraph)
        if not first or is_junk_line(first[0]) or is_byline(first[0]):
            continue
        words = first[0].split()
        if len(words) < MIN_MADE_TITLE_WORDS:
            short = short or first[0]
            continue
        return " ".join(words) if len(words) <= MADE_TITLE_WORDS else " ".join(words[:MADE_TITLE_WORDS]) + " …"
    return short


def _header_date(lines: list[str]) -> tuple[str, datetime] | None:
    """A short line near the top that states the publication date ("Published 2 March 2026, 18:05 GMT",
    "2. März 2026, 17:30 Uhr", "الاثنين 2 مارس/آذار 2026"), and that date: page metadata, not body."""
    for line in lines[:HEADER_LINES]:
        if len(line.split()) <= SHORT_LINE_WORDS:
            for lang in LANGS:
                found = dateline_date(line, lang)
                if found is not None:
                    return line, datetime(found.year, found.month, found.day, tzinfo=UTC)
    return None


def assemble(title: str, candidates: list[str], keep: list[bool], author: str | None) -> Article:
    """The article from the lines the classifier kept: link-list tail cut, dateline and byline to metadata."""
    kept = [line for line, keep_it in zip(candidates, keep, strict=True) if keep_it]
    while len(kept) >= MIN_TAIL_LIST and all(_is_short(line) for line in kept[-MIN_TAIL_LIST:]):
        while kept and _is_short(kept[-1]):
            kept.pop()
    kept, author, site, published = _metadata_lines(kept, author)
    return Article(id="", title=title, text="\n\n".join(kept), author=author, site=site, published=published)


def _candidate_lines(content: str, boilerplate: frozenset[str],
                     given: str | None = None) -> tuple[str, list[str], str | None]:
    """Headline, the body lines that survive the hard rules, and an author found in a byline.

    The headline is `given` (a record's title) or else the first line that can be one (`usable_headline`);
    it is "" when the text opens with a paragraph (`is_paragraph`)."""
    patterns = _patterns()
    lines = [without_markup(part).strip() for line in content.splitlines() for part in _GLUED_SENTENCE.split(line)]
    lines = [line for line in lines if line]
    if given:
        title, body_lines = given, lines
    else:
        start = 0
        while start < len(lines) and not usable_headline(lines[start], boilerplate):
            start += 1  # junk, code or recurring lines above the headline are dropped with it
        if start == len(lines):
            return "", [], None
        paragraph = is_paragraph(lines[start])
        title, body_lines = ("", lines[start:]) if paragraph else (lines[start], lines[start + 1:])
    author: str | None = None
    kept: list[str] = []
    seen: set[str] = {normalize(title)} if title else set()
    in_list = False
    for raw in body_lines:
        line = raw.lstrip(BULLETS).strip()
        if not _WORD.search(line):
            continue  # stray punctuation: '""', ';', '|'
        key = normalize(line)
        short = _is_short(line)
        if in_list and short:
            continue
        in_list = False
        if patterns.list_headings.search(line) and short:
            in_list = True
            continue
        if key in seen or key in boilerplate or patterns.junk.search(line):
            continue
        seen.add(key)
        if short and patterns.bylines.search(line):
            author = author or _author_name(line)
            continue
        kept.append(line)
    return title, kept, author


def _author_name(line: str) -> str | None:
    """The person (or agency) named by a byline such as "By Jane Doe | Global Wire" or "Associated Press|"."""
    name = line.split("|")[0].strip()
    name = re.sub(r"^(by|von|par|por|di|автор|بقلم|كتب|كتبت)[:\s]+", "", name, flags=re.IGNORECASE).strip()
    return name or None


def _metadata_lines(
    kept: list[str], author: str | None
) -> tuple[list[str], str | None, str | None, datetime | None]:
    """Move a dateline ("MOSCOW (TASS): ...") and a leading byline off the body into metadata."""
    site: str | None = None
    published: datetime | None = None
    patterns = _patterns()
    # A byline may survive the classifier when it is not short ("By Jane Doe, Global Wire correspondent.").
    while kept and len(kept[0].split()) <= SHORT_LINE_WORDS and patterns.bylines.search(kept[0]):
        author = author or _author_name(kept.pop(0))
    if kept:
        match = _DATELINE.match(kept[0])
        if match and len(kept[0]) > match.end() + MIN_DATELINE_REST:
            site = match.group("agency")
            published = _dateline_date(match.group("date"))
            kept[0] = kept[0][match.end():]
    return kept, author, site, published


def strip_dateline(text: str) -> str:
    """`text` without a dateline that opens it ("PARIS (AFP) - ", "Rosa Meneses (Enviada especial) | Trípoli."),
    when a sentence follows."""
    match = _DATELINE.match(text) or _CREDITED_DATELINE.match(text)
    return text[match.end():] if match and len(text) > match.end() + MIN_DATELINE_REST else text


def _dateline_date(text: str | None) -> datetime | None:
    """The date a dateline carries ("March 2, 2026"), when it names a full date with a year."""
    if not text or not re.search(r"\d{4}", text):
        return None
    import dateparser  # installed with trafilatura; imported lazily because it is slow to load

    parsed: datetime | None = dateparser.parse(text, settings={"STRICT_PARSING": True})
    return parsed

