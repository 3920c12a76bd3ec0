"""Quote speakers are names, roles or resolved pronouns, never a bare pronoun, article, preposition or
connective, in every language with a speech-verb table (Spanish, French, Italian, Czech, Bulgarian and
Polish here).

Every text here is invented for the tests.
"""

from __future__ import annotations

import pytest

from storyline import quotes
from storyline.attribution import function_words, supported_languages
from storyline.eventcoding import statements
from storyline.model import Article, Entity
from storyline.recognition import resolve

# (language, text, expected (speaker_name, quoted text, direct) in text order)
CASES = [
    ("cs", "Ve středu řekl ministr Jan Novák, že jednání budou pokračovat.",
     [("Jan Novák", "jednání budou pokračovat", False)]),
    ("cs", "Jak se uvádí v tisku, jednání budou pokračovat.", []),
    ("bg", "Както се казва, „няма време“.", []),
    # "According to X" without a comma: the source ends with its name, after role words only.
    ("cs", "Podle premiéra Andreje Babiše vláda opatření zruší v pondělí.",
     [("Andreje Babiše", "vláda opatření zruší v pondělí", False)]),
    ("cs", "Podle mluvčího Liberecké krajské nemocnice Jana Dvořáka má zájem o vakcínu polovina lékařů.",
     [("Jana Dvořáka", "má zájem o vakcínu polovina lékařů", False)]),
    ("pl", "Według Mateusza Morawieckiego rząd nie planuje nowych ograniczeń.",
     [("Mateusza Morawieckiego", "rząd nie planuje nowych ograniczeń", False)]),
    ("cs", "Podle odhadů bude inflace letos vyšší.", []),
    ("pl", "Nie wiadomo, według jakiego klucza dobierano osoby do szczepień.", []),
    ("pl", "Mówi się, że rozmowy będą kontynuowane.", [(None, "rozmowy będą kontynuowane", False)]),
    ("fr", "Le ministre Jean Dupont est arrivé à Tunis. Selon lui, les négociations reprendront lundi.",
     [("Jean Dupont", "les négociations reprendront lundi", False)]),
    ("fr", "Selon lui, les négociations reprendront lundi prochain.",
     [(None, "les négociations reprendront lundi prochain", False)]),
    ("fr", "On dit que des hommes armés ont été vus près du port.",
     [(None, "des hommes armés ont été vus près du port", False)]),
    ("fr", "« Nous ouvrirons une représentation », a déclaré l'un des émissaires.",
     [("l'un des émissaires", "Nous ouvrirons une représentation", True)]),
    ("fr", "Le porte-parole du ministère a affirmé que la frontière resterait ouverte.",
     [("Le porte-parole du ministère", "la frontière resterait ouverte", False)]),
    ("es", "Según anunció un portavoz del Gobierno, las negociaciones continuarán la próxima semana.",
     [("un portavoz del Gobierno", "las negociaciones continuarán la próxima semana", False)]),
    ("es", "“Por la noche circulan bandas armadas”, comentó uno de los vigilantes.",
     [("uno de los vigilantes", "Por la noche circulan bandas armadas", True)]),
    ("es", "“Nuestros maridos están ahí dentro”, nos dice una mujer del barrio.",
     [("una mujer", "Nuestros maridos están ahí dentro", True)]),
    ("es", "Cuando se anunció que las tropas se retirarían, nadie protestó en la capital.", []),
    ("es", "El ministro llegó tarde y sin embargo afirmó que la reunión había sido útil.",
     [(None, "la reunión había sido útil", False)]),
    ("it", "«Non ci arrenderemo mai», ha detto il ministro Marco Rossi.",
     [("Marco Rossi", "Non ci arrenderemo mai", True)]),
    ("it", "Il ministro Marco Rossi è arrivato a Roma. Secondo lui, i negoziati riprenderanno lunedì.",
     [("Marco Rossi", "i negoziati riprenderanno lunedì", False)]),
    ("it", "Marco Rossi ha dichiarato che la frontiera resterà aperta.",
     [("Marco Rossi", "la frontiera resterà aperta", False)]),
    ("it", "Si dice che il governo cadrà entro l'estate.", []),
    # A relative pronoun is no speaker ("которым он" was one, on BSNLP unannotated)
    ("ru", "Есть люди, которым он сказал, что выборы были подтасованы.", [(None, "выборы были подтасованы", False)]),
]


@pytest.mark.parametrize(("lang", "text", "expected"), CASES)
def test_speakers_are_names_roles_or_resolved_pronouns(lang: str, text: str,
                                                       expected: list[tuple[str | None, str, bool]]) -> None:
    assert [(q.speaker_name, q.text, q.direct) for q in quotes(text, lang)] == expected


def test_a_name_in_quotation_marks_is_no_quote_and_the_article_before_it_no_speaker() -> None:
    found = quotes("La chaîne de télévision «Al Arabiya» assure que des avions ont survolé la ville.", "fr")
    assert [q.text for q in found] == ["des avions ont survolé la ville"]
    assert found[0].speaker_name is None


def test_a_noun_with_its_article_is_no_speech_verb() -> None:
    assert quotes("Après l'annonce de la levée de l'état d'urgence, le ministère a publié un texte.", "fr") == []


@pytest.mark.parametrize("lang", ["es", "fr", "it"])
def test_every_speech_language_has_a_pronoun_table(lang: str) -> None:
    assert lang in supported_languages()
    table = function_words(lang)
    assert table.pronouns and table.plural_pronouns and table.words


def test_no_speaker_is_only_function_words_in_a_batch() -> None:
    text = ("Selon lui, la situation est grave. « Nous partirons demain », a-t-il dit. Le porte-parole a "
            "affirmé que l'armée resterait. Ils ont affirmé que les camps étaient pleins.")
    article = Article(id="a", title="Syrie", text=text, lang="fr")
    # An entity whose name shares a consonant skeleton with "il", "Le" and "lui" is not their speaker.
    lee = Entity("ent-lee", "Lee", "PER", ["Lee"])
    found, _ = statements([article], [lee], [])
    assert found, "the quotes are kept, with no speaker where none is named"
    for quote in found:
        assert quote.speaker != "ent-lee"
        assert quote.speaker_name is None or not function_words("fr").names_no_one(quote.speaker_name.split())


def test_italian_articles_get_quotes_in_a_batch() -> None:
    article = Article(id="it", title="Roma", text="«Non ci arrenderemo mai», ha detto il ministro Marco Rossi.",
                      lang="it")
    found, actions = statements([article], *resolve([article]))
    assert [(q.speaker_name, q.direct) for q in found] == [("Marco Rossi", True)]
    assert found[0].speaker is not None
    assert actions == []  # no action-verb table for Italian: no actions, and no error
