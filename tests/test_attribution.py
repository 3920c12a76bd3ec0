"""Quotes: who said what, in every quotation-mark style and in ten languages (invented sentences)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storyline import quotes
from storyline.attribution import attribute, quote_spans
from storyline.names import skeleton

# (language, text, expected (speaker_name, quoted text, direct) in text order)
CASES = [
    ("en", "“We will not give up,” Maria Olsen said on Tuesday.",
     [("Maria Olsen", "We will not give up", True)]),
    ("en", 'Foreign Minister Maria Olsen said: "The border stays open."',
     [("Maria Olsen", "The border stays open", True)]),
    ("en", '"The border stays open," said Maria Olsen. "Trade will continue."',
     [("Maria Olsen", "The border stays open", True), ("Maria Olsen", "Trade will continue", True)]),
    ("en", "“We are ready,” Olsen said, “but not at any price.”",
     [("Olsen", "We are ready", True), ("Olsen", "but not at any price", True)]),
    ("en", "Maria Olsen met the press in Oslo. “We are ready to talk,” she said.",
     [("Maria Olsen", "We are ready to talk", True)]),
    ("en", "‹Nothing is decided,› Olsen said.", [("Olsen", "Nothing is decided", True)]),
    ("en", "The Norwegian Foreign Ministry said that the talks would resume next week.",
     [("Norwegian Foreign Ministry", "the talks would resume next week", False)]),
    ("en", "The talks will resume next week, the ministry said.",
     [("the ministry", "The talks will resume next week", False)]),
    ("en", "According to Maria Olsen, the talks will resume in May.",
     [("Maria Olsen", "the talks will resume in May", False)]),
    ("ar", "وقال وزير الخارجية كمال حداد: «لن نتراجع عن موقفنا».",
     [("كمال حداد", "لن نتراجع عن موقفنا", True)]),
    ("ar", "وأكد كمال حداد أن المفاوضات ستستأنف الأسبوع المقبل.",
     [("كمال حداد", "المفاوضات ستستأنف الأسبوع المقبل", False)]),
    ("ru", "«Мы не отступим», — заявил министр Иван Петров.", [("Иван Петров", "Мы не отступим", True)]),
    ("ru", "Иван Петров заявил: «Переговоры продолжатся».", [("Иван Петров", "Переговоры продолжатся", True)]),
    ("ru", "Иван Петров сообщил, что переговоры продолжатся на следующей неделе.",
     [("Иван Петров", "переговоры продолжатся на следующей неделе", False)]),
    ("de", "„Wir geben nicht auf“, sagte Anna Weber am Montag.", [("Anna Weber", "Wir geben nicht auf", True)]),
    ("de", "Anna Weber sagte: „Die Grenze bleibt offen.“", [("Anna Weber", "Die Grenze bleibt offen", True)]),
    ("de", "Anna Weber erklärte, dass die Gespräche fortgesetzt würden.",
     [("Anna Weber", "die Gespräche fortgesetzt würden", False)]),
    ("fr", "« Nous ne céderons pas », a déclaré Jean Dupont.", [("Jean Dupont", "Nous ne céderons pas", True)]),
    ("fr", "Jean Dupont est arrivé à Paris. « Nous n'allons pas fléchir », a-t-il dit.",
     [("Jean Dupont", "Nous n'allons pas fléchir", True)]),
    ("fr", "Jean Dupont a affirmé que les négociations reprendraient lundi.",
     [("Jean Dupont", "les négociations reprendraient lundi", False)]),
    ("es", "“No vamos a ceder”, dijo Carlos Ruiz el lunes.", [("Carlos Ruiz", "No vamos a ceder", True)]),
    ("es", "Carlos Ruiz afirmó que las negociaciones continuarán.",
     [("Carlos Ruiz", "las negociaciones continuarán", False)]),
    ("cs", "„Nevzdáme se,“ řekl ministr Jan Novák v pondělí.", [("Jan Novák", "Nevzdáme se", True)]),
    ("cs", "Petra Svobodová přijela do Brna. „Jsme připraveni jednat,“ řekla.",
     [("Petra Svobodová", "Jsme připraveni jednat", True)]),
    ("pl", "Anna Nowak stwierdziła, że rozmowy będą kontynuowane.",
     [("Anna Nowak", "rozmowy będą kontynuowane", False)]),
    ("pl", "„Nie poddamy się” – powiedział minister Jan Kowalski.", [("Jan Kowalski", "Nie poddamy się", True)]),
    ("uk", "«Ми не відступимо», — заявив міністр Іван Петренко.", [("Іван Петренко", "Ми не відступимо", True)]),
    ("uk", "За словами Івана Петренка, переговори продовжаться у травні.",
     [("Івана Петренка", "переговори продовжаться у травні", False)]),
    ("bg", "Иван Петров заяви, че преговорите ще продължат.", [("Иван Петров", "преговорите ще продължат", False)]),
    ("bg", "Мария Иванова пристигна в София. „Готови сме“, каза тя.", [("Мария Иванова", "Готови сме", True)]),
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES)
def test_quotes(lang: str, text: str, expected: list[tuple[str, str, bool]]) -> None:
    found = [(q.speaker_name, q.text, q.direct) for q in quotes(text, lang)]
    assert found == expected


@pytest.mark.parametrize(
    ("text", "inner"),
    [("a “b c” d", ["b c"]), ('a "b c" d', ["b c"]), ("a «b c» d", ["b c"]), ("a „b c“ d", ["b c"]),
     ("a ‹b c› d", ["b c"]), ("«a „b“ c»", ["a „b“ c"]), ('"a "b" c" d', ['a "b" c'])],
)
def test_quotation_marks_pair_in_every_style(text: str, inner: list[str]) -> None:
    assert [text[s:e] for s, e in quote_spans(text)] == inner


def test_offsets_point_at_the_content() -> None:
    text = "“We are ready,” Olsen said."
    [quote] = quotes(text, "en")
    assert text[quote.start : quote.end] == quote.text


def test_pronoun_refers_to_the_last_named_speaker_not_to_people_mentioned_after() -> None:
    text = ("Maria Olsen said that the talks had been useful. “We are ready,” she said after meeting "
            "Kamal Haddad.")
    direct = [q for q in quotes(text, "en") if q.direct]
    assert [(q.speaker_name, q.text) for q in direct] == [("Maria Olsen", "We are ready")]


def test_role_noun_refers_back_to_the_person_with_that_office() -> None:
    text = ("Foreign Minister Maria Olsen arrived in Oslo on Monday with Kamal Haddad. "
            "“The border stays open,” the foreign minister said.")
    [quote] = [q for q in quotes(text, "en") if q.direct]
    assert quote.speaker_name == "Maria Olsen"


def test_quote_without_a_cue_continues_the_previous_speaker() -> None:
    text = "“We are ready,” Olsen said. “The border stays open.”"
    assert [q.speaker_name for q in quotes(text, "en")] == ["Olsen", "Olsen"]


def test_a_short_quote_inside_reported_speech_stays_indirect() -> None:
    text = "Olsen said that the plan was “a mistake” that would cost the country dearly for years."
    [quote] = quotes(text, "en")
    assert not quote.direct and "“a mistake”" in quote.text


def test_titles_in_quotes_are_not_direct_quotes() -> None:
    assert [q for q in quotes("Olsen told the newspaper “Aftenposten” on Monday.", "en") if q.direct] == []


def test_speaker_gets_an_entity_id() -> None:
    [quote] = quotes("“We are ready,” Maria Olsen said.", "en")
    assert quote.speaker is not None


def test_unsupported_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="speech-verb"):
        quotes("text", "xx")


def test_source_span_keeps_the_pronoun_as_written() -> None:
    text = "Maria Olsen arrived. “We are ready,” she said."
    [attribution] = attribute(text, "en")
    assert text[attribution.source_start : attribution.source_end] == "she"


SPEAKERS = {"Lavrov": "lfrf", "al-Maliki": "mlk"}


def _seed(seeds: Path, number: str) -> str:
    [path] = sorted(seeds.glob(f"{number}_*.txt"))
    return path.read_text(encoding="utf-8")


def _quoted_near(text: str, name: str) -> list[str]:
    """Quoted passages whose paragraph names the speaker (the seeds' quotes of that person)."""
    found = []
    for paragraph in text.split("\n"):
        if re.search(rf"\b{re.escape(name.split('-')[-1])}\b", paragraph):
            found += [paragraph[s:e] for s, e in quote_spans(paragraph) if len(paragraph[s:e].split()) > 3]
    return found


@pytest.mark.parametrize(("number", "name"), [("001", "Lavrov"), ("001", "al-Maliki"), ("002", "Lavrov"),
                                              ("004", "Lavrov"), ("004", "Maliki")])
def test_seed_quotes_have_the_right_speaker(seeds: Path, number: str, name: str) -> None:
    text = _seed(seeds, number)
    key = SPEAKERS.get(name, skeleton(name))
    found = quotes(text, "en")
    by_speaker = [q for q in found if q.speaker_name and skeleton(q.speaker_name).endswith(key)]
    assert any(q.direct for q in by_speaker)
    for passage in _quoted_near(text, name):
        holders = [q for q in found if passage.strip(" ,.") in q.text or q.text in passage]
        assert holders, f"quote not found: {passage[:60]}"


def test_seed_002_quotes_are_all_lavrov(seeds: Path) -> None:
    direct = [q for q in quotes(_seed(seeds, "002"), "en") if q.direct]
    assert len(direct) >= 5
    assert all(q.speaker_name and skeleton(q.speaker_name).endswith("lfrf") for q in direct)
