"""Quotes: who said what, direct (inside quotation marks) and indirect ("X said that ...").

There is no dependency parser that works offline for storyline's languages (see OFFLINE.md), so attribution
is a short cascade of surface rules over per-language tables (`data/speech_verbs.json`):

1. Quotation marks are paired with a stack, each mark's role read from its shape and its neighbours, so every
   style works: “…” "…" «…» „…“ ‹…› and Arabic usage with «» or "".
2. Speech cues (said, قال, заявил, sagte, a déclaré, dijo, ...) are found; each cue's speaker is the noun
   phrase before it, or after it for inverted ("said Lavrov") and verb-first (Arabic) clauses.
3. A quote takes the cue right after it ("…,” he said; "…" ― Name) or before it in its sentence
   (Lavrov said: “…”); a quote with neither, opening its sentence, continues the previous sentence's speaker.
4. Indirect speech: cue + complementizer ("said that ..."), sentence-final cues ("..., sources said") and
   "according to X, ...". A short quote embedded in reported speech ("said that Clinton was “extremely
   careless” with ...") belongs to the indirect quote; it is direct only when it is most of the clause, which
   is how PolNeAR draws the line.
5. Speakers that are pronouns ("he said"), pro-drop (Arabic "وقال:") or definite role nouns ("the foreign
   minister said") refer back to the last named person who spoke, or failing that the last person named
   outside quotes (a role noun prefers the person described by that office).

Measured by bench/quotes.py (PolNeAR dev, direct quotes: precision 0.91, recall 0.74); thresholds below were
set on polnear/train.

Offsets are code-point offsets into the text given; `start`/`end` delimit the quoted content.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from storyline.model import Quote
from storyline.normalize import WORD_SPAN, normalize

# Words allowed between a closing quotation mark and the cue after it ("…,” Russian Foreign Minister Sergey
# Lavrov said); more than this and the cue belongs to another clause. 8 was best on polnear/train.
MAX_RIGHT_GAP_WORDS = 8
# Characters after a closing mark searched for that cue.
RIGHT_WINDOW_CHARS = 160
# Words of a catenative verb phrase dropped before an infinitive cue ("went on to say", "was quick to").
MAX_CATENATIVE_WORDS = 2
# Words an appositive between a name and its cue may have ("Levine, who has given money to Marco Rubio, said").
MAX_APPOSITIVE_WORDS = 24
# Words a speaker phrase may have ("Palestinian Foreign Minister Riyad al-Maliki" has 5 tokens).
MAX_SPEAKER_WORDS = 8
# "According to" without a comma after its source ("Podle X je ...", "Według X rząd ..."): at most this
# many lower-case (role) words before the source's name, and at least this many words said after it.
MAX_ROLE_WORDS = 3
MIN_ACCORDING_CONTENT_WORDS = 3
# Words allowed between the source phrase kept and the comma that ends it: past that, the comma ends some
# later clause ("Според анализатори демократите може да съберат до 55 места, които ...").
MAX_ACCORDING_GAP = 6
# Words allowed between a cue and the quote it introduces when they end with ':' or ','
# ("said after meeting with his counterpart Riad al-Maliki, “…”").
MAX_LEFT_GAP_WORDS = 14
# Words allowed between a cue and its complementizer ("told reporters on Thursday that").
MAX_OBJECT_WORDS = 4
# Words after a sentence-final cue and its speaker ("..., sources said on Thursday in a statement.").
MAX_TAIL_WORDS = 7
# A "sentence" longer than this (characters) is unpunctuated text, cut at spaces into pieces this long; the
# longest real sentences in the quote benchmarks are under 1,000 characters.
MAX_SENTENCE_CHARS = 2000
# A quote with no cue of its own continues the previous speaker only when it is a real utterance, not a
# title or scare quote: at least this many words.
MIN_FREE_QUOTE_WORDS = 2
# Indirect content shorter than this is not reported speech worth keeping ("said so").
MIN_INDIRECT_WORDS = 3
# A direct quote covering this share of an indirect content makes the indirect one redundant.
DIRECT_SHARE = 0.5
# Multi-paragraph quotes leave the quote open at the paragraph end; shorter unclosed runs are stray marks.
MIN_UNCLOSED_CHARS = 40

_SPEAKER_BOUNDARY = re.compile(r"[,;:()\[\]\"“”«»„‹›\n]|\s[-—–]\s|—|–")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Jan|Feb|Aug|Sept|Sep|Oct|Nov|Dec|No|vs|etc|Jr|Sr|Inc"
    r"|Corp|Co|Prof|Mt|Ft|U\.S|U\.N|U\.K|E\.U))$"
)
_SENTENCE_END = re.compile(r"[.!?؟…]+[\"”»’)]*\s+|\n+")
# A quote signed by a dash and a name ending the paragraph: “…” ― Francisco Herrero
_DASH_BYLINE = re.compile(
    r"[ \t\u00a0,]*[―—–][ \t\u00a0]*"
    r"([A-ZÀ-ÞА-ЯЁ][\w.'’-]*(?:[ \t\u00a0]+[A-ZÀ-ÞА-ЯЁ][\w.'’-]*){0,3})[ \t\u00a0.]*(?:\n|$)"
)
_ALWAYS_OPEN = "«‹„‚"
_ALWAYS_CLOSE = "»›"
_CONTEXT_MARKS = "“”\""
_OPEN_PRECEDERS = " \t\n([{—–-/" + _ALWAYS_OPEN + "“\""
_PERSONAL_TYPES = ("PER",)
# A non-person mention names the speaker only when it covers this share of the speaker phrase ("Russia
# said" yes, "the Russian top diplomat said" no).
NAMED_SHARE = 0.6
# Words opening a speaker phrase that is not a named person ("a source", "another official").
_INDEFINITE = frozenset({"a", "an", "another", "some", "one", "two", "several", "many"})


@dataclass(frozen=True, slots=True)
class Attribution:
    """One attribution with the spans a benchmark needs: `source_*` is the speaker as written (a pronoun
    stays "he"), `speaker_name`/`speaker` the person it resolves to."""

    speaker_name: str | None
    speaker: str | None
    text: str
    start: int
    end: int
    cue: str
    direct: bool
    source_start: int
    source_end: int
    cue_start: int  # attributions sharing a cue are one utterance cut by it ("“…,” he said, “…”")


@dataclass(frozen=True, slots=True)
class Span:
    """An entity mention given to attribution: offsets into the text, its type and (when known) its id."""

    start: int
    end: int
    text: str
    type: str
    entity: str | None


@dataclass(frozen=True, slots=True)
class _Table:
    cue: re.Pattern[str]
    participle: re.Pattern[str]
    according: re.Pattern[str]
    complementizer: re.Pattern[str]
    comma_clause: bool
    clause_openers: frozenset[str]
    pronouns: frozenset[str]
    plural_pronouns: frozenset[str]
    roles: tuple[str, ...]
    determiners: frozenset[str]
    auxiliaries: frozenset[str]
    stops: frozenset[str]
    object_words: frozenset[str]
    verb_first: bool
    passive: re.Pattern[str]
    infinitive: frozenset[str]
    noun_markers: frozenset[str]
    pro_drop: bool
    function_words: FunctionWords
    function: frozenset[str]  # words that never name a speaker alone: function_words.words, determiners, stops
    partitives: frozenset[str]
    of_words: frozenset[str]


@dataclass(frozen=True, slots=True)
class FunctionWords:
    """A language's pronouns and function words (data/function_words.json), which name no one alone."""

    pronouns: frozenset[str]  # singular, referring back to a named person ("he", "él", "lui")
    plural_pronouns: frozenset[str]  # the other personal and impersonal ones ("they", "on", "si")
    words: frozenset[str]  # articles, prepositions, conjunctions, adverbs
    connectives: re.Pattern[str] | None  # multi-word ones ("sin embargo"), inside which nothing is a cue

    def names_no_one(self, words: Sequence[str]) -> bool:
        """Whether a phrase (its words) is only pronouns and function words ("Le", "Sin embargo", "je vous")."""
        return _only_function_words(words, self.words | self.pronouns | self.plural_pronouns, self.connectives)

    def connective_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self.connectives.finditer(text)] if self.connectives else []


def _only_function_words(words: Sequence[str], function: frozenset[str], connectives: re.Pattern[str] | None) -> bool:
    """Whether the words, and the parts of hyphenated ones ("a-t-on"), are only `function` words and
    connective phrases ("sin embargo")."""
    text = " ".join(words)
    rest = connectives.sub(" ", text) if connectives else text
    return all(normalize(w) in function for w in re.split(r"[\s-]+", rest) if w)


@cache
def function_words(lang: str) -> FunctionWords:
    """The function-word table of `lang`; empty for a language without one."""
    raw = json.loads(resources.files("storyline").joinpath("data/function_words.json").read_text("utf-8"))
    table = raw.get(lang, {})
    connectives = sorted(table.get("connectives", []), key=len, reverse=True)
    return FunctionWords(
        frozenset(table.get("pronouns", [])), frozenset(table.get("plural_pronouns", [])),
        frozenset(normalize(w) for w in table.get("words", [])),
        re.compile(r"(?<!\w)(?:" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in connectives) + r")(?!\w)",
                   re.IGNORECASE) if connectives else None,
    )


@dataclass(slots=True)
class _Cue:
    start: int
    end: int
    kind: str  # "cue", "participle" or "according"
    text: str


@dataclass(slots=True)
class _Frame:
    """A found attribution before its speaker is resolved."""

    cue: _Cue
    source: tuple[int, int]  # speaker phrase as written; (p, p) when implicit
    content: tuple[int, int]
    direct: bool


def supported_languages() -> list[str]:
    return sorted(_raw_tables())


@lru_cache(maxsize=1)
def _raw_tables() -> dict[str, dict[str, object]]:
    raw = json.loads(resources.files("storyline").joinpath("data/speech_verbs.json").read_text("utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def _alternation(forms: Sequence[str], arabic: bool) -> str:
    def one(form: str) -> str:
        pattern = form.replace(" ", r"\s+")
        if arabic:  # hamza and ta-marbuta variants are written inconsistently
            pattern = re.sub("[اأإآ]", "[اأإآ]", pattern)
            pattern = re.sub("[ةه](?=$|\\s)", "[ةه]", pattern)
        return pattern

    return "|".join(one(f) for f in sorted(forms, key=len, reverse=True))


@cache
def _table(lang: str) -> _Table:
    raw = _raw_tables().get(lang)
    if raw is None:
        raise ValueError(f"no speech-verb table for language {lang!r}; supported: {', '.join(supported_languages())}")

    def words(key: str) -> list[str]:
        value = raw.get(key, [])
        return [str(v) for v in value] if isinstance(value, list) else []

    arabic = lang == "ar"
    prefix = "(?:" + "|".join(words("prefixes")) + ")?" if words("prefixes") else ""

    def compiled(key: str) -> re.Pattern[str]:
        forms = words(key)
        if not forms:
            return re.compile(r"(?!)")
        return re.compile(rf"(?<!\w){prefix}(?:{_alternation(forms, arabic)})(?![\w’'])", re.IGNORECASE)

    return _Table(
        cue=compiled("cues"),
        participle=compiled("participles"),
        according=compiled("according_to"),
        complementizer=re.compile(
            "|".join(rf"(?<!\w){_alternation([w], arabic)}" + ("" if w[-1] in "'’" else r"(?!\w)")
                     for w in words("complementizers")) or r"(?!)",
            re.IGNORECASE,
        ),
        passive=re.compile(r"(?<!\w)(?:" + "|".join(words("passive")) + r")\s+(?:\w+\s+)?$", re.IGNORECASE)
        if words("passive") else re.compile(r"(?!)"),
        comma_clause=bool(raw.get("comma_clause")),
        clause_openers=frozenset(words("clause_openers")),
        pronouns=function_words(lang).pronouns,
        plural_pronouns=function_words(lang).plural_pronouns,
        roles=tuple(normalize(w) for w in words("roles")),
        determiners=frozenset(words("determiners")),
        auxiliaries=frozenset(words("auxiliaries")),
        stops=frozenset(normalize(w) for w in words("stops")),
        object_words=frozenset(words("object_words")),
        verb_first=bool(raw.get("verb_first")),
        infinitive=frozenset(words("infinitive")),
        noun_markers=frozenset(words("noun_markers")),
        pro_drop=bool(raw.get("pro_drop")),
        function_words=function_words(lang),
        function=function_words(lang).words | frozenset(
            normalize(w) for key in ("determiners", "stops", "auxiliaries", "object_words") for w in words(key)),
        partitives=frozenset(normalize(w) for w in words("partitives")),
        of_words=frozenset(normalize(w) for w in words("of_words")),
    )


# --- quotation marks ---------------------------------------------------------------------------------


def quote_spans(text: str) -> list[tuple[int, int]]:
    """Top-level quoted stretches as (content start, content end), marks excluded; nested quotes stay inside.

    A mark's role comes from its shape («„‹ open, »› close) or, for “ ” and ", from its neighbours: after
    a space it opens, before a space or punctuation it closes. “ closes a quote that „ opened (German).
    """
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "\n":
            if stack and i - stack[0] >= MIN_UNCLOSED_CHARS:
                spans.append((stack[0] + 1, i))  # a quote running on into the next paragraph
            stack.clear()
            continue
        role = _mark_role(text, i, stack)
        if role == "open":
            stack.append(i)
        elif role == "close" and stack:
            start = stack.pop()
            if not stack:
                spans.append((start + 1, i))
    if stack and len(text) - stack[0] >= MIN_UNCLOSED_CHARS:
        spans.append((stack[0] + 1, len(text)))
    return spans


def _mark_role(text: str, i: int, stack: list[int]) -> str | None:
    ch = text[i]
    if ch in _ALWAYS_OPEN:
        return "open"
    if ch in _ALWAYS_CLOSE:
        return "close"
    if ch not in _CONTEXT_MARKS:
        return None
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if ch == "“" and stack and text[stack[-1]] in "„‚":
        return "close"
    if ch == "”":
        return "close"
    opens = before in _OPEN_PRECEDERS and not after.isspace()
    closes = not before.isspace() and (after.isspace() or not after.isalnum())
    if opens and not closes:
        return "open"
    if closes and not opens:
        return "close"
    if ch == "“":
        return "open"
    return "close" if stack else "open"


# --- sentences -----------------------------------------------------------------------------------------


class _Text:
    """The text with its quotes and sentence boundaries (never inside a quote), for position look-ups."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.quotes = quote_spans(text)
        self._quote_starts = [s for s, _ in self.quotes]
        starts = [0]
        for match in _SENTENCE_END.finditer(text):
            end = match.start()
            if "\n" not in match.group():  # a paragraph end always ends a sentence
                if self.inside_quote(match.end() - 1):
                    continue
                word = text[max(0, end - 6) : end]
                if _ABBREVIATION.search(word):
                    continue
                following = text[match.end() : match.end() + 1]
                if following.isalpha() and following.islower():
                    continue
            starts.append(match.end())
        self.starts = _bounded(starts, text)

    def inside_quote(self, position: int) -> bool:
        index = bisect.bisect_right(self._quote_starts, position) - 1
        return index >= 0 and self.quotes[index][0] <= position < self.quotes[index][1]

    def sentence_start(self, position: int) -> int:
        return self.starts[bisect.bisect_right(self.starts, position) - 1]

    def sentence_end(self, position: int) -> int:
        index = bisect.bisect_right(self.starts, position)
        return self.starts[index] if index < len(self.starts) else len(self.text)

    def paragraph_start(self, position: int) -> int:
        return self.text.rfind("\n", 0, position) + 1


def _bounded(starts: list[int], text: str) -> list[int]:
    """Sentence starts with a long run of unpunctuated text (a scraped table, a pasted log) cut into pieces of
    about MAX_SENTENCE_CHARS at spaces: speakers are looked for within the sentence of each cue, so one
    megabyte-long "sentence" would make the search quadratic."""
    bounded: list[int] = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        bounded.append(start)
        while end - bounded[-1] > MAX_SENTENCE_CHARS:
            space = text.find(" ", bounded[-1] + MAX_SENTENCE_CHARS, end)
            if space < 0:
                break
            bounded.append(space + 1)
    return bounded


# --- speaker phrases -----------------------------------------------------------------------------------


def _find_cues(text: str, table: _Table) -> list[_Cue]:
    cues = [_Cue(m.start(), m.end(), "cue", m.group()) for m in table.cue.finditer(text)]
    cues += [_Cue(m.start(), m.end(), "participle", m.group()) for m in table.participle.finditer(text)]
    cues += [_Cue(m.start(), m.end(), "according", m.group()) for m in table.according.finditer(text)]
    # "States" in "United States" is no cue: a capitalised cue must start its sentence.
    cues = [c for c in cues if c.kind == "according" or not c.text[:1].isupper() or _starts_sentence(text, c.start)]
    connectives = table.function_words.connective_spans(text)
    cues = [c for c in cues if not any(a <= c.start < b for a, b in connectives)]
    if table.noun_markers:  # "the states", "his claims": nouns, not cues
        cues = [c for c in cues if c.kind != "cue" or _previous_word(text, c.start) not in table.noun_markers]
    if table.passive.pattern != "(?!)":
        cues = [c for c in cues if not table.passive.search(text[max(0, c.start - 24) : c.start])]
    cues.sort(key=lambda c: (c.start, -c.end))
    kept: list[_Cue] = []
    for cue in cues:  # a longer cue ("a déclaré") wins over the shorter one inside it
        if kept and cue.start < kept[-1].end:
            continue
        kept.append(cue)
    return kept


def _previous_word(text: str, position: int) -> str:
    match = re.search(r"(\w+)\W*$", text[max(0, position - 30) : position])
    return match.group(1).lower() if match else ""


def _starts_sentence(text: str, position: int) -> bool:
    return not text[:position].strip() or bool(re.search(r"(?:[.!?؟:\n\"“”«»]|\s[-—–])\s*$", text[:position]))


def _left_phrase(doc: _Text, table: _Table, position: int, floor: int) -> tuple[int, int]:
    """The speaker phrase that ends right before `position`: back to a boundary or a stop word."""
    start = max(floor, doc.sentence_start(position))
    segment = doc.text[start:position]
    cut = [m.end() for m in _SPEAKER_BOUNDARY.finditer(segment)]
    if cut:
        start += cut[-1]
        segment = doc.text[start:position]
    words = list(WORD_SPAN.finditer(segment))
    while words and (words[-1].group().lower() in table.auxiliaries or words[-1].group().lower() in table.object_words):
        words.pop()  # "Lavrov has also said", "Быстрицкая тогда мне сказала"
    if len(words) >= 2 and words[-1].group().lower() in table.infinitive:
        # "he went on to say", "Trump was quick to add": the subject is before the catenative verb
        del words[-min(len(words) - 1, 1 + MAX_CATENATIVE_WORDS):]
        words = [w for w in words if w.group()[:1].isupper() or w.group().lower() in table.pronouns] or words
    kept: list[re.Match[str]] = []
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if len(kept) >= MAX_SPEAKER_WORDS or (normalize(word.group()) in table.stops and not (
                kept and index > 0 and _of_phrase(table, words[index - 1].group(), word.group()))):
            break
        kept.insert(0, word)
    if not kept:
        return position, position
    # A stop word cut a longer clause short: what is left is a speaker only if it is name-like.
    return start + kept[0].start(), start + kept[-1].end()


def _of_phrase(table: _Table, word: str, link: str) -> bool:
    """`word link` opens an "of" phrase that is part of the speaker: after a partitive ("uno de los
    vigilantes", "l'un des émissaires") or an office ("el portavoz del Gobierno"), the "of" word does not end
    the phrase as other prepositions do."""
    return normalize(link) in table.of_words and (
        normalize(word) in table.partitives or normalize(word).startswith(table.roles))


def _appositive_subject(doc: _Text, table: _Table, position: int, floor: int) -> tuple[int, int]:
    """'Michael Demastus, pastor of the church, said': the name before the appositive, with it."""
    inner_end = len(doc.text[:position].rstrip()) - 1
    sentence = max(floor, doc.sentence_start(position))
    opening = doc.text.rfind(",", sentence, inner_end)
    if opening < 0 or _words_between(doc.text[opening:inner_end]) > MAX_APPOSITIVE_WORDS:
        return position, position
    head = _left_phrase(doc, table, opening, floor)
    if head[1] <= head[0]:
        return position, position
    return head[0], inner_end


def _right_phrase(doc: _Text, table: _Table, position: int) -> tuple[int, int]:
    """The speaker phrase right after a cue ("said Lavrov", "сказал ему следователь", "قال لافروف")."""
    end = doc.sentence_end(position)
    segment = doc.text[position:end]
    boundary = _SPEAKER_BOUNDARY.search(segment)
    if boundary:
        segment = segment[: boundary.start()]
    comp = table.complementizer.search(segment)
    if comp and comp.start() > 0:
        segment = segment[: comp.start()]
    words = list(WORD_SPAN.finditer(segment))
    while words and words[0].group().lower() in table.object_words:
        words.pop(0)
    kept: list[re.Match[str]] = []
    for word in words:
        if table.cue.fullmatch(word.group()) or (normalize(word.group()) in table.stops and not (
                kept and _of_phrase(table, kept[-1].group(), word.group()))):
            break
        if len(kept) >= MAX_SPEAKER_WORDS:
            break
        kept.append(word)
    if not kept:
        return position, position
    return position + kept[0].start(), position + kept[-1].end()


def _sentence_subject(doc: _Text, table: _Table, cue: _Cue, mentions: Sequence[Span]) -> tuple[int, int]:
    """The first mention or the capitalised first word of the cue's sentence, when it starts the sentence;
    after a determiner, its noun phrase when that names an office ("Le porte-parole du ministère")."""
    sentence = doc.sentence_start(cue.start)
    first = WORD_SPAN.search(doc.text, sentence, cue.start)
    if first is None or doc.text[sentence : first.start()].strip():
        return cue.start, cue.start
    starting = [m for m in mentions if m.start == first.start() and m.end <= cue.start]
    if starting:
        return first.start(), max(m.end for m in starting)
    if first.group().lower() in table.determiners:
        phrase = _right_phrase(doc, table, first.end())
        if phrase[1] > phrase[0] and phrase[1] <= cue.start and any(
                normalize(w).startswith(table.roles) for w in WORD_SPAN.findall(doc.text, *phrase)):
            return first.start(), phrase[1]
        return cue.start, cue.start
    if first.group()[:1].isupper() and normalize(first.group()) not in table.function:
        return first.start(), first.end()
    return cue.start, cue.start


def _cue_speaker(doc: _Text, table: _Table, cue: _Cue, floor: int, mentions: Sequence[Span]) -> tuple[int, int]:
    """Where the speaker of a cue is written; an empty span at the cue means implicit (pro-drop)."""
    if cue.kind == "according":
        speaker = _right_phrase(doc, table, cue.end)
        verb = table.cue.match(doc.text, cue.end + len(doc.text[cue.end:]) - len(doc.text[cue.end:].lstrip()))
        if speaker[1] <= speaker[0] and verb is not None:
            return _right_phrase(doc, table, verb.end())  # "según anunció un portavoz": after its verb
        return speaker
    if cue.kind == "participle":
        sentence = doc.sentence_start(cue.start)
        if not doc.text[:cue.start].rstrip().endswith(","):
            left = _left_phrase(doc, table, cue.start, floor)
            if left[1] > left[0]:
                return left  # "with Sen. John McCain calling it ...", "the share of Republicans saying ..."
        earlier = [c for c in _find_cues(doc.text[sentence : cue.start], table) if c.kind == "cue"]
        if earlier:  # "..., Spicer said, adding, “…”": the speaker of the sentence's cue
            first_cue = _Cue(sentence + earlier[-1].start, sentence + earlier[-1].end, "cue", earlier[-1].text)
            return _cue_speaker(doc, table, first_cue, floor, mentions)
        first = WORD_SPAN.search(doc.text, sentence, cue.start)
        if first and first.group().lower() in table.pronouns:
            return first.start(), first.end()
        subjects = [m for m in mentions if sentence <= m.start and m.end <= cue.start]
        if first and first.group()[:1].isupper() and (not subjects or first.end() <= subjects[0].start) and any(
            m.type in _PERSONAL_TYPES and m.text.endswith(first.group()) for m in mentions
        ):
            return first.start(), first.end()  # a surname opening the sentence ("Lavrov supported ..., saying")
        if subjects:
            return subjects[0].start, subjects[0].end
        return cue.start, cue.start
    inverted = re.search(r"-t-(\w+)", cue.text)
    if inverted and inverted.group(1).lower() in table.pronouns:  # "a-t-il dit": the pronoun is in the cue
        return cue.start + inverted.start(1), cue.start + inverted.end(1)
    left = _left_phrase(doc, table, cue.start, floor)
    if left[1] <= left[0] and doc.text[floor:cue.start].rstrip().endswith(","):
        left = _appositive_subject(doc, table, cue.start, floor)
    right = _right_phrase(doc, table, cue.end)
    order = [right, left] if table.verb_first else [left, right]
    for span in order:
        if span[1] > span[0] and not _introduces(doc, table, span):
            return span
    if not table.pro_drop and re.search(r"\w", doc.text[doc.sentence_start(cue.start) : cue.start]):
        # "The emperor smiled and said: “…”": a coordinated verb shares the sentence's subject
        return _sentence_subject(doc, table, cue, mentions)
    return cue.start, cue.start


def _introduces(doc: _Text, table: _Table, span: tuple[int, int]) -> bool:
    """The phrase next to a cue is only function words ("según anunció ...", "como dijo ...", "aunque
    asegura ..."), which introduce the clause and name no speaker; a pronoun does name one."""
    words = WORD_SPAN.findall(doc.text, *span)
    pronoun = len(words) == 1 and words[0].lower() in table.pronouns | table.plural_pronouns
    return not pronoun and _only_function_words(words, table.function, table.function_words.connectives)


# --- frames --------------------------------------------------------------------------------------------


def _words_between(text: str) -> int:
    return len(WORD_SPAN.findall(text))


def _direct_frames(doc: _Text, table: _Table, cues: list[_Cue], mentions: Sequence[Span]) -> list[_Frame]:
    frames: list[_Frame] = []
    cue_starts = [c.start for c in cues]
    previous_close = 0
    for q_start, q_end in doc.quotes:
        content = _trim(doc.text, q_start, q_end)
        if content[1] <= content[0] or not any(ch.isalpha() for ch in doc.text[q_start:q_end]) or any(
                m.start <= content[0] and content[1] <= m.end for m in mentions):
            previous_close = q_end + 1  # no words, or a name in quotation marks (La chaîne «Al Arabiya»)
            continue
        open_mark = q_start - 1
        left_floor = max(doc.sentence_start(open_mark), previous_close, doc.paragraph_start(open_mark))
        frame = _left_frame(doc, table, cues, cue_starts, left_floor, open_mark, content, mentions)
        right = _right_frame(doc, table, cues, cue_starts, q_start, q_end, content, mentions)
        if frame is None or (right is not None and not doc.text[left_floor:open_mark].strip(" -—–,")):
            frame = right or frame
        byline = _DASH_BYLINE.match(doc.text, q_end + 1) if frame is None else None
        if byline:  # “…” ― Carlos Raúl: a quote signed with a dash
            cue = _Cue(q_end + 1, byline.start(1), "cue", "―")
            frame = _Frame(cue, (byline.start(1), byline.end(1)), content, True)
        opens_sentence = not doc.text[left_floor:open_mark].strip(" -—–")
        if frame is None and opens_sentence and _words_between(doc.text[q_start:q_end]) >= MIN_FREE_QUOTE_WORDS:
            frame = _Frame(_Cue(open_mark, open_mark, "continued", ""), (open_mark, open_mark), content, True)
        if frame is not None:
            frames.append(frame)
        previous_close = q_end + 1
    return frames


def _left_frame(doc: _Text, table: _Table, cues: list[_Cue], cue_starts: list[int], floor: int,
                open_mark: int, content: tuple[int, int], mentions: Sequence[Span]) -> _Frame | None:
    """The quote is introduced by a cue earlier in its sentence ("Lavrov said: “…”")."""
    lo = bisect.bisect_left(cue_starts, floor)
    hi = bisect.bisect_left(cue_starts, open_mark)
    for cue in reversed(cues[lo:hi]):
        if cue.end > open_mark:
            continue
        source = _cue_speaker(doc, table, cue, floor, mentions)
        if source[1] <= source[0] and cue.kind == "cue" and not table.pro_drop:
            return None  # no speaker written ("promised to “rip up”")
        after = max(cue.end, source[1]) if source[0] >= cue.end else cue.end
        between = doc.text[after:open_mark]
        bare = between.strip()
        if source[0] >= cue.end and source[1] > source[0] and not bare:
            return None  # the quote continues the speaker's name (وكالة أنباء "تاس")
        if bare and bare[-1] in ":," and _words_between(bare) <= MAX_LEFT_GAP_WORDS:
            return _Frame(cue, source, content, True)  # Lavrov said after the talks: “…”
        if _words_between(bare) > MAX_LEFT_GAP_WORDS:
            return None
        # The quote is embedded in the cue's clause ("said that Clinton was “extremely careless” with ...",
        # "Jamieson said Trump is “telling his supporters what they want to believe”"): direct only when
        # the quote is the larger part of the clause, as PolNeAR counts it.
        comp = table.complementizer.match(bare.lstrip(", "))
        clause_start = after + (len(between) - len(between.lstrip(", ")) + comp.end() if comp else 0)
        clause_end = _content_end(cues, cue, doc.sentence_end(content[1]))
        quoted = _words_between(doc.text[content[0] : min(content[1], clause_end)])
        if quoted >= DIRECT_SHARE * _words_between(doc.text[clause_start:clause_end]):
            return _Frame(cue, source, content, True)
        return None
    return None


def _ends_sentence(doc: _Text, content_end: int) -> bool:
    """Nothing but punctuation between the quote's closing mark and the end of its sentence."""
    return not WORD_SPAN.search(doc.text, content_end + 1, doc.sentence_end(content_end + 1))


def _right_frame(doc: _Text, table: _Table, cues: list[_Cue], cue_starts: list[int], q_start: int, q_end: int,
                 content: tuple[int, int], mentions: Sequence[Span]) -> _Frame | None:
    """The quote is followed by its cue ("…,” he said; «…», - заявил Лавров)."""
    after = q_end + 1
    if doc.text[q_start:q_end].rstrip().endswith("."):
        return None  # “… everywhere.” Greene added that ...: the quote ended its sentence, the cue starts another
    limit = min(doc.sentence_end(after), after + RIGHT_WINDOW_CHARS)
    next_quote = bisect.bisect_right([s for s, _ in doc.quotes], after)
    if next_quote < len(doc.quotes):
        limit = min(limit, doc.quotes[next_quote][0] - 1)
    index = bisect.bisect_left(cue_starts, after)
    if index >= len(cues) or cues[index].start >= limit or cues[index].kind == "participle":
        return None
    cue = cues[index]
    gap = doc.text[after : cue.start]
    if _words_between(gap) > MAX_RIGHT_GAP_WORDS or re.search(r"[.!?؟]\s*$", gap.strip(" ,-—–")):
        return None
    source = _cue_speaker(doc, table, cue, after, mentions)
    if source[1] <= source[0] and not table.pro_drop:
        return None  # "the hacker known as “Guccifer,” stated": the quote is inside the speaker's phrase
    lead = doc.text[after : source[0] if source[1] <= cue.start and source[1] > source[0] else cue.start]
    if any(w.lower() not in table.object_words for w in WORD_SPAN.findall(lead)):  # "”, nos dice una mujer"
        return None  # the quote is part of a longer clause ("“Boots on the ground” would be appropriate, X said")
    return _Frame(cue, source, content, True)


def _indirect_frames(doc: _Text, table: _Table, cues: list[_Cue], mentions: Sequence[Span]) -> list[_Frame]:
    frames: list[_Frame] = []
    text = doc.text
    for cue in cues:
        sentence, end = doc.sentence_start(cue.start), doc.sentence_end(cue.start)
        if doc.inside_quote(cue.start):
            continue
        source = _cue_speaker(doc, table, cue, sentence, mentions)
        if cue.kind == "according":
            tail_start = source[1]
            comma = text.find(",", tail_start, end)
            before = text[sentence : cue.start].rstrip()
            if before.endswith(","):
                frames.append(_Frame(cue, source, _trim(text, sentence, len(before) + sentence - 1), False))
                continue
            if before.strip(" -—–\"“”«»"):
                continue
            named = _named_source(doc, cue, end, mentions)
            if named is not None and not text[named[1]:end].lstrip().startswith(","):
                # "Podle Babiše vláda opatření zruší": no comma ends the source, its name does
                frames.append(_Frame(cue, named, _trim(text, named[1], end), False))
            elif comma >= 0 and (source[1] <= source[0]
                                 or len(WORD_SPAN.findall(text, tail_start, comma)) <= MAX_ACCORDING_GAP):
                # the comma closes the source phrase (a long one runs past what _right_phrase keeps)
                frames.append(_Frame(cue, source, _trim(text, comma + 1, end), False))
            continue
        after = max(cue.end, source[1]) if source[0] >= cue.end else cue.end
        rest = text[after:end]
        comp = table.complementizer.search(rest)
        if comp and _words_between(rest[: comp.start()]) <= MAX_OBJECT_WORDS and not re.search(
            r"[;:.\"“”«»]", rest[: comp.start()]
        ):
            frames.append(_Frame(cue, source, _trim(text, after + comp.end(), _content_end(cues, cue, end)), False))
            continue
        opener = WORD_SPAN.match(rest.lstrip())
        if cue.kind == "cue" and table.comma_clause and rest.lstrip().startswith(","):
            frames.append(_Frame(cue, source, _trim(text, after + rest.index(",") + 1, end), False))
            continue
        # Sentence-final cue: "CONTENT, sources said." / "CONTENT, said Lavrov."
        head_end = min(source[0], cue.start)
        head = text[sentence:head_end].rstrip()
        if head.endswith(",") and _words_between(text[max(cue.end, source[1]) : end]) <= MAX_TAIL_WORDS:
            frames.append(_Frame(cue, source, _trim(text, sentence, sentence + len(head) - 1), False))
            continue
        embedded = re.match(r"\s+[\w\"“«„]", rest) is not None and re.search("[\"“«„]", rest) is not None
        if (
            cue.kind in ("cue", "participle") and source[1] <= cue.start and source[1] > source[0] and (
                embedded or (
                    cue.kind == "cue" and opener is not None and table.clause_openers and rest[:1] == " "
                    and (opener.group().lower() in table.clause_openers or opener.group()[:1].isupper())
                )
            )
        ):
            frames.append(_Frame(cue, source, _trim(text, after + 1, _content_end(cues, cue, end)), False))
    return frames


def _named_source(doc: _Text, cue: _Cue, end: int, mentions: Sequence[Span]) -> tuple[int, int] | None:
    """The source of "according to" when a person or body names it within a few words, after lower-case
    words only (a role: "Podle ministra zdravotnictví Adama Vojtěcha je ..."): from the cue to the name's end.
    None when no name comes first ("Podle odhadů bude ...": by estimates, nobody's)."""
    named = [m for m in mentions if cue.end <= m.start < end and m.type in ("PER", "ORG")]
    if not named:
        return None
    between = WORD_SPAN.findall(doc.text, cue.end, named[0].start)
    if len(between) > MAX_ROLE_WORDS or any(w[:1].isupper() for w in between) or re.search(
            r"[,;:\"“”«»]", doc.text[cue.end:named[0].start]):
        return None
    last = named[0]
    for mention in named[1:]:  # "mluvčího Karlovarské krajské nemocnice Vladislava Podrackého": a chain
        gap = doc.text[last.end:mention.start]
        if mention.type != "PER" or len(WORD_SPAN.findall(gap)) > MAX_ROLE_WORDS or re.search(r"[^\w\s]", gap) or any(
                w[:1].isupper() for w in WORD_SPAN.findall(gap)):
            break
        last = mention
    if len(WORD_SPAN.findall(doc.text, last.end, end)) < MIN_ACCORDING_CONTENT_WORDS:
        return None
    start = cue.end + len(doc.text[cue.end:named[0].start]) - len(doc.text[cue.end:named[0].start].lstrip())
    return start, last.end


def _content_end(cues: list[_Cue], cue: _Cue, end: int) -> int:
    """Reported speech runs to the sentence end, or to the clause of the next cue in the sentence
    ("Noting that ..., Tester added: “…”")."""
    later = [c for c in cues if cue.end < c.start < end and c.kind == "cue"]
    if not later:
        return end
    return max(cue.end, later[0].start)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a content span to its words: no outer spaces, final full stop or dangling comma."""
    while start < end and (text[start].isspace() or text[start] in ",:-—–"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",.;:-—–"):
        end -= 1
    return start, end


# --- speakers ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Speaker:
    position: int
    name: str
    entity: str | None
    person: bool
    context: str


def _resolve(frames: list[_Frame], doc: _Text, table: _Table, mentions: Sequence[Span]) -> list[Attribution]:
    """Speakers for the frames in text order, pronouns and role nouns pointing back to named people."""
    spoken: list[_Speaker] = []
    persons = [m for m in mentions if m.type in _PERSONAL_TYPES]
    result: list[Attribution] = []
    last: _Speaker | None = None
    for frame in sorted(frames, key=lambda f: (f.cue.start, f.content[0])):
        if frame.cue.kind == "continued":
            speaker = last if last is not None and last.position >= _previous_sentence(doc, frame.cue.start) else None
            if speaker is None or not result:
                continue
            source = (result[-1].source_start, result[-1].source_end)  # the speaker as last written
        else:
            source = frame.source
            speaker = _speaker_of(doc, table, source, frame.cue.start, mentions, persons, spoken)
        if speaker is None:
            continue
        if frame.cue.kind != "continued":
            spoken.append(speaker)
        last = _Speaker(frame.content[1], speaker.name, speaker.entity, speaker.person, speaker.context)
        start, end = frame.content
        result.append(Attribution(
            speaker_name=speaker.name or None, speaker=speaker.entity, text=doc.text[start:end], start=start, end=end,
            cue=" ".join(frame.cue.text.split()) or (result[-1].cue if result else ""), direct=frame.direct,
            source_start=source[0], source_end=source[1],
            cue_start=result[-1].cue_start if frame.cue.kind == "continued" else frame.cue.start,
        ))
    return result


def _previous_sentence(doc: _Text, position: int) -> int:
    this = doc.sentence_start(position)
    return doc.sentence_start(max(0, this - 1)) if this else 0


def _speaker_of(doc: _Text, table: _Table, source: tuple[int, int], position: int, mentions: Sequence[Span],
                persons: Sequence[Span], spoken: list[_Speaker]) -> _Speaker | None:
    start, end = source
    phrase = doc.text[start:end]
    context = normalize(doc.text[max(0, start - 40) : end])
    words = [w.lower() for w in WORD_SPAN.findall(phrase)]
    bare = _strip_determiner(phrase, words, table)
    overlapping = [m for m in mentions if m.start < end and start < m.end]
    people = [m for m in overlapping if m.type in _PERSONAL_TYPES]
    if people:
        best = max(people, key=lambda m: m.end - m.start)
        return _Speaker(position, best.text, best.entity, True, context)
    named = [m for m in overlapping if (m.end - m.start) >= NAMED_SHARE * len(bare)]
    if named:  # an organisation or a country speaking ("the Russian Foreign Ministry", "Russia")
        best = max(named, key=lambda m: m.end - m.start)
        return _Speaker(position, bare, best.entity, best.type == "MISC" and " " not in best.text, context)
    role = next((r for r in table.roles if any(normalize(w).startswith(r) for w in words)), None)
    definite = not table.determiners or (bool(words) and words[0] in table.determiners)
    refers_back = (
        not words
        or (len(words) == 1 and (words[0] in table.pronouns or any(p in words[0].split("-") for p in table.pronouns)))
        or (role is not None and definite)
    )
    if refers_back:
        antecedent = _antecedent(position, role, spoken, persons, doc, table.roles)
        if antecedent is not None:
            return antecedent
        # Unresolved: a role stays as written ("the foreign minister"), a bare pronoun names no one.
        return _Speaker(position, phrase if role is not None else "", None, False, context)
    if _only_function_words(words, table.function | table.pronouns | table.plural_pronouns,
                            table.function_words.connectives):
        return _Speaker(position, "", None, False, context)  # "they", "on", "Le", "je vous": no one named
    capitalised = any(w[:1].isupper() for w in WORD_SPAN.findall(phrase))
    uncased = not any(ch.isupper() or ch.islower() for ch in phrase)  # Arabic script has no capitals
    indefinite = bool(words) and (words[0] in table.determiners or words[0] in _INDEFINITE)
    person = (capitalised and not indefinite) or (uncased and role is None)
    return _Speaker(position, phrase, None, person, context)


def _strip_determiner(phrase: str, words: list[str], table: _Table) -> str:
    if words and words[0] in table.determiners and len(words) > 1:
        return phrase[len(phrase.split(maxsplit=1)[0]) :].strip()
    return phrase


def _antecedent(position: int, role: str | None, spoken: list[_Speaker], persons: Sequence[Span],
                doc: _Text, roles: Sequence[str]) -> _Speaker | None:
    """The last named person before `position`: a previous speaker first, else the last person mentioned;
    with a role noun, the last one described by that role."""
    named = [s for s in spoken if s.person and s.position < position]
    # People named inside quotes are talked about, not talking.
    persons = [m for m in persons if not doc.inside_quote(m.start)]
    firsts: dict[int, Span] = {}
    for m in persons:  # the first person of each sentence: its likely subject
        if m.end <= position:
            firsts.setdefault(doc.sentence_start(m.start), m)
    mentioned = [
        _Speaker(m.start, m.text, m.entity, True, normalize(doc.text[max(0, m.start - 40) : m.end]))
        for m in firsts.values()
    ]
    if role is not None:
        described = [
            _Speaker(m.start, m.text, m.entity, True, normalize(doc.text[max(0, m.start - 40) : m.end]))
            for m in persons if m.end <= position
        ]
        for pool in (named, described):
            matching = [s for s in pool if role in s.context]
            if matching:
                return matching[-1]
        if named:
            return named[-1]
        with_office = [s for s in described if any(r in s.context for r in roles)]
        if with_office:
            return with_office[-1]
    if named:
        return named[-1]
    return mentioned[-1] if mentioned else None


# --- public API ----------------------------------------------------------------------------------------


def recognised_spans(text: str, lang: str | None = None) -> list[Span]:
    """The recogniser's mentions of one text alone (`storyline.entities`), as spans with entity ids."""
    from storyline.recognition import entities

    return [
        Span(m.start, m.end, m.text, m.type, m.entity)
        for m in entities(text, lang) if text[m.start : m.end] == m.text
    ]


def attribute(text: str, lang: str, mentions: Sequence[Span] | None = None) -> list[Attribution]:
    """Every attribution in `text`, direct and indirect, in text order. `mentions` default to the
    recogniser's on this text alone; pass the batch's resolved mentions to get batch entity ids."""
    table = _table(lang)
    spans = sorted(recognised_spans(text, lang) if mentions is None else mentions, key=lambda m: m.start)
    doc = _Text(text)
    cues = _find_cues(text, table)
    indirect = [
        f for f in _indirect_frames(doc, table, cues, spans)
        if f.content[1] - f.content[0] > 0 and _words_between(text[f.content[0] : f.content[1]]) >= MIN_INDIRECT_WORDS
    ]
    mostly_quoted = [f for f in indirect if _quoted_share(doc, f.content) >= DIRECT_SHARE]
    indirect = [f for f in indirect if f not in mostly_quoted]
    # A short quote inside reported speech ("said that Clinton was “extremely careless” with ...") is part of
    # the indirect quote, as PolNeAR annotates it; a quote that is most of it stays a direct quote.
    direct = [
        f for f in _direct_frames(doc, table, cues, spans)
        if not any(i.content[0] <= f.content[0] and f.content[1] <= i.content[1] for i in indirect)
    ]
    return sorted(_resolve(direct + indirect, doc, table, spans), key=lambda a: (a.start, a.end))


def _quoted_share(doc: _Text, span: tuple[int, int]) -> float:
    start, end = span
    if end <= start:
        return 0.0
    inside = sum(max(0, min(end, q_end) - max(start, q_start)) for q_start, q_end in doc.quotes)
    return inside / (end - start)


def quotes(text: str, lang: str | None = None) -> list[Quote]:
    """Who said what in `text`: direct quotes (inside quotation marks) and indirect ones (direct=False).

    `lang` defaults to the detected language; an explicit language without a speech-verb table raises
    ValueError, a detected one gives no quotes.
    """
    if lang is None:
        from storyline.language import detect_language

        lang = detect_language(text)
        if lang not in _raw_tables():
            return []
    return [
        Quote(article="", speaker=a.speaker, speaker_name=a.speaker_name, text=a.text, cue=a.cue, direct=a.direct,
              start=a.start, end=a.end)
        for a in attribute(text, lang)
    ]
