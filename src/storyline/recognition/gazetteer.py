"""The gazetteer: places, organisations and media known by name in many languages and scripts, and the
look-ups that find a surface form's entry, written as listed, with an Arabic prefix, or in a Slavic case form.

Sources: CLDR country names and time-zone cities (babel) in GAZETTEER_LANGS, US states (pycountry's ISO 3166-2
names and translations), and storyline's alias table of organisations, groupings and media
(data/organisations.json). Spotting (`storyline.recognition.spotting`) finds mentions with it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from storyline.normalize import ARABIC, WORD_SPAN, normalize, strip_accents

# Locales whose CLDR territory names feed the place gazetteer: the six product languages and the Slavic
# languages of the BSNLP benchmark.
GAZETTEER_LANGS = ("en", "ar", "ru", "de", "fr", "es", "bg", "cs", "pl", "sl", "uk", "hr", "sk", "it", "tr")
# Longest run of words looked up as one surface form.
MAX_NGRAM = 4
# Inflected gazetteer look-up (inflected): words agree on at least this many first letters, a listed word may
# lose this many final letters and the text's word add this many. Set by hand on BSNLP dev (Polish, Czech,
# Slovene and Ukrainian case forms of the UK, the EU and its bodies): linking pairwise F1 0.744 -> 0.807.
INFLECTED_PREFIX = 3
INFLECTED_CHANGE = 2
INFLECTED_GROWTH = 4
# What a case ending (or Bulgarian's article) adds is made of these letters (accents stripped): "Rosji",
# "Wielkiej", "Niemczech", "Европейского", "Българията"; "Rosatom" is no form of "Rosja", nor "Georgelin" of
# "Georgia".
_ENDING_LETTERS = frozenset("aeiouyjmchvgz" + "аеиоуыэюяіїєймхвьътг")
# US states whose name is a given name or a surname as well.
STATES_NAMED_LIKE_PEOPLE = frozenset({"Virginia", "Washington"})
# Shortest one-word city name matched in an inflected form: shorter ones are prefixes of too many words.
MIN_INFLECTED_CITY = 7
# Shortest country stem a people's name is recognised from ("итал-ианци"; "чех" is too short to be safe).
MIN_DEMONYM_STEM = 4
# Stems shorter than this are not looked up with their ending removed ("Ира" is not "Ирак").
MIN_STEM = 4
# Arabic one-letter prefixes (and, by, for, like) written onto the next word: "وروسيا", "بموسكو".
ARABIC_PREFIXES = ("و", "ب", "ل", "ف", "ك")


@dataclass(frozen=True, slots=True)
class Known:
    """A gazetteer entry: the entity's canonical (English) name and type."""

    canonical: str
    type: str
    lowercase: bool = False  # also matched in lower case ("brexit" in Czech)
    city: bool = False  # a city or state, named like a person often enough ("Riyadh al-Maliki", "Indiana Jones")


def data_table(name: str) -> dict[str, object]:
    """One of storyline's data tables (data/*.json)."""
    table: dict[str, object] = json.loads(
        resources.files("storyline").joinpath(f"data/{name}").read_text("utf-8")
    )
    return table


def stem_of(form: str) -> str:
    """A normalised name without accents and the final vowels of each word, for matching inflected forms
    (Норвегии ~ Норвегия, Evropské unii ~ Evropská unie)."""
    return " ".join(re.sub(r"[aeiouyаеиоуыэюяёєіїъь]+$", "", w) for w in strip_accents(form).split())


@lru_cache(maxsize=1)
def gazetteer() -> tuple[dict[str, Known], dict[str, tuple[Known, int]]]:
    """Normalised surface form -> known entity, and by stem (for inflected forms) with the shortest form's
    length: case endings replace or add letters, so a shorter word ("Доминик") is another name."""
    from babel import Locale

    known: dict[str, Known] = {}
    english = Locale("en").territories
    for lang in GAZETTEER_LANGS:
        for code, name in Locale(lang).territories.items():
            if code.isalpha() and code in english:
                known.setdefault(normalize(name), Known(english[code], "LOC"))
    for form, city in cities().items():
        known.setdefault(form, city)  # a country of the same name wins ("Mexico", "Panama")
    for form, region in us_states().items():
        known.setdefault(form, region)  # a country or city of the same name wins ("Georgia", "New York")
    for canonical, entry in data_table("organisations.json").items():
        if canonical.startswith("_") or not isinstance(entry, dict):
            continue
        for aliases in entry["aliases"].values():
            for alias in aliases:
                known[normalize(alias)] = Known(canonical, entry["type"], bool(entry.get("lowercase")))
    stems: dict[str, tuple[Known, int]] = {}
    clashes: set[str] = set()
    for form, entry in known.items():
        stem = stem_of(form)
        if len(stem) >= MIN_STEM and not ARABIC.search(form):
            if stem in stems and stems[stem][0] != entry:
                clashes.add(stem)
            stems[stem] = (entry, min(len(form), stems[stem][1] if stem in stems else len(form)))
    return known, {s: e for s, e in stems.items() if s not in clashes}


def cities() -> dict[str, Known]:
    """Major cities in every gazetteer language: CLDR's exemplar cities of the time zones (Kyiv, Київ, كييف,
    Kyjev). Antarctic stations and Etc zones are left out: their names are surnames ("Davis", "Casey")."""
    from babel import Locale
    from babel.dates import get_timezone_location

    cities: dict[str, Known] = {}
    # Each locale lists the zones whose city it names differently from English; together they cover the
    # cities news names (London, Kyiv, Brussels, New York ...).
    zones = sorted({str(z) for lang in GAZETTEER_LANGS for z in Locale(lang).time_zones
                    if "/" in str(z) and not str(z).startswith(("Antarctica/", "Etc/"))})
    for zone in zones:
        try:
            english = get_timezone_location(zone, locale="en", return_city=True)
        except (LookupError, ValueError):
            continue
        for lang in GAZETTEER_LANGS:
            # The locale's own entry first: zoneinfo renames zones (Europe/Kiev -> Europe/Kyiv) and the
            # renamed zone misses the locale's override (Київ).
            name = Locale(lang).time_zones.get(zone, {}).get("city")
            try:
                name = name or get_timezone_location(zone, locale=lang, return_city=True)
            except (LookupError, ValueError):
                continue
            if name and len(name) > 2:
                cities.setdefault(normalize(name), Known(english, "LOC", city=True))
    return cities


def us_states() -> dict[str, Known]:
    """US states in every gazetteer language (pycountry's ISO 3166-2 names and their translations: Pensylwania,
    Пенсильвания, Kalifornie), which news names as often as countries and which capitals alone type as
    nothing in particular. States named like people are left out ("Virginia", "Washington"); one named like a
    country is told apart from it ("Georgia (US state)", spelt Джорджия where the country is Грузия)."""
    import gettext

    import pycountry

    states = [s.name for s in pycountry.subdivisions.get(country_code="US") or [] if s.type == "State"]
    countries = {c.name for c in pycountry.countries}
    regions: dict[str, Known] = {}
    for lang in GAZETTEER_LANGS:
        found = gettext.find("iso3166-2", pycountry.LOCALES_DIR, [lang])
        translate = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, [lang]).gettext if found else str
        for state in states:
            if state not in STATES_NAMED_LIKE_PEOPLE:
                canonical = f"{state} (US state)" if state in countries else state
                # Matched as cities are: a short name only as written (Bulgarian "Мейн" is Maine, "Мей" May).
                regions.setdefault(normalize(translate(state)), Known(canonical, "LOC", city=True))
    return regions


def lookup(surface: str) -> Known | None:
    """The gazetteer entry of a surface form, allowing an Arabic article/prefix or a Slavic case ending."""
    return lookup_exact(surface)[0]


@lru_cache(maxsize=200_000)
def lookup_exact(surface: str) -> tuple[Known | None, bool]:
    """The gazetteer entry of a surface form and whether it matched without removing an ending."""
    known, stems = gazetteer()
    form = normalize(surface)
    # A name's final dot is cut as sentence punctuation ("U.S" of "U.S."): put it back to look it up.
    found = known.get(form) or (known.get(form + ".") if "." in form else None)
    if found is not None:
        return found, True
    if ARABIC.search(form):
        for prefix in ("", *ARABIC_PREFIXES):
            rest = form[len(prefix):] if form.startswith(prefix) else None
            if prefix == "ل" and form.startswith("لل"):
                rest = "ا" + form[1:]  # "للأمم المتحدة": li- + al- written as "لل"
            if rest is None or len(rest) < 3:
                continue
            found = known.get(rest) or (known.get(rest[2:]) if rest.startswith("ال") and " " not in rest else None)
            if found is not None:
                break
        return found, True
    if len(form.split()) <= MAX_NGRAM:
        stem = stem_of(form)
        for cut in range(0, 3):
            candidate = stem[: len(stem) - cut] if cut else stem
            if len(candidate) >= MIN_STEM and candidate in stems and len(form) >= stems[candidate][1]:
                found = stems[candidate][0]
                break
    return found, False


@lru_cache(maxsize=1)
def _prefix_index() -> dict[tuple[str, ...], list[tuple[tuple[str, ...], Known]]]:
    """Latin and Cyrillic gazetteer forms by the first letters of each word, for inflected look-ups."""
    index: dict[tuple[str, ...], list[tuple[tuple[str, ...], Known]]] = defaultdict(list)
    for form, entry in gazetteer()[0].items():
        words = tuple(strip_accents(form).split())
        if not ARABIC.search(form) and all(len(w) >= INFLECTED_PREFIX for w in words):
            index[tuple(w[:INFLECTED_PREFIX] for w in words)].append((words, entry))
    return index


def _common_prefix(a: str, b: str) -> int:
    """Number of leading characters two words share."""
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return size


def inflected(form: str) -> Known | None:
    """The gazetteer entry whose words the words of `form` inflect, word by word ("Wielkiej Brytanii" ->
    "Wielka Brytania", "Unii Europejskiej" -> "Unia Europejska"): each word keeps all but the last
    INFLECTED_CHANGE letters of the listed word and adds at most INFLECTED_GROWTH; the longest agreement wins
    ("Australii" is Australia, not Austria)."""
    words = tuple(strip_accents(form).split())
    best, best_score = None, 0
    for listed, entry in _prefix_index().get(tuple(w[:INFLECTED_PREFIX] for w in words), ()):
        if len(listed) != len(words) or (entry.city and len(words) == 1 and len(listed[0]) < MIN_INFLECTED_CITY):
            continue  # "Komisji" is not the city Komor: short city names only match as written
        score = 0
        for mine, theirs in zip(words, listed, strict=True):
            common = _common_prefix(mine, theirs)
            if common < max(INFLECTED_PREFIX, len(theirs) - INFLECTED_CHANGE) or len(mine) - common > INFLECTED_GROWTH \
                    or not _ENDING_LETTERS.issuperset(mine[common:]):
                break
            score += common
        else:
            if score > best_score:
                best, best_score = entry, score
    return best


@lru_cache(maxsize=1)
def multiword_starts() -> frozenset[str]:
    """First words of the gazetteer's multi-word forms: a word that starts none opens no longer match, so
    the look-up of its 2- to 4-word surfaces is skipped (Arabic words may carry a clitic and are not)."""
    return frozenset(match.group() for form in gazetteer()[0] if " " in form
                     for match in [WORD_SPAN.match(form)] if match)


@lru_cache(maxsize=1)
def country_stems() -> dict[str, Known]:
    """One-word country names by stem, with and without final vowels ("българ", "британ", "росси", "росс"):
    the stems peoples' names are made from. Stems shared by two countries are left out."""
    stems: dict[str, Known] = {}
    clashes: set[str] = set()
    for form, entry in gazetteer()[0].items():
        if entry.type != "LOC" or entry.city or " " in form or ARABIC.search(form):
            continue
        form = strip_accents(form)
        for stem in {form[:-1], re.sub(r"[aeiouyаеиоуыэюяёєіїъь]+$", "", form)}:
            if len(stem) >= MIN_DEMONYM_STEM:
                if stems.get(stem, entry) != entry:
                    clashes.add(stem)
                stems[stem] = entry
    return {s: e for s, e in stems.items() if s not in clashes}


