"""Actions: who did what to whom, with PLOVER classes, in six languages (invented sentences)."""

from __future__ import annotations

import pytest

from storyline import actions
from storyline.eventcoding import code, main_action, plover_name, plover_of_cameo

# (language, text, expected (actor text, PLOVER class, target text) of the main action)
CASES = [
    ("en", "Rebels attacked a police station in the north.", ("Rebels", "ASSAULT", "police station")),
    ("en", "Maria Olsen met Kamal Haddad in Oslo.", ("Maria Olsen", "CONSULT", "Kamal Haddad")),
    ("en", "The government arrested twelve students.", ("government", "COERCE", "twelve students")),
    ("en", "Workers protested against the new tax law.", ("Workers", "PROTEST", "new tax law")),
    ("en", "Norway urged Sweden to reopen the border.", ("Norway", "REQUEST", "Sweden")),
    ("en", "The army withdrew from the valley.", ("army", "RETREAT", "valley")),
    ("ar", "هاجم مسلحون مركزا للشرطة.", ("مسلحون", "ASSAULT", "مركزا للشرطة")),
    ("ar", "اتهمت وزارة الخارجية إسرائيل.", ("وزارة الخارجية", "ACCUSE", "إسرائيل")),
    ("ru", "Иван Петров встретился с Анной Вебер в Москве.", ("Иван Петров", "CONSULT", "Анной Вебер")),
    ("ru", "Боевики атаковали полицейский участок.", ("Боевики", "ASSAULT", "полицейский участок")),
    ("de", "Anna Weber traf Jean Dupont in Berlin.", ("Anna Weber", "CONSULT", "Jean Dupont")),
    ("de", "Die Regierung drohte den Rebellen.", ("Regierung", "THREATEN", "Rebellen")),
    ("fr", "Jean Dupont a rencontré Carlos Ruiz à Paris.", ("Jean Dupont", "CONSULT", "Carlos Ruiz")),
    ("fr", "Les rebelles ont attaqué un poste de police.", ("rebelles", "ASSAULT", "poste")),
    ("es", "Los guerrilleros atacaron un puesto de policía.", ("guerrilleros", "ASSAULT", "puesto")),
    ("es", "Carlos Ruiz se reunió con Anna Weber en Madrid.", ("Carlos Ruiz", "CONSULT", "Anna Weber")),
    ("es", "Los maestros protestaron contra la reforma.", ("maestros", "PROTEST", "reforma")),
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES)
def test_main_action(lang: str, text: str, expected: tuple[str, str, str]) -> None:
    action = main_action(code(text, lang))
    assert action is not None
    assert (action.actor_text, action.code, action.target_text) == expected


def test_actor_and_target_resolve_to_entities() -> None:
    [action] = actions("Maria Olsen met Kamal Haddad in Oslo.", "en")
    assert action.actor is not None and action.actor.startswith("ent-")
    assert action.target is not None and action.target.startswith("ent-")
    assert (action.verb, action.code) == ("met", "CONSULT")


def test_negated_verbs_are_not_actions() -> None:
    assert actions("The army did not attack the town.", "en") == []


def test_the_main_action_is_the_most_specific() -> None:
    coded = code("After talks in Oslo, police arrested the organisers.", "en")
    assert {c.code for c in coded} >= {"COERCE"}
    assert main_action(coded).code == "COERCE"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cameo", "plover"),
    [("042", "CONSULT"), ("10", "REQUEST"), ("130_threaten", "THREATEN"), ("190_use_force", "ASSAULT"),
     ("084", "RETREAT"), ("081", "CONCEDE"), ("015", None), ("112", "ACCUSE"), ("18/19", "ASSAULT"), ("", None)],
)
def test_cameo_codes_map_to_plover(cameo: str, plover: str | None) -> None:
    assert plover_of_cameo(cameo) == plover


@pytest.mark.parametrize(("label", "plover"), [("DEMAND", "REQUEST"), ("SACTION", "SANCTION"), ("PROTEST", "PROTEST"),
                                               ("CRIME", None)])
def test_legacy_plover_labels(label: str, plover: str | None) -> None:
    assert plover_name(label) == plover


def test_unsupported_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="action-verb"):
        actions("text", "xx")


def test_statements_resolve_speakers_and_actors_to_the_batch_entities() -> None:
    from datetime import UTC, datetime

    from storyline.eventcoding import statements
    from storyline.model import Article
    from storyline.recognition import resolve

    article = Article(id="a", title="Talks in Oslo", lang="en", published=datetime(2026, 3, 5, tzinfo=UTC),
                      text="Maria Olsen met Kamal Haddad in Oslo on Monday. “We are ready,” Olsen said.")
    entities, mentions = resolve([article])
    quotes, actions = statements([article], entities, mentions)
    ids = {e.id for e in entities}
    assert [(q.speaker_name, q.text) for q in quotes] == [("Olsen", "We are ready")]
    assert quotes[0].speaker in ids
    [action] = actions
    assert action.actor in ids and action.target in ids
    assert (action.code, action.date) == ("CONSULT", "2026-03-02")
