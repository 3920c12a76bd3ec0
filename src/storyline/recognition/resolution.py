"""Resolution: give every mention of a batch one entity id across spellings, inflections and scripts.

Spotted names (`storyline.recognition.spotting`) are first grouped by the consonant skeleton of each word
(`names.skeleton`), which ignores spelling variants: a surname alone joins the full name it abbreviates in
the same article or, in the batch, the only or the dominant full name that ends in it; Arabic names join
Latin ones through the skeleton and the learned transliteration model of `storyline.names`; inflected Slavic
forms join their base form.

A skeleton match alone is no evidence (Sanaa, Sinai, Seine, Suzanne and SANA share "sn"), so every group is
then split into the names it holds (`_split_uncorroborated`): two spellings stay one entity only when
corroborated by the same rendering (`names.spelling`: Assad, el-Assad, Асад), by a full name whose last
words the other is, by a near-identical rendering backed by an entity named beside both, by a rendering in
another script with the same initials, or, for Arabic, by the transliteration model. Acronyms and
designations match only as written (BBC is not ABC, F-16 not F-35), and an entity never holds both a person
and an organisation.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from anyascii import anyascii

from storyline.model import Article, Entity, Mention
from storyline.names import (
    latin_key,
    learned_romanisation,
    name_similarity,
    romanise,
    skeleton,
    spelling,
    spelling_similarity,
    translit_logprob,
)
from storyline.normalize import ARABIC, CYRILLIC, normalize
from storyline.recognition.gazetteer import lookup_exact
from storyline.recognition.spotting import (
    _ARABIC_WORD,
    _ARTICLE_TOKENS,
    INFLECTING,
    _lower_words,
    _overlaps,
    _Span,
    spotted,
)

# Languages whose women's surnames add an accented -ová to the man's (Bibi -> Bibiová, May -> Mayová, in
# every case form); the accent tells them from a Russian genitive ("Lavrova" of Lavrov).
FEMININE_OVA = frozenset({"cs", "sk"})
# Skeleton length a possessive (-ov/-ův, "Trumpovu") must keep after its "v" to join a surname: "trmp" yes,
# "m" (Mayov) no, a one- or two-consonant key matches too many names.
MIN_POSSESSIVE_KEY = 3
# Skeleton keys shorter than this are too unspecific to find a learned name in text without capitals
# ("mr" would match half of Arabic words).
MIN_LEARNED_FULL_KEY = 4
MIN_LEARNED_SURNAME_KEY = 4
# A learned Arabic name must also be a likely transliteration of the Latin one: mean log-probability per
# Arabic letter under the learned model. Measured: لافروف/Lavrov -0.32, سافرونكوف/Safronkov -0.44, رياض
# المالكي/Riad al-Maliki -0.78, هادي عمرو/Hadi Amr -1.89 (native Arabic names fit the mostly foreign ANETAC
# names worse); unrelated words score below -6 (الخارجية/Lavrov -6.97). -2.5 sits between.
MIN_TRANSLIT_PER_LETTER = -2.5
# Letters an Arabic surname needs (its article included) to be found alone after its full name: "الأسد" (5)
# and "عمرو" (4) yes, two- and three-letter words are too often ordinary words.
MIN_ARABIC_SURNAME_LETTERS = 4
# An all-capital word joins a surname only with a skeleton key this long: "CPA" (kb) would join Kocabey,
# "ПУТИН" (btn) is Putin in a headline.
MIN_CAPITALS_KEY = 3
# Blocking width of match_names: candidates re-ranked by the learned model per Arabic query. 200 gives
# ANETAC held-out blocking recall 0.977 (50: 0.949) at about 100 queries/s.
MATCH_BLOCK = 200
# Weight of skeleton/spelling similarity next to the learned model for Arabic queries: small, so it only
# reorders near-ties of the model (the ANETAC bench ranks by the model alone); fixes Hadi Amr / Hadi Amri.
ARABIC_TIE_WEIGHT = 0.05
# Weight of the skeleton ratio against the romanised-spelling ratio for same-script and Cyrillic/Latin
# pairs; 0.6 gave 17/19 strict top-1 on the OFFLINE.md hard-distractor test (the two misses exact ties).
SKELETON_WEIGHT = 0.6
# Two different renderings in one script (names.spelling_similarity, with the same initials) from which
# they may be one name: Czech case forms "komisie" / "komisi" 0.86, "obamo" / "obam" 0.8, "bashar asad" /
# "basar asad" 0.91, while "asad" / "sad" 0.75 and "sana" / "sinai" 0.6. BSNLP dev linking pairwise F1
# (bench/entities.py) is flat from 0.70 to 0.85 (0.864) and 0.856 at 0.9; 0.8 keeps one letter in five.
MIN_SPELLING_SIMILARITY = 0.8
# The same for one word of a language that does not inflect names, where a word has no case endings to
# differ by: one letter in six (0.83: "gedafi" / "gadafi") may differ, one in five (0.8: "sini" / "sinai",
# "shana" / "sana") is another name. Set by that reasoning; BSNLP has no such language to fit it on.
MIN_PLAIN_WORD_SIMILARITY = 0.83
# Across Latin and Cyrillic a single word also needs this much spelling agreement besides its initial
# ("tramp" / "trump" 0.8, "muhamad" / "mohamed" 0.71; "sura" / "siri" 0.5 is another name). BSNLP dev
# linking F1: none 0.863, 0.6 and 0.7 -> 0.864, 0.8 -> 0.857.
MIN_CROSS_SCRIPT_SIMILARITY = 0.6
# Share of a surname's full-name mentions in the batch that the commonest full name needs for the bare
# surname to join it when several full names end in it ("Assad": Bashar far more often than Hafez or Maher).
# BSNLP dev linking F1: never 0.856, 0.5 and 0.75 -> 0.864, 0.9 -> 0.862.
DOMINANT_SURNAME_SHARE = 0.75

_VOWEL_END = re.compile(r"[aeiouy]$")
# What may stand between the Arabic words of one name: spaces, and the diacritics and tatweel that split
# _ARABIC_WORD matches ("الحدّاد"); punctuation ends a name.
_ARABIC_GAP = re.compile(r"[\s\u0640\u064b-\u065f\u0670]*")
# Endings that make a possessive adjective of a surname in Slavic languages ("Trumpov", "Obamuv").
_POSSESSIVE_SUFFIXES = ("ov", "ev", "uv")
# Case endings of Slavic names, longest first: removed from each word of an inflecting language's name key.
_SLAVIC_ENDINGS = tuple(sorted(
    ("ovi", "evi", "em", "om", "ou", "ym", "im", "ego", "ogo", "emu", "omu", "ej", "oj", "iem", "ach", "ami",
     "a", "u", "e", "i", "y", "ie", "ia", "iu", "yu", "ya", "ye"),
    key=len, reverse=True,
))


def _word_stem(token: str, lang: str | None) -> str:
    """A name word romanised, without a Czech/Slovak feminine -ová ("Bibiová" -> bibi) and, in inflecting
    languages, without its case ending ("Лаврова", "Ławrowa" -> lavrov, lawrow)."""
    form = normalize(token)
    if lang in FEMININE_OVA:
        form = re.sub(r"(?<=\w\w)(?:ová|ové|ovou|ovej|ovú)$", "", form)  # "Bibiová", "Mayové" -> Bibi, May
    roman = re.sub(r"[^a-z0-9-]", "", anyascii(form).lower())
    if lang in INFLECTING:
        for ending in _SLAVIC_ENDINGS:
            if roman.endswith(ending) and len(roman.rsplit("-", 1)[-1]) - len(ending) >= 3:
                return roman[: -len(ending)]
    return roman


def _token_key(token: str, lang: str | None) -> str:
    """Key of one name word: its skeleton, plus whether it ends in a vowel (Lavrov/Lavrova, Amr/Amri) in
    languages that do not inflect names; inflecting languages drop the case ending instead."""
    roman = _word_stem(token, lang)
    if lang in INFLECTING:
        return skeleton(roman) or re.sub(r"\d", "", roman)
    if ARABIC.search(token):
        return skeleton(token)
    roman = re.sub(r"\d", "", roman)
    return (skeleton(token) or roman) + ("~" if _VOWEL_END.search(roman) else "")


def _loose(key: str) -> str:
    """The key without vowel-ending marks: what an inflected or Arabic form can be compared on."""
    return key.replace("~", "")


def _name_tokens(surface: str) -> list[str]:
    parts = re.split(r"[\s]+", surface.strip())
    return [p for p in parts if p]


@lru_cache(maxsize=200_000)  # the same names recur in every window's articles and its context's
def _name_key(surface: str, lang: str | None) -> str:
    """The key of a name: its words' keys, without a free-standing Arabic article ("Karim Al Haddad" has the
    key of "Karim al-Haddad", whose skeleton drops the joined one; "Al Haddad" is then a surname)."""
    tokens = _name_tokens(surface)
    kept = [t for i, t in enumerate(tokens) if i == len(tokens) - 1 or t.casefold() not in _ARTICLE_TOKENS]
    return " ".join(k for k in (_token_key(t, lang) for t in kept) if k)


@dataclass(slots=True)
class _Doc:
    id: str
    text: str
    lang: str | None
    spans: list[_Span]


def _analyse(docs: list[_Doc], given: Sequence[_Doc] = (),
             lower: Mapping[str, frozenset[str]] | None = None) -> None:
    """Recognise and resolve a batch in place: every span gets its entity key. The `given` documents come
    with their spans found before (not spotted again) and are resolved with the batch. Spotting reads the
    words the batch writes in lower case, or each document's own `lower` words when given."""
    batch = _lower_words(doc.text for doc in [*given, *docs]) if lower is None else frozenset()
    for doc in docs:
        doc.spans = spotted(doc.text, doc.lang, batch if lower is None else lower[doc.id])
    docs = [*given, *docs]
    # Keys of names: full names first, so surnames can join them.
    full: dict[str, Counter[str]] = defaultdict(Counter)  # loose key -> strict keys seen
    for doc in docs:
        for span in doc.spans:
            if not span.key:
                span.key = "n:" + _name_key(span.text, _lang_of(span.text, doc.lang))
                if span.type == "PER" and len(_name_tokens(span.text)) >= 2:
                    full[_loose(span.key)][span.key] += 1
    _learn_in_arabic(docs, full)
    _join_double_surnames(docs)
    _join_surnames(docs)
    _merge_inflected(docs)
    _split_uncorroborated(docs)


def _join_surnames(docs: list[_Doc]) -> None:
    """A surname alone ("Lavrov", "Лаврова") joins a full name whose last word it renders alike: one the
    article names (the batch's commonest when it names several, "Bashar al-Assad" over his brother "Maher
    al-Assad"), else the batch's only such full name or, when there are several, the dominant one (see
    DOMINANT_SURNAME_SHARE). Across articles the surname must be spelled as that last word (names.spelling)
    or written in another script: a near-identical spelling ("Assisi" / "al-Aziziya") is another name unless
    the article itself names the full name."""
    surnames = _surname_index(docs)
    # Words the batch writes as a place ("ciudad de Deraa") as often as the full name they would join: no
    # surname of that person ("Omari de Deraa", a mosque). A lake named after a family leaves "Assad" his.
    places = Counter(span.key for doc in docs for span in doc.spans
                     if span.type == "LOC" and span.key.startswith("n:") and " " not in span.key)
    counts: Counter[str] = Counter()
    last_words: dict[str, set[_Form]] = defaultdict(set)  # full name -> the spellings of its last word
    for doc in docs:
        for span in doc.spans:
            if _full_name(span):
                counts[span.key] += 1
                last_words[span.key].add(_tail(_form(span.text, _lang_of(span.text, doc.lang)), 1))
    for doc in docs:
        local: dict[str, list[tuple[str, _Form]]] = defaultdict(list)  # last-word key -> full names here
        for span in doc.spans:
            if _full_name(span):
                local[_loose(span.key.split()[-1]).removeprefix("n:")].append(
                    (span.key, _tail(_form(span.text, _lang_of(span.text, doc.lang)), 1)))
        for span in doc.spans:
            if not span.key.startswith("n:") or " " in span.key or (
                    span.text.isupper() and len(_loose(span.key[2:])) < MIN_CAPITALS_KEY):
                continue  # "CPA" is no surname
            word = _tail(_form(span.text, _lang_of(span.text, doc.lang)), 1)
            own = span.key[2:]
            loose = _loose(own)
            here = local.get(loose, []) if (loose == own or own + "~" not in local) else []
            if not here and _possessive(own, doc.lang):
                here = local.get(own[:-1], [])
            target = _surname_target(word, here, counts, 0.0)
            if target is not None and places[span.key] >= counts[target]:
                continue
            if target is not None and _same_ending(own, target.split()[-1], doc.lang):
                span.key, span.type = target, "PER"
                continue
            candidates = surnames.get(own) or (surnames.get(loose) if doc.lang in INFLECTING else None)
            if candidates is None and _possessive(own, doc.lang):
                candidates = surnames.get(own[:-1])
            spelled = [(key, last) for key in candidates or () for last in last_words.get(key, ())]
            target = _surname_target(word, spelled, counts, DOMINANT_SURNAME_SHARE, fuzzy=False)
            if target is not None and places[span.key] < counts[target]:
                span.key, span.type = target, "PER"


def _full_name(span: _Span) -> bool:
    return span.type == "PER" and span.key.startswith("n:") and len(_name_tokens(span.text)) >= 2


def _surname_target(word: _Form, candidates: Iterable[tuple[str, _Form]], counts: Counter[str], share: float,
                    fuzzy: bool = True) -> str | None:
    """The full name a surname written `word` abbreviates among `candidates` (full names with a spelling of
    their last word): the only one whose last word it renders alike, or the commonest when it has at least
    `share` of their mentions."""
    agreeing = sorted({key for key, last in candidates if _renderings_agree(word, last, fuzzy)})
    if not agreeing:
        return None
    best = max(agreeing, key=lambda key: (counts[key], key))
    return best if counts[best] >= share * sum(counts[key] for key in agreeing) else None


def _join_double_surnames(docs: list[_Doc]) -> None:
    """A two-word name that an article also writes as the last two words of a longer person's name is that
    person's double surname ("Zammit Pace" of "Roderick Zammit Pace"), in every article of the batch, so the
    name keeps one entity; a two-word name that ends several longer names stays as it is."""
    joins: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        longer = {_loose(" ".join(s.key.split()[-2:])): s.key for s in doc.spans
                  if s.type == "PER" and s.key.startswith("n:") and s.key.count(" ") >= 2}
        for span in doc.spans:
            if span.key.startswith("n:") and span.key.count(" ") == 1:
                target = longer.get(_loose(span.key[2:]))
                if target is not None:
                    joins[span.key].add(target)
    for doc in docs:
        for span in doc.spans:
            if len(joins.get(span.key, ())) == 1:
                span.key, span.type = next(iter(joins[span.key])), "PER"


def _possessive(key: str, lang: str | None) -> bool:
    """The key may be a possessive adjective of a surname ("Trumpovu", "Obamův": skeleton + "f" from -ov/-ův),
    tried only when the key itself names no one."""
    return lang in INFLECTING and key.endswith("f") and len(key) > MIN_POSSESSIVE_KEY


def _same_ending(own: str, target_last: str, lang: str | None) -> bool:
    """A surname joins a full name unless only one of them ends in a vowel (in non-inflecting languages)."""
    target_last = target_last.removeprefix("n:")
    if lang in INFLECTING or "~" not in own + target_last:
        return True
    return own.endswith("~") == target_last.endswith("~")


def _lang_of(surface: str, lang: str | None) -> str | None:
    """Latin names quoted in a Cyrillic-language article keep their spelling rules; Arabic has its own."""
    if ARABIC.search(surface):
        return "ar"
    if lang in INFLECTING and not CYRILLIC.search(surface) and lang in {"ru", "uk", "bg"}:
        return "en"
    return lang


def _surname_index(docs: list[_Doc]) -> dict[str, set[str]]:
    """Last-word key -> the full-name keys (persons) it can abbreviate, over the batch."""
    index: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        for span in doc.spans:
            if span.type == "PER" and span.key.startswith("n:") and " " in span.key:
                last = span.key.split()[-1]
                index[last].add(span.key)
                index[_loose(last)].add(span.key)
    return index


def _learn_in_arabic(docs: list[_Doc], full: dict[str, Counter[str]]) -> None:
    """Find the batch's persons, and its other one-word names ("Qaranis"), in Arabic articles by skeleton,
    checked by the transliteration model."""
    arabic_docs = [d for d in docs if ARABIC.search(d.text)]
    if not arabic_docs:
        return
    names: dict[str, str] = {}  # skeleton of the whole name -> a Latin/Cyrillic surface
    surnames: dict[str, set[str]] = defaultdict(set)
    keys: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for doc in docs:
        for span in doc.spans:
            tokens = _name_tokens(span.text)
            if not span.key.startswith("n:") or ARABIC.search(span.text) or (span.type != "PER" and len(tokens) > 1):
                continue  # learned from the Latin and Cyrillic names: persons, and one-word names
            whole = skeleton(span.text)
            if len(tokens) >= 2 and len(whole) >= MIN_LEARNED_FULL_KEY:
                names.setdefault(whole, span.text)
                keys.setdefault(whole, span.key)
                kinds.setdefault(whole, "PER")
            last = skeleton(tokens[-1])
            if len(last) >= MIN_LEARNED_SURNAME_KEY:
                surnames[last].add(_canonical_key(span.key, full))
                keys.setdefault("s:" + last, span.key if len(tokens) >= 2 else keys.get("s:" + last, span.key))
                names.setdefault("s:" + last, tokens[-1])
                kinds.setdefault("s:" + last, "PER" if len(tokens) >= 2 else span.type)
    for doc in arabic_docs:
        taken = [(s.start, s.end) for s in doc.spans]
        words = list(_ARABIC_WORD.finditer(doc.text))
        index = 0
        while index < len(words):
            for size in (3, 2, 1):
                if index + size > len(words):
                    continue
                start, end = words[index].start(), words[index + size - 1].end()
                surface = doc.text[start:end]
                key = skeleton(surface)
                lookup = key if size > 1 else "s:" + key
                if lookup not in names or (size == 1 and len(surnames.get(key, ())) != 1) or not all(
                        _ARABIC_GAP.fullmatch(doc.text, words[i].end(), words[i + 1].start())
                        for i in range(index, index + size - 1)):
                    continue  # unknown, ambiguous, or words across punctuation ("والعيش، أصله")
                if not _plausible(surface, names[lookup]):
                    continue
                span = _Span(start, end, surface, kinds[lookup], keys[lookup], strong=False)
                if not _overlaps(span, taken):
                    doc.spans.append(span)
                    taken.append((start, end))
                index += size
                break
            else:
                index += 1
        doc.spans.sort(key=lambda s: s.start)
    # Arabic names from role patterns join a Latin person with the same skeleton.
    for doc in arabic_docs:
        for span in doc.spans:
            if span.type == "PER" and span.key.startswith("n:") and ARABIC.search(span.text):
                whole = skeleton(span.text)
                if whole in keys and _plausible(span.text, names[whole]):
                    span.key = keys[whole]
    for doc in arabic_docs:
        _arabic_surnames(doc)


def _arabic_surnames(doc: _Doc) -> None:
    """The last word of an Arabic person's full name, alone later in the same article, is that person
    ("الرئيس السوري بشار الأسد ... وقال الأسد"): Arabic has no capitals to find it by."""
    last: dict[str, str] = {}
    for span in doc.spans:
        words = _ARABIC_WORD.findall(span.text)
        if span.type == "PER" and span.key.startswith("n:") and len(words) >= 2 and (
                len(words[-1]) >= MIN_ARABIC_SURNAME_LETTERS):
            last.setdefault(normalize(words[-1]), span.key)
    taken = [(s.start, s.end) for s in doc.spans]
    found = [_Span(m.start(), m.end(), m.group(), "PER", last[normalize(m.group())])
             for m in _ARABIC_WORD.finditer(doc.text) if normalize(m.group()) in last]
    doc.spans += [span for span in found if not _overlaps(span, taken)]
    doc.spans.sort(key=lambda s: s.start)


def _canonical_key(key: str, full: dict[str, Counter[str]]) -> str:
    loose = _loose(key)
    return full[loose].most_common(1)[0][0] if full.get(loose) else key


def _plausible(arabic: str, latin: str) -> bool:
    """The learned model finds `latin` a likely spelling of the Arabic `arabic` (mean log-prob per letter)."""
    if ARABIC.search(latin):
        return skeleton(arabic) == skeleton(latin)
    letters = sum(1 for c in arabic if ARABIC.match(c))
    return letters > 0 and translit_logprob(arabic, latin) / letters >= MIN_TRANSLIT_PER_LETTER


@dataclass(frozen=True, slots=True)
class _Form:
    """How a name is written, to decide whether two spellings that share a skeleton are one name."""

    words: tuple[str, ...]  # names.spelling of each word, free-standing Arabic articles left out
    written: str | None  # acronyms and designations ("SANA", "F-16") match only as written, case aside
    script: str  # "latin", "cyrillic" or "arabic"
    inflected: bool  # from a language that inflects names, whose possessives join the name ("Trumpova")


@lru_cache(maxsize=200_000)
def _form(surface: str, lang: str | None) -> _Form:
    tokens = _name_tokens(surface)
    kept = [t for i, t in enumerate(tokens) if i == len(tokens) - 1 or t.casefold() not in _ARTICLE_TOKENS]
    script = "arabic" if ARABIC.search(surface) else "cyrillic" if CYRILLIC.search(surface) else "latin"
    literal = script != "arabic" and (not any(c.islower() for c in surface) or any(c.isdigit() for c in surface))
    return _Form(tuple(spelling(_word_stem(t, lang)) for t in kept), surface.casefold() if literal else None,
                 script, lang in INFLECTING)


def _tail(form: _Form, size: int) -> _Form:
    """The last `size` words of a name ("Assad" of "Bashar al-Assad")."""
    return replace(form, words=form.words[-size:])


def _renderings_agree(a: _Form, b: _Form, fuzzy: bool = True) -> bool:
    """Two non-Arabic renderings of one name. Across Latin and Cyrillic, as many words with the same initials
    (transliteration rewrites vowels: Мухаммад / Mohamed, Ройтерс / Reuters), a single word also with
    MIN_CROSS_SCRIPT_SIMILARITY of its spelling. In one script,
    the same initial of the last word, and each word spelled alike (or a possessive of the other in an
    inflecting language, "trumpov" of "trump") or, when `fuzzy`, the whole nearly alike
    (MIN_SPELLING_SIMILARITY: "teresa mei" / "teresa mai", "elena verbitskaia" / "olena verbitska", whose
    first names follow each language's form; a single word of a language without case endings
    MIN_PLAIN_WORD_SIMILARITY)."""
    if "arabic" in (a.script, b.script) or len(a.words) != len(b.words) or a.words[-1][:1] != b.words[-1][:1]:
        return False
    if a.script != b.script:
        return all(x[:1] == y[:1] for x, y in zip(a.words, b.words, strict=True)) and (
            len(a.words) > 1 or spelling_similarity(a.words[0], b.words[0]) >= MIN_CROSS_SCRIPT_SIMILARITY)
    inflected = a.inflected or b.inflected
    if all(x == y or (inflected and _possessive_of(x, y)) for x, y in zip(a.words, b.words, strict=True)):
        return True
    if not fuzzy:
        return False
    least = MIN_SPELLING_SIMILARITY if inflected or len(a.words) > 1 else MIN_PLAIN_WORD_SIMILARITY
    return spelling_similarity(" ".join(a.words), " ".join(b.words)) >= least


def _possessive_of(a: str, b: str) -> bool:
    return any(x == y + suffix for x, y in ((a, b), (b, a)) for suffix in _POSSESSIVE_SUFFIXES)


@dataclass(slots=True)
class _Spelling:
    """One spelling of a key group, with what corroboration needs: its surfaces, types and context."""

    form: _Form
    spans: list[_Span]
    written: set[str]  # its surfaces, case-folded
    type: str | None  # the commonest of PER, ORG, LOC among its mentions; None when all are MISC
    context: set[str]  # keys of the other entities its articles name


def _split_uncorroborated(docs: list[_Doc]) -> None:
    """Split each name key into the names it really holds. The skeleton key groups spellings cheaply, and
    too widely (Sanaa, Sinai, Seine, Suzanne and SANA share one); two spellings are one name only when
    `_corroborated`, and the names are the groups that such pairs link, closest pairs first, never linking a
    person with an organisation or a place. Linking every corroborated pair, not each spelling to a first
    representative, makes the split independent of the order of the batch."""
    groups: dict[str, list[tuple[int, _Span]]] = defaultdict(list)
    named: list[set[str]] = []
    for index, doc in enumerate(docs):
        named.append({span.key for span in doc.spans})
        for span in doc.spans:
            if span.key.startswith("n:"):
                groups[span.key].append((index, span))
    for key, members in groups.items():
        forms: dict[_Form, list[tuple[int, _Span]]] = defaultdict(list)
        for index, span in members:
            forms[_form(span.text, _lang_of(span.text, docs[index].lang))].append((index, span))
        if len(forms) == 1:
            continue
        spellings = []
        for form, spans in sorted(forms.items(), key=lambda item: (-len(item[1]), item[0].words,
                                                                   item[0].written or "")):
            typed = Counter(span.type for _, span in spans if span.type != "MISC")
            spellings.append(_Spelling(form, [span for _, span in spans],
                                       {span.text.casefold() for _, span in spans},
                                       typed.most_common(1)[0][0] if typed else None,
                                       set().union(*(named[index] for index, _ in spans)) - {key}))
        for names in _linked(spellings)[1:]:
            first = names[0].form
            suffix = "=" + first.written if first.written else " ".join(first.words)
            for spelling_ in names:
                for span in spelling_.spans:
                    span.key = f"{key}|{suffix}"


def _linked(spellings: list[_Spelling]) -> list[list[_Spelling]]:
    """The names a key group's spellings (commonest first) make: single linkage over corroborated pairs, the
    closest first, a pair left apart when its groups are typed differently. A single word in another script
    links only with the spelling it and that spelling find closest of all: one loose word must not chain
    different names (Cyrillic "Сирии" is close to both "Sira" and "Sarri"). Largest name first."""
    root = list(range(len(spellings)))
    kind = [s.type for s in spellings]

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    pairs = sorted((-_closeness(a.form, b.form), i, j) for i, a in enumerate(spellings)
                   for j, b in enumerate(spellings) if i < j and _corroborated(a, b))
    best: dict[int, tuple[float, int]] = {}  # spelling -> its closest partner across scripts, one word each
    for closeness, i, j in pairs:
        if _across_scripts(spellings[i].form, spellings[j].form):
            best.setdefault(i, (closeness, j))
            best.setdefault(j, (closeness, i))
    pairs = [(c, i, j) for c, i, j in pairs if not _across_scripts(spellings[i].form, spellings[j].form)
             or (best[i][1] == j and best[j][1] == i)]
    for _, i, j in pairs:
        a, b = find(i), find(j)
        if a != b and (kind[a] is None or kind[b] is None or kind[a] == kind[b]):
            root[max(a, b)] = min(a, b)
            kind[min(a, b)] = kind[a] or kind[b]
    names: dict[int, list[_Spelling]] = defaultdict(list)
    for i, spelling_ in enumerate(spellings):
        names[find(i)].append(spelling_)
    return sorted(names.values(), key=lambda group: -sum(len(s.spans) for s in group))


def _across_scripts(a: _Form, b: _Form) -> bool:
    """One word in Latin, the other in Cyrillic, spelled differently: the loosest corroboration (the initial
    and a rough spelling)."""
    return len(a.words) == len(b.words) == 1 and a.words != b.words and a.script != b.script and (
        "arabic" not in (a.script, b.script))


def _closeness(a: _Form, b: _Form) -> float:
    """How alike two spellings are on the words they share (a surname against a full name's last words)."""
    size = min(len(a.words), len(b.words))
    return spelling_similarity(" ".join(a.words[-size:]), " ".join(b.words[-size:]))


def _corroborated(one: _Spelling, other: _Spelling) -> bool:
    """Whether two spellings of a key group are one name: the same rendering (names.spelling: Assad, el-Assad,
    Асад); a surname of the full name ("Assad", "Zammit Pace"); a near-identical rendering (see
    _renderings_agree), which a single word must also back by an entity named beside both; or, for Arabic,
    the transliteration model. Acronyms and designations match only as written (BBC is not ABC), and
    spellings typed as a person and as an organisation or a place are never one."""
    if one.type is not None and other.type is not None and one.type != other.type:
        return False
    if one.form.written is not None or other.form.written is not None:
        return bool(one.written & other.written)
    short, long = sorted((one, other), key=lambda s: len(s.form.words))
    if (short.form.script == "arabic") != (long.form.script == "arabic"):
        arabic, latin = (short, long) if short.form.script == "arabic" else (long, short)
        return any(_plausible(*_same_length(a, b)) for a in arabic.written for b in latin.written)
    if short.form.script == "arabic" or short.form.words == long.form.words:
        return True  # Arabic: one skeleton in one script is all the evidence Arabic spelling gives
    surname = len(short.form.words) < len(long.form.words)
    agree = _renderings_agree(short.form, _tail(long.form, len(short.form.words)))
    return agree and (surname or len(short.form.words) > 1 or bool(short.context & long.context))


def _same_length(arabic: str, other: str) -> tuple[str, str]:
    """The two names cut to the last words of the longer, so a surname is read against a surname."""
    size = min(len(_ARABIC_WORD.findall(arabic)), len(_name_tokens(other)))
    return " ".join(_ARABIC_WORD.findall(arabic)[-size:]), " ".join(_name_tokens(other)[-size:])


def _merge_inflected(docs: list[_Doc]) -> None:
    """Names that differ only by case endings become one (Trumpa, Трампа -> Trump).

    Within a group of names with the same loose key, the spellings from languages that do not inflect names
    decide: one such spelling takes the whole group; several (Lavrov and Lavrova in English) stay apart, and
    inflected forms join the commonest; none (only Slavic texts) makes the loose key itself the id.
    """
    plain: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        if doc.lang not in INFLECTING:
            for span in doc.spans:
                if span.key.startswith("n:"):
                    plain[_loose(span.key)][span.key] += 1
    for doc in docs:
        for span in doc.spans:
            if not span.key.startswith("n:"):
                continue
            group = plain.get(_loose(span.key))
            if not group:
                span.key = _loose(span.key)
            elif len(group) == 1 or doc.lang in INFLECTING:
                span.key = group.most_common(1)[0][0]


def resolve(articles: Sequence[Article]) -> tuple[list[Entity], list[Mention]]:
    """Recognise and resolve the entities of a batch: one `Entity` per real-world thing, its mentions."""
    docs = [_Doc(a.id, _document(a), a.lang, []) for a in articles]
    _analyse(docs)
    return _entities(docs)


def resolve_after(new: Sequence[Article], context: Sequence[Article], known: Sequence[Mention],
                  lower: Mapping[str, frozenset[str]] | None = None) -> tuple[list[Entity], list[Mention]]:
    """`resolve` of the `new` articles together with `context` articles analysed before, whose names are
    their `known` mentions, not spotted again: what was found in an article stays what it was whichever
    articles come after it (an incremental run gives what one run gives), and only new texts are spotted,
    each with its `lower` words when given (`spotting.lower_words_in_order`)."""
    spans: dict[str, list[_Span]] = defaultdict(list)
    for m in known:
        spans[m.article].append(_Span(m.start, m.end, m.text, m.type, _known_key(m.text, m.type)))
    given = [_Doc(a.id, _document(a), a.lang, spans[a.id]) for a in context]
    docs = [_Doc(a.id, _document(a), a.lang, []) for a in new]
    _analyse(docs, given, lower)
    return _entities([*given, *docs])


def _known_key(surface: str, kind: str) -> str:
    """The key spotting gave a stored mention: its gazetteer entry's when the surface is one as written (of
    its type), else none yet (a name key, given by `_analyse`)."""
    entry, exact = lookup_exact(surface)
    return "g:" + entry.canonical if entry is not None and exact and entry.type == kind else ""


def entities(text: str, lang: str | None = None) -> list[Mention]:
    """Entity mentions of one text, each with its entity id (the same id for every spelling in the text).

    `lang` is an ISO 639-1 code; when None it is detected. Mentions carry `article=""`.
    """
    if lang is None and text.strip():
        from storyline.language import detect_language

        lang = detect_language(text)
    docs = [_Doc("", text, lang, [])]
    _analyse(docs)
    return _entities(docs)[1]


def _entities(docs: list[_Doc]) -> tuple[list[Entity], list[Mention]]:
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    types: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in docs:
        for span in doc.spans:
            surfaces[span.key][span.text] += 1
            types[span.key][span.type] += 1
    found: dict[str, Entity] = {}
    for key, counts in surfaces.items():
        name = key[2:] if key.startswith("g:") else max(counts, key=lambda s: name_rank(s, counts[s]))
        kind = types[key].most_common(1)[0][0]
        typed = [t for t, _ in types[key].most_common() if t != "MISC"]
        if kind == "MISC" and typed:  # capitals alone tell no type: any mention typed by more says it
            kind = "PER" if types[key]["PER"] else typed[0]
        slug = re.sub(r"[^a-z0-9]+", "-", anyascii(name).lower()).strip("-") or "x"
        found[key] = Entity(f"ent-{slug}", name, kind, sorted(counts))
    merged: dict[str, Entity] = {}
    for key in sorted(found, key=lambda k: (-sum(surfaces[k].values()), k)):
        entity = found[key]
        if entity.id in merged and merged[entity.id].type != entity.type:
            entity.id = f"{entity.id}-{entity.type.lower()}"
        if entity.id in merged:  # two keys share a slug: the same name, so the same entity
            merged[entity.id].variants = sorted(set(merged[entity.id].variants) | set(entity.variants))
        else:
            merged[entity.id] = entity
    ids = {key: entity.id for key, entity in found.items()}
    mentions = [
        Mention(doc.id, ids[s.key], s.start, s.end, s.text, s.type)
        for doc in docs for s in sorted(doc.spans, key=lambda s: s.start)
    ]
    return sorted(merged.values(), key=lambda e: e.id), mentions


def name_rank(surface: str, count: int) -> tuple[bool, bool, int, int, int, str]:
    """How well a spelling names its entity: Latin script first (readers of the export), then a full name
    over a single word, then the commonest, then the shortest: a rare longer form is a common word run into
    the name ("Biografija Donalda Trumpa" in one heading beside a hundred "Donald Trump"; "Monmouth University
    Biden" once beside one "Joseph Biden")."""
    words = len([w for w in surface.split() if w.casefold() not in _ARTICLE_TOKENS])
    return surface.isascii(), words > 1, count, -words, -len(surface), surface


def _document(article: Article) -> str:
    """Headline and body as one text; mention offsets refer to this string."""
    return f"{article.title}\n\n{article.text}"


# ---------------------------------------------------------------- name matching


def match_names(queries: list[str], candidates: list[str], k: int = 10) -> list[list[tuple[str, float]]]:
    """For each query name, the `k` best candidate names in any script, with a 0..1 score, best first.

    Arabic queries against Latin candidates are blocked by a learned romanisation and re-ranked by the
    learned transliteration model; every other pair is scored by skeleton and spelling similarity.
    """
    from rapidfuzz import fuzz, process

    if not candidates:
        return [[] for _ in queries]
    latin = [latin_key(c) for c in candidates]
    roman = [romanise(c) for c in candidates]
    skeletons = [skeleton(c) for c in candidates]
    arabic_candidates = [bool(ARABIC.search(c)) for c in candidates]
    results: list[list[tuple[str, float]]] = []
    for query in queries:
        if ARABIC.search(query):
            block = process.extract(learned_romanisation(query), latin, scorer=fuzz.ratio,
                                    limit=min(MATCH_BLOCK, len(candidates)))
            letters = max(1, sum(1 for c in query if ARABIC.match(c)))
            scored = []
            for _, _, index in block:
                if arabic_candidates[index]:
                    score = name_similarity(query, candidates[index])
                else:
                    logprob = translit_logprob(query, candidates[index])
                    model = math.exp(logprob / letters) if logprob > -math.inf else 0.0
                    # The spelling similarity breaks the model's ties (Amr / Amri for the silent waw of عمرو).
                    score = (1 - ARABIC_TIE_WEIGHT) * model + ARABIC_TIE_WEIGHT * name_similarity(
                        query, candidates[index])
                scored.append((index, score))
            for index, flag in enumerate(arabic_candidates):  # Arabic candidates are not in the Latin block
                if flag and all(index != i for i, _ in scored):
                    scored.append((index, name_similarity(query, candidates[index])))
        else:
            sk = {i: v for _, v, i in process.extract(skeleton(query), skeletons, scorer=fuzz.ratio, limit=None)}
            ro = {i: v for _, v, i in process.extract(romanise(query), roman, scorer=fuzz.ratio, limit=None)}
            scored = [(i, (SKELETON_WEIGHT * sk.get(i, 0.0) + (1 - SKELETON_WEIGHT) * ro.get(i, 0.0)) / 100)
                      for i in range(len(candidates))]
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        results.append([(candidates[i], round(s, 4)) for i, s in scored[:k]])
    return results


def match_key(surface: str, lang: str | None) -> str:
    """The name key of one mention on its own, before any joining: it depends on the mention alone, never on
    which articles are resolved together (what the clusterer anchors events on across runs)."""
    return _name_key(surface, _lang_of(surface, lang))
