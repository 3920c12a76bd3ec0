"""The learned line classifier of scraped plain text: boosted trees in two stages (the line, then the line among
its neighbours), stored in `data/line_model.json` and trained on public dev pages only by
bench/train_line_model.py."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from storyline.extraction.patterns import _SENTENCE_END, SHORT_LINE_WORDS, _patterns

# Languages whose jusText stoplists are tried; the page's language is the one whose list covers most words.
STOPLIST_LANGUAGES = ("English", "German", "French", "Spanish", "Russian", "Arabic", "Italian", "Portuguese",
                      "Polish", "Dutch", "Turkish", "Ukrainian", "Persian", "Hebrew", "Czech", "Swedish")
# A line of at least this many words that ends a sentence is "prose"; prose lines anchor the article's core.
PROSE_WORDS = 15
# Context windows (lines on each side) over which neighbour features are averaged: near, paragraph, section.
CONTEXT_WINDOWS = (1, 3, 10)
_LINK_LIKE = re.compile(r"https?://|www\.|@\w|\.(com|org|net|html?)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"[|»›/·•]")
_DATE_LIKE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b(19|20)\d\d\b|\d{1,2}:\d\d")
_TOKEN = re.compile(r"\w+")
# A prose line for block finding: this many words and a sentence end (shorter than PROSE_WORDS so that a
# block of short paragraphs is still found).
BLOCK_PROSE_WORDS = 8
# Up to this many non-prose lines (subheadings, captions) may sit inside one block of prose.
BLOCK_GAP = 3
# The body line that shares this share of its words with the page title (Jaccard) is the headline anchor.
HEADLINE_OVERLAP = 0.5
# Runs of likely lines for the second stage: lines at this first-stage probability, with gaps of up to
# RUN_GAP less likely lines inside one run (0.5 is the natural cut; 2 lets a caption or subheading through).
RUN_PROBABILITY = 0.5
RUN_GAP = 2
_COMMENTS_HEADING = re.compile(
    r"^(\d+\s+)?(comments?|responses?|replies|leave a (comment|reply)|kommentare?|commentaires?|comentarios?|"
    r"комментари[иейя]\w*|التعليقات|تعليقات)\b\W*(\(\d+\))?$",
    re.IGNORECASE,
)

BASE_FEATURES = (
    "log_words", "log_chars", "sentence_end", "comma_rate", "period_rate", "digit_share", "capital_share",
    "stop_share", "junk", "byline", "link_like", "separators", "starts_digit", "date_like", "words_le3",
    "words_4_9", "words_10_20", "words_gt20", "title_overlap", "position", "near_start", "near_end", "prose",
)


@lru_cache(maxsize=1)
def _stoplists() -> tuple[frozenset[str], ...]:
    import justext  # installed with trafilatura; its stoplists cover Arabic and Russian

    return tuple(frozenset(word.lower() for word in justext.get_stoplist(name)) for name in STOPLIST_LANGUAGES)


def line_features(lines: list[str], title: str) -> np.ndarray:
    """One row of features per line: the line itself, its neighbours and where it sits in the page."""
    n = len(lines)
    if n == 0:
        return line_features([""], title)[:0]  # no rows, the right number of columns
    tokens = [[t.lower() for t in _TOKEN.findall(line)] for line in lines]
    counts = Counter(t for ts in tokens for t in ts)
    stoplist = max(_stoplists(), key=lambda words: sum(c for t, c in counts.items() if t in words))
    title_tokens = {t.lower() for t in _TOKEN.findall(title)}
    patterns = _patterns()
    base = np.zeros((n, len(BASE_FEATURES)))
    for i, (line, toks) in enumerate(zip(lines, tokens, strict=True)):
        words = max(1, len(toks))
        cased = [t for t in _TOKEN.findall(line) if t[0].upper() != t[0].lower()]
        base[i] = (
            np.log1p(len(toks)),
            np.log1p(len(line)) / 2,
            bool(_SENTENCE_END.search(line)),
            min(1.0, line.count(",") / words * 5),
            min(1.0, sum(line.count(c) for c in ".!?؟") / words * 5),
            sum(c.isdigit() for c in line) / max(1, len(line)),
            sum(t[0].isupper() for t in cased) / len(cased) if cased else 0.0,
            sum(t in stoplist for t in toks) / words,
            bool(patterns.junk.search(line)),
            bool(patterns.bylines.search(line)) and len(toks) <= SHORT_LINE_WORDS,
            bool(_LINK_LIKE.search(line)),
            min(1.0, len(_SEPARATORS.findall(line)) / 2),
            line[:1].isdigit(),
            bool(_DATE_LIKE.search(line)) and len(toks) <= SHORT_LINE_WORDS,
            len(toks) <= 3,
            4 <= len(toks) <= 9,
            10 <= len(toks) <= 20,
            len(toks) > 20,
            len(set(toks) & title_tokens) / words if title_tokens else 0.0,
            i / n,
            i < n * 0.1,
            i >= n * 0.9,
            len(toks) >= PROSE_WORDS and bool(_SENTENCE_END.search(line)),
        )
    columns = [base]
    padded_sum = np.vstack([np.zeros((1, base.shape[1])), np.cumsum(base, axis=0)])
    for window in CONTEXT_WINDOWS:
        low = np.clip(np.arange(n) - window, 0, n)
        high = np.clip(np.arange(n) + window + 1, 0, n)
        total = padded_sum[high] - padded_sum[low] - base
        columns.append(total / np.maximum(1, (high - low - 1))[:, None])
    prose = base[:, BASE_FEATURES.index("prose")] > 0
    prose_words = np.where(prose, np.expm1(base[:, 0]), 0.0)
    cumulative = np.cumsum(prose_words) / max(1.0, float(prose_words.sum()))
    where = np.flatnonzero(prose)
    index = np.arange(n)
    if len(where):
        inside = (index >= where[0]) & (index <= where[-1])
        distance = np.min(np.abs(index[:, None] - where[None, :]), axis=1)
    else:
        inside = np.zeros(n, dtype=bool)
        distance = np.full(n, n)
    extra = np.column_stack([
        inside,
        np.log1p(distance),
        distance == 0,
        cumulative,
        4 * cumulative * (1 - cumulative),
        np.full(n, np.log1p(n) / 5),
        np.full(n, len(where) / n),
        np.full(n, prose.any()),
    ])
    columns.append(extra)
    columns.append(_page_relative(base))
    columns.append(_block_features(lines, tokens, base, title_tokens))
    return np.hstack(columns).astype(float)



def _page_relative(base: np.ndarray) -> np.ndarray:
    """A line's length and prose-likeness against the page's own: probabilities alone do not transfer from a
    page full of long menus to a page of short paragraphs."""
    picked = base[:, [BASE_FEATURES.index(name) for name in ("log_words", "sentence_end", "stop_share")]]
    words = base[:, 0]
    return np.column_stack([picked - picked.mean(axis=0), words / max(1e-9, float(words.max()))])


def _block_features(lines: list[str], tokens: list[list[str]], base: np.ndarray, title_tokens: set[str]) -> np.ndarray:
    """Where a line sits among the page's blocks of prose: the article is usually the largest block and the
    first one after the headline; comments follow a "Comments" heading."""
    n = len(lines)
    words = np.array([len(t) for t in tokens], dtype=float)
    prose = (words >= BLOCK_PROSE_WORDS) & (base[:, BASE_FEATURES.index("sentence_end")] > 0)
    block = np.full(n, -1)
    current, gap, last_prose = -1, BLOCK_GAP + 1, -1
    for i in range(n):
        if prose[i]:
            if gap > BLOCK_GAP:
                current += 1
            else:
                block[last_prose + 1:i] = current  # short lines between two prose lines of one block
            block[i] = current
            gap, last_prose = 0, i
        else:
            gap += 1
    sizes = np.array([words[block == b].sum() for b in range(current + 1)]) if current >= 0 else np.zeros(0)
    overlaps = [len(set(t) & title_tokens) / max(1, len(set(t) | title_tokens)) for t in tokens]
    anchor = int(np.argmax(overlaps)) if overlaps and max(overlaps) >= HEADLINE_OVERLAP else -1
    first_after = next((int(block[i]) for i in range(anchor + 1, n) if block[i] >= 0), -1)
    comments = next((i for i, line in enumerate(lines) if _COMMENTS_HEADING.search(line)), n)
    index = np.arange(n)
    in_block = block >= 0
    share = np.where(in_block, sizes[block] / max(1.0, float(sizes.sum())) if len(sizes) else 0.0, 0.0)
    largest = np.where(in_block, block == (int(np.argmax(sizes)) if len(sizes) else -2), False)
    rank = np.zeros(n)
    if len(sizes):
        order = np.argsort(-sizes)
        ranks = np.empty(len(sizes))
        ranks[order] = np.arange(len(sizes))
        rank = np.where(in_block, np.log1p(ranks[np.maximum(block, 0)]), np.log1p(len(sizes)))
    return np.column_stack([
        in_block,
        share,
        largest,
        rank,
        (block == first_after) & in_block,
        index > anchor if anchor >= 0 else np.zeros(n),
        np.full(n, anchor >= 0),
        np.sign(index - anchor) * np.log1p(np.abs(index - anchor)) if anchor >= 0 else np.zeros(n),
        index > comments,
    ])


@dataclass(frozen=True, slots=True)
class _Trees:
    """Boosted regression trees of fixed depth stored in heap order (node k has children 2k+1 and 2k+2),
    learnt by bench/train_line_model.py; the sum of the leaves is a log-odds."""

    features: np.ndarray  # (trees, 2**depth - 1) feature index per inner node
    thresholds: np.ndarray  # (trees, 2**depth - 1) go right when the feature is above
    leaves: np.ndarray  # (trees, 2**depth) leaf values
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        n = len(features)
        inner = self.features.shape[1]
        rows = np.arange(n)
        z = np.full(n, self.bias)
        for feature, threshold, leaf in zip(self.features, self.thresholds, self.leaves, strict=True):
            node = np.zeros(n, dtype=int)
            while True:
                right = features[rows, feature[node]] > threshold[node]
                node = 2 * node + 1 + right
                if node[0] >= inner:
                    break
            z += leaf[node - inner]
        result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        return result

    def to_json(self) -> dict[str, Any]:
        return {"features": self.features.tolist(), "thresholds": np.round(self.thresholds, 5).tolist(),
                "leaves": np.round(self.leaves, 4).tolist(), "bias": round(float(self.bias), 5)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Trees:
        return cls(np.array(data["features"], dtype=int), np.array(data["thresholds"], dtype=float),
                   np.array(data["leaves"], dtype=float), float(data["bias"]))


def neighbour_features(probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Second-stage inputs: each line's first-stage probability, those of its neighbours (jusText's context
    revision, learnt: a short line between two body paragraphs is body, one among menus is not), and the
    run of likely lines it belongs to (the article is the largest run; comments and teasers are smaller)."""
    n = len(probabilities)
    padded = np.concatenate([[0.0], np.cumsum(probabilities)])
    columns = [probabilities]
    index = np.arange(n)
    for window in (1, 2, 5):
        low, high = np.clip(index - window, 0, n), np.clip(index + window + 1, 0, n)
        columns.append((padded[high] - padded[low] - probabilities) / np.maximum(1, high - low - 1))
    before = np.array([probabilities[max(0, i - 5):i].max(initial=0.0) for i in range(n)])
    after = np.array([probabilities[i + 1:i + 6].max(initial=0.0) for i in range(n)])
    columns += [before, after, np.minimum(before, after)]
    words = np.expm1(features[:, 0]) * probabilities
    likely = probabilities >= RUN_PROBABILITY
    run = np.full(n, -1)
    current, gap = -1, RUN_GAP + 1
    for i in range(n):
        if likely[i]:
            if gap > RUN_GAP:
                current += 1
            else:
                run[i - gap:i] = current
            run[i] = current
            gap = 0
        else:
            gap += 1
    sizes = np.array([words[run == r].sum() for r in range(current + 1)])
    if len(sizes):
        largest = int(np.argmax(sizes))
        members = np.flatnonzero(run == largest)
        share = np.where(run >= 0, sizes[np.maximum(run, 0)] / max(1e-9, float(sizes.sum())), 0.0)
        distance = np.where(run == largest, 0, np.minimum(np.abs(index - members[0]), np.abs(index - members[-1])))
        columns += [share, run == largest, np.log1p(distance), index < members[0], index > members[-1]]
    else:
        columns += [np.zeros(n), np.zeros(n), np.full(n, np.log1p(n)), np.zeros(n), np.zeros(n)]
    return np.column_stack(columns)


def select(probabilities: np.ndarray, threshold: float, grow: float) -> list[bool]:
    """Hysteresis: lines at or above `threshold` are body, and so are the runs of lines at or above `grow`
    that touch them (a subheading or a short paragraph inside the article). When no line reaches the
    threshold the most likely line seeds the body, so that a page never comes back empty."""
    n = len(probabilities)
    if n == 0:
        return []
    keep = probabilities >= threshold
    if not keep.any():
        keep = probabilities >= probabilities.max()
    for order in (range(1, n), range(n - 2, -1, -1)):
        for i in order:
            j = i - 1 if order.step == 1 else i + 1
            if keep[j] and not keep[i] and probabilities[i] >= grow:
                keep[i] = True
    return [bool(k) for k in keep]


@dataclass(frozen=True, slots=True)
class LineModel:
    """Two stages: line features -> probability; then probability with the neighbours' -> keep or drop."""

    first: _Trees
    second: _Trees
    threshold: float
    grow: float

    def probabilities(self, lines: list[str], title: str) -> np.ndarray:
        if not lines:
            return np.zeros(0)
        features = line_features(lines, title)
        first = self.first.probability(features)
        return self.second.probability(np.hstack([features, neighbour_features(first, features)]))

    def keep(self, lines: list[str], title: str) -> list[bool]:
        return select(self.probabilities(lines, title), self.threshold, self.grow)

    def to_json(self) -> dict[str, Any]:
        return {"features": len(BASE_FEATURES), "first": self.first.to_json(), "second": self.second.to_json(),
                "threshold": round(self.threshold, 4),
                "grow": round(self.grow, 4)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LineModel:
        return cls(_Trees.from_json(data["first"]), _Trees.from_json(data["second"]), float(data["threshold"]),
                   float(data["grow"]))


@lru_cache(maxsize=1)
def _line_model() -> LineModel:
    text = resources.files("storyline").joinpath("data/line_model.json").read_text("utf-8")
    return LineModel.from_json(json.loads(text))

