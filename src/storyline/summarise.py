"""Stage 7, summarise: extractive titles, summaries and timelines for events and stories.

The event title is the headline of its most central article (in the reader's language when one of the
event's articles is in it); the summary is that article's lead sentences. A story's title is the title
of its largest event, its summary the first sentence of each of its main events in date order, its timeline
the events by date.

Titles and summaries are never boilerplate: a headline that is junk or code (`extraction.usable_headline`), or
that recurs across several articles of one source (a sidebar line, a section label), is passed over for the
next most central article's, and an event without any usable headline is titled from its lead. The lead skips
recurring paragraphs, junk, bylines, datelines and sentences in another script than the article's. A story
summary is in one language: the reader's when one of its main events is summarised in it, else its main one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Container, Sequence
from dataclasses import replace
from typing import Protocol

from storyline.cluster import Clustering, cosine
from storyline.extraction import is_junk_line, made_title, source_key_of, usable_headline
from storyline.extraction.evidence import Evidence, evidence_lines
from storyline.extraction.text import is_byline, strip_dateline
from storyline.language import detect_language
from storyline.model import Article, Event, Story, TimelineEntry
from storyline.normalize import normalize, sentences, tokens

# Sentences and characters in an event summary; events quoted in a story summary, and its characters.
SUMMARY_SENTENCES = 2
SUMMARY_CHARS = 400
STORY_SUMMARY_EVENTS = 3
STORY_SUMMARY_CHARS = 600
# A story's title event is chosen by the story's events that share this many words of this many letters or
# more with it (a crude, language-blind content-word filter: function words are short).
CENTRAL_SHARED_WORDS = 2
CENTRAL_WORD_CHARS = 5
# Opening lines of fewer words are labels, not the lead ("International", "Live updates").
MIN_LEAD_WORDS = 4
# A lead sentence of this many words is checked for its language (shorter ones the detector misjudges), and
# one whose letters are more than this share capitals is a notice, not a lead.
LANGUAGE_WORDS = 8
MAX_CAPITALS = 0.6
# Paragraphs of each article whose sentences are checked for recurring across its source (a lead is in these).
LEAD_PARAGRAPHS = 6
# A photo credit in brackets inside a caption or lead ("(Foto: AP)"), in the words of data/boilerplate.json.
_CREDIT = re.compile(r"\s*\((?:photo|foto|image|imagen|picture|video|фото|صورة)\s*:[^()]{0,80}\)", re.IGNORECASE)
# An opening sentence that credits its author with a full name and what they are ("Par Zvi Mazel, ancien
# ambassadeur ..."): a byline run into the lead, no lead. One name word alone ("By Monday, ...") is prose.
_CREDIT_SENTENCE = re.compile(r"(?:By|Par|Por|Di|Von|От|Автор)\s+[A-ZÀ-ÞА-ЯЁ][\w'’-]+(?:\s+[A-ZÀ-ÞА-ЯЁ][\w'’-]+){1,3},")
# Characters that end a sentence; a summary sentence without one (a standfirst line) gets a full stop.
_SENTENCE_FINAL = tuple(".!?؟。…\"'”»)")
# Events whose summaries are remembered (`_remembered_event`): every analysis window summarises each open
# event again, though most have the same articles as in the window before.
REMEMBERED_EVENTS = 8192
_EVENTS: OrderedDict[tuple[object, ...], tuple[Event, dict[tuple[str, str], bool]]] = OrderedDict()


class Lines(Protocol):
    """Recurring lines by source, as summaries read them (a dict of sets, or `_Asked`)."""

    def get(self, source: str, default: Container[str] = ..., /) -> Container[str]: ...


def summarise(
    articles: Sequence[Article], clustering: Clustering, language: str = "en"
) -> tuple[list[Event], list[Story]]:
    """Build titled, summarised events and stories from the clustering's assignments."""
    by_id = {a.id: a for a in articles}
    members: dict[str, list[Article]] = defaultdict(list)
    for article_id, event_id in sorted(clustering.event_of.items()):
        members[event_id].append(by_id[article_id])
    recurring = recurring_lines(articles)
    events = [_remembered_event(event_id, group, clustering.story_of[event_id], language, recurring)
              for event_id, group in members.items()]
    for event in events:
        event.related_articles = sorted(clustering.related.get(event.id, []))
    events.sort(key=lambda e: (e.date or "9999", e.id))
    stories = stories_of(events, language)
    return events, stories


def recurring_lines(articles: Sequence[Article]) -> dict[str, frozenset[str]]:
    """Per source, the normalised headlines and paragraphs that recur across its articles (copies aside): what
    extraction could not yet know when the first of them were ingested."""
    evidence = Evidence()
    for article in sorted(articles, key=lambda a: a.id):
        if article.duplicate_of is None:
            lines = evidence_lines(article.text, article.title)
            known = set(lines)
            for paragraph in article.text.split("\n\n")[:LEAD_PARAGRAPHS]:
                for sentence in sentences(paragraph):  # a plea run into the lead on one line recurs as a sentence
                    key = normalize(sentence)
                    if key not in known and len(key.split()) >= MIN_LEAD_WORDS:
                        known.add(key)
                        lines.append(key)
            evidence.observe(source_key_of(article.site, article.url), lines)
    return {site: evidence.recurring(site) for site in evidence.sources}


def _remembered_event(event_id: str, group: list[Article], story: str, language: str,
                      recurring: dict[str, frozenset[str]]) -> Event:
    """`_event`, remembered for the REMEMBERED_EVENTS events last asked, by the event's articles as it reads
    them and the language. The recurring lines of a source change with every window's articles, and `_event`
    only asks whether some of its own lines are among them: a remembered event is reused when each of those
    questions has the same answer now, which makes it what summarising again would give. The story is the
    caller's (a provisional story may change)."""
    key = (event_id, language, tuple((a.id, a.lang, a.published, a.duplicate_of, a.site, a.url, a.title,
                                      hash(a.text)) for a in group))
    found = _EVENTS.get(key)
    if found is not None and all((line in recurring.get(source, frozenset())) == answer
                                 for (source, line), answer in found[1].items()):
        _EVENTS.move_to_end(key)
        event = found[0]
    else:
        asked = _Asked(recurring)
        event = _event(event_id, group, story, language, asked)
        _EVENTS[key] = (event, asked.answers)
        if len(_EVENTS) > REMEMBERED_EVENTS:
            _EVENTS.popitem(last=False)
    return replace(event, story=story, languages=list(event.languages), articles=list(event.articles),
                   related_articles=[])


class _Asked:
    """Recurring lines by source, as `_event` reads them, remembering each question and its answer."""

    def __init__(self, recurring: dict[str, frozenset[str]]) -> None:
        self.recurring = recurring
        self.answers: dict[tuple[str, str], bool] = {}

    def get(self, source: str, default: Container[str] = frozenset()) -> Container[str]:
        return _SourceAsked(self, source)

    def ask(self, source: str, line: object) -> bool:
        found = line in self.recurring.get(source, frozenset())
        if isinstance(line, str):
            self.answers[source, line] = found
        return found


class _SourceAsked:
    """One source's recurring lines as a container that reports what it is asked."""

    def __init__(self, asked: _Asked, source: str) -> None:
        self.asked, self.source = asked, source

    def __contains__(self, line: object) -> bool:
        return self.asked.ask(self.source, line)


def _event(event_id: str, group: list[Article], story: str, language: str,
           recurring: Lines) -> Event:
    originals = [a for a in group if a.duplicate_of is None] or group
    lead = _central(originals, language)
    dates = sorted(a.published.date().isoformat() for a in group if a.published)
    boilerplate = recurring.get(source_key_of(lead.site, lead.url), frozenset())
    return Event(
        id=event_id,
        story=story,
        title=_title(lead, originals, language, recurring),
        summary=lead_text(lead, boilerplate),
        date=dates[0] if dates else None,
        languages=sorted({a.lang for a in group if a.lang}),
        articles=[a.id for a in group],
    )


def _title(lead: Article, group: list[Article], language: str, recurring: Lines) -> str:
    """The lead's headline if it is one, else the headline of the next most central article in the lead's
    language, else a title made from the lead's text."""
    for article in [lead, *_by_centrality([a for a in group if a.lang == lead.lang and a is not lead], language)]:
        boilerplate = recurring.get(source_key_of(article.site, article.url), frozenset())
        if article.title and usable_headline(article.title, boilerplate):
            return article.title
    boilerplate = recurring.get(source_key_of(lead.site, lead.url), frozenset())
    lead_sentences = sentences(lead_text(lead, boilerplate))
    for sentence in lead_sentences:
        made = made_title(sentence)
        if made and usable_headline(made, boilerplate):
            return made
    return made_title(lead_sentences[0]) if lead_sentences else lead.title


def _central(group: list[Article], language: str) -> Article:
    """The article closest to the group's word centroid, preferring the reader's language."""
    preferred = [a for a in group if a.lang == language] or group
    return _by_centrality(preferred, language)[0]


def _by_centrality(group: list[Article], language: str) -> list[Article]:
    """The articles from the closest to the group's word centroid to the farthest."""
    if len(group) <= 1:
        return list(group)
    profiles = {a.id: _profile(a) for a in group}
    centroid: dict[str, float] = defaultdict(float)
    for profile in profiles.values():
        for word, weight in profile.items():
            centroid[word] += weight
    return sorted(group, key=lambda a: (cosine(profiles[a.id], centroid), len(a.text), a.id), reverse=True)


def _profile(article: Article) -> dict[str, float]:
    profile: dict[str, float] = defaultdict(float)
    for word in tokens(f"{article.title} {article.text}"):
        if len(word) > 3:
            profile[word] += 1.0
    return profile


def lead_text(article: Article, boilerplate: Container[str] = frozenset(), limit: int = SUMMARY_CHARS) -> str:
    """The first sentences of an article, cut to the summary length on a word boundary. Short lines that open
    it are a kicker or section label ("International", "Breaking news"), not its lead, and are skipped, and
    so are paragraphs that recur across its source (`boilerplate`), junk, code and bylines; a dateline is
    taken off, and a sentence in another script than the article's (a quoted tweet) left out."""
    script = _script(f"{article.title} {article.text[:1000]}")
    lead: list[str] = []
    for paragraph in article.text.split("\n\n"):
        line = " ".join(_CREDIT.sub("", paragraph).split())
        if not line or normalize(line) in boilerplate or is_junk_line(line) or is_byline(line):
            continue
        for sentence in sentences(strip_dateline(line) if not lead else line):
            if len(lead) >= SUMMARY_SENTENCES:
                break  # enough: the rest of the paragraph need not be judged (language detection costs)
            opens = lead or (len(sentence.split()) >= MIN_LEAD_WORDS and not _CREDIT_SENTENCE.match(sentence))
            if opens and not is_junk_line(sentence) and _script(sentence) in {script, ""} \
                    and normalize(sentence) not in boilerplate and _in_language(sentence, article.lang):
                lead.append(sentence)
        if len(lead) >= SUMMARY_SENTENCES:
            break
    return _cut(" ".join(_closed(s) for s in lead[:SUMMARY_SENTENCES]) or article.title, limit)


def _in_language(sentence: str, lang: str | None) -> bool:
    """False for a sentence a reader of the article would not take as its lead: one shouted in capitals (an
    agency's picture notice) or, long enough to judge, in another language than the article's (an English
    photo caption in a Spanish article)."""
    letters = [char for char in sentence if char.isalpha()]
    if len(letters) >= 20 and sum(char.isupper() for char in letters) / len(letters) > MAX_CAPITALS:
        return False
    if lang is None or len(sentence.split()) < LANGUAGE_WORDS:
        return True
    found = detect_language(sentence)
    return found is None or found == lang


def _script(text: str) -> str:
    """The writing system most of the letters of `text` are in ("LATIN", "CYRILLIC", "ARABIC", ...)."""
    scripts = Counter(unicodedata.name(char, "?").split(" ")[0] for char in text if char.isalpha())
    return scripts.most_common(1)[0][0] if scripts else ""


def _closed(sentence: str) -> str:
    """A sentence with end punctuation: a standfirst line has none, and joined to the next it would run on."""
    return sentence if sentence.endswith(_SENTENCE_FINAL) else sentence + "."


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def stories_of(events: list[Event], language: str | None = None) -> list[Story]:
    """The stories the events belong to, titled and summarised from their events alone. A story's title and
    summary are in one language: `language` (the reader's) when one of its events is summarised in it, else the
    language most of its articles' event summaries are in."""
    grouped: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        grouped[event.story].append(event)
    stories = []
    for story_id, group in grouped.items():
        leading = _leading(group, language)
        main = _title_event(leading, group) if leading else max(group, key=lambda e: (len(e.articles), e.id))
        stories.append(Story(
            id=story_id,
            title=main.title,  # a leading event, in the summary's language: title and summary agree
            summary=_cut(" ".join(sentences(e.summary)[0] for e in sorted(
                leading, key=lambda e: (e.date or "9999", e.id)) if e.summary), STORY_SUMMARY_CHARS),
            languages=sorted({lang for e in group for lang in e.languages}),
            events=[e.id for e in group],
            articles=[a for e in group for a in e.articles],
            timeline=[TimelineEntry(e.date, e.id, e.title)
                      for e in sorted(group, key=lambda e: (e.date is None, e.date or "", e.id))],
        ))
    stories.sort(key=lambda s: (-len(s.articles), s.id))
    return stories


def _title_event(leading: list[Event], group: list[Event]) -> Event:
    """The leading event that titles the story: the largest, weighed by how many of the story's other events
    share its subject (CENTRAL_SHARED_WORDS of its longer title and summary words). A story's largest event
    can be a stray one that joined it: "El presidente de Yemen firma el acuerdo ..." titled a story of 300
    articles on Libya (timelines .txt files, session 10)."""
    words = {e.id: {w for w in tokens(f"{e.title} {e.summary}") if len(w) >= CENTRAL_WORD_CHARS} for e in group}

    def score(event: Event) -> tuple[int, int]:
        shared = sum(len(words[event.id] & words[other.id]) >= CENTRAL_SHARED_WORDS
                     for other in group if other.id != event.id)
        return len(event.articles) * (1 + shared), len(event.articles)

    return max(leading, key=lambda e: (*score(e), e.id == leading[0].id))


def _leading(group: list[Event], language: str | None) -> list[Event]:
    """The largest events of a story whose summaries are in the story summary's language."""
    by_size = sorted(group, key=lambda e: (-len(e.articles), e.id))
    if len(group) == 1:
        return by_size
    spoken = {e.id: detect_language(e.summary) if e.summary else None for e in by_size}
    weights: Counter[str] = Counter()
    for event in by_size:
        if spoken[event.id]:
            weights[spoken[event.id] or ""] += len(event.articles)
    chosen = language if language in weights else (weights.most_common(1)[0][0] if weights else None)
    return [e for e in by_size if chosen is None or spoken[e.id] == chosen][:STORY_SUMMARY_EVENTS]
