"""Lines that recur across the articles of one source are boilerplate (menus, cookie banners, sidebar headlines,
subscription pleas), whatever the input kind.

storyline is a tracker that ingests a few articles at a time, so the evidence of one batch is weak: the count
of distinct articles each line of a source was seen in is kept in the store (`LineEvidence`, a table of
(site, line hash) -> articles) and grows at every ingest, so a line seen in many earlier articles of a source is
known boilerplate even in a batch of one. Copies of one article (a syndicated story under two ids, an updated
version) share their content lines: an article most of whose text (by characters) was already seen is a copy,
and its lines are not counted again, so content repeated only in copies of one article stays content.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from storyline.extraction.patterns import _SENTENCE_END, BULLETS
from storyline.normalize import normalize

# A short line (a menu item, a banner, a sidebar headline) recurring in this many articles of one source that
# are not copies of each other is boilerplate. 2 is what the batch rule always used (tests/test_extraction.py).
MIN_RECURRENCE = 2
# A prose line (PROSE_WORDS words or more, ending a sentence) needs more evidence: news sites reuse a
# background paragraph or a quote in two or three of their own stories, and that is content. On the
# timelines set (one file, 1,671 articles) verbatim prose lines seen in 2-4 articles were mostly such reuse,
# those seen in 5 or more sidebar teasers and subscription pleas.
MIN_PROSE_RECURRENCE = 3
PROSE_WORDS = 15
# An article more than this share of whose characters (outside known boilerplate) were already seen in the
# source, and that adds fewer than COPY_NEW_CHARS unseen characters (an update line, a new caption), is a copy
# of an earlier one: its lines are not counted again. The second condition keeps the articles of a site whose
# pages are mostly boilerplate from passing for copies of its first one (then that boilerplate would never be
# counted twice): a new article brings a body of its own, a copy a few lines at most.
COPY_LINE_SHARE = 0.5
COPY_NEW_CHARS = 500
# A headline whose first OPENING_WORDS words open the headlines of this many independent articles of its
# source (a standing note, "Ce billet fait partie du dossier spécial de Global Voices sur ...", each ending
# otherwise) is no headline; counted only for headlines OPENING_WORDS + 2 words or longer, as a line of its own.
OPENING_WORDS = 5
MIN_OPENING_RECURRENCE = 3
_OPENING = "\x1f"  # marks an opening in the evidence: no normalised line starts with a control character
# Characters of a line hashed into the store key (normalised first): a line longer than this is a paragraph,
# and its start identifies it.
KEY_CHARS = 400


class LineEvidence(Protocol):
    """Per-source line statistics kept across runs (the stores implement it: `Store.line_counts`,
    `Store.add_line_counts`). Keys are `line_key`s."""

    def line_counts(self, site: str, keys: Sequence[str]) -> dict[str, int]: ...
    def add_line_counts(self, site: str, counts: Mapping[str, int]) -> None: ...


def line_key(line: str) -> str:
    """The store key of a normalised line: a short hash, so the table stays small and holds no article text."""
    return hashlib.sha1(line[:KEY_CHARS].encode("utf-8")).hexdigest()[:16]


def evidence_lines(text: str, title: str | None = None) -> list[str]:
    """The distinct normalised lines of an article (its title, or else its first line, first), as the evidence
    counts them, and its headline's opening."""
    lines = [title or "", *text.splitlines()]
    seen: dict[str, None] = {}
    for raw in lines:
        line = normalize(raw.strip().lstrip(BULLETS).strip())
        if line:
            seen.setdefault(line, None)
    found = list(seen)
    if found and (start := opening(found[0])):
        found.append(start)
    return found


def opening(line: str) -> str:
    """The evidence line of a headline's first words ("" for a short headline)."""
    words = normalize(line).split()
    return _OPENING + " ".join(words[:OPENING_WORDS]) if len(words) >= OPENING_WORDS + 2 else ""


def is_recurring(line: str, articles: int) -> bool:
    """True when a line seen in `articles` independent articles of one source is boilerplate."""
    if line.startswith(_OPENING):
        return articles >= MIN_OPENING_RECURRENCE
    prose = len(line.split()) >= PROSE_WORDS and bool(_SENTENCE_END.search(line))
    return articles >= (MIN_PROSE_RECURRENCE if prose else MIN_RECURRENCE)


@dataclass(slots=True)
class SourceLines:
    """The line counts of one source: the stored ones for the lines in play, plus what this run adds."""

    counts: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _recurring: frozenset[str] | None = None  # cached until the next article is counted

    def observe(self, lines: Sequence[str]) -> bool:
        """Count one article's lines unless it is a copy of one already counted; True when counted."""
        fresh = [line for line in lines if not is_recurring(line, self.counts.get(line, 0))]
        total = sum(len(line) for line in fresh)
        seen = sum(len(line) for line in fresh if self.counts.get(line, 0) > 0)
        if total and seen / total > COPY_LINE_SHARE and total - seen < COPY_NEW_CHARS:
            return False
        for line in lines:
            self.counts[line] = self.counts.get(line, 0) + 1
            self.added[line] += 1
        self._recurring = None
        return True

    def recurring(self) -> frozenset[str]:
        if self._recurring is None:
            self._recurring = frozenset(line for line, n in self.counts.items() if n > 1 and is_recurring(line, n))
        return self._recurring


class Evidence:
    """Line evidence for one extraction batch: the store's counts for the batch's lines, grown by the batch."""

    def __init__(self, store: LineEvidence | None = None) -> None:
        self.store = store
        self.sources: dict[str, SourceLines] = {}
        self._keys: dict[str, dict[str, str]] = defaultdict(dict)  # site -> normalised line -> store key

    def load(self, site: str, lines: Iterable[str]) -> None:
        """Read the stored counts of `lines` of `site` (once per line)."""
        source = self.sources.setdefault(site, SourceLines())
        keys = self._keys[site]
        wanted = {line: line_key(line) for line in lines if line not in keys}
        keys.update(wanted)
        if wanted:
            source._recurring = None
        if self.store is not None and wanted:
            stored = self.store.line_counts(site, sorted(set(wanted.values())))
            for line, key in wanted.items():
                source.counts.setdefault(line, stored.get(key, 0))
        else:
            for line in wanted:
                source.counts.setdefault(line, 0)

    def observe(self, site: str, lines: Sequence[str]) -> bool:
        self.load(site, lines)
        return self.sources[site].observe(lines)

    def recurring(self, site: str) -> frozenset[str]:
        source = self.sources.get(site)
        return source.recurring() if source is not None else frozenset()

    def save(self) -> None:
        """Add this batch's counts to the store."""
        if self.store is None:
            return
        for site, source in self.sources.items():
            keys = self._keys[site]
            counts: dict[str, int] = defaultdict(int)
            for line, n in source.added.items():
                counts[keys[line]] += n
            if counts:
                self.store.add_line_counts(site, dict(counts))


def recurring_lines(documents: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Per source, the normalised lines found in several of its articles that are not copies of each other
    (evidence from these documents alone)."""
    evidence = Evidence()
    sites = []
    for site, text in documents:
        evidence.observe(site, evidence_lines(text))
        sites.append(site)
    return {site: evidence.recurring(site) for site in sites}
