"""Fit the relatedness model (src/storyline/data/similarity_model.json) on SemEval-2022 Task 8 training pairs.

Usage: python bench/train_similarity.py [--cv-only] [--embedder DIR --output FILE]

--embedder adds the cosine of a local sentence-transformers model's vectors as a last feature; such a model
is written to --output (not over the shipped one) and is used with `storyline digest --similarity-model FILE
--embedder DIR` or relatedness.load(FILE, embedder).

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
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from common import ROOT, read_jsonl

from storyline import relatedness
from storyline.embeddings import Embedder, SentenceTransformerEmbedder
from storyline.embeddings import cosine as dense_cosine
from storyline.language import detect_language

OUTPUT = ROOT / "src" / "storyline" / "data" / "similarity_model.json"
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
    cache: dict[tuple[str, str], relatedness.Profile] = {}

    def get(text: str, lang: str) -> relatedness.Profile:
        key = (text, lang)
        if key not in cache:
            cache[key] = relatedness.profile(text, lang)
            if embedder is not None:
                cache[key].embedding = tuple(embedder.embed([text.strip()[:relatedness.MAX_CHARS]])[0])
        return cache[key]

    x = [relatedness.features(get(r["text1"], r["det1"]), get(r["text2"], r["det2"])) for r in rows]
    if embedder is not None:
        for row, r in zip(x, rows, strict=True):
            row.append(dense_cosine(get(r["text1"], r["det1"]).embedding, get(r["text2"], r["det2"]).embedding))
    return x


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


def fit(rows: list[dict[str, Any]], x: list[list[float]], oof: list[float], embedding: bool = False) -> dict[str, Any]:
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
                 "P(overall < 2.5).",
        "features": list(relatedness.FEATURES) + ([relatedness.EMBEDDING_FEATURE] if embedding else []),
        "base": BOOSTED_WEIGHT * float(boosted.init_.constant_[0][0]),
        "rate": 1.0,
        "calibration": calibrate(np.array(oof), same),
        "trees": trees,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cv-only", action="store_true", help="report the CV figure, do not write the model")
    parser.add_argument("--embedder", metavar="DIR", help="local sentence-transformers model: adds its cosine")
    parser.add_argument("--output", metavar="FILE", type=Path, help="model file (required with --embedder)")
    args = parser.parse_args()
    if args.embedder and not args.output and not args.cv_only:
        parser.error("--embedder writes a model of its own: give --output FILE")
    output = args.output or OUTPUT
    embedder = SentenceTransformerEmbedder(args.embedder) if args.embedder else None
    rows = load()
    prior = idf_prior(rows)
    partial_idf = IDF_OUTPUT.with_suffix(".json.partial")
    partial_idf.write_text(json.dumps(prior, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    partial_idf.replace(IDF_OUTPUT)
    relatedness._idf.cache_clear()
    x = pair_features(rows, embedder)
    raw, calibrated = cross_validate(rows, x)
    from statistics import correlation

    truth = [-r["overall"] for r in rows]
    print(f"5-fold grouped CV Pearson: raw {correlation(raw, truth):.4f}, "
          f"calibrated {correlation(calibrated, truth):.4f}")
    if args.cv_only:
        return 0
    model = fit(rows, x, raw, embedding=embedder is not None)
    # Written whole then renamed: a reader never sees half a model.
    partial = output.with_suffix(".json.partial")
    partial.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    partial.replace(output)
    print(f"wrote {output} ({output.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
