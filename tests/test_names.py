"""Name keys and the learned transliteration model: the same name across spellings and scripts."""

from __future__ import annotations

import math

import pytest

from storyline.names import (
    arabic_contexts,
    latin_key,
    learned_romanisation,
    name_similarity,
    skeleton,
    translit_logprob,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Lavrov", "Лавров"),
        ("Lavrov", "لافروف"),
        ("Lavrov", "Lawrow"),
        ("Riad al-Maliki", "Riyadh al-Maliki"),
        ("Riyad Al-Maliki", "رياض المالكي"),
        ("Hadi Amr", "هادي عمرو"),
        ("Safronkov", "Сафронков"),
    ],
)
def test_skeleton_is_shared_across_spellings_and_scripts(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)


def test_arabic_contexts_mark_word_positions() -> None:
    assert arabic_contexts("هادي عمرو") == ["ه^", "ا-", "د-", "ي$", "ع^", "م-", "ر-", "و$"]
    assert latin_key("Al-Maliki's") == "almalikis"


def test_learned_model_prefers_the_right_spelling() -> None:
    assert translit_logprob("لافروف", "Lavrov") > translit_logprob("لافروف", "Rafah")
    assert translit_logprob("بوتين", "Putin") > translit_logprob("بوتين", "Bhutan")
    assert translit_logprob("شرودر", "Schroder") > -math.inf
    assert learned_romanisation("برلين").startswith("b")


def test_name_similarity_ranks_the_same_name_first() -> None:
    assert name_similarity("Sergey Lavrov", "Сергей Лавров") > name_similarity("Sergey Lavrov", "Сергей Шойгу")
