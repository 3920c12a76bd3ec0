"""Entities do not over-merge: one skeleton is not one name, acronyms join only themselves, media are not
people, and one person keeps one id across spellings and scripts.

Every text here is invented for the tests.
"""

from __future__ import annotations

import pytest

from storyline import entities, recognition
from storyline.model import Article
from storyline.names import spelling, spelling_similarity
from storyline.recognition import resolve


def _ids(articles: list[Article]) -> dict[str, set[str]]:
    """Surface form -> the entity ids it got in the batch."""
    _, mentions = resolve(articles)
    found: dict[str, set[str]] = {}
    for mention in mentions:
        found.setdefault(mention.text, set()).add(mention.entity)
    return found


def _one(found: dict[str, set[str]], surface: str) -> str:
    [entity] = found[surface]
    return entity


@pytest.mark.parametrize(
    ("a", "b"),
    [("el-Assad", "Асад"), ("al-Assad", "Assad"), ("Lawrow", "Lavrov"), ("Sinaí", "Sinaï"), ("Saná", "Sanaa"),
     ("Sergej", "Sergey")],
)
def test_one_name_has_one_spelling_key_across_conventions(a: str, b: str) -> None:
    assert spelling(a) == spelling(b)


@pytest.mark.parametrize(("a", "b"), [("Sanaa", "Sinai"), ("Sanaa", "Seine"), ("Sanaa", "Suzanne"),
                                      ("Sanaa", "Cheney"), ("Assad", "Saad")])
def test_names_that_share_a_skeleton_keep_different_spellings(a: str, b: str) -> None:
    assert spelling(a) != spelling(b)
    assert spelling_similarity(spelling(a), spelling(b)) < 0.8


def test_a_place_does_not_absorb_names_that_share_its_consonants() -> None:
    found = _ids([
        Article(id="es1", title="Yemen", text="Los rebeldes entraron ayer en Saná. Desde Saná llegan noticias de "
                "combates, según la agencia SANA.", lang="es"),
        Article(id="fr1", title="Yémen", text="Les rebelles sont entrés hier à Sanaa. Au Sinaï, l'armée "
                "égyptienne patrouille. Suzanne Martin a visité la Seine.", lang="fr"),
        Article(id="es2", title="Egipto", text="El ejército patrulla el Sinaí. En Tchétchénie y en Chechenia "
                "hubo combates. Dick Cheney habló con Zine Ben Ali.", lang="es"),
    ])
    sanaa = _one(found, "Sanaa")
    assert _one(found, "Saná") == sanaa
    for other in ("SANA", "Sinaï", "Sinaí", "Suzanne Martin", "Seine", "Tchétchénie", "Dick Cheney",
                  "Zine Ben Ali"):
        assert sanaa not in found[other], other
    assert _one(found, "Sinaí") == _one(found, "Sinaï")


def test_an_acronym_joins_only_itself() -> None:
    found = _ids([
        Article(id="en1", title="Media", text="The BBC and ABC reported it. AIPAC and OPEC met later. The CIA "
                "said AQI had fled. CNN covered QAnon.", lang="en"),
        Article(id="en2", title="More", text="According to the BBC, the CIA and CNN were told.", lang="en"),
    ])
    ids = {surface: _one(found, surface) for surface in ("BBC", "ABC", "AIPAC", "OPEC", "CIA", "AQI", "CNN",
                                                         "QAnon")}
    assert len(set(ids.values())) == len(ids)


def test_media_and_agencies_are_organisations_never_people() -> None:
    found = {m.text: m.type for m in entities(
        "Selon Al Jazeera et Al Arabiya, Reuters a confirmé la nouvelle, que la chaîne Al Mayadin a démentie.",
        "fr")}
    assert found["Al Jazeera"] == "ORG" and found["Al Arabiya"] == "ORG" and found["Reuters"] == "ORG"
    assert found["Al Mayadin"] != "PER"  # an article and one word are too little for a person


def test_a_person_and_an_organisation_with_one_skeleton_stay_apart() -> None:
    found = _ids([
        Article(id="en1", title="Talks", text="Minister Kamal Sadr met the press. Sadr said the talks go on.",
                lang="en"),
        Article(id="en2", title="Study", text="The report of the SDR came out. The SDR said more.", lang="en"),
    ])
    assert _one(found, "Sadr") == _one(found, "Kamal Sadr")
    assert _one(found, "SDR") != _one(found, "Kamal Sadr")


def test_one_person_across_spellings_scripts_and_bare_surnames() -> None:
    found = _ids([
        Article(id="es1", title="Siria", text="El presidente sirio Bashar al-Assad recibió al enviado en Damasco. "
                "Assad prometió reformas.", lang="es"),
        Article(id="fr1", title="Syrie", text="Le président syrien Bachar el-Assad a reçu l'envoyé à Damas. "
                "El-Assad a promis des réformes.", lang="fr"),
        Article(id="en1", title="Syria", text="President Bashar al-Assad met the envoy in Damascus. Al-Assad "
                "promised reforms.", lang="en"),
        Article(id="ru1", title="Сирия", text="Президент Башар Асад принял посланника в Дамаске. Асад пообещал "
                "реформы.", lang="ru"),
        Article(id="ar1", title="سوريا", text="استقبل الرئيس السوري بشار الأسد المبعوث في دمشق. ووعد الأسد "
                "بإصلاحات.", lang="ar"),
        Article(id="es2", title="Historia", text="Su padre Hafez al-Assad gobernó Siria durante treinta años.",
                lang="es"),
        Article(id="fr2", title="Damas", text="A Damas, le régime d'Assad a annoncé des mesures. Le ministre Saad "
                "Hariri a protesté.", lang="fr"),
    ])
    bashar = _one(found, "Bashar al-Assad")
    for surface in ("Bachar el-Assad", "Assad", "El-Assad", "Al-Assad", "Башар Асад", "Асад", "بشار الأسد",
                    "الأسد"):
        assert found[surface] == {bashar}, surface
    assert _one(found, "Hafez al-Assad") != bashar  # the father has a name of his own
    assert bashar not in found["Saad Hariri"]


def test_an_entity_is_named_by_its_common_full_name_not_a_rare_longer_form() -> None:
    # A heading ran a common word into the name once ("Biografija Donalda Trumpa"); the text says
    # "Donald Trump" eight times. The export, the quotes' speakers and the entity page show the name.
    articles = [Article(id=f"hr-{i}", title="Biografija Donalda Trumpa" if i == 0 else f"Izbori, dan {i}",
                        text="Američki predsjednik Donald Trump rekao je u utorak da neće priznati poraz. "
                             "Donald Trump je to napisao na Twitteru.", lang="hr") for i in range(4)]
    entities, _ = resolve(articles)
    [trump] = [e for e in entities if "Donald Trump" in e.variants]
    assert trump.name == "Donald Trump" and "Biografija Donalda Trumpa" in trump.variants


def test_an_inflected_place_adds_a_case_ending_not_any_letters() -> None:
    # "Rosji" is a case form of "Rosja" (Russia); "Rosatom" (a company) and "Georgelin" (a surname) only
    # begin like Rosja and Georgia.
    text = ("Prezes Rosatom Aleksiej Lichaczow przyjechał do Rosji. Generał Jean-Louis Georgelin mówił o "
            "Gruzji. Rosatom zbuduje elektrownię.")
    found = {m.text: m.entity for m in recognition.entities(text, "pl")}
    assert found["Rosji"] == "ent-russia"
    assert found.get("Rosatom") != "ent-russia" and found.get("Jean-Louis Georgelin") != "ent-georgia"
