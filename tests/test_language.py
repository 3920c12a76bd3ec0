"""Language ID: the detector reads the start of the text, not only its first line, and regional varieties
are read as the standard language news is written in."""

from __future__ import annotations

from storyline.language import detect_language

ENGLISH_BODY = (
    "The federal ministry published its statement on Tuesday, and the opposition answered within the hour. "
    "Officials said the plan would be debated in parliament next week, while industry groups asked for more "
    "time to study the details. Several regional governments have already said they will support it."
)


def test_an_english_article_under_a_german_headline_is_english() -> None:
    headline = "Bundesministerium für Wirtschaft und Klimaschutz: Stellungnahme zur Energiewende"
    assert detect_language(headline) == "de"
    assert detect_language(f"{headline}\n\n{ENGLISH_BODY}") == "en"


def test_a_regional_variety_is_read_as_its_standard_language() -> None:
    # The model reads this Swiss German line as Alemannic ("als"), as it did real Austrian and Swiss German
    # news pages; storyline analyses them as German.
    assert detect_language("Grüezi mitenand, hüt isch es schön Wätter und mir gönd go wandere.") == "de"
