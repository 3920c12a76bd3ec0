"""Actions: who did what to whom, coded with PLOVER classes.

No event coder (PETRARCH, UniversalPetrarch) runs without a dependency parse, and no parser model works
offline here, so coding is dictionary-based like PETRARCH's verb dictionaries, over surface text: per
language, `data/action_verbs.json` maps verb patterns to PLOVER classes; the actor is the phrase before the
verb (after it in verb-first Arabic), the target the phrase after it, past prepositions. Actor and target
are resolved to entities by span overlap with the recognised (or given) mentions.

PLOVER classes: AGREE CONSULT SUPPORT COOPERATE AID REQUEST ACCUSE REJECT THREATEN PROTEST MOBILIZE SANCTION
COERCE ASSAULT RETREAT CONCEDE. Gold data in CAMEO are compared through `plover_of_cameo`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise

from storyline.attribution import Span, attribute, function_words, recognised_spans
from storyline.attribution import supported_languages as speech_languages
from storyline.model import Action, Article, Entity, Mention, Quote
from storyline.names import spelling
from storyline.normalize import WORD_SPAN, normalize
from storyline.timeexpr import TimeExpression, time_expressions

PLOVER = ("AGREE", "CONSULT", "SUPPORT", "COOPERATE", "AID", "REQUEST", "ACCUSE", "REJECT", "THREATEN",
          "PROTEST", "MOBILIZE", "SANCTION", "COERCE", "ASSAULT", "RETREAT", "CONCEDE")

# CAMEO root code (two digits) -> PLOVER class. CAMEO 01 (public statement) has no PLOVER class: PLOVER
# dropped statements, so those codings are not comparable. 02 appeal and 10 demand are both requests;
# 05 diplomatic cooperation is SUPPORT and 06 material cooperation COOPERATE (as the Spanish PLOVER file
# codes them); 08 yield is CONCEDE except 084 (return, release) and 087 (de-escalate), which are RETREAT;
# 09 investigate folds into ACCUSE (PLOVER's INVESTIGATE was merged there); 16 reduce relations is SANCTION;
# 18 assault, 19 fight and 20 mass violence are all ASSAULT.
CAMEO_ROOT_TO_PLOVER: dict[str, str | None] = {
    "01": None, "02": "REQUEST", "03": "AGREE", "04": "CONSULT", "05": "SUPPORT", "06": "COOPERATE",
    "07": "AID", "08": "CONCEDE", "09": "ACCUSE", "10": "REQUEST", "11": "ACCUSE", "12": "REJECT",
    "13": "THREATEN", "14": "PROTEST", "15": "MOBILIZE", "16": "SANCTION", "17": "COERCE", "18": "ASSAULT",
    "19": "ASSAULT", "20": "ASSAULT",
}
CAMEO_CODE_TO_PLOVER = {"084": "RETREAT", "087": "RETREAT"}
# Classes whose negation is a refusal ("would not provide support" is REJECT).
COOPERATIVE = frozenset({"AGREE", "CONSULT", "SUPPORT", "COOPERATE", "AID", "CONCEDE", "RETREAT"})
# Classes with no target, whose noun's "of" phrase is the actor ("protests of farmers", "mobilisation of troops").
INTRANSITIVE = frozenset({"PROTEST", "MOBILIZE"})
# Older PLOVER names (and one typo) found in gold files -> the current class.
PLOVER_ALIASES = {"DEMAND": "REQUEST", "DISAPPROVE": "ACCUSE", "INVESTIGATE": "ACCUSE", "SACTION": "SANCTION"}

# When a sentence codes several actions, its main one is the first class in this order: the rarer, more
# specific and more severe happening is what the sentence reports ("police arrested protesters after talks"
# reports the arrest). Chosen on events/en-es (class accuracy of the main action 0.56 -> 0.60 over 1171
# sentences, against taking the first action in the text).
PRECEDENCE = ("PROTEST", "ASSAULT", "THREATEN", "COERCE", "SANCTION", "MOBILIZE", "REJECT", "ACCUSE", "REQUEST",
              "RETREAT", "CONCEDE", "AID", "COOPERATE", "AGREE", "SUPPORT", "CONSULT")
# Letters a word needs to count as content in an actor phrase (not an article or preposition).
MIN_CONTENT_LETTERS = 3
# Words an actor or target phrase may have ("Guerrilleros del Frente 13 de las FARC EP" has 8).
MAX_PHRASE_WORDS = 8
# Characters before a cue searched for a negation ("did not attack").
NEGATION_WINDOW = 16

# "PARIS, Jun 3 (AFP) - ", "BOGOTA - ", "-- TITLE - ": a dateline or kicker before the sentence.
_DATELINE = re.compile(r"\s*(?:--\s*)?[A-ZÁÉÍÓÚÑ]{2,}[^\n]{0,40}?(?:\([A-Z]{2,5}\))?\s+[-—–]{1,2}\s+")
_BOUNDARY = re.compile(r"[,;:()\[\]\"“”«»„|\n.!?؟]|\s[-—–]\s")


@dataclass(frozen=True, slots=True)
class Coded:
    """One coded action with the spans a benchmark needs."""

    code: str
    verb: str
    verb_start: int
    actor_text: str | None
    actor: str | None
    target_text: str | None
    target: str | None
    actor_start: int = -1
    actor_end: int = -1
    target_start: int = -1
    target_end: int = -1
    finite: bool = True  # the cue is a clause's finite verb (not a noun, infinitive or participant noun)
    participant: bool = False  # the cue is a participant noun ("protesters"), the actor of its own action
    background: bool = False  # the cue follows "after", "during", "tras", "بعد": an earlier event, not the news


@dataclass(frozen=True, slots=True)
class _Table:
    cue: re.Pattern[str]
    classes: tuple[str, ...]  # group name g<i> -> class
    prepositions: frozenset[str]
    stops: frozenset[str]
    negation: re.Pattern[str] | None
    verb_first: bool
    groups: re.Pattern[str] | None  # participant nouns ("protesters"): the actor of a protest, not a verb
    nonfinite_markers: frozenset[str]  # a determiner or preposition right before a cue: not a finite verb
    nonfinite_suffix: re.Pattern[str] | None  # infinitive, gerund and noun endings
    modals: frozenset[str]  # words (or two-word phrases) before a cue that make it hypothetical
    passive: frozenset[str]  # auxiliaries of a passive verb ("were attacked")
    agent: frozenset[str]  # the preposition of a passive verb's agent ("by", "por")
    of: frozenset[str]  # the preposition of a noun cue's actor ("protests of farmers", "protesta de")
    background: frozenset[str]  # time prepositions before an earlier event ("after the protest", "بعد")
    actors: re.Pattern[str] | None  # group nouns that can act (workers, vecinos, الطلاب)


def plover_of_cameo(code: str | None) -> str | None:
    """The PLOVER class of a CAMEO code ('042', '10', '130_threaten', '18/19'), None when it has none."""
    if not code:
        return None
    digits = re.match(r"\d+", code.strip())
    if digits is None:
        return None
    number = digits.group()
    if len(number) == 1:
        number = "0" + number
    return CAMEO_CODE_TO_PLOVER.get(number[:3]) or CAMEO_ROOT_TO_PLOVER.get(number[:2])


def plover_name(name: str | None) -> str | None:
    """A gold PLOVER label in today's names, None for labels outside the event classes (CRIME)."""
    if not name:
        return None
    label = PLOVER_ALIASES.get(name.strip().upper(), name.strip().upper())
    return label if label in PLOVER else None


@lru_cache(maxsize=1)
def _raw() -> dict[str, dict[str, object]]:
    raw = json.loads(resources.files("storyline").joinpath("data/action_verbs.json").read_text("utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def supported_languages() -> list[str]:
    return sorted(_raw())


@cache
def _table(lang: str) -> _Table:
    raw = _raw().get(lang)
    if raw is None:
        raise ValueError(f"no action-verb table for language {lang!r}; supported: {', '.join(supported_languages())}")
    classes = raw["classes"]
    assert isinstance(classes, dict)
    prefixes = raw.get("prefixes") or []
    assert isinstance(prefixes, list)
    prefix = "(?:" + "|".join(prefixes) + ")?" if prefixes else ""
    names: list[str] = []
    groups: list[str] = []
    for index, (code, patterns) in enumerate(classes.items()):
        names.append(code)
        body = "|".join(p.replace(" ", r"\s+") for p in sorted(patterns, key=len, reverse=True))
        groups.append(f"(?P<g{index}>{body})")
    cue = re.compile(rf"(?<!\w){prefix}(?:{'|'.join(groups)})(?!\w)", re.IGNORECASE)

    def words(key: str) -> frozenset[str]:
        value = raw.get(key) or []
        assert isinstance(value, list)
        return frozenset(normalize(str(v)) for v in value)

    negations = sorted(words("negations"), key=len, reverse=True)
    negation = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in negations) + r")(?!\w)") if negations else None
    def pattern(key: str, template: str) -> re.Pattern[str] | None:
        value = raw.get(key) or []
        assert isinstance(value, list)
        if not value:
            return None
        return re.compile(template.format("|".join(sorted(value, key=len, reverse=True))), re.IGNORECASE)

    suffixes: list[str] = []
    for key in ("nonfinite_suffixes", "nominal_suffixes"):
        value = raw.get(key) or []
        assert isinstance(value, list)
        suffixes.extend(str(v) for v in value)
    nonfinite_suffix = re.compile("(?:" + "|".join(suffixes) + r")$", re.IGNORECASE) if suffixes else None
    return _Table(cue, tuple(names), words("prepositions"), words("stops"), negation, bool(raw.get("verb_first")),
                  pattern("groups", "(?<!\\w)" + prefix + "(?:{})(?!\\w)"), words("nonfinite_markers"),
                  nonfinite_suffix, words("modals"), words("passive"), words("agent"), words("of"),
                  words("background"), pattern("actors", "(?<!\\w)" + prefix + "(?:{})(?!\\w)"))


def _phrase_before(text: str, table: _Table, position: int) -> tuple[int, int]:
    segment_start = max(0, position - 200)
    segment = text[segment_start:position]
    cut = [m.end() for m in _BOUNDARY.finditer(segment)]
    if cut:
        segment_start += cut[-1]
        segment = text[segment_start:position]
    words = list(WORD_SPAN.finditer(segment))
    kept: list[re.Match[str]] = []
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        folded = normalize(word.group())
        if folded in table.of and kept and index > 0 and normalize(words[index - 1].group()) not in table.stops:
            kept.insert(0, word)  # "habitantes de un barrio", "leaders of the union": one phrase
            continue
        if folded in table.stops or len(kept) >= MAX_PHRASE_WORDS:
            if kept:
                break
            continue  # an auxiliary right before the verb ("have attacked", "han atacado")
        kept.insert(0, word)
    if not kept:
        return position, position
    return segment_start + kept[0].start(), segment_start + kept[-1].end()


def _phrase_after(text: str, table: _Table, position: int) -> tuple[int, int]:
    segment = text[position : position + 200]
    boundary = _BOUNDARY.search(segment)
    if boundary:
        segment = segment[: boundary.start()]
    words = list(WORD_SPAN.finditer(segment))
    while words and normalize(words[0].group()) in table.prepositions:
        words.pop(0)
    kept: list[re.Match[str]] = []
    for word in words:
        if normalize(word.group()) in table.stops or len(kept) >= MAX_PHRASE_WORDS:
            break
        kept.append(word)
    if not kept:
        return position, position
    return position + kept[0].start(), position + kept[-1].end()


def _subject(text: str, table: _Table, position: int) -> tuple[int, int]:
    """The first phrase of the sentence before `position`: the actor of a nominal cue ("the union called a
    strike" -> the phrase before "called" is right, but "strikes hit the country" has none before it)."""
    start = max(text.rfind(".", 0, position), text.rfind("\n", 0, position), text.rfind("|", 0, position)) + 1
    dateline = _DATELINE.match(text, start, position)
    if dateline:
        start = dateline.end()
    words = list(WORD_SPAN.finditer(text, start, position))
    kept: list[re.Match[str]] = []
    for word in words:
        folded = normalize(word.group())
        if folded in table.stops or len(kept) >= MAX_PHRASE_WORDS:
            if kept:
                break
            continue
        kept.append(word)
    if not kept:
        return position, position
    return kept[0].start(), kept[-1].end()


def _strip_function_words(text: str, table: _Table, span: tuple[int, int]) -> tuple[int, int]:
    words = [w for w in WORD_SPAN.finditer(text, span[0], span[1])]
    while words and normalize(words[0].group()) in table.prepositions:
        words.pop(0)
    if not any(len(w.group()) >= MIN_CONTENT_LETTERS for w in words):
        return span[0], span[0]
    return words[0].start(), words[-1].end()


def _verb_first_subject(text: str, phrase: tuple[int, int], mentions: Sequence[Span]) -> tuple[int, int]:
    """The subject at the start of the phrase after a verb-first cue: a mention starting there, else the
    first word with the definite words that follow it (Arabic construct state: "وزارة الخارجية الروسية")."""
    starting = [m for m in mentions if m.start == phrase[0] and m.end <= phrase[1]]
    if starting:
        return phrase[0], max(m.end for m in starting)
    words = list(WORD_SPAN.finditer(text, phrase[0], phrase[1]))
    end = words[0].end()
    if words[0].group().endswith(("ون", "ين")):
        return phrase[0], end  # a sound plural heads no construct: "مسلحون | القرية"
    for word in words[1:]:
        if not word.group().startswith("ال"):
            break
        end = word.end()
    return phrase[0], end


def main_action(coded: Sequence[Coded]) -> Coded | None:
    """The action a sentence reports when it codes several (see PRECEDENCE); a cue inside another action's
    target is that action's object ("condemned the attack"), not the main action, and participant nouns
    ("protesters") and earlier events ("after the protest") come after the other cues."""
    if not coded:
        return None
    heads = [c for c in coded if not any(o.target_start <= c.verb_start < o.target_end for o in coded if o is not c)]
    return min(heads or coded, key=lambda c: (c.participant or c.background, PRECEDENCE.index(c.code), c.verb_start))


def _entity(span: tuple[int, int], mentions: Sequence[Span]) -> str | None:
    start, end = span
    overlapping = [m for m in mentions if m.start < end and start < m.end and m.entity]
    if not overlapping:
        return None
    return max(overlapping, key=lambda m: m.end - m.start).entity


def _previous_words(text: str, position: int, count: int) -> list[str]:
    """The last `count` words before `position` in its clause, normalised."""
    segment = text[max(0, position - 60) : position]
    cut = [m.end() for m in _BOUNDARY.finditer(segment)]
    if cut:
        segment = segment[cut[-1] :]
    return [normalize(w.group()) for w in WORD_SPAN.finditer(segment)][-count:]


def _finite(text: str, table: _Table, match: re.Match[str], klass: str) -> bool:
    """Whether a cue reads as the finite verb of a clause, not a noun ("a protest", "la huelga"), an
    infinitive or gerund ("to protest", "para protestar") or an Arabic noun with the article."""
    word = match.group().split()[0]
    if table.nonfinite_suffix is not None and table.nonfinite_suffix.search(word):
        return False
    if table.verb_first and re.match("[وف]?(?:بال|لل|ال)", word):
        return False
    previous = _previous_words(text, match.start(), 1)
    if previous and previous[0] in table.nonfinite_markers:
        return False
    following = WORD_SPAN.match(text, match.end() + len(text[match.end() :]) - len(text[match.end() :].lstrip()))
    # "protests of farmers" (a transitive verb may take "of": "accused of")
    return not (klass in INTRANSITIVE and following is not None and normalize(following.group()) in table.of)


def _hypothetical(text: str, table: _Table, position: int) -> bool:
    """A modal, condition or plan right before the cue ("could attack", "podría atacar", "si atacan")."""
    words = _previous_words(text, position, 3)
    pairs = {" ".join(words[i : i + 2]) for i in range(len(words) - 1)}
    return bool(table.modals & (set(words) | pairs))


def _of_phrase(text: str, table: _Table, position: int) -> tuple[int, int] | None:
    """The actor of a noun cue in an "of" phrase right after it ("protests of farmers", "protesta de los
    vecinos"), None when the noun is not followed by one."""
    following = WORD_SPAN.match(text, position + len(text[position:]) - len(text[position:].lstrip()))
    if following is None or normalize(following.group()) not in table.of:
        return None
    span = _strip_function_words(text, table, _phrase_after(text, table, following.end()))
    return span if span[1] > span[0] else None


def _group_phrase(text: str, table: _Table, match: re.Match[str]) -> tuple[int, int]:
    """A participant noun with its quantity ("miles de manifestantes", "thousands of protesters")."""
    before = _phrase_before(text, table, match.start())
    previous = _previous_words(text, match.start(), 1)
    if previous and before[1] > before[0] and (previous[0] in table.of or previous[0] not in table.stops):
        return before[0], match.end()
    return match.start(), match.end()


def code(text: str, lang: str, mentions: Sequence[Span] | None = None) -> list[Coded]:
    """Every action cue in `text`, in text order, with actor and target phrases and their entities."""
    table = _table(lang)
    spans = recognised_spans(text, lang) if mentions is None else mentions
    found: list[Coded] = []
    cues = [m.start() for m in table.cue.finditer(text)]
    connectives = function_words(lang).connective_spans(text)
    for match in table.cue.finditer(text):
        if any(a <= match.start() < b for a, b in connectives):
            continue  # "Sin embargo" (however) is no sanction, "en effet" no action
        group = next(name for name, value in match.groupdict().items() if value is not None)
        klass = table.classes[int(group[1:])]
        preceding = text[max(0, match.start() - NEGATION_WINDOW) : match.start()]
        if table.negation is not None and table.negation.search(preceding):
            if klass not in COOPERATIVE:
                continue  # "did not attack": nothing happened
            klass = "REJECT"  # "would not provide support": a refusal, as CAMEO codes it
        elif _hypothetical(text, table, match.start()):
            continue  # "could attack", "si atacan": nothing happened yet
        participant = table.groups is not None and table.groups.fullmatch(match.group()) is not None
        finite = not participant and _finite(text, table, match, klass)
        background = bool(set(_previous_words(text, match.start(), 2)) & table.background)
        before = _phrase_before(text, table, match.start())
        after = _phrase_after(text, table, match.end())
        inner = list(WORD_SPAN.finditer(text, match.start(), match.end()))
        if participant:  # what follows is what the participants did, not a target
            actor, target = _group_phrase(text, table, match), (match.end(), match.end())
        elif table.verb_first and len(inner) > 2 and not table.cue.fullmatch(text, inner[1].start(), match.end()):
            # the subject inside the cue ("أطلقت الشرطة النار"), not a fixed phrase ("وقف إطلاق النار")
            actor, target = (inner[1].start(), inner[-2].end()), after
        elif table.verb_first and len(WORD_SPAN.findall(text, before[0], before[1])) >= 2:
            # a noun after "verb subject" ("نظم الأطباء اعتصاما"): the subject of that verb
            second = list(WORD_SPAN.finditer(text, before[0], before[1]))[1]
            actor, target = (second.start(), before[1]), after
        elif table.verb_first and after[1] > after[0]:
            actor = _verb_first_subject(text, after, spans)
            target = _phrase_after(text, table, actor[1])
            named = finite or _names_actor(text, table, actor, spans)
            noun = None if named else _group_after(text, table, match.end())
            if noun is not None:  # "تظاهرات حاشدة للمعلمين": the teachers, not the adjective
                actor, target = noun, _phrase_after(text, table, noun[1])
        elif finite:
            actor, target = _strip_function_words(text, table, before), after
            agent = _agent(text, table, match)
            if agent is not None:
                actor, target = agent, actor
            if actor[1] <= actor[0]:
                actor = _strip_function_words(text, table, _subject(text, table, match.start()))
            if agent is None and not _names_actor(text, table, actor, spans):
                actor = _nearest_group(text, table, match.start()) or actor
        else:
            of = _of_phrase(text, table, match.end())
            subject = _strip_function_words(text, table, _subject(text, table, match.start()))
            if klass in INTRANSITIVE:  # "protests of farmers": the farmers protest
                actor, target = of or subject, _phrase_after(text, table, of[1]) if of else after
            else:  # "the killing of a judge": the judge is the target
                actor, target = subject, of or after
            if not _names_actor(text, table, actor, spans):
                actor = _nearest_group(text, table, match.start()) or actor
        following = next((c for c in cues if c > match.start()), len(text))
        actor = _named(text, lang, _clip(text, actor, following), spans)
        actor_text = text[actor[0] : actor[1]] or None
        target_text = text[target[0] : target[1]] or None
        found.append(Coded(
            code=klass, verb=" ".join(match.group().split()), verb_start=match.start(),
            actor_text=actor_text, actor=_entity(actor, spans) if actor_text else None,
            target_text=target_text, target=_entity(target, spans) if target_text else None,
            actor_start=actor[0], actor_end=actor[1], target_start=target[0], target_end=target[1], finite=finite,
            participant=participant, background=background,
        ))
    return _reported(text, found)


def _reported(text: str, found: list[Coded]) -> list[Coded]:
    """The actions a text reports: per sentence, its main action and every other finite verb that is not the
    object of another action. Nouns, infinitives and participant nouns beside the main action name events
    the sentence mentions ("the agreement", "to expel", "the protesters"), not ones it reports."""
    kept: list[Coded] = []
    bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text) + 1]
    for start, end in pairwise(bounds):
        sentence = [c for c in found if start <= c.verb_start < end]
        main = main_action(sentence)
        kept.extend(c for c in sentence if c is main or (c.finite and not any(
            o.target_start <= c.verb_start < o.target_end for o in sentence if o is not c)))
    return kept


def _names_actor(text: str, table: _Table, span: tuple[int, int], mentions: Sequence[Span]) -> bool:
    """Whether a phrase names an entity or a group that can act ("workers", "los vecinos")."""
    if span[1] <= span[0]:
        return False
    if _entity(span, mentions) is not None:
        return True
    return table.actors is not None and table.actors.search(text, span[0], span[1]) is not None


def _nearest_group(text: str, table: _Table, position: int) -> tuple[int, int] | None:
    """The group noun nearest before `position` in its sentence, with the words before it in its phrase."""
    if table.actors is None:
        return None
    start = max(text.rfind(".", 0, position), text.rfind("\n", 0, position)) + 1
    groups = list(table.actors.finditer(text, start, position))
    if not groups:
        return None
    group = groups[-1]
    before = _phrase_before(text, table, group.start())
    previous = _previous_words(text, group.start(), 1)
    if previous and before[1] > before[0] and (previous[0] in table.of or previous[0] not in table.stops):
        return before[0], group.end()
    return group.start(), group.end()


def _group_after(text: str, table: _Table, position: int) -> tuple[int, int] | None:
    """The first group noun after `position` in its clause (verb-first languages put the subject there)."""
    if table.actors is None:
        return None
    boundary = _BOUNDARY.search(text, position)
    group = table.actors.search(text, position, boundary.start() if boundary else len(text))
    return group.span() if group else None


def _named(text: str, lang: str, span: tuple[int, int], mentions: Sequence[Span]) -> tuple[int, int]:
    """An actor phrase that names someone: a bare singular pronoun ("Elle a dénoncé") becomes the last person
    named before it in its paragraph; other pronouns and function words alone ("Además", "Ils", "cette") name
    no one, so the actor is left empty."""
    words = WORD_SPAN.findall(text, *span)
    table = function_words(lang)
    if not words or not table.names_no_one(words):
        return span
    if len(words) == 1 and words[0].lower() in table.pronouns:
        paragraph = text.rfind("\n", 0, span[0]) + 1
        people = [m for m in mentions if m.type == "PER" and paragraph <= m.start and m.end <= span[0]]
        if people:
            return people[-1].start, people[-1].end
    return span[0], span[0]


def _clip(text: str, span: tuple[int, int], limit: int) -> tuple[int, int]:
    """A phrase cut before the next action cue ("la protesta de los trabajadores | paralizó el puerto")."""
    if not span[0] < limit < span[1]:
        return span
    words = list(WORD_SPAN.finditer(text, span[0], limit))
    return (span[0], words[-1].end()) if words else (span[0], span[0])


def _agent(text: str, table: _Table, match: re.Match[str]) -> tuple[int, int] | None:
    """The agent of a passive cue ("were attacked by rebels" -> rebels), None for an active one."""
    previous = _previous_words(text, match.start(), 2)
    if not table.agent or not set(previous) & table.passive:
        return None
    segment = text[match.end() : match.end() + 120]
    boundary = _BOUNDARY.search(segment)
    segment = segment[: boundary.start()] if boundary else segment
    for word in WORD_SPAN.finditer(segment):
        if normalize(word.group()) in table.agent:
            span = _strip_function_words(text, table, _phrase_after(text, table, match.end() + word.end()))
            return span if span[1] > span[0] else None
    return None


def actions(text: str, lang: str | None = None) -> list[Action]:
    """Who did what to whom in `text`: one `Action` per action verb, PLOVER class in `code`.

    `actor`/`target` are entity ids when the phrase names a recognised entity (else None);
    `actor_name`/`target_name` are the phrases as written.
    `lang` defaults to the detected language; an explicit language without a table raises ValueError.
    """
    if lang is None:
        from storyline.language import detect_language

        lang = detect_language(text)
        if lang not in _raw():
            return []
    return [
        Action(article="", actor=c.actor, actor_name=c.actor_text, verb=c.verb, code=c.code, target=c.target,
               target_name=c.target_text)
        for c in code(text, lang)
    ]


# --- the pipeline's use: every article of a batch, speakers and actors resolved to the batch's entities ---

_SENTENCE_END = re.compile(r"[.!?؟]\s|\n")


def statements(articles: Sequence[Article], entities: Sequence[Entity],
               mentions: Sequence[Mention]) -> tuple[list[Quote], list[Action]]:
    """Quotes (in every language with a speech-verb table) and actions (with an action-verb table) of every
    original article (syndicated copies would repeat them), with speakers, actors and targets as the batch's
    entity ids and action dates from the text or the publication date. An action is kept only when its actor
    is an entity or a group that can act ("the protesters").

    Entities are matched by span overlap with the batch's mentions, else by a name spelled as one of an
    entity's variants (the recogniser may miss a speaker that resolution learned elsewhere in the batch).
    """
    by_article: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions:
        by_article[mention.article].append(mention)
    names = _names_by_spelling(entities)
    speech = set(speech_languages())
    quotes: list[Quote] = []
    found: list[Action] = []
    for article in articles:
        lang = article.lang
        if article.duplicate_of is not None or not article.text or lang is None or (
                lang not in speech and lang not in _raw()):
            continue
        spans = _text_spans(article, by_article[article.id])
        if lang in speech:
            for a in attribute(article.text, lang, spans):
                speaker = a.speaker or _entity_named(a.speaker_name, lang, names)
                quotes.append(Quote(article.id, speaker, a.speaker_name, a.text, a.cue, a.direct, a.start, a.end))
        if lang not in _raw():
            continue
        expressions = time_expressions(article.text, lang, article.published)
        published = article.published.date().isoformat() if article.published else None
        table = _table(lang)
        for c in code(article.text, lang, spans):
            actor = c.actor or _entity_named(c.actor_text, lang, names)
            if actor is None and not (c.actor_text and table.actors and table.actors.search(c.actor_text)):
                continue  # no entity and no group acts ("According ... discussed"): nothing to tell a reader
            target = c.target or _entity_named(c.target_text, lang, names)
            found.append(Action(article.id, actor, c.actor_text, c.verb, c.code, target, c.target_text,
                                _sentence_date(article.text, c.verb_start, expressions) or published))
    return quotes, found


def _spelled(name: str) -> str:
    return " ".join(spelling(word) for word in name.split())


def _names_by_spelling(entities: Sequence[Entity]) -> dict[str, str]:
    """Spelling (names.spelling, word by word) of every entity name and variant -> the entity, for the
    spellings that only one entity has."""
    owners: dict[str, set[str]] = defaultdict(set)
    for entity in entities:
        for name in [entity.name, *entity.variants]:
            owners[_spelled(name)].add(entity.id)
    return {key: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}


def _entity_named(phrase: str | None, lang: str, names: dict[str, str]) -> str | None:
    """The entity a speaker, actor or target phrase names when no mention overlaps it: a capitalised phrase
    spelled as one entity's name ("Naciones Unidas"); function words name no one ("La", "Sin")."""
    if not phrase or not any(ch.isupper() for ch in phrase):
        return None
    if function_words(lang).names_no_one(WORD_SPAN.findall(phrase)):
        return None
    return names.get(_spelled(phrase))


def _text_spans(article: Article, mentions: Sequence[Mention]) -> list[Span]:
    """Mentions as spans of the article's body: recognition counts offsets over "title\n\nbody" (or over the
    body); a mention whose text is not found at its shifted offset is dropped rather than misplaced."""
    best: list[Span] = []
    for offset in (len(article.title) + 2, 0):
        spans = [
            Span(m.start - offset, m.end - offset, m.text, m.type, m.entity) for m in mentions
            if m.start >= offset and article.text[m.start - offset : m.end - offset] == m.text
        ]
        if len(spans) > len(best):
            best = spans
    return sorted(best, key=lambda s: s.start)


def _sentence_date(text: str, position: int, expressions: Sequence[TimeExpression]) -> str | None:
    """The date of a time expression in the sentence around `position`, as ISO text."""
    starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, position)]
    start = starts[-1] if starts else 0
    after = _SENTENCE_END.search(text, position)
    end = after.start() if after else len(text)
    for expression in expressions:
        if start <= expression.start < end:
            return expression.date.isoformat()
    return None
