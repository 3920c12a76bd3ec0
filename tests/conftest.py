"""Shared fixtures: paths to the shipped sample corpus and to the shared seeds and data (when present)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
DATA = SHARED / "data"


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    return SEEDS


def data_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"evaluation data {relative} not found under {DATA}")
    return path
