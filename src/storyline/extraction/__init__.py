"""Stage 2, extract: main text and metadata from HTML pages, scraped plain text, JSON records and feed items.

- `html`: trafilatura (the best open extractor) with its metadata, a repeated headline taken off the body,
  and when trafilatura finds too little the page's paragraphs cleaned like scraped text;
- `text`: the cleaner of scraped plain text, also used for the bodies of records and feed items (rules, then
  the learned line classifier of `linemodel`, then metadata lines);
- `evidence`: lines that recur across the articles of one source, counted in the store across runs, are
  boilerplate for every input kind; a headline that recurs so is no headline;
- `patterns`: the per-language boilerplate tables (`data/boilerplate.json`) and the code (CSS, script) test.

No title is ever junk, code or a recurring line: such a headline is dropped and the title made from the
body's first sentence.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from urllib.parse import urlparse

from storyline.engine import Engine, InProcess
from storyline.extraction.evidence import Evidence, LineEvidence, evidence_lines, recurring_lines
from storyline.extraction.html import extract_html
from storyline.extraction.linemodel import (
    BASE_FEATURES,
    LineModel,
    _Trees,
    line_features,
    neighbour_features,
    select,
)
from storyline.extraction.patterns import (
    _patterns,
    _top_level_alternation,
    is_code,
    is_junk_line,
    merged_patterns,
    without_markup,
)
from storyline.extraction.text import (
    _candidate_lines,
    assemble,
    clean_text,
    clean_with_model,
    headline,
    is_paragraph,
    made_title,
    usable_headline,
)
from storyline.model import Article, RawDocument, Rejected
from storyline.normalize import normalize

# The longest headline kept as a title (the longest real headlines in the benchmark sets are under 250).
MAX_TITLE_CHARS = 300
# Kinds whose lines are known before extraction (HTML pages' only once trafilatura has found their text).
_PLAIN_KINDS = frozenset({"text", "record"})
_HTML_HINT = re.compile(r"<(?:html|body|p|div|article|br|head|span|a)\b", re.IGNORECASE)

__all__ = [
    "BASE_FEATURES", "MAX_TITLE_CHARS", "LineEvidence", "LineModel", "_Trees", "_candidate_lines", "_patterns",
    "_top_level_alternation", "assemble", "cap_title", "clean_text", "clean_with_model", "extract", "extract_batch",
    "extract_document", "is_code", "is_junk_line", "is_paragraph", "line_features", "made_title", "merged_patterns",
    "neighbour_features", "recurring_lines", "select", "source_key", "source_key_of", "usable_headline",
]


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
    article = extract_html(content, url) if kind == "html" else clean_text(content, boilerplate)
    if not article.text.strip() and not article.title.strip():
        raise ValueError("no article text found")
    article.url = article.url or url
    return article


def source_key(doc: RawDocument) -> str:
    """What "one source" is for line evidence: the site the input names (a record's `source`, a feed's
    title, a page's host, a file's folder), else the host of its URL."""
    return source_key_of(doc.site, doc.url)


def source_key_of(site: str | None, url: str | None) -> str:
    """`source_key` of an input or an extracted article, from its site and URL."""
    if site:
        return site
    return (urlparse(url).hostname or "").removeprefix("www.") if url else ""


def extract_batch(documents: Iterable[RawDocument], evidence: LineEvidence | None = None,
                  updates: Collection[str] = (), engine: Engine | None = None) -> Iterator[Article | Rejected]:
    """Extract every document, using lines that recur across articles of one source as evidence: those of
    this batch and, with `evidence` (the store), those counted by earlier runs, which this batch's are added
    to. Plain text, records and feed items are cleaned knowing the batch's lines; HTML pages lose the
    recurring lines trafilatura kept once the batch's pages are extracted. `updates` are the ids of
    documents already counted once (an article updated in place): their lines are not counted again, or an
    updated article's own headline would recur. The documents are extracted by `engine` (default: this
    process); the evidence is gathered here, before and after."""
    documents = list(documents)
    lines = Evidence(evidence)

    def observe(doc: RawDocument, found: list[str]) -> None:
        if doc.id in updates:
            lines.load(source_key(doc), found)
        else:
            lines.observe(source_key(doc), found)

    for doc in documents:
        if doc.kind in _PLAIN_KINDS:
            observe(doc, evidence_lines(doc.content, doc.title))
    known = {site: lines.recurring(site) for site in {source_key(doc) for doc in documents}}
    results: list[tuple[RawDocument, Article | Rejected]] = []
    for doc, article in zip(documents, (engine or InProcess()).map(_extracted, known, documents), strict=True):
        if isinstance(article, Article) and doc.kind not in _PLAIN_KINDS:
            observe(doc, evidence_lines(article.text, article.title))
        results.append((doc, article))
    lines.save()
    for doc, result in results:
        if isinstance(result, Article) and doc.kind not in _PLAIN_KINDS:
            result = without_recurring(result, lines.recurring(source_key(doc)))
        yield result


def _extracted(known: dict[str, frozenset[str]], doc: RawDocument) -> Article | Rejected:
    """One document extracted knowing its source's recurring lines, or the reason it cannot be (an engine
    runs this on its workers)."""
    try:
        return extract_document(doc, known[source_key(doc)])
    except ValueError as error:
        return Rejected(doc.source, str(error))
    except Exception as error:  # one odd page (a nesting bomb, a parser bug) never stops the batch
        return Rejected(doc.source, f"extraction failed: {type(error).__name__}: {' '.join(str(error).split())}")


def without_recurring(article: Article, boilerplate: frozenset[str]) -> Article:
    """An extracted article without the paragraphs (and the headline) that recur across its source."""
    if not boilerplate:
        return article
    paragraphs = [p for p in article.text.split("\n\n") if normalize(p.strip()) not in boilerplate]
    article.text = "\n\n".join(paragraphs)
    if not usable_headline(article.title, boilerplate):
        article.title = made_title(article.text)
    return article


def extract_document(doc: RawDocument, boilerplate: frozenset[str] = frozenset()) -> Article:
    """Extract a raw document, keeping the metadata its record or feed item already carried. A title the
    input gave is kept unless it is no headline (junk, code, a line recurring across the source)."""
    site = source_key(doc)
    given = headline(doc.title, site, doc.lang) if doc.title else ""
    if doc.kind == "record":
        body = clean_text(doc.content, boilerplate, title=given)
        title = body.title
    else:
        body = _extract(doc.content, doc.kind, doc.url, boilerplate)
        title = given if given and usable_headline(given, boilerplate) else body.title
    if title != given:  # the body's own first line: cleaned as a given title was
        title = headline(title, site, doc.lang or body.lang)
    if not title or not usable_headline(title, boilerplate):
        title = made_title(body.text)
    title, text = cap_title(title, body.text)
    if not text.strip() and not title:
        raise ValueError("no article text found")
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
    """A title is at most a headline, without markup ("<br />"): one past MAX_TITLE_CHARS is cut at a word
    boundary and the rest opens the body, so nothing is lost (a one-line file of megabytes is all "headline")."""
    title = " ".join(without_markup(title).split())
    if len(title) <= MAX_TITLE_CHARS:
        return title, text
    cut = title.rfind(" ", 0, MAX_TITLE_CHARS + 1)
    cut = cut if cut > MAX_TITLE_CHARS // 2 else MAX_TITLE_CHARS
    head, rest = title[:cut].rstrip(), title[cut:].strip()
    return head, f"{rest}\n\n{text}" if text else rest
