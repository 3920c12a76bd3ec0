"""Optional dense embeddings behind one small interface, off by default.

No multilingual embedding model can be had offline here (../shared/OFFLINE.md), so storyline's similarity
does not depend on one. Where a user has a local sentence-transformers model (a directory path; nothing is
downloaded), `SentenceTransformerEmbedder` gives unit vectors whose cosine a caller can add to its signals.
sentence-transformers (and torch) are an optional extra (`pip install storyline[neural]`), imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors (lists of floats); `dimension` is 0 for no embedding."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class NoEmbedder:
    """The default: no dense signal (empty vectors)."""

    dimension = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[] for _ in texts]


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
