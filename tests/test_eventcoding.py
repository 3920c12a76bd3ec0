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
    ("ar", "وتظاهر مئات العمال أمام البرلمان.", ("مئات العمال", "PROTEST", "البرلمان")),
    ("ar", "يتظاهر المعلمون في الساحة.", ("المعلمون", "PROTEST", "الساحة")),
    ("ar", "وقصفت الطائرات مواقع للمتمردين.", ("الطائرات", "ASSAULT", "مواقع للمتمردين")),
    ("ar", "وأطلقت الشرطة النار على المحتجين.", ("الشرطة", "ASSAULT", "المحتجين")),
    ("ar", "اقتحم مستوطنون القرية", ("مستوطنون", "ASSAULT", "القرية")),
    ("ar", "ونظم الأطباء اعتصاما أمام الوزارة.", ("الأطباء", "PROTEST", "الوزارة")),
    ("de", "Die Arbeiter streikten gegen die Schließung.", ("Arbeiter", "PROTEST", "Schließung")),
    ("ru", "Полиция задержала десять активистов.", ("Полиция", "COERCE", "десять активистов")),
    ("fr", "Les ouvriers ont manifesté contre la réforme.", ("ouvriers", "PROTEST", "réforme")),
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
    assert (action.actor_name, action.verb, action.code, action.target_name) == (
        "Maria Olsen", "met", "CONSULT", "Kamal Haddad")


def test_an_unresolved_actor_keeps_its_phrase_and_no_entity_id() -> None:
    [action] = actions("Police arrested three protesters.", "en")
    assert (action.actor, action.actor_name) == (None, "Police")
    assert (action.target, action.target_name) == (None, "three protesters")


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


@pytest.mark.parametrize(
    ("text", "plover"),
    [
        ("فاحتج الطلاب على رفع الرسوم.", "PROTEST"),  # ف + past
        ("يحتج السكان على انقطاع الكهرباء", "PROTEST"),  # imperfect ي-
        ("وأضرب الأطباء عن العمل", "PROTEST"),  # و + subject inside the phrase
        ("تظاهرات حاشدة في العاصمة", "PROTEST"),  # plural noun
        ("وشنت الطائرات غارات على المدينة", "ASSAULT"),
        ("قتلت القوات الحكومية عشرة مدنيين", "ASSAULT"),
        ("واعتقلت الشرطة عشرة ناشطين", "COERCE"),
        ("فرقت الشرطة المتظاهرين بالغاز", "COERCE"),
        ("واختطف مسلحون صحفيا", "COERCE"),
        ("أنهى العمال الإضراب بعد الاتفاق.", "CONCEDE"),
        ("نددت الحكومة بالهجوم.", "ACCUSE"),
    ],
)
def test_arabic_verbs_are_found_through_clitics_and_inflections(text: str, plover: str) -> None:
    action = main_action(code(text, "ar"))
    assert action is not None and action.code == plover


@pytest.mark.parametrize(
    ("lang", "text"),
    [("en", "The army could attack the town."), ("es", "El ejército podría atacar la ciudad."),
     ("de", "Die Armee könnte die Stadt angreifen."), ("fr", "L'armée pourrait attaquer la ville."),
     ("ar", "لم يهاجم الجيش المدينة")],
)
def test_hypothetical_and_negated_verbs_are_not_actions(lang: str, text: str) -> None:
    assert code(text, lang) == []


@pytest.mark.parametrize(
    ("lang", "text", "actor", "target"),
    [("en", "The village was attacked by rebels.", "rebels", "village"),
     ("es", "El cuartel fue atacado por guerrilleros.", "guerrilleros", "cuartel")],
)
def test_the_agent_of_a_passive_verb_is_the_actor(lang: str, text: str, actor: str, target: str) -> None:
    action = main_action(code(text, lang))
    assert action is not None and (action.actor_text, action.target_text) == (actor, target)


@pytest.mark.parametrize(
    ("lang", "text", "actor"),
    [("en", "Thousands of protesters marched through the capital.", "Thousands of protesters"),
     ("es", "Miles de manifestantes marcharon por el centro.", "Miles de manifestantes"),
     ("fr", "Des milliers de manifestants ont défilé à Paris.", "milliers de manifestants"),
     ("es", "Una huelga de los maestros cerró las escuelas.", "maestros"),
     ("es", "Ayer hubo una huelga de los vecinos en el barrio.", "vecinos"),
     ("ar", "مظاهرات الطلاب في الجامعة", "الطلاب")],
)
def test_group_nouns_are_protest_actors(lang: str, text: str, actor: str) -> None:
    action = main_action(code(text, lang))
    assert action is not None and (action.code, action.actor_text) == ("PROTEST", actor)


def test_nouns_beside_the_main_verb_are_not_reported() -> None:
    coded = code("Police arrested three men after the protest.", "en")
    assert [(c.code, c.actor_text, c.target_text) for c in coded] == [("COERCE", "Police", "three men")]


@pytest.mark.parametrize(
    ("lang", "text", "plover"),
    [("en", "Farmers blocked the highway near the port.", "PROTEST"),
     ("es", "Los vecinos bloquearon la carretera.", "PROTEST"),
     ("fr", "Les agriculteurs ont bloqué l'autoroute.", "PROTEST"),
     ("de", "Die Demonstranten blockierten die Straße.", "PROTEST"),
     ("en", "The union ended the strike after the talks.", "CONCEDE"),
     ("es", "Los estudiantes pusieron fin a la huelga.", "CONCEDE")],
)
def test_blockades_are_protests_and_ending_one_is_a_concession(lang: str, text: str, plover: str) -> None:
    action = main_action(code(text, lang))
    assert action is not None and action.code == plover


def test_statements_keep_only_actions_whose_actor_is_an_entity_or_a_group() -> None:
    from storyline.eventcoding import statements
    from storyline.model import Article
    from storyline.recognition import resolve

    article = Article(id="a", title="Dam talks", lang="en", text=(
        "According to the ministry, officials discussed prospects for a deal. Maria Olsen met Kamal Haddad "
        "in Oslo. Farmers protested against the dam."))
    entities, mentions = resolve([article])
    _, actions = statements([article], entities, mentions)
    assert [(a.actor_name, a.code) for a in actions] == [("Maria Olsen", "CONSULT"), ("Farmers", "PROTEST")]
