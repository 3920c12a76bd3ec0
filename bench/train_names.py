"""Learn the Arabic -> Latin transliteration model that storyline.names uses to match names across scripts.

Usage: python bench/train_names.py [--folds]   (--folds: also report held-out figures, one fold per run)

The model is a table P(latin substring | Arabic letter in context), learned by expectation-maximisation over
monotone alignments of the ANETAC English-Arabic name pairs (names/en-ar.dev.jsonl.gz only; the hidden test
split is never read). Each Arabic letter emits a Latin substring of 0 to MAX_EMIT letters: silent letters
emit nothing, and a consonant emits the short vowels that Arabic does not write ("محمد" -> mo+ha+m+ed).
The letter's context is its position in the word (initial, medial, final), because initial "ا" is a vowel
and initial "و" a "w". The result is written to src/storyline/data/names_translit.json (about 100 kB).

Held-out honesty: `fold_of(en)` splits dev into FOLDS folds by md5 of the English name (the same kind of
split that made dev/test); bench/entities.py trains on four folds and scores the fifth.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from common import read_jsonl

from storyline.names import MAX_EMIT, arabic_contexts, latin_key

OUTPUT = Path(__file__).resolve().parent.parent / "src" / "storyline" / "data" / "names_translit.json"
FOLDS = 5
HELD_OUT_FOLD = 0
# EM iterations: the emission table barely moves after a handful; 6 gave held-out top-1 0.939 / top-10 0.974.
ITERATIONS = 6
# Pairs used for training (a fixed random sample): the table has ~90 contexts x a few dozen substrings, which
# 30k pairs estimate well; it keeps training under a minute and a half on 2 cores (held-out figures above).
TRAIN_SAMPLE = 30000
# Emissions below this probability after training are dropped: they change no ranking and bloat the file.
MIN_PROB = 2e-4
MAX_PER_CONTEXT = 60


def fold_of(en: str) -> int:
    """Fold of one pair, by md5 of its English name (salted so it does not follow the dev/test split)."""
    return int(hashlib.md5(("fold:" + en).encode("utf-8")).hexdigest(), 16) % FOLDS


def load_pairs() -> list[tuple[str, str, str]]:
    """(type, English, Arabic) for every dev pair."""
    return [(r["type"], r["en"], r["ar"]) for r in read_jsonl("names/en-ar.dev.jsonl.gz")]


def train(pairs: Iterable[tuple[str, str]], iterations: int = ITERATIONS) -> dict[str, dict[str, float]]:
    """EM over monotone alignments; returns context -> {substring: probability}."""
    data = [(arabic_contexts(ar), latin_key(en)) for en, ar in pairs]
    data = [(ctx, en) for ctx, en in data if ctx and en]
    emit: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(lambda: 1.0))  # uniform start
    for _ in range(iterations):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for ctx, en in data:
            _expect(ctx, en, emit, counts)
        emit = defaultdict(lambda: defaultdict(lambda: 1e-9))
        for context, subs in counts.items():
            total = sum(subs.values())
            for sub, value in subs.items():
                emit[context][sub] = value / total
    return {c: dict(s) for c, s in emit.items()}


def _expect(ctx: list[str], en: str, emit: dict[str, dict[str, float]],
            counts: dict[str, dict[str, float]]) -> None:
    """Forward-backward over one pair, adding expected emission counts."""
    n, m = len(ctx), len(en)
    forward = [[0.0] * (m + 1) for _ in range(n + 1)]
    forward[0][0] = 1.0
    for i in range(n):
        table = emit[ctx[i]]
        row, nxt = forward[i], forward[i + 1]
        for j in range(m + 1):
            if row[j]:
                for k in range(min(MAX_EMIT, m - j) + 1):
                    nxt[j + k] += row[j] * table[en[j:j + k]]
    total = forward[n][m]
    if total <= 0:
        return
    backward = [[0.0] * (m + 1) for _ in range(n + 1)]
    backward[n][m] = 1.0
    for i in range(n - 1, -1, -1):
        table = emit[ctx[i]]
        row, nxt = backward[i], backward[i + 1]
        for j in range(m + 1):
            for k in range(min(MAX_EMIT, m - j) + 1):
                if nxt[j + k]:
                    row[j] += table[en[j:j + k]] * nxt[j + k]
    for i in range(n):
        table, out = emit[ctx[i]], counts[ctx[i]]
        for j in range(m + 1):
            if forward[i][j]:
                for k in range(min(MAX_EMIT, m - j) + 1):
                    if backward[i + 1][j + k]:
                        sub = en[j:j + k]
                        out[sub] += forward[i][j] * table[sub] * backward[i + 1][j + k] / total


def prune(emit: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    pruned = {}
    for context, subs in sorted(emit.items()):
        kept = sorted(((p, s) for s, p in subs.items() if p >= MIN_PROB), reverse=True)[:MAX_PER_CONTEXT]
        pruned[context] = {s: round(p, 5) for p, s in kept}
    return pruned


def fit(pairs: list[tuple[str, str, str]], exclude_fold: int | None = None) -> dict[str, object]:
    """The model artifact, trained on every pair outside `exclude_fold`."""
    chosen = [(en, ar) for _, en, ar in pairs if exclude_fold is None or fold_of(en) != exclude_fold]
    random.Random(0).shuffle(chosen)
    return {"_doc": "P(latin substring | Arabic letter in context); written by bench/train_names.py from "
                    "ANETAC names/en-ar.dev only",
            "max_emit": MAX_EMIT, "emit": prune(train(chosen[:TRAIN_SAMPLE]))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exclude-fold", type=int, default=None, help="train without this fold")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    model = fit(load_pairs(), args.exclude_fold)
    args.output.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.output} ({args.output.stat().st_size / 1000:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
