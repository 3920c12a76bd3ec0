"""Actors are names, groups or resolved pronouns, never a connective or a bare function word, and a
connective ("Sin embargo", however) hides no action cue.

Every text here is invented for the tests.
"""

from __future__ import annotations

from storyline.eventcoding import actions, statements
from storyline.model import Article, Entity


def test_a_connective_is_no_action() -> None:
    found = actions("Sin embargo, los manifestantes siguieron en la plaza durante la noche.", "es")
    assert all(a.code != "SANCTION" for a in found)
    assert all(a.actor_name != "Sin" for a in found)


def test_a_real_embargo_is_still_coded() -> None:
    found = actions("La Unión Europea impuso un embargo de armas al régimen.", "es")
    assert any(a.code == "SANCTION" for a in found)


def test_a_singular_pronoun_actor_is_the_person_named_before_it() -> None:
    [action] = actions("Marie Dubois est arrivée à Tunis. Elle a dénoncé la répression des manifestants.", "fr")
    assert action.code == "ACCUSE"
    assert action.actor_name == "Marie Dubois" and action.actor is not None


def test_a_function_word_is_no_actor() -> None:
    [action] = actions("Además, atacaron la ciudad durante la noche.", "es")
    assert action.code == "ASSAULT" and action.actor_name is None


def test_an_actor_is_not_an_entity_that_only_shares_its_consonants() -> None:
    article = Article(id="a", title="Frontera", text="Ese atacó la ciudad durante la noche.", lang="es")
    asia = Entity("ent-asia", "Asia", "LOC", ["Asia"])  # the skeleton of "Ese" and "Asia" is "s"
    _, found = statements([article], [asia], [])
    assert all(a.actor != "ent-asia" for a in found)
