"""Name keys that match across spellings and scripts.

Arabic writes no short vowels and Russian and English spell foreign names in their own ways, so names
are compared on a consonant skeleton: romanise (anyascii), drop vowels and the Arabic long-vowel letters
and article, and merge consonants that transliterations swap (v/w/f, p/b, q/k/c, sh/ch/s, z/s, dh/d,
gh/g/j). Lavrov, Лавров, لافروف and Lawrow all become "lfrf". No library builds such a key (phonetic
algorithms like metaphone are English-only), hence this module.
"""

from __future__ import annotations

import re

from anyascii import anyascii
from rapidfuzz import fuzz

from storyline.normalize import normalize

# Arabic letters that write long vowels or glottal/pharyngeal sounds Latin spellings leave out.
_ARABIC_SILENT = str.maketrans("", "", "اويىةعءأإآؤئ")
_ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])ال(?=[\u0600-\u06ff]{2})")
_LATIN_ARTICLE = re.compile(r"\b(?:al|el|ul|ad|ar|as|ash|at|az|an)[-\s](?=\w)")
_DIGRAPHS = (("sch", "s"), ("kh", "k"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("zh", "s"), ("th", "t"),
             ("dh", "d"), ("ph", "f"), ("ts", "s"), ("tz", "s"), ("ck", "k"))
_MERGE = str.maketrans({"p": "b", "v": "f", "w": "f", "j": "g", "q": "k", "c": "k", "z": "s", "x": "ks"})
_VOWELS = re.compile(r"[aeiouy`'\W_\d]+")
_DOUBLE = re.compile(r"(.)\1+")


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


def romanise(name: str) -> str:
    """A plain lower-case Latin form of a name in any script, for string similarity."""
    return " ".join(anyascii(normalize(name)).lower().replace("-", " ").split())


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names in any scripts: skeleton agreement plus romanised spelling."""
    return 0.6 * fuzz.ratio(skeleton(a), skeleton(b)) / 100 + 0.4 * fuzz.ratio(romanise(a), romanise(b)) / 100
