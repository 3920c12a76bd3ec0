"""Entities: recognise people, organisations and places, and give each one id across spellings and scripts.

There is no trained NER model that works offline for most of storyline's languages, so recognition
combines gazetteers (CLDR country names through babel, a multilingual organisation alias table),
capitalisation for Latin and Cyrillic scripts, and names learned from the batch: a name found in one
article is found by its consonant skeleton in others, in any script (this is how Arabic text, which has
no capital letters, gets its people). Resolution keys every mention by the skeleton of its full name;
a surname alone joins the full name it abbreviates in the same article or, if unique, in the batch.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from storyline.model import Article, Entity, Mention
from storyline.names import skeleton
from storyline.normalize import normalize

GAZETTEER_LANGS = ("en", "ar", "ru", "de", "fr", "es")
# Skeleton keys shorter than this are too unspecific to find a learned name in text without capitals
# ("mr" would match half of Arabic words); full names need fewer consonants than single surnames.
MIN_LEARNED_FULL_KEY = 4
MIN_LEARNED_SURNAME_KEY = 4
MAX_NGRAM = 4

_CAPITALISED = re.compile(
    r"(?:(?<=\s)|^|(?<=[\"'«“„(]))"
    r"(?:[A-ZÀ-ÞĀ-ſА-ЯЁІЇЄҐ][\w'’.-]*\w|[A-Z]\.)"
    r"(?:[ \t]+(?:(?:al|el|bin|ibn|de|del|da|di|von|van|der|la|le|du|аль|ибн)[- ])?"
    r"(?:[A-ZÀ-ÞĀ-ſА-ЯЁІЇЄҐ][\w'’.-]*\w))*",
    re.UNICODE,
)
_WORD_SPAN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_SENTENCE_START = re.compile(r"(?:^|[.!?؟:\"”»]\s+|\n\s*)$")


@dataclass(frozen=True, slots=True)
class _Known:
    canonical: str
    type: str


@dataclass(frozen=True, slots=True)
class _Words:
    titles: frozenset[str]
    function: frozenset[str]
    org_heads: frozenset[str]


def _data(name: str) -> dict[str, object]:
    table: dict[str, object] = json.loads(
        resources.files("storyline").joinpath(f"data/{name}").read_text("utf-8")
    )
    return table


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, _Known]:
    """Normalised surface form -> known entity: CLDR country names and the organisation alias table."""
    from babel import Locale

    known: dict[str, _Known] = {}
    english = Locale("en").territories
    for lang in GAZETTEER_LANGS:
        for code, name in Locale(lang).territories.items():
            if code.isalpha() and code in english:
                known.setdefault(normalize(name), _Known(english[code], "LOC"))
    for canonical, entry in _data("organisations.json").items():
        if canonical.startswith("_") or not isinstance(entry, dict):
            continue
        for aliases in entry["aliases"].values():
            for alias in aliases:
                known[normalize(alias)] = _Known(canonical, entry["type"])
    return known


@lru_cache(maxsize=1)
def _words() -> _Words:
    table = _data("name_words.json")
    merged: dict[str, set[str]] = defaultdict(set)
    for lang, groups in table.items():
        if not lang.startswith("_") and isinstance(groups, dict):
            for group, words in groups.items():
                merged[group].update(words)
    return _Words(frozenset(merged["titles"]), frozenset(merged["function"]), frozenset(merged["org_heads"]))


@lru_cache(maxsize=1)
def _calendar_words() -> frozenset[str]:
    """Month and weekday names in every gazetteer language: capitalised in English, never entities."""
    from babel.dates import get_day_names, get_month_names

    words: set[str] = set()
    for lang in GAZETTEER_LANGS:
        for width in ("wide", "abbreviated"):
            words.update(get_month_names(width, locale=lang).values())
            words.update(get_day_names(width, locale=lang).values())
    return frozenset(w.strip(".") for w in words)


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    text: str
    type: str
    key: str


def recognise(text: str) -> list[_Span]:
    """Candidate mentions: gazetteer matches in any script, then capitalised runs in Latin and Cyrillic."""
    spans = _gazetteer_spans(text)
    taken = [(s.start, s.end) for s in spans]
    words = _words()
    calendar = _calendar_words()
    for match in _CAPITALISED.finditer(text):
        start, end = match.start(), match.end()
        parts = match.group().split()
        # Leading function words at a sentence start and leading titles are not part of the name.
        while parts and (parts[0] in words.function or parts[0] in words.titles or parts[0] in calendar):
            if parts[0] in words.org_heads:
                break
            start = text.index(parts[1], start + len(parts[0])) if len(parts) > 1 else end
            parts = parts[1:]
        if not parts or all(p in calendar or p in words.function for p in parts):
            continue
        surface = re.sub(r"['’]s$", "", text[start:end]).rstrip(".'’")
        end = start + len(surface)
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        if len(parts) == 1 and _SENTENCE_START.search(text[max(0, start - 3) : start]) and (
            re.search(rf"\b{re.escape(surface.lower())}\b", text) is not None
        ):
            continue  # a common word that only starts a sentence
        kind = "ORG" if any(p in words.org_heads for p in parts) or surface.isupper() else (
            "PER" if len(parts) >= 2 else "MISC"
        )
        spans.append(_Span(start, end, surface, kind, skeleton(surface)))
    return sorted(spans, key=lambda s: s.start)


def _gazetteer_spans(text: str) -> list[_Span]:
    gazetteer = _gazetteer()
    words = list(_WORD_SPAN.finditer(text))
    spans: list[_Span] = []
    index = 0
    while index < len(words):
        for size in range(min(MAX_NGRAM, len(words) - index), 0, -1):
            start, end = words[index].start(), words[index + size - 1].end()
            surface = text[start:end]
            known = gazetteer.get(normalize(surface))
            if known is None and normalize(surface).startswith("ال"):
                known = gazetteer.get(normalize(surface)[2:]) if size == 1 else None
            if known is not None and (size > 1 or len(surface) > 2 or surface.isupper()):
                spans.append(_Span(start, end, surface, known.type, "g:" + known.canonical))
                index += size
                break
        else:
            index += 1
    return spans


def _learned_spans(text: str, full_names: dict[str, str], surnames: dict[str, str]) -> list[_Span]:
    """Find names learned elsewhere in the batch by skeleton, in any script (capitals not needed)."""
    words = list(_WORD_SPAN.finditer(text))
    spans: list[_Span] = []
    index = 0
    while index < len(words):
        for size in (3, 2, 1):
            if index + size > len(words):
                continue
            start, end = words[index].start(), words[index + size - 1].end()
            key = skeleton(text[start:end])
            target = full_names.get(key) if size > 1 else surnames.get(key)
            if target is not None:
                spans.append(_Span(start, end, text[start:end], "PER", target))
                index += size
                break
        else:
            index += 1
    return spans


def resolve(articles: Sequence[Article]) -> tuple[list[Entity], list[Mention]]:
    """Recognise and resolve the entities of a batch: one `Entity` per real-world thing, its mentions."""
    found = {a.id: recognise(_document(a)) for a in articles}
    full_names = {
        s.key: s.key for spans in found.values() for s in spans
        if s.type == "PER" and len(s.key) >= MIN_LEARNED_FULL_KEY
    }
    surname_targets: dict[str, set[str]] = defaultdict(set)
    for spans in found.values():
        for s in spans:
            if s.type == "PER":
                surname_targets[skeleton(s.text.split()[-1])].add(s.key)
    unique_surnames = {k: next(iter(v)) for k, v in surname_targets.items() if len(v) == 1}
    learnable = {k: v for k, v in unique_surnames.items() if len(k) >= MIN_LEARNED_SURNAME_KEY}
    for article in articles:
        spans = found[article.id]
        text = _document(article)
        taken = [(s.start, s.end) for s in spans]
        for span in _learned_spans(text, full_names, learnable):
            if not any(span.start < e and s < span.end for s, e in taken):
                spans.append(span)
        local = {skeleton(s.text.split()[-1]): s.key for s in spans if s.type == "PER" and " " in s.text}
        for span in spans:
            if span.type in {"MISC", "PER"} and " " not in span.text:
                target = local.get(span.key) or unique_surnames.get(span.key)
                if target is not None:
                    span.key, span.type = target, "PER"
    return _entities(articles, found)


def _entities(articles: Iterable[Article], found: dict[str, list[_Span]]) -> tuple[list[Entity], list[Mention]]:
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    types: dict[str, Counter[str]] = defaultdict(Counter)
    for spans in found.values():
        for span in spans:
            surfaces[span.key][span.text] += 1
            types[span.key][span.type] += 1
    entities = {}
    for key, counts in surfaces.items():
        name = key[2:] if key.startswith("g:") else max(
            counts, key=lambda s: (s.isascii(), len(s.split()), counts[s], s)
        )
        entity_id = "ent-" + (re.sub(r"\W+", "-", normalize(name)).strip("-") if key.startswith("g:") else key)
        kind = types[key].most_common(1)[0][0]
        entities[key] = Entity(entity_id, name, kind, sorted(counts))
    mentions = [
        Mention(article.id, entities[s.key].id, s.start, s.end, s.text, s.type)
        for article in articles
        for s in sorted(found[article.id], key=lambda s: s.start)
    ]
    merged: dict[str, Entity] = {}
    for entity in entities.values():  # two keys may share a slug: keep one entity
        if entity.id in merged:
            merged[entity.id].variants = sorted(set(merged[entity.id].variants) | set(entity.variants))
        else:
            merged[entity.id] = entity
    return sorted(merged.values(), key=lambda e: e.id), mentions


def _document(article: Article) -> str:
    """Headline and body as one text; mention offsets refer to this string."""
    return f"{article.title}\n\n{article.text}"
