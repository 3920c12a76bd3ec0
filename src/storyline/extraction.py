"""Stage 2, extract: main text and metadata from HTML pages and from scraped plain text.

HTML goes through trafilatura (the best open extractor) with its metadata, a repeated headline is taken off
the body, and when trafilatura finds too little the page's paragraphs are cleaned like scraped text.

Plain text that a scraper already flattened has no markup left to judge, and no open tool cleans it, so
`clean_text` is written here, as a short cascade:
1. rules: lines that recur across articles of one source (evidence from the whole batch, see
   `recurring_lines`), repeated lines (captions scraped two or three times), per-language junk patterns and
   link lists under a "most read" heading (`data/boilerplate.json`), bylines (kept as the author);
2. a learned line classifier (`data/line_model.json`, boosted trees in two stages: the line, then the line
   among its neighbours), trained on public dev pages only by bench/train_line_model.py;
3. a link-list tail cut, and a dateline ("MOSCOW (TASS): ") moved into metadata (site, published).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from storyline.ingest.decoding import parse_date
from storyline.model import Article, RawDocument, Rejected
from storyline.normalize import normalize
from storyline.timeexpr import LANGS, dateline_date

# trafilatura output shorter than this (characters) is treated as a miss and the fallback is tried. At 200
# the fallback replaced right short outputs on extraction-multilingual (F1 0.9255 -> 0.9245); at 100 it
# changes nothing there or on extraction/dev, where trafilatura always finds more.
MIN_HTML_TEXT = 100
# The longest headline kept as a title (the longest real headlines in the benchmark sets are under 250).
MAX_TITLE_CHARS = 300
# Lines after the headline searched for the page's date line: scrapers keep the page header (byline, date,
# share buttons) in the first few lines; a date further down is one the article reports, not its own.
HEADER_LINES = 6
# A line of at most this many words without sentence-final punctuation is "short": a link, a caption,
# a button. Runs of short lines under a list heading or at the very end are link lists.
SHORT_LINE_WORDS = 12
# The tail of a text is a link list when at least this many short lines end it.
MIN_TAIL_LIST = 3
# A line recurring in this many articles of one source (that are not copies of each other) is boilerplate.
MIN_RECURRENCE = 2
# Two articles sharing more than this share of their lines are copies; their common lines are content.
COPY_LINE_SHARE = 0.5
# A dateline is only split off when at least this many characters of sentence follow it, so that a
# heading such as "UPDATE - " is not mistaken for one.
MIN_DATELINE_REST = 20

# Bullets and dashes a scraper leaves in front of menu and share lines.
BULLETS = "•·*▪►-–— "
_SENTENCE_END = re.compile(r"[.!?؟。…:\"”»“]$")
_HTML_HINT = re.compile(r"<(?:html|body|p|div|article|br|head|span|a)\b", re.IGNORECASE)
# "GENEVA (Reuters) - ", "MOSCOW, March 2 (TASS): ", "PARIS — ": an upper-case place, an optional
# date and agency in brackets, then a dash or colon. Written by hand: no library parses datelines.
_DATELINE = re.compile(
    r"^(?P<place>[A-ZÀ-ÝА-ЯЁ][A-ZÀ-ÝА-ЯЁ .'-]{1,30})(?:,\s*(?P<date>[\w .,]{1,30}?))?\s*"
    r"(?:\((?P<agency>[^)]{1,30})\))?\s*(?:[-–—:]|\|)\s+"
)
_WORD = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class _AnyOf:
    """Patterns merged into two regexes: those anchored at the line start are only tried there (`match`), the
    rest are searched. One alternation of all of them, searched, tried every anchored branch at every position
    of the line and took about a third of the time of `clean_text`."""

    anchored: re.Pattern[str] | None
    floating: re.Pattern[str] | None

    @classmethod
    def compile(cls, patterns: list[str], flags: int) -> _AnyOf:
        def merged(group: list[str]) -> re.Pattern[str] | None:
            return re.compile("|".join(f"(?:{p})" for p in group), flags) if group else None

        # A pattern counts as anchored only when it starts with "^" and has no top-level "|" (checked for the
        # table's patterns by tests/test_extraction.py).
        anchored = [p for p in patterns if p.startswith("^") and not _top_level_alternation(p)]
        return cls(merged(anchored), merged([p for p in patterns if p not in anchored]))

    def search(self, line: str) -> bool:
        return bool((self.anchored is not None and self.anchored.match(line))
                    or (self.floating is not None and self.floating.search(line)))


def _top_level_alternation(pattern: str) -> bool:
    """True when `pattern` has a "|" outside every group and character class."""
    depth, escaped, in_class = 0, False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Patterns:
    junk: _AnyOf
    list_headings: _AnyOf
    bylines: _AnyOf


def merged_patterns() -> dict[str, list[str]]:
    """Every language's boilerplate regexes per group, merged: a scraped page's language is not known
    before it is cleaned."""
    table = json.loads(resources.files("storyline").joinpath("data/boilerplate.json").read_text("utf-8"))
    merged: dict[str, list[str]] = defaultdict(list)
    for lang, groups in table.items():
        if not lang.startswith("_"):
            for name, patterns in groups.items():
                merged[name].extend(patterns)
    return merged


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    """The merged patterns, compiled once."""
    merged = merged_patterns()

    def compile_all(name: str, flags: int = re.IGNORECASE) -> _AnyOf:
        return _AnyOf.compile(merged[name], flags)

    return _Patterns(compile_all("junk"), compile_all("list_headings"), compile_all("bylines", 0))


def extract(content: str, kind: str = "auto", url: str | None = None) -> Article:
    """Extract one article: `title` is the headline, `text` the clean body without it.

    `kind` is "html", "text" (scraped plain text, headline on the first non-empty line) or "auto".
    Raises ValueError when no article text can be found. `lang` is the page's declared language or, when
    it declares none, the language detected in the clean text (the pipeline detects it in its own stage).
    """
    article = _extract(content, kind, url, frozenset())
    if not article.lang:
        from storyline.language import detect_language

        article.lang = detect_language(f"{article.title}\n{article.text}")
    return article


def _extract(content: str, kind: str, url: str | None, boilerplate: frozenset[str]) -> Article:
    if kind not in {"html", "text", "auto"}:
        raise ValueError(f"unknown kind {kind!r}: expected 'html', 'text' or 'auto'")
    if kind == "auto":
        kind = "html" if _HTML_HINT.search(content[:5000]) else "text"
    article = _extract_html(content, url) if kind == "html" else clean_text(content, boilerplate)
    if not article.text.strip() and not article.title.strip():
        raise ValueError("no article text found")
    article.url = article.url or url
    return article


def extract_batch(documents: Iterable[RawDocument]) -> Iterator[Article | Rejected]:
    """Extract every document, using lines that recur across articles of one source as evidence."""
    documents = list(documents)
    boilerplate = recurring_lines(
        (doc.site or "", doc.content) for doc in documents if doc.kind == "text"
    )
    for doc in documents:
        try:
            yield extract_document(doc, boilerplate.get(doc.site or "", frozenset()))
        except ValueError as error:
            yield Rejected(doc.source, str(error))
        except Exception as error:  # one odd page (a nesting bomb, a parser bug) never stops the batch
            yield Rejected(doc.source, f"extraction failed: {type(error).__name__}: {' '.join(str(error).split())}")


def extract_document(doc: RawDocument, boilerplate: frozenset[str] = frozenset()) -> Article:
    """Extract a raw document, keeping the metadata its record or feed item already carried."""
    if doc.kind == "record":
        body = clean_text(f"{doc.title}\n\n{doc.content}" if doc.title else doc.content, boilerplate)
    else:
        body = _extract(doc.content, doc.kind, doc.url, boilerplate)
    title, text = cap_title(doc.title or body.title, body.text)
    return Article(
        id=doc.id,
        title=title,
        text=text,
        source=doc.source,
        url=doc.url or body.url,
        published=doc.published or body.published,
        lang=doc.lang or body.lang,
        author=body.author,
        site=body.site or doc.site,
        origin=doc.origin,
    )


def cap_title(title: str, text: str) -> tuple[str, str]:
    """A title is at most a headline: one past MAX_TITLE_CHARS is cut at a word boundary and the rest opens
    the body, so nothing is lost (a one-line file of megabytes is all "headline")."""
    title = " ".join(title.split())
    if len(title) <= MAX_TITLE_CHARS:
        return title, text
    cut = title.rfind(" ", 0, MAX_TITLE_CHARS + 1)
    cut = cut if cut > MAX_TITLE_CHARS // 2 else MAX_TITLE_CHARS
    head, rest = title[:cut].rstrip(), title[cut:].strip()
    return head, f"{rest}\n\n{text}" if text else rest


def recurring_lines(documents: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Per source, the normalised lines found in several of its articles that are not copies of each other."""
    lines_by_source: dict[str, list[set[str]]] = defaultdict(list)
    for source, text in documents:
        lines_by_source[source].append({normalize(line.strip()) for line in text.splitlines() if line.strip()})
    result: dict[str, frozenset[str]] = {}
    for source, docs in lines_by_source.items():
        seen_in: dict[str, list[int]] = defaultdict(list)
        for index, lines in enumerate(docs):
            for line in lines:
                seen_in[line].append(index)
        recurring = set()
        for line, where in seen_in.items():
            if len(where) >= MIN_RECURRENCE and _independent(docs, where):
                recurring.add(line)
        result[source] = frozenset(recurring)
    return result


def _independent(docs: list[set[str]], where: list[int]) -> bool:
    """True when at least two of the articles in `where` are not copies of each other."""
    first = docs[where[0]]
    for other in where[1:]:
        shared = len(first & docs[other]) / max(1, min(len(first), len(docs[other])))
        if shared <= COPY_LINE_SHARE:
            return True
    return False


def clean_text(content: str, boilerplate: frozenset[str] = frozenset()) -> Article:
    """Recover headline, body and byline from scraped plain text (headline on the first non-empty line).

    Hard rules run first (batch-recurring lines, repeats, per-language junk, link lists under a heading,
    bylines), then the learned line classifier (`data/line_model.json`) judges what is left, each line in
    the context of its neighbours, and a dateline at the start of the body becomes metadata.
    """
    return clean_with_model(content, boilerplate, _line_model())


def clean_with_model(content: str, boilerplate: frozenset[str], model: LineModel) -> Article:
    """`clean_text` with a given line classifier (bench/train_line_model.py scores candidate models)."""
    title, candidates, author = _candidate_lines(content, boilerplate)
    if not title:
        return Article(id="", title="", text="")
    article = assemble(title, candidates, model.keep(candidates, title), author)
    dated = _header_date(candidates)
    if dated is not None:
        line, when = dated
        article.published = article.published or when
        article.text = "\n\n".join(paragraph for paragraph in article.text.split("\n\n") if paragraph != line)
    return article


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


def _candidate_lines(content: str, boilerplate: frozenset[str]) -> tuple[str, list[str], str | None]:
    """Headline, the body lines that survive the hard rules, and an author found in a byline."""
    patterns = _patterns()
    lines = [line.strip() for line in content.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "", [], None
    title, body_lines = lines[0], lines[1:]
    author: str | None = None
    kept: list[str] = []
    seen: set[str] = {normalize(title)}
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
    name = re.sub(r"^(by|von|par|por|автор|بقلم|كتب|كتبت)[:\s]+", "", name, flags=re.IGNORECASE).strip()
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


def _dateline_date(text: str | None) -> datetime | None:
    """The date a dateline carries ("March 2, 2026"), when it names a full date with a year."""
    if not text or not re.search(r"\d{4}", text):
        return None
    import dateparser  # installed with trafilatura; imported lazily because it is slow to load

    parsed: datetime | None = dateparser.parse(text, settings={"STRICT_PARSING": True})
    return parsed


def _is_short(line: str) -> bool:
    return len(line.split()) <= SHORT_LINE_WORDS and not _SENTENCE_END.search(line)


# --- the learned line classifier ---------------------------------------------------------------------------
# Languages whose jusText stoplists are tried; the page's language is the one whose list covers most words.
STOPLIST_LANGUAGES = ("English", "German", "French", "Spanish", "Russian", "Arabic", "Italian", "Portuguese",
                      "Polish", "Dutch", "Turkish", "Ukrainian", "Persian", "Hebrew", "Czech", "Swedish")
# A line of at least this many words that ends a sentence is "prose"; prose lines anchor the article's core.
PROSE_WORDS = 15
# Context windows (lines on each side) over which neighbour features are averaged: near, paragraph, section.
CONTEXT_WINDOWS = (1, 3, 10)
_LINK_LIKE = re.compile(r"https?://|www\.|@\w|\.(com|org|net|html?)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"[|»›/·•]")
_DATE_LIKE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b(19|20)\d\d\b|\d{1,2}:\d\d")
_TOKEN = re.compile(r"\w+")
# A prose line for block finding: this many words and a sentence end (shorter than PROSE_WORDS so that a
# block of short paragraphs is still found).
BLOCK_PROSE_WORDS = 8
# Up to this many non-prose lines (subheadings, captions) may sit inside one block of prose.
BLOCK_GAP = 3
# The body line that shares this share of its words with the page title (Jaccard) is the headline anchor.
HEADLINE_OVERLAP = 0.5
# Runs of likely lines for the second stage: lines at this first-stage probability, with gaps of up to
# RUN_GAP less likely lines inside one run (0.5 is the natural cut; 2 lets a caption or subheading through).
RUN_PROBABILITY = 0.5
RUN_GAP = 2
_COMMENTS_HEADING = re.compile(
    r"^(\d+\s+)?(comments?|responses?|replies|leave a (comment|reply)|kommentare?|commentaires?|comentarios?|"
    r"комментари[иейя]\w*|التعليقات|تعليقات)\b\W*(\(\d+\))?$",
    re.IGNORECASE,
)

BASE_FEATURES = (
    "log_words", "log_chars", "sentence_end", "comma_rate", "period_rate", "digit_share", "capital_share",
    "stop_share", "junk", "byline", "link_like", "separators", "starts_digit", "date_like", "words_le3",
    "words_4_9", "words_10_20", "words_gt20", "title_overlap", "position", "near_start", "near_end", "prose",
)


@lru_cache(maxsize=1)
def _stoplists() -> tuple[frozenset[str], ...]:
    import justext  # installed with trafilatura; its stoplists cover Arabic and Russian

    return tuple(frozenset(word.lower() for word in justext.get_stoplist(name)) for name in STOPLIST_LANGUAGES)


def line_features(lines: list[str], title: str) -> np.ndarray:
    """One row of features per line: the line itself, its neighbours and where it sits in the page."""
    n = len(lines)
    if n == 0:
        return line_features([""], title)[:0]  # no rows, the right number of columns
    tokens = [[t.lower() for t in _TOKEN.findall(line)] for line in lines]
    counts = Counter(t for ts in tokens for t in ts)
    stoplist = max(_stoplists(), key=lambda words: sum(c for t, c in counts.items() if t in words))
    title_tokens = {t.lower() for t in _TOKEN.findall(title)}
    patterns = _patterns()
    base = np.zeros((n, len(BASE_FEATURES)))
    for i, (line, toks) in enumerate(zip(lines, tokens, strict=True)):
        words = max(1, len(toks))
        cased = [t for t in _TOKEN.findall(line) if t[0].upper() != t[0].lower()]
        base[i] = (
            np.log1p(len(toks)),
            np.log1p(len(line)) / 2,
            bool(_SENTENCE_END.search(line)),
            min(1.0, line.count(",") / words * 5),
            min(1.0, sum(line.count(c) for c in ".!?؟") / words * 5),
            sum(c.isdigit() for c in line) / max(1, len(line)),
            sum(t[0].isupper() for t in cased) / len(cased) if cased else 0.0,
            sum(t in stoplist for t in toks) / words,
            bool(patterns.junk.search(line)),
            bool(patterns.bylines.search(line)) and len(toks) <= SHORT_LINE_WORDS,
            bool(_LINK_LIKE.search(line)),
            min(1.0, len(_SEPARATORS.findall(line)) / 2),
            line[:1].isdigit(),
            bool(_DATE_LIKE.search(line)) and len(toks) <= SHORT_LINE_WORDS,
            len(toks) <= 3,
            4 <= len(toks) <= 9,
            10 <= len(toks) <= 20,
            len(toks) > 20,
            len(set(toks) & title_tokens) / words if title_tokens else 0.0,
            i / n,
            i < n * 0.1,
            i >= n * 0.9,
            len(toks) >= PROSE_WORDS and bool(_SENTENCE_END.search(line)),
        )
    columns = [base]
    padded_sum = np.vstack([np.zeros((1, base.shape[1])), np.cumsum(base, axis=0)])
    for window in CONTEXT_WINDOWS:
        low = np.clip(np.arange(n) - window, 0, n)
        high = np.clip(np.arange(n) + window + 1, 0, n)
        total = padded_sum[high] - padded_sum[low] - base
        columns.append(total / np.maximum(1, (high - low - 1))[:, None])
    prose = base[:, BASE_FEATURES.index("prose")] > 0
    prose_words = np.where(prose, np.expm1(base[:, 0]), 0.0)
    cumulative = np.cumsum(prose_words) / max(1.0, float(prose_words.sum()))
    where = np.flatnonzero(prose)
    index = np.arange(n)
    if len(where):
        inside = (index >= where[0]) & (index <= where[-1])
        distance = np.min(np.abs(index[:, None] - where[None, :]), axis=1)
    else:
        inside = np.zeros(n, dtype=bool)
        distance = np.full(n, n)
    extra = np.column_stack([
        inside,
        np.log1p(distance),
        distance == 0,
        cumulative,
        4 * cumulative * (1 - cumulative),
        np.full(n, np.log1p(n) / 5),
        np.full(n, len(where) / n),
        np.full(n, prose.any()),
    ])
    columns.append(extra)
    columns.append(_page_relative(base))
    columns.append(_block_features(lines, tokens, base, title_tokens))
    return np.hstack(columns).astype(float)



def _page_relative(base: np.ndarray) -> np.ndarray:
    """A line's length and prose-likeness against the page's own: probabilities alone do not transfer from a
    page full of long menus to a page of short paragraphs."""
    picked = base[:, [BASE_FEATURES.index(name) for name in ("log_words", "sentence_end", "stop_share")]]
    words = base[:, 0]
    return np.column_stack([picked - picked.mean(axis=0), words / max(1e-9, float(words.max()))])


def _block_features(lines: list[str], tokens: list[list[str]], base: np.ndarray, title_tokens: set[str]) -> np.ndarray:
    """Where a line sits among the page's blocks of prose: the article is usually the largest block and the
    first one after the headline; comments follow a "Comments" heading."""
    n = len(lines)
    words = np.array([len(t) for t in tokens], dtype=float)
    prose = (words >= BLOCK_PROSE_WORDS) & (base[:, BASE_FEATURES.index("sentence_end")] > 0)
    block = np.full(n, -1)
    current, gap, last_prose = -1, BLOCK_GAP + 1, -1
    for i in range(n):
        if prose[i]:
            if gap > BLOCK_GAP:
                current += 1
            else:
                block[last_prose + 1:i] = current  # short lines between two prose lines of one block
            block[i] = current
            gap, last_prose = 0, i
        else:
            gap += 1
    sizes = np.array([words[block == b].sum() for b in range(current + 1)]) if current >= 0 else np.zeros(0)
    overlaps = [len(set(t) & title_tokens) / max(1, len(set(t) | title_tokens)) for t in tokens]
    anchor = int(np.argmax(overlaps)) if overlaps and max(overlaps) >= HEADLINE_OVERLAP else -1
    first_after = next((int(block[i]) for i in range(anchor + 1, n) if block[i] >= 0), -1)
    comments = next((i for i, line in enumerate(lines) if _COMMENTS_HEADING.search(line)), n)
    index = np.arange(n)
    in_block = block >= 0
    share = np.where(in_block, sizes[block] / max(1.0, float(sizes.sum())) if len(sizes) else 0.0, 0.0)
    largest = np.where(in_block, block == (int(np.argmax(sizes)) if len(sizes) else -2), False)
    rank = np.zeros(n)
    if len(sizes):
        order = np.argsort(-sizes)
        ranks = np.empty(len(sizes))
        ranks[order] = np.arange(len(sizes))
        rank = np.where(in_block, np.log1p(ranks[np.maximum(block, 0)]), np.log1p(len(sizes)))
    return np.column_stack([
        in_block,
        share,
        largest,
        rank,
        (block == first_after) & in_block,
        index > anchor if anchor >= 0 else np.zeros(n),
        np.full(n, anchor >= 0),
        np.sign(index - anchor) * np.log1p(np.abs(index - anchor)) if anchor >= 0 else np.zeros(n),
        index > comments,
    ])


@dataclass(frozen=True, slots=True)
class _Trees:
    """Boosted regression trees of fixed depth stored in heap order (node k has children 2k+1 and 2k+2),
    learnt by bench/train_line_model.py; the sum of the leaves is a log-odds."""

    features: np.ndarray  # (trees, 2**depth - 1) feature index per inner node
    thresholds: np.ndarray  # (trees, 2**depth - 1) go right when the feature is above
    leaves: np.ndarray  # (trees, 2**depth) leaf values
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        n = len(features)
        inner = self.features.shape[1]
        rows = np.arange(n)
        z = np.full(n, self.bias)
        for feature, threshold, leaf in zip(self.features, self.thresholds, self.leaves, strict=True):
            node = np.zeros(n, dtype=int)
            while True:
                right = features[rows, feature[node]] > threshold[node]
                node = 2 * node + 1 + right
                if node[0] >= inner:
                    break
            z += leaf[node - inner]
        result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        return result

    def to_json(self) -> dict[str, Any]:
        return {"features": self.features.tolist(), "thresholds": np.round(self.thresholds, 5).tolist(),
                "leaves": np.round(self.leaves, 4).tolist(), "bias": round(float(self.bias), 5)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Trees:
        return cls(np.array(data["features"], dtype=int), np.array(data["thresholds"], dtype=float),
                   np.array(data["leaves"], dtype=float), float(data["bias"]))


def neighbour_features(probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Second-stage inputs: each line's first-stage probability, those of its neighbours (jusText's context
    revision, learnt: a short line between two body paragraphs is body, one among menus is not), and the
    run of likely lines it belongs to (the article is the largest run; comments and teasers are smaller)."""
    n = len(probabilities)
    padded = np.concatenate([[0.0], np.cumsum(probabilities)])
    columns = [probabilities]
    index = np.arange(n)
    for window in (1, 2, 5):
        low, high = np.clip(index - window, 0, n), np.clip(index + window + 1, 0, n)
        columns.append((padded[high] - padded[low] - probabilities) / np.maximum(1, high - low - 1))
    before = np.array([probabilities[max(0, i - 5):i].max(initial=0.0) for i in range(n)])
    after = np.array([probabilities[i + 1:i + 6].max(initial=0.0) for i in range(n)])
    columns += [before, after, np.minimum(before, after)]
    words = np.expm1(features[:, 0]) * probabilities
    likely = probabilities >= RUN_PROBABILITY
    run = np.full(n, -1)
    current, gap = -1, RUN_GAP + 1
    for i in range(n):
        if likely[i]:
            if gap > RUN_GAP:
                current += 1
            else:
                run[i - gap:i] = current
            run[i] = current
            gap = 0
        else:
            gap += 1
    sizes = np.array([words[run == r].sum() for r in range(current + 1)])
    if len(sizes):
        largest = int(np.argmax(sizes))
        members = np.flatnonzero(run == largest)
        share = np.where(run >= 0, sizes[np.maximum(run, 0)] / max(1e-9, float(sizes.sum())), 0.0)
        distance = np.where(run == largest, 0, np.minimum(np.abs(index - members[0]), np.abs(index - members[-1])))
        columns += [share, run == largest, np.log1p(distance), index < members[0], index > members[-1]]
    else:
        columns += [np.zeros(n), np.zeros(n), np.full(n, np.log1p(n)), np.zeros(n), np.zeros(n)]
    return np.column_stack(columns)


def select(probabilities: np.ndarray, threshold: float, grow: float) -> list[bool]:
    """Hysteresis: lines at or above `threshold` are body, and so are the runs of lines at or above `grow`
    that touch them (a subheading or a short paragraph inside the article). When no line reaches the
    threshold the most likely line seeds the body, so that a page never comes back empty."""
    n = len(probabilities)
    if n == 0:
        return []
    keep = probabilities >= threshold
    if not keep.any():
        keep = probabilities >= probabilities.max()
    for order in (range(1, n), range(n - 2, -1, -1)):
        for i in order:
            j = i - 1 if order.step == 1 else i + 1
            if keep[j] and not keep[i] and probabilities[i] >= grow:
                keep[i] = True
    return [bool(k) for k in keep]


@dataclass(frozen=True, slots=True)
class LineModel:
    """Two stages: line features -> probability; then probability with the neighbours' -> keep or drop."""

    first: _Trees
    second: _Trees
    threshold: float
    grow: float

    def probabilities(self, lines: list[str], title: str) -> np.ndarray:
        if not lines:
            return np.zeros(0)
        features = line_features(lines, title)
        first = self.first.probability(features)
        return self.second.probability(np.hstack([features, neighbour_features(first, features)]))

    def keep(self, lines: list[str], title: str) -> list[bool]:
        return select(self.probabilities(lines, title), self.threshold, self.grow)

    def to_json(self) -> dict[str, Any]:
        return {"features": len(BASE_FEATURES), "first": self.first.to_json(), "second": self.second.to_json(),
                "threshold": round(self.threshold, 4),
                "grow": round(self.grow, 4)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LineModel:
        return cls(_Trees.from_json(data["first"]), _Trees.from_json(data["second"]), float(data["threshold"]),
                   float(data["grow"]))


@lru_cache(maxsize=1)
def _line_model() -> LineModel:
    text = resources.files("storyline").joinpath("data/line_model.json").read_text("utf-8")
    return LineModel.from_json(json.loads(text))


def _extract_html(page: str, url: str | None) -> Article:
    import trafilatura  # heavy import, only needed for HTML

    document: Any = trafilatura.bare_extraction(
        page, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    text = (document.text or "") if document is not None else ""
    title = (document.title or "") if document is not None else ""
    title = title or _page_title(page)
    if len(text) < MIN_HTML_TEXT:
        # The page's paragraphs and list items, cleaned like scraped text: menus and link lists are <li>s too.
        fallback = clean_text(f"{title or '-'}\n" + _paragraph_text(page)).text
        if len(fallback) > len(text):
            text = fallback
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and normalize(lines[0]) == normalize(title):
        lines = lines[1:]
    published = None
    if document is not None and document.date:
        try:
            published = parse_date(document.date)
        except ValueError:
            published = None
    return Article(
        id="",
        title=title.strip(),
        text="\n\n".join(lines),
        url=(document.url if document is not None else None) or url,
        published=published,
        author=document.author if document is not None else None,
        site=document.sitename if document is not None else None,
        lang=document.language if document is not None else None,
    )


def _paragraph_text(page: str) -> str:
    """Fallback: the text of every paragraph-like element, for pages trafilatura finds too little in."""
    from lxml import html as lxml_html

    try:
        root = lxml_html.document_fromstring(page)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return ""
    for bad in root.xpath("//script|//style|//nav|//header|//footer|//aside|//form|//noscript"):
        bad.drop_tree()
    blocks = [" ".join(el.text_content().split()) for el in root.xpath("//p|//h2|//h3|//li|//blockquote")]
    return "\n".join(block for block in blocks if block)


def _page_title(page: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""

