"""The boilerplate tables (`data/boilerplate.json`, per language, merged) compiled for line-at-a-time matching,
and the shape tests every cleaning step shares: short lines, sentence ends, and code (CSS, script) that a
scraper or a record's author left in the text."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# A line of at most this many words without sentence-final punctuation is "short": a link, a caption,
# a button. Runs of short lines under a list heading or at the very end are link lists.
SHORT_LINE_WORDS = 12

# Bullets and dashes a scraper leaves in front of menu and share lines.
BULLETS = "•·*▪►-–— "
_SENTENCE_END = re.compile(r"[.!?؟。…:\"”»“]$")
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
    notices: _AnyOf


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

    return _Patterns(compile_all("junk"), compile_all("list_headings"), compile_all("bylines", 0),
                     compile_all("notices"))

def _is_short(line: str) -> bool:
    return len(line.split()) <= SHORT_LINE_WORDS and not _SENTENCE_END.search(line)



# Code a page or a scraper left among the text lines: CSS rules ("a.logo{display:block}"), script statements
# ("var x = ...;", "document.addEventListener(...)"), markup. Written by hand: a line of prose never holds
# braces, an assignment ending in ";" or a call on `document`/`window`.
_CODE = re.compile(
    r"[{}]"  # CSS rules and script blocks (prose has no braces)
    r"|^\s*(var|let|const)\s+[\w$]+\s*="
    r"|^\s*(if|for|while|switch)\s*\(.*\)\s*\{?\s*$"
    r"|^\s*(function|return)\b.*[;{]\s*$"
    r"|\b(function\s*[\w$]*\s*\(|document\.\w|window\.\w|jQuery|\$\(|=>|\.addEventListener|getElementById)"
    r"|^\s*(//|/\*|\*/|<!--|-->|@media|@import|@font-face)"
    r"|</?(script|style|div|span|iframe|img|noscript|link|meta)\b"
    r"|[\w\])]\s*=\s*[\"'\w$\[(].*;\s*$"  # an assignment statement
    r"|\b\d+(px|em|rem|vh|vw)\b|!important"  # CSS values
    r"|([a-z-]+\s*:\s*[^;:]{1,40};\s*){3}"  # three CSS declarations in a row
)
# Characters that make up code: a line where they are this share of the characters is code (minified
# script, JSON), whatever words it holds.
_CODE_CHARS = frozenset("{}[];=<>$\\|&")
CODE_CHAR_SHARE = 0.1
# Words of letters only (3+ letters) that make a line prose even where a code pattern matches in it.
PROSE_WORDS = 12
_PROSE_WORD = re.compile(r"(?<![\w.$])[^\W\d_]{3,}(?![\w.($])")
_LETTER = re.compile(r"[^\W\d_]")
# PHP's serialized values ('a:2:{s:5:"pages";i:1;'), which a site printed into its text: no prose has them.
_SERIALIZED = re.compile(r"\ba:\d+:\{[sid]:\d+[:;]|;s:\d+:\"")


# Markup inside a line of text (a record or scraped text holding inline HTML): script and style elements go
# with their content, other tags alone, so "Dock workers <b>walked out</b>" keeps its words.
_INLINE_CODE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]{0,300})?/?>")


def without_markup(line: str) -> str:
    """`line` without inline markup: script and style elements with their content, then any tag."""
    if "<" not in line:
        return line
    return " ".join(_INLINE_TAG.sub(" ", _INLINE_CODE.sub(" ", line)).split())


def is_code(line: str) -> bool:
    """True for a line of CSS, script or markup left in the text. A sentence of prose that merely holds a
    fragment of code ('mediators said " onerror="x" ...') is not: it has PROSE_WORDS words and few symbols;
    one glued to a site's serialized data ('... internazionale. a:2:{s:5:"pages";...') is."""
    if _SERIALIZED.search(line):
        return True
    symbols = sum(char in _CODE_CHARS for char in line)
    if symbols >= 4 and symbols / max(1, len(line)) >= CODE_CHAR_SHARE:
        return True
    return bool(_CODE.search(line)) and len(_PROSE_WORD.findall(line)) < PROSE_WORDS


def is_notice(line: str) -> bool:
    """True for a site notice (a cookie banner, a copyright line, "enable JavaScript") or a line of code.
    The text cleaner drops these after its line classifier, which was trained on pages that still held them
    (dropped before it, they would change the context it judges the other lines in)."""
    return bool(_patterns().notices.search(line)) or is_code(line)


# Words a timestamp line has at most ("время публикации: 02 ноября 2018 г., 12:22 | последнее обновление: 02
# ноября 2018 г., 12:22" has 16): past it a line with a date in it is prose.
TIMESTAMP_WORDS = 16
CLOCK_LINE_WORDS = 3
# ... or in at most this many words of letters, whatever numbers and dashes stand around ("-15 cms - Hora:
# 04:26:00", a widget's line that titled a timelines story).
CLOCK_LINE_NAMED = 2
_WORDS = re.compile(r"[^\W\d_]{2,}")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b")


def is_junk_line(line: str) -> bool:
    """True for a line no reader wants as a headline or a summary: one of the boilerplate table's junk
    patterns (share and subscribe lines, photo credits), a notice or code, a timestamp line, or no letter at
    all (a date)."""
    return not _LETTER.search(line) or bool(_patterns().junk.search(line)) or is_notice(line) or (
        is_timestamp(line))


def is_timestamp(line: str) -> bool:
    """A short line that dates a page in any language: a clock time with a year, or a numeric date, in at
    most TIMESTAMP_WORDS words ("Публикувана: 5 ноември, 2020 12:53", "2 часа ago 06.01.2021"), or a clock
    time or duration in at most CLOCK_LINE_WORDS ("Смотреть видео 01:56", "Updated 14:05")."""
    words = len(line.split())
    if words > TIMESTAMP_WORDS:
        return False
    clock = _CLOCK.search(line)
    return bool(_NUMERIC_DATE.search(line) or (clock and (
        _YEAR.search(line) or words <= CLOCK_LINE_WORDS or len(_WORDS.findall(line)) <= CLOCK_LINE_NAMED)))
