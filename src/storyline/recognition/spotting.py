"""Spotting: find the mentions of people, organisations and places in one text.

There is no trained NER model that works offline for most of storyline's languages, so spotting is a short
cascade, every step driven by per-language data tables (data/name_words.json, organisations.json):

1. the gazetteer in any script (`storyline.recognition.gazetteer`: CLDR countries and cities, US states, a
   multilingual alias table of organisations, groupings and news media, "Quartet" / "الرباعية" / "Квартет");
   Slavic case endings are tolerated;
2. capitalised runs in Latin and Cyrillic, split at gazetteer matches, with leading titles and
   sentence-initial function words removed ("Foreign Minister Sergey Lavrov" -> "Sergey Lavrov");
3. role patterns for Arabic, which has no capitals ("وزير الخارجية الروسي سيرغي لافروف").

Each mention comes out as a `_Span` with a type guess; gazetteer matches already carry their entity key,
the others are keyed by `storyline.recognition.resolution`.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from storyline.normalize import ARABIC, CYRILLIC, WORD_SPAN, normalize, strip_accents
from storyline.recognition.gazetteer import (
    GAZETTEER_LANGS,
    MAX_NGRAM,
    MIN_DEMONYM_STEM,
    country_stems,
    data_table,
    gazetteer,
    inflected,
    lookup,
    lookup_exact,
    multiword_starts,
)

# Languages that inflect names (Trump -> Trumpa, Лавров -> Лаврова): their name keys drop case endings.
INFLECTING = frozenset({"ru", "uk", "bg", "cs", "pl", "sl", "hr", "sk", "sr", "be", "mk"})
# Languages that capitalise every noun, so capitalisation says little: a capitalised word is a common noun
# when it is frequent in the language (Zipf >= NOUN_ZIPF) and much rarer in the other western languages
# (by NOUN_GAP): "Streit" 4.6 vs 2.2, "Ausschuss" 4.2 vs 0, while surnames are frequent abroad too or rarer
# at home ("Merkel" 4.8 vs 3.9, "Scholz" 4.0 vs 2.3, "Söder" 3.7). Such nouns head no name ("Fluss
# Kessara" is Kessara) and are no name alone. Chosen on 28 frequent German nouns and 26 German politicians'
# surnames from wordfreq: all surnames kept, 25 nouns caught (missed: "Strom", "Minister", "Kubikmeter").
NOUN_CAPITALISING = frozenset({"de", "lb"})
NOUN_ZIPF = 4.0
NOUN_GAP = 2.4
NOUN_REFERENCE_LANGUAGES = ("en", "fr", "es", "it", "nl")
# wordfreq Zipf frequency from which a sentence-initial word that the batch also writes in lower case heads no
# name phrase ("Решение суда"). BSNLP dev relaxed F1 0.819 -> 0.821 at 3.0 and at 4.0, every topic up.
COMMON_HEAD_ZIPF = 3.0
# Letters a continuation word may add to its stem ("parlament-u", "комиси-ята", "правительств-ом"): more are
# another word with the same start ("uni-ewinnił", "dom-agają", "stan-owią").
MAX_CONTINUATION_ENDING = 3
# A line of at least TITLE_CASE_WORDS words whose words longer than TITLE_CASE_SHORT letters all start with a
# capital, at least TITLE_CASE_ORDINARY of them after the first frequent words (wordfreq Zipf >= TITLE_CASE_ZIPF:
# "Urges" 3.7, "Meets" 4.4; "Sergey" 3.2) or function words, is a title-case heading (_title_case_lines).
TITLE_CASE_WORDS = 4
TITLE_CASE_SHORT = 3
TITLE_CASE_ORDINARY = 2
TITLE_CASE_ZIPF = 3.5
# Shortest title that ends a compound title in a language that writes compounds ("Regierungs-sprecher").
MIN_COMPOUND_TITLE = 5
# Longest all-capital word split off the front of a run as an acronym ("МИД", "NATO", "OSCE").
MAX_ACRONYM = 5
# wordfreq Zipf frequency from which a word written in capitals is a common word of a heading ("QUE" 7.5,
# "TUTTI" 6.2, "QUI" 6.9) rather than an acronym; news acronyms are rarer as words ("PP" 5.0, "UE" 4.4, "CIA"
# 4.2 in Spanish).
CAPITALS_WORD_ZIPF = 5.5
# Capitalised runs longer than this are titles of things, not people ("Juan Carlos de Borbón" is the limit).
MAX_PERSON_WORDS = 4
# Words a sentence may start with that are common words, not names: wordfreq Zipf frequency at or above
# this in the article's language (3.0 = once per million words), unless the text also capitalises the word
# mid-sentence. Chosen on BSNLP dev relaxed F1: 4.0 -> 0.787, 3.0 -> 0.800, 2.5 -> 0.801 (kept 3.0, the
# plateau, so rarer names that only open a sentence survive).
SENTENCE_START_ZIPF = 3.0
# A single capitalised word that the batch also writes in lower case is a common word capitalised in a
# heading or a legal title ("Договору", "Угоди"), unless it names a body ("Komisji", "Рада") mid-sentence;
# only words of at least this wordfreq Zipf frequency, so rare names that are also rare nouns survive. On
# BSNLP dev relaxed F1: rule off 0.803, Zipf 0 -> 0.810, 3.5 -> 0.810 (3.0 kept, as for sentence starts).
LOWER_WORD_ZIPF = 3.0

# Upper-case letters of the Latin and Cyrillic blocks (Latin Extended mixes cases, so they are listed).
_UPPER = "".join(sorted({c for c in map(chr, range(0x41, 0x530)) if c.isupper() and c.isalpha()})).replace(
    "-", "")
_WORD_BODY = r"[\w'’.-]*\w"
# Lower-case particles inside a name, up to two in a row ("Ursula von der Leyen", "Juan de la Vega"). The
# articles among them are particles only after another one: "Wassers der Kessara" is a noun and a genitive.
_ARTICLE_PARTICLES = ("der", "la", "le")
_PARTICLES = ("al", "el", "bin", "ibn", "de", "del", "da", "di", "dos", "von", "van", "du", "аль", "ибн", "фон", "де",
              *_ARTICLE_PARTICLES)
# A capitalised word right before a position (searched with the position as its end), and how far back:
# a name word, where it does not start its sentence.
_NAME_WORD_BEFORE = re.compile(rf"(?<![\w.-])[{re.escape(_UPPER)}][^\W\d_]+[ \u00a0]$")
MAX_NAME_WORD = 40
# The two words right before a position on its line (searched with the position as its end), and the
# prepositions that join a kind of place to its name ("ciudad de Deraa", "ville de Homs").
_WORDS_BEFORE = re.compile(r"(?:([^\W\d_]+)[ \u00a0])?([^\W\d_]+)[ \u00a0]$")
_PLACE_LINKS = frozenset({"de", "del", "di", "du", "della", "dello"})
# A word of a name as `_WordCounts` counts it ("Biden", "al-Maliki", "O'Neill"), and the longest run counted:
# a head and a tail of at most three words.
_NAME_TOKEN = re.compile(r"[^\W\d_][\w'’-]*")
MAX_COUNTED_WORDS = 4
_CAPITALISED = re.compile(
    rf"(?:(?<=[\s\"'«“„(\[/])|^)"
    rf"(?:[{re.escape(_UPPER)}]{_WORD_BODY}|[{re.escape(_UPPER)}]\.?)"
    rf"(?:[ \t\u00a0]+(?:(?:{'|'.join(_PARTICLES)})[- ]){{0,2}}"
    rf"(?:[{re.escape(_UPPER)}]{_WORD_BODY}))*",
    re.UNICODE,
)
_LOWER_WORD = re.compile(r"(?<![\w.-])[^\W\d_A-Z\u0400-\u042f][^\W\d_]*(?![\w.-])")
# A sentence starts after end punctuation, a line break or a dash, maybe with an opening quote ("„Víme").
_SENTENCE_START = re.compile(r"(?:^|[.!?؟:…\"”“»]\s*|\n\s*|[-–—]\s+)[\"'«“„(\[]?$")
# An English possessive ("Malta's"), and what a gazetteer match leaves before the next name.
_POSSESSIVE = re.compile(r"(\w+)['’]s")
_LEFTOVER = re.compile(r"(?:['’]s\b|\W)*")
_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u0671-\u06d3]+")
# The Arabic article written as a word of its own in a Latin or Cyrillic name ("Karim Al Haddad").
_ARTICLE_TOKENS = frozenset({"al", "el", "аль", "эль"})
# The Arabic article joined to a name word by a hyphen ("al-Assad", "el-Sisi", "ash-Shara").
_JOINED_ARTICLE = re.compile(r"^(?:[AaEe]l|[Aa][dnrstz]|[Aa]sh|[Аа]ль|[Ээ]ль)-(?=\w)")
# Languages not written in the Latin script (Serbian, written in both, is left out).
_SCRIPT_OF_LANGUAGE = {"ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic", "be": "cyrillic", "mk": "cyrillic",
                       "ar": "arabic", "fa": "arabic", "ur": "arabic"}


@dataclass(frozen=True, slots=True)
class _Words:
    titles: frozenset[str]
    function: frozenset[str]
    org_heads: frozenset[str]
    roles: tuple[tuple[str, ...], ...]
    stop: frozenset[str]
    continuations: tuple[str, ...]
    adjective_endings: tuple[str, ...]
    links: tuple[str, ...] = ()
    demonyms: frozenset[str] = frozenset()
    misc_heads: frozenset[str] = frozenset()
    generic_heads: frozenset[str] = frozenset()
    place_nouns: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    text: str
    type: str
    key: str
    strong: bool = False  # found by a gazetteer or a role pattern, not by capitals alone


@cache
def _words(lang: str | None) -> _Words:
    """The word tables of one language, or of all languages merged when it is unknown or has no table."""
    table = data_table("name_words.json")
    langs = [lang] if lang in table else [k for k in table if not k.startswith("_")]
    merged: dict[str, set[str]] = defaultdict(set)
    for code in langs:
        groups = table[code]
        if isinstance(groups, dict):
            for group, words in groups.items():
                merged[group].update(words)
    # Titles and function words of English and Arabic count everywhere: news in any language quotes them.
    if lang in table:
        for extra in ("en", "ar"):
            groups = table[extra]
            if isinstance(groups, dict):
                merged["titles"].update(groups.get("titles", []))
    roles = tuple(sorted((tuple(normalize(r).split()) for r in merged["roles"]), key=len, reverse=True))
    return _Words(frozenset(w.casefold() for w in merged["titles"]), frozenset(merged["function"]),
                  frozenset(merged["org_heads"]), roles, frozenset(normalize(w) for w in merged["stop"]),
                  tuple(sorted(merged["continuations"])), tuple(sorted(merged["adjective_endings"])),
                  tuple(sorted(merged["phrase_links"])), frozenset(merged["demonym_endings"]),
                  frozenset(merged["misc_heads"]), frozenset(merged["generic_heads"]),
                  frozenset(merged["place_nouns"]))


@cache
def _org_heads(lang: str | None) -> frozenset[str]:
    """Words that make a name a body's, in the language and in English, which news in any language quotes
    ("sondażu Monmouth University")."""
    return _words(lang).org_heads | _words("en").org_heads


@lru_cache(maxsize=1)
def _wide_calendar_words() -> frozenset[str]:
    """Full month and weekday names only: abbreviations are first names too ("Jan Novák", "Mar")."""
    from babel.dates import get_day_names, get_month_names

    words: set[str] = set()
    for lang in GAZETTEER_LANGS:
        for context in ("format", "stand-alone"):
            words.update(get_month_names("wide", context, locale=lang).values())
            words.update(get_day_names("wide", context, locale=lang).values())
    return frozenset(w.casefold() for w in words)


@lru_cache(maxsize=1)
def _calendar_words() -> frozenset[str]:
    """Month and weekday names in every gazetteer language: capitalised in English, never entities."""
    from babel.dates import get_day_names, get_month_names

    words: set[str] = set()
    for lang in GAZETTEER_LANGS:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                words.update(get_month_names(width, context, locale=lang).values())
                words.update(get_day_names(width, context, locale=lang).values())
    return frozenset(w.strip(".").casefold() for w in words)


@lru_cache(maxsize=200_000)
def _zipf(word: str, lang: str | None) -> float:
    """wordfreq Zipf frequency of the lower-cased word in `lang` (0.0 when unknown or in another script)."""
    if not lang or _foreign_script(word, lang):
        return 0.0
    try:
        from wordfreq import zipf_frequency

        return float(zipf_frequency(word.casefold(), lang))
    except (ImportError, LookupError, ValueError):
        return 0.0


def _foreign_script(word: str, lang: str) -> bool:
    """`word` is written in another script than `lang` ("Ryanair" in Ukrainian): wordfreq counts such words
    in the language's text, but they are foreign names there, never its common words."""
    script = "cyrillic" if CYRILLIC.search(word) else "arabic" if ARABIC.search(word) else "latin"
    return script != _SCRIPT_OF_LANGUAGE.get(lang, "latin")


def _noun_head(first: str, lang: str | None, words: int) -> bool:
    """In a language that capitalises nouns, a run's first word that is a common noun or a lower-case
    particle heads no name ("Angaben der Polizei", "Fluss Kessara", "von Qaranis")."""
    return words > 1 and lang in NOUN_CAPITALISING and (first.islower() or _common_noun(first.rstrip(".,:;"), lang))


@lru_cache(maxsize=200_000)
def _common_noun(word: str, lang: str | None) -> bool:
    """True when `lang` capitalises nouns and `word` reads as one of its common nouns (see NOUN_ZIPF)."""
    if lang not in NOUN_CAPITALISING:
        return False
    own = _zipf(word, lang)
    return own >= NOUN_ZIPF and own - max(_zipf(word, other) for other in NOUN_REFERENCE_LANGUAGES) >= NOUN_GAP


@lru_cache(maxsize=200_000)
def _common_word(word: str, lang: str | None) -> bool:
    """True when `word` is a frequent ordinary word of `lang` (wordfreq), so a sentence may start with it."""
    if not lang or _foreign_script(word, lang):
        return False
    try:
        from wordfreq import zipf_frequency

        return zipf_frequency(word.casefold(), lang) >= SENTENCE_START_ZIPF
    except (ImportError, LookupError, ValueError):
        return False


def recognise(text: str, lang: str | None = None, lower: frozenset[str] | None = None) -> list[_Span]:
    """Candidate mentions of one text: gazetteer matches, capitalised runs, Arabic role patterns.

    `lower` is the set of words seen in lower case in the batch: a capitalised word that starts a sentence
    and appears in lower case elsewhere is an ordinary word.
    """
    if lower is None:
        lower = _lower_words([text])
    spans = _gazetteer_spans(text, lower)
    taken = [(s.start, s.end) for s in spans]
    spans += [s for s in _demonym_spans(text, lang) if not _overlaps(s, taken)]
    phrases = _phrase_spans(text, lang, spans, lower)
    spans = [s for s in spans if not _overlaps(s, [(p.start, p.end) for p in phrases])] + phrases
    spans += _capitalised_spans(text, lang, [(s.start, s.end) for s in spans], lower)
    if ARABIC.search(text):
        taken = [(s.start, s.end) for s in spans]
        spans += [s for s in _role_spans(text, lang) if not _overlaps(s, taken)]
    spans = sorted(spans, key=lambda s: s.start)
    return _acronym_of_place(text, spans) if lang in INFLECTING else spans


# Texts whose spotting is remembered (`spotted`): the articles of the open events, which every analysis window
# resolves again as context, and a window's own (a few megabytes of text at most).
SPOTTED_TEXTS = 4096
_SPOTTED: OrderedDict[tuple[str, str | None, frozenset[str]], list[_Span]] = OrderedDict()
_LETTER_RUN = re.compile(r"[^\W\d_]+")


def spotted(text: str, lang: str | None, lower: frozenset[str]) -> list[_Span]:
    """`recognise(text, lang, lower)`, remembered for the SPOTTED_TEXTS texts last asked. The batch's `lower`
    words count only through the words of the text itself (whole runs of letters, case-folded: see
    tests/test_recognition.py), so the memo is keyed by those of them in `lower`, and a text seen again in
    another batch gets exactly what spotting it again would give. Returns copies: resolution keys the spans."""
    key = (text, lang, lower.intersection(m.casefold() for m in _LETTER_RUN.findall(text)))
    found = _SPOTTED.get(key)
    if found is None:
        found = _SPOTTED[key] = recognise(text, lang, lower)
        if len(_SPOTTED) > SPOTTED_TEXTS:
            _SPOTTED.popitem(last=False)
    else:
        _SPOTTED.move_to_end(key)
    return [replace(span) for span in found]


def _acronym_of_place(text: str, spans: list[_Span]) -> list[_Span]:
    """An unknown acronym followed by a place in a case form is one body of that place: "МИД Великобритании",
    "MSZ Polski" (the ministry of foreign affairs of ...), as inflecting languages write it."""
    out: list[_Span] = []
    for span in spans:
        before = out[-1] if out else None
        if (before is not None and span.type == "LOC" and span.key.startswith("g:")
                and text[before.end:span.start] == " " and before.text.isupper()
                and 2 <= len(before.text) <= MAX_ACRONYM and " " not in before.text
                and not before.key.startswith("g:") and not lookup_exact(span.text)[1]):
            out[-1] = _Span(before.start, span.end, text[before.start:span.end], "ORG", "")
            continue
        out.append(span)
    return out


def _starts_sentence(text: str, start: int) -> bool:
    """The word at `start` begins a sentence (or a line, or a quotation after one)."""
    return _SENTENCE_START.search(text[max(0, start - 4):start]) is not None


def _overlaps(span: _Span, taken: Iterable[tuple[int, int]]) -> bool:
    return any(span.start < end and start < span.end for start, end in taken)


def _gazetteer_spans(text: str, lower: frozenset[str] = frozenset()) -> list[_Span]:
    words = list(WORD_SPAN.finditer(text))
    spans: list[_Span] = []
    starts = multiword_starts()
    index = 0
    while index < len(words):
        first = normalize(words[index].group())
        longest = min(MAX_NGRAM, len(words) - index) if first in starts or ARABIC.search(first) else 1
        for size in range(longest, 0, -1):
            start, end = words[index].start(), words[index + size - 1].end()
            surface = text[start:end]
            possessive = _POSSESSIVE.fullmatch(surface) if size == 1 else None
            if possessive and lookup(surface) is None:
                surface = possessive.group(1)  # "Malta's Marsaxlokk": the place without its 's
                end = start + len(surface)
            if size == 1 and not ARABIC.search(surface) and not surface[:1].isupper():
                entry = lookup(surface)  # "brexitu": inflected forms too
                if entry is None or not entry.lowercase:
                    continue  # a lower-case Latin/Cyrillic word is a common word ("union")
            if size == 1:
                known, exact = lookup_exact(surface)
                if known is not None and not exact and not known.lowercase and _adjectival(surface, lower):
                    known = None  # "Pákistánský", "Ирландская": an adjective of the place, not the place
                if known is not None and (_name_before(text, words, index) or (
                        known.city and _name_after(text, words, index))):
                    known = None  # "Северна Ирландия", "Riyadh al-Maliki": part of a longer name
            else:
                form = normalize(surface)
                known = gazetteer()[0].get(form)
                if known is None and ARABIC.search(form):
                    known = lookup(surface)  # "للأمم المتحدة": a clitic on the first word
                if known is not None and known.city and _name_after(text, words, index + size - 1):
                    known = None  # "New York Times": a city opens a longer name
            if known is not None and (size > 1 or len(surface) > 2 or surface.isupper()):
                spans.append(_Span(start, end, surface, known.type, "g:" + known.canonical, strong=True))
                index += size
                break
        else:
            index += 1
    return spans


def _demonym_spans(text: str, lang: str | None) -> list[_Span]:
    """Names of peoples in languages that write them in lower case ("британците", "украинцы"): a country
    stem plus a demonym ending of the language; each is a mention of its country, as BSNLP annotates them."""
    endings = _words(lang).demonyms if lang else frozenset()
    if not endings:
        return []
    stems = country_stems()
    spans: list[_Span] = []
    for match in WORD_SPAN.finditer(text):
        word = strip_accents(match.group().casefold())
        for cut in range(MIN_DEMONYM_STEM, len(word)):
            if word[cut:] in endings and word[:cut] in stems:
                spans.append(_Span(match.start(), match.end(), match.group(), "PER",
                                   "g:" + stems[word[:cut]].canonical, strong=True))
                break
    return spans


def _adjectival(surface: str, lower: frozenset[str]) -> bool:
    """A word that only matched a place by losing its ending and that the batch also writes in lower case:
    an adjective of the place ("pákistánský", "ирландская", "britanski"); case forms of a place name
    ("Pákistánu", "Ирландии") are never written in lower case."""
    return " " not in surface and surface.casefold() in lower


def _name_before(text: str, words: list[re.Match[str]], index: int) -> bool:
    """The word before words[index] is a capitalised name word of the same phrase (not a title, function
    word, sentence start or place), so the two make one name."""
    if index == 0 or ARABIC.search(words[index].group()):
        return False
    before = words[index - 1]
    form = before.group()
    if text[before.end():words[index].start()] not in {" ", "\u00a0"} or not form[:1].isupper():
        return False
    if _starts_sentence(text, before.start()) or form.isupper():
        return False
    if bool(CYRILLIC.search(form)) != bool(CYRILLIC.search(words[index].group())):
        return False
    words_ = _words(None)
    return not (form in words_.function or form.casefold() in words_.titles or lookup(form) is not None)


def _name_after(text: str, words: list[re.Match[str]], index: int) -> bool:
    """The word after words[index] continues a name: capitalised, or an "al-" particle, one space apart."""
    if index + 1 >= len(words):
        return False
    after = words[index + 1]
    form = after.group()
    return text[words[index].end():after.start()] in {" ", "\u00a0"} and (
        form[:1].isupper() or re.match(r"(?:al|el|ibn|bin|аль)-", form) is not None)


def _lower_words(texts: Iterable[str]) -> frozenset[str]:
    """Words written in lower case somewhere in these texts."""
    return frozenset(w for t in texts for w in _LOWER_WORD.findall(t))


def lower_words_in_order(texts: Sequence[tuple[str, str]], before: Sequence[str],
                         size: int) -> dict[str, frozenset[str]]:
    """For each (id, text), in publication order, the words written in lower case in it and in the `size`
    texts that come before it: the `before` ones (nearest first), then the earlier of `texts`. What spotting
    reads as a batch's lower-case words (any language: names quoted in German are English words elsewhere),
    made the same whichever batches a stream comes in. Each set holds only the text's own words, which is
    all spotting reads of it (see `spotted`)."""
    found: dict[str, frozenset[str]] = {}
    recent = deque(_lower_words([text]) for text in reversed(before[:size]))
    counts: Counter[str] = Counter()
    for words in recent:
        counts.update(words)
    for item_id, text in texts:
        own = _lower_words([text])
        found[item_id] = frozenset(w for w in {m.casefold() for m in _LETTER_RUN.findall(text)}
                                   if w in own or counts[w] > 0)
        recent.append(own)
        counts.update(own)
        if len(recent) > size:
            gone = recent.popleft()
            counts.subtract(gone)
            for word in gone:
                if counts[word] <= 0:
                    del counts[word]
    return found


@cache
def _phrase_pattern(lang: str | None) -> re.Pattern[str] | None:
    """Capitalised word, up to two lower-case words, a continuation word of `lang`, maybe a place after it.
    The continuation stems are part of the pattern so the regex backtracks over the lower-case words."""
    stems = _words(lang).continuations if lang else ()
    if not stems:
        return None
    upper = re.escape(_UPPER)
    tail = "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True))
    # Words between the capitalised head and the continuation are adjectives ("Světová obchodní organizace").
    adjective = "|".join(re.escape(e) for e in sorted(_words(lang).adjective_endings, key=len, reverse=True))
    link = "|".join(re.escape(w) for w in _words(lang).links)  # "съд на Пакистан"
    return re.compile(
        rf"(?<![\w.-])(?P<head>[{upper}][^\W\d_]+)"
        rf"(?:[ \u00a0][^\W\d_{upper}][^\W\d_]*(?:{adjective or 'x^'})){{0,2}}?"
        rf"[ \u00a0](?P<tail>(?:{tail})[^\W\d_]{{0,{MAX_CONTINUATION_ENDING}}})(?![\w-])"
        rf"(?:[ \u00a0](?:(?:{link or 'x^'})[ \u00a0])?(?P<place>[{upper}][^\W\d_]+))?"
    )


def _common_head(head: str, lang: str | None, lower: frozenset[str]) -> bool:
    """A sentence-initial head that is a function word or a frequent non-adjective the batch writes in lower
    case ("Это решение суда", "Решение суда"): the phrase is a description, not a name."""
    words = _words(lang)
    return head in words.function or (head.casefold() in lower and _zipf(head, lang) >= COMMON_HEAD_ZIPF
                                      and not head.casefold().endswith(words.adjective_endings))


def _phrase_spans(text: str, lang: str | None, gazetteer: list[_Span],
                  lower: frozenset[str] = frozenset()) -> list[_Span]:
    """Names of languages that capitalise only their first word: "Evropská komise", "Верховный суд Пакистана"."""
    pattern = _phrase_pattern(lang)
    if pattern is None:
        return []
    spans: list[_Span] = []
    multi = [(g.start, g.end) for g in gazetteer if " " in g.text]
    for match in pattern.finditer(text):
        start, end = match.start(), match.end()
        if match.group("place") and lookup(match.group("place")) is None:
            end = match.end("tail")  # "Европейския съвет Доналд Туск": a person follows
        head = match.group("head")
        if _starts_sentence(text, start) and (
                head.casefold() in _words(lang).titles or _common_head(head, lang, lower)):
            continue
        known = lookup(text[start:end]) or inflected(normalize(text[start:end]))
        before = _NAME_WORD_BEFORE.search(text, max(0, start - MAX_NAME_WORD), start)
        if known is None and before is not None and not _starts_sentence(text, before.start()):
            continue  # "Andreje Babiše vláda", "Mateusza Morawieckiego rząd": a person's (genitive), no name
        span = _Span(start, end, text[start:end], known.type if known else "ORG",
                     "g:" + known.canonical if known else "", strong=known is not None)
        if not _overlaps(span, multi):
            spans.append(span)
    return spans


def _capitalised_spans(text: str, lang: str | None, taken: list[tuple[int, int]],
                       lower: frozenset[str]) -> list[_Span]:
    words = _words(lang)
    calendar = _calendar_words()
    spans: list[_Span] = []
    matches = list(_CAPITALISED.finditer(text))
    headings = _title_case_lines(text, lang)
    written = _WordCounts(text)
    # Words capitalised inside a multi-word run or mid-sentence are names even where a sentence starts with
    # them ("Gómez habló", after "Pedro Gómez"; "Assad dijo", after "Bashar al-Assad").
    names = frozenset(
        n for m in matches if not _inside(m.start(), headings)
        for w in m.group().split()[1 if _starts_sentence(text, m.start()) else 0:]
        for n in {w, _JOINED_ARTICLE.sub("", w)}
    )
    for match in matches:
        pieces = [p for piece in _cut(match.start(), match.end(), taken) for p in _by_script(text, *piece)]
        if _inside(match.start(), headings):
            pieces = [p for piece in pieces for p in _runs_of_names(text, *piece, names)]
        pieces = [p for piece in pieces for p in _after_acronym(text, *piece)]
        pieces = [p for piece in pieces for p in _before_title(text, *piece, words)]
        pieces = [p for piece in pieces for p in _after_body(text, *piece, _org_heads(lang), written)]
        if lang in INFLECTING:
            pieces = [p for piece in pieces for p in _after_place(text, *piece)]
        for start, end in pieces:
            span = _name_span(text, start, end, lang, words, calendar, lower, names)
            if span is not None:
                spans.append(span)
    return spans


def _title_case_lines(text: str, lang: str | None) -> list[tuple[int, int]]:
    """Lines that capitalise every longer word, ordinary words too ("Russia Urges De-escalation In East
    Jerusalem"), as English headlines do: there capitals tell nothing about names. A line of names and titles
    ("Foreign Minister Sergey Lavrov met Hadi Amr") is no heading. Languages that capitalise nouns have none."""
    if lang in NOUN_CAPITALISING:
        return []
    words_ = _words(lang)
    lines: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        words = re.findall(r"[^\W\d_][\w'’-]*", line.group())
        longer = [w for w in words if len(w) > TITLE_CASE_SHORT]
        if len(words) < TITLE_CASE_WORDS or not all(w[0].isupper() for w in longer):
            continue
        ordinary = [w for w in words[1:] if w[0].isupper() and (w in words_.function or (
            _zipf(w, lang) >= TITLE_CASE_ZIPF and w.casefold() not in words_.titles and lookup(w) is None))]
        if len(ordinary) >= TITLE_CASE_ORDINARY:
            lines.append((line.start(), line.end()))
    return lines


def _inside(position: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in ranges)


def _runs_of_names(text: str, start: int, end: int, names: frozenset[str]) -> list[tuple[int, int]]:
    """The runs of words in [start, end) that the text also capitalises outside title-case lines: what is
    left of a title-case heading's capitals ("Urges De-escalation In East Jerusalem" -> "East Jerusalem")."""
    runs: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for word in re.finditer(r"\S+", text[start:end]):
        if word.group().rstrip(".,:;'’") in names or word.group() in names:
            a, b = start + word.start(), start + word.end()
            current = (current[0], b) if current else (a, b)
        elif current:
            runs.append(current)
            current = None
    return runs + ([current] if current else [])


def _by_script(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a run where the script changes between words ("Brexit Дэвид Дэвис")."""
    pieces: list[tuple[int, int]] = []
    piece_start, script = start, None
    for word in re.finditer(r"\S+", text[start:end]):
        here = "cyr" if CYRILLIC.search(word.group()) else "lat"
        if script is not None and here != script:
            pieces.append((piece_start, start + word.start()))
            piece_start = start + word.start()
        script = here
    pieces.append((piece_start, end))
    # Pieces left by a gazetteer cut start with the space after it: without it, a place is not looked up as
    # " Домінік" (whose extra letter passes for the ending of "Домініка").
    trimmed = [(a + len(text[a:b]) - len(text[a:b].lstrip()), a + len(text[a:b].rstrip())) for a, b in pieces]
    return [(a, b) for a, b in trimmed if a < b]


def _after_acronym(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a leading acronym from a following full name: "МИД Борис Джонсон" -> "МИД", "Борис Джонсон"."""
    words = list(re.finditer(r"\S+", text[start:end]))
    first = words[0].group() if words else ""
    if len(words) >= 3 and first.isupper() and len(first) <= MAX_ACRONYM and not any(
            w.group().isupper() for w in words[1:]):
        return [(start, start + words[0].end()), (start + words[1].start(), end)]
    return [(start, end)]


def _before_title(text: str, start: int, end: int, words: _Words) -> list[tuple[int, int]]:
    """Split a run where titles begin inside it and a name follows them: "Qaranis Foreign Minister Kareem
    Al-Hadad" -> "Qaranis", "Foreign Minister Kareem Al-Hadad" (whose titles _name_span then strips)."""
    tokens = list(re.finditer(r"\S+", text[start:end]))
    titles = [t.group().rstrip(".,:;").casefold() in words.titles for t in tokens]
    if any(t.group() in words.org_heads for t in tokens):
        return [(start, end)]  # "Norwegian Foreign Ministry": a body, whose adjectives are no titles
    for index in range(1, len(tokens) - 1):
        if titles[index] and not titles[index - 1] and not all(titles[index:]):
            return [(start, start + tokens[index - 1].end()), (start + tokens[index].start(), end)]
    return [(start, end)]


class _WordCounts:
    """How often each run of up to MAX_COUNTED_WORDS words is written in a text, counted once, when first
    asked (most texts never are)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._counts: Counter[tuple[str, ...]] | None = None

    def __getitem__(self, words: tuple[str, ...]) -> int:
        if self._counts is None:
            tokens = _NAME_TOKEN.findall(self.text)
            self._counts = Counter(tuple(tokens[i:i + size]) for size in range(1, MAX_COUNTED_WORDS + 1)
                                   for i in range(len(tokens) - size + 1))
        return self._counts[words]


def _after_body(text: str, start: int, end: int, heads: frozenset[str], written: _WordCounts) -> list[tuple[int, int]]:
    """Split a body's name from a name the text writes without it: "sondażu Monmouth University Biden może
    ..." -> "Monmouth University", "Biden". A tail that is itself a head stays ("Oxford University Press"),
    and so does a tail the text never writes but after the head ("Columbia University Medical Center").
    Word runs are counted once per text: counting each tail in the whole text made a text of many such runs
    quadratic."""
    tokens = [(m.start(), m.end(), m.group()) for m in _NAME_TOKEN.finditer(text, start, end)]
    for index in range(1, len(tokens) - 1):
        tail = tuple(t[2] for t in tokens[index + 1:])
        if (tokens[index][2] in heads and tail[-1] not in heads and len(tail) < MAX_COUNTED_WORDS
                and written[tail] > written[(tokens[index][2], *tail)]):
            return [(start, tokens[index][1]), (tokens[index + 1][0], end)]
    return [(start, end)]


def _after_place(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a leading (inflected) place or body from the name after it, as inflecting languages write
    "министр Великобритании Борис Джонсон", "predsjednik Europskog vijeća Donald Tusk"."""
    words = list(re.finditer(r"\S+", text[start:end]))
    for size in range(min(len(words) - 1, 3), 0, -1):
        head = text[start:start + words[size - 1].end()]
        if (lookup(head) is not None or (size > 1 and inflected(normalize(head)) is not None)) and not any(
                w.group()[:1].islower() for w in words[size:size + 1]):
            return [(start, start + words[size - 1].end()), (start + words[size].start(), end)]
    return [(start, end)]


def _cut(start: int, end: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pieces of [start, end) outside the gazetteer spans."""
    pieces = [(start, end)]
    for t_start, t_end in taken:
        if t_start < end and start < t_end:
            pieces = [p for a, b in pieces for p in ((a, min(b, t_start)), (max(a, t_end), b)) if p[0] < p[1]]
    return pieces


def _name_span(text: str, start: int, end: int, lang: str | None, words: _Words,
               calendar: frozenset[str], lower: frozenset[str], names: frozenset[str]) -> _Span | None:
    """A capitalised run cleaned of titles, function words and trailing punctuation; None when nothing is left."""
    # What a gazetteer cut leaves: "....We" of "Quartet....We", "'s Marsaxlokk" of "Malta's Marsaxlokk".
    leftover = _LEFTOVER.match(text, start, end)
    start = leftover.end() if leftover else start
    chunk = text[start:end]
    parts = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", chunk)]
    titled = False
    while parts:
        first = text[parts[0][0]:parts[0][1]]
        plain = first.rstrip(".,:;").casefold()
        if first in words.org_heads:
            break
        if plain in words.titles or (lang in NOUN_CAPITALISING and plain.endswith(_compound_titles(lang))):
            titled = True  # German compounds end in their title: "Kommissionspräsidentin", "Regierungssprecher"
        elif not (first in words.function or first in _PARTICLES or _noun_head(first, lang, len(parts)) or (
            plain in calendar and (plain in _wide_calendar_words() or len(parts) == 1)
        ) or not any(c.isalpha() for c in first) or (
            len(parts) > 1 and _starts_sentence(text, parts[0][0])
            and plain in lower  # wordfreq knows first names too ("Anna", "Сергей"): only the batch decides
        )):
            break
        parts = parts[1:]
    while parts and text[parts[-1][0]:parts[-1][1]].rstrip(".,:;").casefold() in calendar and (
            len(parts) == 1 or re.match(r"\s*\d", text[parts[-1][1]:]) is not None):
        parts = parts[:-1]  # "Monday", "on May 5"; but "Theresa May" is a person
    if not parts:
        return None
    start, end = parts[0][0], parts[-1][1]
    surface = re.sub(r"['’](?:s|a|u|e|om|em|ом|а|у)?$", "", text[start:end]).rstrip(".'’-,:;")
    end = start + len(surface)
    if not surface or not any(c.isalpha() for c in surface) or (len(surface) < 2):
        return None
    if re.fullmatch(r"\w(?:-\w)+", surface):
        return None  # a caption's direction ("(L-R)"), not an acronym
    tokens = surface.split()
    sentence_start = bool(_starts_sentence(text, start))
    place, exact = lookup_exact(surface)
    acronym = surface.isupper() and 2 <= len(surface) <= MAX_ACRONYM  # "ČTK", "PAP": agencies sign off
    if len(tokens) == 1 and not titled and sentence_start and (surface in words.function or (
        (_common_word(surface, lang) or surface.casefold() in lower
         or (lang in INFLECTING and surface.casefold().endswith(words.adjective_endings)))
        and (_JOINED_ARTICLE.sub("", surface) not in names or _adjective_in_lower(surface, lang, words, lower))
        and not acronym and (place is None or (
            not exact and not place.lowercase and _adjectival(surface, lower)))
    )):
        return None  # a common word that only starts a sentence
    if len(tokens) == 1 and not titled and not surface.isupper() and surface.casefold() in lower and (
            _zipf(surface, lang) >= LOWER_WORD_ZIPF) and lookup(surface) is None and (
            sentence_start or not surface.casefold().startswith(words.continuations)):
        return None  # a common word the batch also writes in lower case, capitalised in a heading or a title
    if len(tokens) == 1 and not titled and _common_noun(surface, lang) and lookup(surface) is None:
        return None  # a German common noun
    if len(tokens) == 1 and surface.isupper() and not titled and _zipf(surface, lang) >= CAPITALS_WORD_ZIPF and (
            lookup(surface) is None):
        return None  # "QUE", "TUTTI": an ordinary word of a heading in capitals, no acronym
    if len(tokens) == 1 and surface in words.generic_heads:
        return None  # "the (Foreign) Ministry": which one the context says, the name does not
    # Only names that passed the filters above are compared with inflected gazetteer forms ("Wielkiej
    # Brytanii"): a capitalised adjective would otherwise become its country.
    known, exact = lookup_exact(surface)
    if known is not None and not exact and not known.lowercase and _adjectival(surface, lower):
        known = None
    known = known or (inflected(normalize(surface)) if lang in INFLECTING else None)
    if known is not None:
        return _Span(start, end, surface, known.type, "g:" + known.canonical, strong=True)
    # Particles and a free-standing Arabic article are no names of their own: "Al Jazeera" is one name word,
    # too few for a person.
    named = [t for i, t in enumerate(tokens) if not _particle(tokens, i, lang) and t.casefold() not in _ARTICLE_TOKENS]
    if tokens[-1] in words.misc_heads:
        kind = "MISC"  # "Six-Day War", "Abraham Accords"
    elif any(t in _org_heads(lang) for t in tokens) or (surface.isupper() and len(surface) <= 6):
        kind = "ORG"
    elif titled or (2 <= len(named) <= MAX_PERSON_WORDS and not any(
            t.casefold() in lower or lookup(t) is not None for t in named[1:])):
        # A person's name has no word that the batch also writes in lower case ("White House", "Six-Day
        # War", "Getty Images"), particles aside ("von der Leyen"), and no place in it.
        kind = "PER"
    else:
        kind = "MISC"
    if kind != "ORG" and not titled and _after_place_noun(text, start, words.place_nouns):
        kind = "LOC"  # "la mezquita Omari", "ciudad de Deraa", "place Tahrir": the place the noun says
    return _Span(start, end, surface, kind, "", strong=titled)


def _after_place_noun(text: str, position: int, nouns: frozenset[str]) -> bool:
    """Whether a noun of a kind of place stands right before `position`, or before a "de" there."""
    found = _WORDS_BEFORE.search(text, max(0, position - MAX_NAME_WORD), position)
    if found is None:
        return False
    noun, link = (found.group(1) or "").casefold(), found.group(2).casefold()
    return link in nouns or (link in _PLACE_LINKS and noun in nouns)


def _particle(tokens: list[str], index: int, lang: str | None) -> bool:
    """tokens[index] is a name particle: "von", "de"; "der", "la" only after one ("von der", "de la"). Where
    nouns are capitalised, "von" is as often a preposition ("Hafenstreik von Marsaxlokk"): only a pair counts."""
    token = tokens[index]
    if token in _ARTICLE_PARTICLES:
        return index > 0 and tokens[index - 1] in _PARTICLES and tokens[index - 1] not in _ARTICLE_PARTICLES
    if lang in NOUN_CAPITALISING and (index + 1 >= len(tokens) or tokens[index + 1] not in _ARTICLE_PARTICLES):
        return False
    return token in _PARTICLES


@cache
def _compound_titles(lang: str | None) -> tuple[str, ...]:
    """Titles of `lang` long enough to end a compound title (German "präsidentin", "sprecher")."""
    return tuple(sorted(t for t in _words(lang).titles if len(t) >= MIN_COMPOUND_TITLE))


def _adjective_in_lower(surface: str, lang: str | None, words: _Words, lower: frozenset[str]) -> bool:
    """An adjective the batch also writes in lower case ("Європейська сторона"): capitalised elsewhere only as
    the first word of a longer name ("Європейська Комісія"), so that does not make it a name on its own."""
    return lang in INFLECTING and surface.casefold() in lower and surface.casefold().endswith(
        words.adjective_endings)


def _role_spans(text: str, lang: str | None) -> list[_Span]:
    """Arabic names after a role phrase: role, then adjectives with the article, then one or two name words."""
    words = _words("ar")
    tokens = list(_ARABIC_WORD.finditer(text))
    forms = [normalize(t.group()) for t in tokens]
    spans: list[_Span] = []
    index = 0
    while index < len(tokens):
        role = next((r for r in words.roles if tuple(forms[index:index + len(r)]) == r), None)
        if role is None:
            index += 1
            continue
        cursor = index + len(role)
        skipped = 0
        while cursor < len(tokens) and forms[cursor].startswith("ال") and skipped < 3 and (
            lookup(forms[cursor]) is not None or forms[cursor].endswith(("ي", "يه", "يين", "يه"))
            or forms[cursor] in {"الخارجيه", "الوزراء", "العام", "الخاص", "الدائم"}
        ):
            cursor += 1
            skipped += 1
        for size in (3, 2):  # the body the role belongs to: "الأمين العام للأمم المتحدة أنطونيو غوتيريش"
            if cursor + size < len(tokens) and lookup(" ".join(forms[cursor:cursor + size])) is not None:
                cursor += size
                break
        name: list[int] = []
        while cursor < len(tokens) and len(name) < 2:
            form = forms[cursor]
            if form in words.stop or lookup(form) is not None or len(form) < 2 or (
                name == [] and form.startswith("ال")
            ):
                break
            if name and tokens[cursor].start() - tokens[name[-1]].end() > 1:
                break
            name.append(cursor)
            cursor += 1
        if len(name) == 2:  # one word after a role is too often a common noun ("رئيس وزراء")
            start, end = tokens[name[0]].start(), tokens[name[-1]].end()
            spans.append(_Span(start, end, text[start:end], "PER", "", strong=True))
        index = max(cursor, index + 1)
    return spans
