"""Name keys that match across spellings and scripts.

Arabic writes no short vowels and Russian and English spell foreign names in their own ways, so names
are compared on a consonant skeleton: romanise (anyascii), drop vowels and the Arabic long-vowel letters
and article, and merge consonants that transliterations swap (v/w/f, p/b, q/k/c, sh/ch/s, z/s, dh/d,
gh/g/j, kh/h: Russian writes Latin h as х, Хади = Hadi). Lavrov, Лавров, لافروف and Lawrow all become
"lfrf". No library builds such a key (phonetic
algorithms like metaphone are English-only), hence this module.

The skeleton finds candidates; it is too coarse to decide alone (Sanaa, Sinai, Seine and Suzanne share
"sn"). `spelling` is the finer key that decides: the romanised name with its vowels, with only the
conventions by which languages write one sound folded (sh/ch/sch, w/v, y/j/i, ou/u, doubled letters), so
Assad, el-Assad and Асад meet while Sanaa and Sinai stay apart.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib import resources

from anyascii import anyascii
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from storyline.normalize import normalize

# Arabic letters that write long vowels or glottal/pharyngeal sounds Latin spellings leave out.
_ARABIC_SILENT = str.maketrans("", "", "اويىةعءأإآؤئ")
_ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])ال(?=[\u0600-\u06ff]{2})")
_LATIN_ARTICLE = re.compile(r"\b(?:al|el|ul|ad|ar|as|ash|at|az|an)[-\s](?=\w)")
_DIGRAPHS = (("dzh", "j"), ("sch", "s"), ("kh", "h"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("zh", "s"), ("th", "t"),
             ("dh", "d"), ("ph", "f"), ("ts", "s"), ("tz", "s"), ("ck", "k"))
_MERGE = str.maketrans({"p": "b", "v": "f", "w": "f", "j": "g", "q": "k", "c": "k", "z": "s", "x": "ks"})
_VOWELS = re.compile(r"[aeiouy`'\W_\d]+")
_DOUBLE = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)  # pure, and called on the same names over and over by resolution and profiles
def skeleton(name: str) -> str:
    """The consonant skeleton of a name in any script: 'Riyadh al-Maliki' and 'رياض المالكي' -> 'rdmlk'."""
    text = normalize(name)
    text = _ARABIC_ARTICLE.sub("", text).translate(_ARABIC_SILENT)
    text = anyascii(text).lower()
    text = _LATIN_ARTICLE.sub("", text)
    for digraph, single in _DIGRAPHS:
        text = text.replace(digraph, single)
    text = _VOWELS.sub("", text.translate(_MERGE))
    return _DOUBLE.sub(r"\1", text)


# Spellings of one sound across Latin-script conventions and romanisations, folded in this order (longest
# first, so "tsch" is not read as "t" + "sch"): German tsch/sch/w/j, French ch/dj/ou, Polish cz/sz,
# English sh/kh/gh/ph/th, anyascii's zh/dzh for Cyrillic ж/дж.
_SPELLING_FOLDS = (("tsch", "sh"), ("dzh", "i"), ("tch", "sh"), ("sch", "sh"), ("ch", "sh"), ("cz", "sh"),
                   ("sz", "sh"), ("zh", "i"), ("dj", "i"), ("kh", "h"), ("gh", "g"), ("ph", "f"), ("th", "t"),
                   ("ck", "k"), ("ou", "u"), ("w", "v"), ("y", "i"), ("j", "i"), ("q", "k"), ("z", "s"))
_NOT_SPELLING = re.compile(r"[^a-z0-9]")


def spelling(word: str) -> str:
    """A name word's rendering with the conventions of languages and romanisations folded (see module doc):
    'el-Assad', 'Assad' and 'Асад' -> 'asad'; 'Lawrow' and 'Lavrov' -> 'lavrov'; 'Sinaí' -> 'sinai'."""
    text = _LATIN_ARTICLE.sub("", anyascii(normalize(word)).lower())
    text = _NOT_SPELLING.sub("", text)
    for written, folded in _SPELLING_FOLDS:
        text = text.replace(written, folded)
    return _DOUBLE.sub(r"\1", text)


def spelling_similarity(a: str, b: str) -> float:
    """0..1 agreement of two spellings: one minus the edit distance over the longer length, so one letter
    in a short name weighs more ('asad' / 'sad' 0.75, 'trump' / 'tramp' 0.8)."""
    return float(Levenshtein.normalized_similarity(a, b))


def romanise(name: str) -> str:
    """A plain lower-case Latin form of a name in any script, for string similarity."""
    return " ".join(anyascii(normalize(name)).lower().replace("-", " ").split())


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names in any scripts: skeleton agreement plus romanised spelling."""
    return 0.6 * fuzz.ratio(skeleton(a), skeleton(b)) / 100 + 0.4 * fuzz.ratio(romanise(a), romanise(b)) / 100


# --- Learned Arabic -> Latin transliteration (bench/train_names.py writes data/names_translit.json) ---

# Longest Latin substring one Arabic letter may emit: a consonant plus a digraph vowel ("sch" + "e").
MAX_EMIT = 4
# Probability of an empty or one-letter emission the model never saw: small enough to rank last, never zero,
# so one odd letter (the silent final waw of "عمرو" = Amr, rare in the mostly foreign ANETAC names) does not
# rule a candidate out.
UNSEEN_EMIT = 1e-6
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3]")
_ARABIC_WORDS = re.compile(r"[\u0621-\u064a\u0671-\u06d3]+")
_LATIN_KEEP = re.compile(r"[^a-z]")


def latin_key(name: str) -> str:
    """Lower-case ASCII letters only: the Latin side of the transliteration model."""
    return _LATIN_KEEP.sub("", anyascii(name).lower())


def arabic_contexts(name: str) -> list[str]:
    """One context per Arabic letter of a word: the letter and its position (^ initial, $ final, - medial)."""
    contexts: list[str] = []
    for word in _ARABIC_WORDS.findall(normalize(name)):
        last = len(word) - 1
        contexts += [c + ("^" if i == 0 else "$" if i == last else "-") for i, c in enumerate(word)]
    return contexts


@lru_cache(maxsize=1)
def _translit() -> dict[str, dict[str, float]]:
    model = json.loads(resources.files("storyline").joinpath("data/names_translit.json").read_text("utf-8"))
    emit: dict[str, dict[str, float]] = model["emit"]
    return emit


def translit_logprob(arabic: str, latin: str, emit: dict[str, dict[str, float]] | None = None) -> float:
    """log P(latin spelling | Arabic word) under the learned model, summed over all alignments."""
    table = _translit() if emit is None else emit
    ctx, target = arabic_contexts(arabic), latin_key(latin)
    n, m = len(ctx), len(target)
    if not n or not m:
        return -math.inf
    row = [1.0] + [0.0] * m
    scale = 0.0
    for context in ctx:
        probs = table.get(context) or table.get(context[0] + "-", {})
        nxt = [0.0] * (m + 1)
        for j in range(m + 1):
            if row[j]:
                for k in range(min(MAX_EMIT, m - j) + 1):
                    p = probs.get(target[j:j + k])
                    if p is None:
                        p = UNSEEN_EMIT if k <= 1 else 0.0
                    nxt[j + k] += row[j] * p
        total = sum(nxt)
        if total <= 0:
            return -math.inf
        scale += math.log(total)  # rescale each row so long names do not underflow
        row = [v / total for v in nxt]
    return scale + math.log(row[m]) if row[m] > 0 else -math.inf


def learned_romanisation(arabic: str, emit: dict[str, dict[str, float]] | None = None) -> str:
    """The most likely Latin letter for each Arabic letter, joined: a blocking key for Latin candidates."""
    table = _translit() if emit is None else emit
    out = []
    for context in arabic_contexts(arabic):
        probs = table.get(context) or table.get(context[0] + "-", {})
        if probs:
            out.append(max(probs, key=lambda s: probs[s]))
    return "".join(out)
