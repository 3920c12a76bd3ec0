"""Stage 6, cluster: online grouping of articles into events, of events into stories, and of second topics.

Each article, in publication order, is scored against candidate events with the same calibrated model that
`storyline.similarity` exposes (relatedness.py): P(same story) from lexical, cognate, entity, place and
number signals that work across languages and scripts. Entities resolved by `storyline.recognition` (one id whatever
the script) are added to the name keys, which is what links an Arabic article to its English twin. Since
"same story" is looser than "same event", the event decision also asks for the article's anchors (people,
figures) in the event. The article joins the best event within EVENT_WINDOW_DAYS, or opens a new event.

Candidates come from an inverted index over event features (heaviest words, name keys), so the cost per
article does not grow with the number of events: events that fall out of the time window leave the index
(and memory, once handed to their story), and only the MAX_CANDIDATES events sharing most features with
the article are scored. An event keeps a bounded representation (its top words, n-grams and keys).

Closed events join stories over a longer sliding window on the same model's score of pooled profiles, with
their own inverted index. An article whose second half turns to another topic is placed by its headline
and first half, and its second half may join another open event (recorded in `Clustering.related`).
"""

from __future__ import annotations

import math
import pickle
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from storyline import relatedness
from storyline.model import Article, Mention
from storyline.recognition import match_key
from storyline.recognition.spotting import INFLECTING
from storyline.relatedness import Profile, Relatedness

# The model says "same story", and events of one story share most of their words (in the seeds, articles
# on three events of one story score 0.6-0.9 with one another), so the event decision also needs anchors:
# the people and figures (non-year numbers) of the article. An article joins an event when
# P ** PROBABILITY_EXPONENT * (IDF-weighted share of its anchors the event has) >= EVENT_THRESHOLD; one without
# anchors joins when P >= PLAIN_THRESHOLD. Chosen on the seeds and examples/corpus (tests/test_cluster.py)
# with the current model and German noun filtering (recognition.spotting.NOUN_ZIPF): seeds exact from 0.25 to 0.4;
# examples/corpus event BCubed F1 0.90 at 0.3 (the two port-strike events merge), 1.0 at 0.35, 0.97 at 0.4.
EVENT_THRESHOLD = 0.35
PROBABILITY_EXPONENT = 0.25
PLAIN_THRESHOLD = 0.8
# Candidate events below this P(same story) are not considered at all (cross-language twins score 0.25+).
EVENT_GATE = 0.2
# Entity types whose ids anchor an event: who took part. Places and organisations recur across a story.
ANCHOR_TYPES = ("PER",)
# Events join a story at this P(same story) of their pooled profiles (pooled, trimmed profiles score lower
# than article pairs). Chosen on BSNLP dev (topics as stories), story BCubed F1 dated / undated: 0.44 / 0.51
# at 0.2, 0.51 / 0.52 at 0.15, 0.61 / 0.60 at 0.1. Lower thresholds gain on BSNLP by merging ever broader
# topics (it has six, each months long), which a general stream would pay for in unrelated merges, so 0.1;
# the seeds and examples/corpus stay exact. Requiring shared names as well cost BSNLP 0.1-0.2 (Slavic
# inflection and scripts split keys), so it is not required.
STORY_THRESHOLD = 0.1
# Articles further apart than this (days) do not report one event; events further apart are not one story.
EVENT_WINDOW_DAYS = 3
STORY_WINDOW_DAYS = 30
# A story that has lasted stays open longer: its window is STORY_WINDOW_SHARE of its own span (first to last
# event), at least STORY_WINDOW_DAYS and at most STORY_WINDOW_MAX_DAYS, so a crisis followed for years with
# quiet months between its events stays one story while a two-day story closes after a month. Chosen on the
# story decisions of one pipeline run over BSNLP dev, replayed (stories against the topics): 0.81 with a
# fixed window, 0.87 at a share of 0.25, 0.84 at 0.5 and 1.0 (the timelines docs: 0.59, 0.79, 0.78).
STORY_WINDOW_SHARE = 0.25
STORY_WINDOW_MAX_DAYS = 365
# A story about a country (named in COUNTRY_SHARE of its events, once it has COUNTRY_STORY_EVENTS) does not
# take an event about other countries (named in COUNTRY_SHARE of its articles) that names none of the story's:
# the similarity model reads "protesters defy the regime in Cairo" and "... in Sanaa" as one story, and a pooled
# story profile names every country its events did. On the timelines docs (four Arab Spring crises) stories
# against the topics went 0.72 -> 0.78 with it (a replay of one pipeline run's story decisions); a share of
# 0.5 split BSNLP dev's Brexit (docs/benchmarks.md, stories). Only groups mostly in languages whose country
# names the gazetteer finds are judged so (`_reads_countries`): BSNLP's Slavic articles are not.
COUNTRY_SHARE = 0.7
COUNTRY_STORY_EVENTS = 5
# Bounded event state: the heaviest entries kept per pooled vector or key list. An article profile has up to
# 60 words and 120 n-grams; an event keeps about as many, so its state does not grow with its size (the
# scale benchmark in bench/clustering.py measures the bytes per article this leaves).
EVENT_WORDS = 40
EVENT_GRAMS = 60
EVENT_KEYS = 30
EVENT_NUMBERS = 16
# A pooled vector is trimmed back to its limit once it holds limit + limit / TRIM_SLACK entries (rebuilt,
# so its table shrinks too). At 10k articles of the scale stream, state per article: 11.8 KB when trimmed
# by deletion, 8.1 KB rebuilt at slack 2, 7.4 KB at slack 4; slack 4 also trims more often, which cost
# BSNLP story BCubed F1 0.02-0.03, so 2.
TRIM_SLACK = 2
# Pooled event profiles kept built at once (the events scored most recently): an open event's pooled
# profile is as large as its counters, and most events of a stream are not candidates again soon.
WARM_EVENTS = 150
# Features of an article looked up in the inverted index (its heaviest words and keys), and events scored
# per article at most (those sharing most features). Postings longer than MAX_POSTING belong to features
# too common to select candidates (a country in every article), so they are not read: the cost per
# article stays bounded however many events are open.
QUERY_WORDS = 12
QUERY_KEYS = 12
MAX_CANDIDATES = 8
MAX_POSTING = 400
# Events open at once at most: past it the least lately joined closes, as if its window had passed. Time
# closes events in a dated stream long before (2,000 articles a day keep about 2,200 open, bench/clustering.py);
# a stream without dates (a folder of undated files) would otherwise keep every event open, and each analysis
# window would compare, resolve and finish all of them again.
MAX_OPEN_EVENTS = 3000
# Closed events a kept clusterer state remembers for late and undated articles of later runs (about a
# week of events of a 2,000-article-a-day stream; each is a bounded profile).
KEPT_CLOSED_EVENTS = 2000
# A segment is the second half of an article (by paragraphs) whose words have cosine below this with the
# first half, and at least SEGMENT_MIN_CHARS long (a few sentences); it joins another event by the same rule.
SEGMENT_DIVERGENCE = 0.15
SEGMENT_MIN_CHARS = 400


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two sparse vectors (any scale)."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(weight * b.get(key, 0.0) for key, weight in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


@dataclass(slots=True)
class Group:
    """An event (members are article ids) or a story (members are event ids), with a bounded pooled profile."""

    id: str
    members: list[str] = field(default_factory=list)
    words: Counter[str] = field(default_factory=Counter)
    title: Counter[str] = field(default_factory=Counter)
    grams: Counter[str] = field(default_factory=Counter)
    rare: Counter[str] = field(default_factory=Counter)
    lead: Counter[str] = field(default_factory=Counter)
    surface: Counter[str] = field(default_factory=Counter)
    title_grams: Counter[str] = field(default_factory=Counter)
    prefixes: Counter[str] = field(default_factory=Counter)
    prefix_lead: Counter[str] = field(default_factory=Counter)
    prefix_title: Counter[str] = field(default_factory=Counter)
    skeletons: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    places: Counter[str] = field(default_factory=Counter)
    numbers: Counter[str] = field(default_factory=Counter)
    months: Counter[int] = field(default_factory=Counter)
    anchors: Counter[str] = field(default_factory=Counter)
    embedding: list[float] = field(default_factory=list)  # sum of the members' dense vectors, if any
    indexed: set[str] = field(default_factory=set)
    langs: Counter[str] = field(default_factory=Counter)
    length: int = 0
    first: datetime | None = None
    last: datetime | None = None
    _pooled: Profile | None = None

    def add(self, member: str, item: Profile, when: datetime | None) -> None:
        self.members.append(member)
        for pooled, vector, limit in ((self.words, item.words, EVENT_WORDS), (self.title, item.title, EVENT_WORDS),
                                      (self.grams, item.grams, EVENT_GRAMS), (self.rare, item.rare, EVENT_WORDS),
                                      (self.lead, item.lead, EVENT_WORDS),
                                      (self.surface, item.surface, EVENT_WORDS),
                                      (self.title_grams, item.title_grams, EVENT_KEYS),
                                      (self.prefixes, item.prefixes, EVENT_WORDS),
                                      (self.prefix_lead, item.prefix_lead, EVENT_WORDS),
                                      (self.prefix_title, item.prefix_title, EVENT_KEYS),
                                      (self.skeletons, item.skeletons, EVENT_WORDS)):
            pooled.update(vector)
            _trim(pooled, limit)
        for counter, keys, limit in ((self.keys, item.keys, EVENT_KEYS), (self.places, item.places, EVENT_KEYS),
                                     (self.numbers, item.numbers, EVENT_NUMBERS)):
            counter.update(sorted(keys))  # sorted: set order varies between runs, trimming must not
            _trim(counter, limit)
        self.months.update(item.months)
        if item.embedding:
            self.embedding = [a + b for a, b in zip(self.embedding or [0.0] * len(item.embedding), item.embedding,
                                                    strict=True)]
        self.langs.update([item.lang or ""])
        self.length = max(self.length, item.length)
        if when is not None:
            self.first = min(self.first or when, when)
            self.last = max(self.last or when, when)
        self._pooled = None

    def __getstate__(self) -> tuple[object, ...]:
        # Counters pickle through Counter.__init__ and update, in Python: a state of thousands of groups spent
        # most of its loading time there (bench/throughput.py). Plain dicts load in C.
        return tuple(dict(value) if isinstance(value, Counter) else value
                     for value in (getattr(self, name) for name in _GROUP_FIELDS))

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(_GROUP_FIELDS, state, strict=True):
            if name in _GROUP_COUNTERS:
                counter: Counter[Any] = Counter()
                dict.update(counter, value)  # type: ignore[call-overload]
                value = counter
            object.__setattr__(self, name, value)

    def within(self, when: datetime | None, days: int) -> bool:
        if when is None or self.first is None or self.last is None:
            return True
        return (self.first - when).days <= days and (when - self.last).days <= days

    def story_window(self) -> int:
        """Days a story stays open after its last event: longer the longer it has lasted."""
        span = (self.last - self.first).days if self.first is not None and self.last is not None else 0
        return max(STORY_WINDOW_DAYS, min(STORY_WINDOW_MAX_DAYS, int(STORY_WINDOW_SHARE * span)))

    def profile(self, lang: str | None) -> Profile:
        """The pooled profile, in the asking article's language when the group has members in it."""
        if self._pooled is None:
            self._pooled = Profile(
                lang=self.langs.most_common(1)[0][0] or None, script="", words=_unit(self.words),
                title=_unit(self.title), grams=_unit(self.grams), rare=_unit(self.rare), lead=_unit(self.lead),
                surface=_unit(self.surface),
                months=frozenset(self.months), keys=frozenset(self.keys), places=frozenset(self.places),
                numbers=frozenset(self.numbers), length=self.length, title_grams=_unit(self.title_grams),
                prefixes=_unit(self.prefixes), prefix_lead=_unit(self.prefix_lead),
                prefix_title=_unit(self.prefix_title), skeletons=_unit(self.skeletons),
                embedding=_unit_dense(self.embedding))
        pooled = self._pooled
        if lang in self.langs and lang != pooled.lang:
            pooled = Profile(**{**{f: getattr(pooled, f) for f in Profile.__slots__}, "lang": lang})
        return pooled


_GROUP_FIELDS = tuple(f.name for f in fields(Group))
_GROUP_COUNTERS = frozenset(f.name for f in fields(Group) if f.type.startswith("Counter"))


def _trim(counter: Counter[str], limit: int) -> None:
    if len(counter) > limit + limit // TRIM_SLACK:  # in batches: sorting on every add would cost more
        # Rebuilt rather than deleted from: a dict never shrinks its table on deletion.
        kept = dict(counter.most_common(limit))
        counter.clear()
        counter.update(kept)


def _unit(vector: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _unit_dense(vector: Sequence[float]) -> tuple[float, ...]:
    norm = math.sqrt(sum(v * v for v in vector))
    return tuple(v / norm for v in vector) if norm else ()


@dataclass(slots=True)
class Clustering:
    """The result: article -> event, event -> story, and event -> articles that contribute a segment."""

    event_of: dict[str, str]
    story_of: dict[str, str]
    related: dict[str, list[str]]


# Finds archived closed events for a late article: its index features and date -> (event, its story).
Archive = Callable[[list[str], datetime], list[tuple[Group, str]]]


@dataclass(slots=True)
class Prepared:
    """An article as the clusterer reads it, made from the article alone: the profile of its headline and
    first half (or of all of it), the profile of a second half that turns to another topic, and the dense
    vectors computed to make them (by part: "head", "tail"), for the store to keep."""

    head: Profile
    tail: Profile | None
    vectors: dict[str, list[float]]


def prepare(article: Article, scorer: Relatedness, known: Mapping[tuple[str, str], list[float]] | None = None,
            segments: bool = True) -> Prepared:
    """The clusterer's per-article work (split, profiles, dense vectors), a pure function of the article: an
    engine runs it on its workers, ahead of the serial placement. `known` holds vectors computed before, by
    (article, part): a rebuild embeds nothing again."""
    split = _split(article) if segments else None
    head_text = f"{article.title}\n{article.text}" if split is None else split[0]
    computed: dict[str, list[float]] = {}

    def profiled(part: str, text: str) -> Profile:
        if scorer.embedder is None:
            return scorer.profile(text, article.lang)
        vector = (known or {}).get((article.id, part))
        if vector is None:
            vector = computed[part] = scorer.vector(text)
        return scorer.profile(text, article.lang, vector)

    head = profiled("head", head_text)
    tail = profiled("tail", "\n" + split[1]) if split is not None else None
    return Prepared(head, tail, computed)


def _split(article: Article) -> tuple[str, str] | None:
    """(headline + first half, second half) when the second half's words diverge from the first's."""
    paragraphs = [p for p in article.text.split("\n") if p.strip()]
    if len(paragraphs) < 4:
        return None
    half = len(paragraphs) // 2
    head = f"{article.title}\n" + "\n".join(paragraphs[:half])
    tail = "\n".join(paragraphs[half:])
    if len(tail) < SEGMENT_MIN_CHARS:
        return None
    if cosine(relatedness.profile(head, article.lang).words,
              relatedness.profile("\n" + tail, article.lang).words) >= SEGMENT_DIVERGENCE:
        return None
    return head, tail


class OnlineClusterer:
    """Assign articles to events one at a time; candidates come from an inverted index of event features."""

    def __init__(self, expire: bool = True, scorer: Relatedness | None = None) -> None:
        """`expire=False` keeps every event open whatever the dates (a batch looking back at all events);
        `scorer` is the similarity model (by default the best this installation runs: `relatedness.default`)."""
        self.expire = expire
        self.scorer = scorer or relatedness.default()
        self.events: dict[str, Group] = {}
        self.index: dict[str, set[str]] = defaultdict(set)
        self.event_of: dict[str, str] = {}
        self.related: dict[str, list[str]] = defaultdict(list)
        self._open: dict[str, None] = {}  # events still in the index (insertion-ordered set)
        self._warm: dict[str, None] = {}  # events whose pooled profile is built, least recently scored first
        self.anchor_df: Counter[str] = Counter()
        self.seen = 0
        self.stories = StoryGrouper(self.scorer)
        self.story_of: dict[str, str] = {}
        # Events closed lately, kept (up to `keep_closed`, oldest dropped first) with their own index and story
        # so that an undated or late article of a later run can still join the event of its time.
        self.keep_closed = 0
        self.closed: dict[str, Group] = {}
        self.closed_index: dict[str, set[str]] = defaultdict(set)
        self.closed_story: dict[str, str] = {}
        self.reopened: set[str] = set()
        # Where closed events older than the kept ones are found (the store's index; see `cluster_more`), and
        # the events this run closed, for it to keep there. Neither is part of the saved state.
        self.archive: Archive | None = None
        self.closed_now: list[Group] = []
        # Dense vectors by (article, part): those known before this run, and those it computed (to keep).
        self.vectors: dict[tuple[str, str], list[float]] = {}
        self.vectors_now: dict[tuple[str, str], list[float]] = {}

    def add(self, article: Article, entity_keys: Iterable[str] = (), anchors: Iterable[str] = (),
            segments: bool = True, when: datetime | None = None, undated_search: bool = False,
            prepared: Prepared | None = None) -> str:
        """Place one article; returns its event id. `entity_keys` are its resolved entity ids, `anchors` the
        ones that tell events of one story apart (people); `when` overrides the publication date as the
        article's time in the stream. With `undated_search`, an undated or late article first looks back
        into the lately closed events: when one of them is its best event, it joins it there. `prepared` is
        `prepare(article)` computed before (by an engine's workers); else it is computed now."""
        when = when or article.published
        if prepared is None:
            prepared = prepare(article, self.scorer, self.vectors, segments)
        for part, vector in prepared.vectors.items():
            self.vectors_now[article.id, part] = vector
        # Copies: a prepared article may be placed again (a window analysed again without a failing article).
        item = replace(prepared.head, keys=prepared.head.keys | frozenset(entity_keys))
        people = frozenset(anchors)
        if undated_search and (article.published is None or self._late(article.published)):
            if article.published is not None and self.archive is not None:
                self._recall(item, article.published)
            found = self.best(item, article.published, people | _number_marks(item), look_back=True)
            if found and found[0].id in self.closed:  # a late article joins a closed event of its time
                return self._reopen(found[0], article.id, item, when)
        event_id = self.place(article.id, item, when, people | _number_marks(item), article.duplicate_of)
        if prepared.tail is not None:
            # The main event is the one of the headline and first half (news leads with its main story);
            # the second half may add the article to another open event, never open one of its own.
            tail = replace(prepared.tail, keys=prepared.tail.keys | frozenset(entity_keys))
            found = self.best(tail, when, people | _number_marks(tail), exclude=event_id)
            if found:
                self.related[found[0].id].append(article.id)
        return event_id

    def place(self, article_id: str, item: Profile, when: datetime | None, anchors: frozenset[str] = frozenset(),
              duplicate_of: str | None = None) -> str:
        """Place one profiled article (the streaming entry point); returns its event id."""
        # Anchors common to many articles (the story's protagonists) say less about the event: weigh them
        # by inverse document frequency over the stream so far.
        self.seen += 1
        self.anchor_df.update(anchors)
        self._expire(when)
        known = self.event_of.get(duplicate_of) if duplicate_of else None
        if known is not None and known in self.events:
            event = self.events[known]
        else:
            found = self.best(item, when, anchors)
            event = found[0] if found else Group(f"ev-{article_id}")
            self.events[event.id] = event
        event.add(article_id, item, when)
        event.anchors.update(sorted(map(sys.intern, anchors)))
        _trim(event.anchors, EVENT_KEYS)
        for feature in _index_features(item):
            if feature not in event.indexed:
                event.indexed.add(feature)
                self.index[feature].add(event.id)
        self.event_of[article_id] = event.id
        self._open.pop(event.id, None)  # re-insert: _open stays ordered by last article, oldest first
        self._open[event.id] = None
        return event.id

    def best(self, item: Profile, when: datetime | None, anchors: frozenset[str] = frozenset(),
             exclude: str | None = None, look_back: bool = False) -> tuple[Group, float] | None:
        """The most likely event for a profile within the window, if any clears its threshold; with
        `look_back`, the events closed lately are candidates too.

        The model says "same story"; events of one story share most of their vocabulary, so an event must
        also share the article's anchors (people, figures), weighed by rarity in the stream.
        """
        hits: Counter[str] = Counter()
        for index in (self.index, self.closed_index) if look_back else (self.index,):
            for feature in _index_features(item):
                postings = index.get(feature, ())
                if len(postings) <= MAX_POSTING:
                    hits.update(postings)
        groups = {**self.events, **self.closed} if look_back else self.events
        candidates = [groups[event_id] for event_id, _ in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))
                      if event_id != exclude and groups[event_id].within(when, EVENT_WINDOW_DAYS)]
        candidates = candidates[:MAX_CANDIDATES]
        probabilities = self.scorer.score_many(item, [event.profile(item.lang) for event in candidates])
        self._keep_warm(candidates)
        weights = {a: math.log(1 + self.seen / max(1, self.anchor_df[a])) for a in anchors}
        # Two views of the same people: their entity ids (which join scripts) and their mentions' name keys
        # (which never depend on what was resolved together); an event shares the article's anchors as much
        # as the view that sees more of them says. Figures count in both.
        by_ids = frozenset(a for a in anchors if not a.startswith("k:"))
        by_keys = frozenset(a for a in anchors if not a.startswith("e:"))
        views = [(view, sum(weights[a] for a in view)) for view in (by_ids, by_keys)]
        best, best_score = None, 1.0  # scores are relative to their threshold
        for event, probability in zip(candidates, probabilities, strict=True):
            if probability < EVENT_GATE:
                continue
            if anchors:
                shared = max((sum(weights[a] for a in view & event.anchors.keys()) / total
                              for view, total in views if total), default=0.0)
                combined = probability ** PROBABILITY_EXPONENT * shared / EVENT_THRESHOLD
            else:
                combined = probability / PLAIN_THRESHOLD
            if combined >= best_score:
                best, best_score = event, combined
        return (best, best_score) if best else None

    def _keep_warm(self, scored: list[Group]) -> None:
        """Drop the pooled profiles of the events scored least recently beyond WARM_EVENTS."""
        for event in scored:
            self._warm.pop(event.id, None)
            self._warm[event.id] = None
        while len(self._warm) > WARM_EVENTS:
            cold = next(iter(self._warm))
            del self._warm[cold]
            if cold in self.events:
                self.events[cold]._pooled = None

    def _expire(self, now: datetime | None) -> None:
        """Close the events whose window has passed: out of the index, into a story, state dropped; and the
        least lately joined, to leave room under MAX_OPEN_EVENTS (undated articles never pass a window)."""
        if not self.expire:
            return
        while len(self._open) >= MAX_OPEN_EVENTS:
            self._close(self.events[next(iter(self._open))])
        if now is None:
            return
        for event in _passed(self.events, self._open, now, EVENT_WINDOW_DAYS):
            self._close(event)

    def _close(self, event: Group) -> None:
        _unindex(self.index, event)
        del self._open[event.id]
        self.story_of[event.id] = self.stories.add(event)
        del self.events[event.id]
        if self.archive is not None:  # a run that keeps closed events in a store hands them over
            self.closed_now.append(event)
        if self.keep_closed:
            event._pooled = None  # rebuilt if a late article asks
            self.closed[event.id] = event
            self.closed_story[event.id] = self.story_of[event.id]
            for feature in event.indexed:
                self.closed_index[feature].add(event.id)
            while len(self.closed) > self.keep_closed:
                self._forget(next(iter(self.closed)))

    def _forget(self, event_id: str) -> None:
        """Drop the oldest kept closed event: later articles of its time open an event of their own."""
        event = self.closed.pop(event_id)
        self.closed_story.pop(event_id, None)
        self.reopened.discard(event_id)
        _unindex(self.closed_index, event)

    def _recall(self, item: Profile, when: datetime) -> None:
        """Bring the archived closed events of a late article's time that share its features back among the
        kept closed events, where `best` looks (they stay until newer closed events push them out)."""
        assert self.archive is not None
        for event, story in self.archive(_index_features(item), when):
            if event.id in self.closed or event.id in self.events:
                continue
            self.closed[event.id] = event
            self.closed_story[event.id] = story
            for feature in event.indexed:
                self.closed_index[feature].add(event.id)

    def _late(self, when: datetime) -> bool:
        now = self.latest()
        return now is not None and (now - when).days > EVENT_WINDOW_DAYS

    def _reopen(self, event: Group, article_id: str, item: Profile, when: datetime | None) -> str:
        """Add a late article to a closed event; its story stays the one it closed into."""
        event.add(article_id, item, when)
        self.event_of[article_id] = event.id
        self.reopened.add(event.id)
        return event.id

    def snapshot(self) -> bytes:
        """The state to continue from in a later run, bounded by the open window: what closed events decided
        (their articles' events, their stories) has been saved by the run that closed them, so only the open
        events' part is kept. The scorer is not part of it (it is code and shipped data)."""
        open_events = set(self.events)
        state = {**self.__dict__, "scorer": None, "reopened": set(), "archive": None, "closed_now": [],
                 "vectors": {}, "vectors_now": {},
                 "event_of": {a: e for a, e in self.event_of.items() if e in open_events},
                 "story_of": {}, "related": {e: list(a) for e, a in self.related.items() if e in open_events},
                 "stories": {**self.stories.__dict__, "scorer": None}}
        # The open events' article ids, in placement order, ride outside the pickled state: a window reads
        # them (`open_articles`) without loading the state.
        placed = list(state["event_of"])
        return pickle.dumps((placed, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)),
                            protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def restore(cls, data: bytes, scorer: Relatedness | None = None) -> OnlineClusterer:
        """A clusterer from `snapshot()`. The state is storyline's own, read from its own store (pickle runs
        code from what it loads: never restore a snapshot from elsewhere)."""
        state = pickle.loads(pickle.loads(data)[1])
        clusterer = cls.__new__(cls)
        stories = StoryGrouper.__new__(StoryGrouper)
        stories.__dict__.update(state.pop("stories"))
        clusterer.__dict__.update(state)
        clusterer.scorer = stories.scorer = scorer or relatedness.default()
        clusterer.stories = stories
        clusterer.related = defaultdict(list, clusterer.related)
        return clusterer

    def latest(self) -> datetime | None:
        """The stream's time: the last article date of the open events (where an undated article arrives)."""
        return max((e.last for e in self.events.values() if e.last is not None), default=None)

    def finish(self) -> Clustering:
        """Close every open event (oldest first) and return the result."""
        for event in sorted((self.events[e] for e in self._open),
                            key=lambda e: (e.first is None, e.first or datetime.min, e.id)):
            self._close(event)
        related = {event: sorted(set(ids)) for event, ids in self.related.items()}
        return Clustering(self.event_of, self.story_of, related)


class StoryGrouper:
    """Events join the story they most likely continue: the same model on pooled profiles, candidates from
    an inverted index of story features, stories closed after their last event by their window (`story_window`)."""

    def __init__(self, scorer: Relatedness) -> None:
        self.scorer = scorer
        self.stories: dict[str, Group] = {}
        self.index: dict[str, set[str]] = defaultdict(set)
        self._open: dict[str, None] = {}

    def add(self, event: Group) -> str:
        item = event.profile(None)
        self._expire(event.first)
        hits: Counter[str] = Counter()
        for feature in _index_features(item):
            postings = self.index.get(feature, ())
            if len(postings) <= MAX_POSTING:
                hits.update(postings)
        best, best_score = None, STORY_THRESHOLD
        countries = item.places if _reads_countries(event) and _main_places(event) else frozenset()
        ranked = (self.stories[story_id] for story_id, _ in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0])))
        candidates = list(islice((story for story in ranked if story.within(event.first, story.story_window())
                                  and not _elsewhere(countries, story)), MAX_CANDIDATES))
        probabilities = self.scorer.score_many(item, [story.profile(item.lang) for story in candidates])
        for story, probability in zip(candidates, probabilities, strict=True):
            if probability >= best_score:
                best, best_score = story, probability
        if best is None:
            best = Group(provisional_story(event.id))
            self.stories[best.id] = best
        best.add(event.id, item, event.first)
        if event.last is not None:
            best.last = max(best.last or event.last, event.last)
        for feature in _index_features(item):
            if feature not in best.indexed:
                best.indexed.add(feature)
                self.index[feature].add(best.id)
        self._open.pop(best.id, None)
        self._open[best.id] = None
        return best.id

    def _expire(self, now: datetime | None) -> None:
        if now is None:
            return
        for story in _passed(self.stories, self._open, now, STORY_WINDOW_DAYS, Group.story_window):
            _unindex(self.index, story)
            del self._open[story.id]
            del self.stories[story.id]


def _main_places(group: Group) -> frozenset[str]:
    """The countries named by COUNTRY_SHARE of a group's members (articles of an event, events of a story)."""
    least = COUNTRY_SHARE * len(group.members)
    return frozenset(place for place, count in group.places.items() if count >= least)


def _reads_countries(group: Group) -> bool:
    """Whether a group's countries are known well enough to tell stories apart: country names are found as
    the gazetteer writes them, which a language that inflects them mostly does not ("Wielkiej Brytanii",
    "Великобритании"), so a group mostly in such languages is not judged by its countries (BSNLP dev stories
    against the topics fell from 0.83 to 0.68 when it was: Brexit events without a country found left the
    Brexit story)."""
    inflected = sum(count for lang, count in group.langs.items() if lang in INFLECTING)
    return inflected * 2 < sum(group.langs.values())


def _elsewhere(countries: frozenset[str], story: Group) -> bool:
    """Whether an event naming `countries` (empty when it is not about some) is about other countries than the
    story, which has COUNTRY_STORY_EVENTS events at least and countries of its own."""
    if not countries or len(story.members) < COUNTRY_STORY_EVENTS or not _reads_countries(story):
        return False
    main = _main_places(story)
    return bool(main) and not main & countries


def _passed(groups: Mapping[str, Group], order: dict[str, None], now: datetime, days: int,
            window: Callable[[Group], int] | None = None) -> Iterator[Group]:
    """The open groups, least lately joined first (`order`), whose window has passed by `now`, for the caller
    to close as they come: `days`, or `window(group)` (at least `days`) when given. An undated one (opened
    before the stream had a time) takes `now` and the end of the order: left first, it would hold every later
    group open, and in the state, for good."""
    for group_id in list(order):
        group = groups[group_id]
        if group.last is None:
            group.first = group.last = now
            order.pop(group_id)
            order[group_id] = None
            continue
        idle = (now - group.last).days
        if idle <= days:
            return  # the groups after it joined later: no window of theirs has passed either
        if window is None or idle > window(group):
            yield group


def _unindex(index: dict[str, set[str]], group: Group) -> None:
    """Take a group out of an inverted index, dropping the postings it leaves empty."""
    for feature in group.indexed:
        postings = index.get(feature)
        if postings is not None:
            postings.discard(group.id)
            if not postings:
                del index[feature]


def _index_features(item: Profile) -> list[str]:
    words = sorted(item.words.items(), key=lambda kv: (-kv[1], kv[0]))[:QUERY_WORDS]
    # Longer keys are more specific (resolved entity ids, full-name skeletons).
    keys = sorted(item.keys, key=lambda k: (-len(k), k))[:QUERY_KEYS]
    # Interned: every event and the index that hold a feature share one string object.
    return [sys.intern(f"w:{w}") for w, _ in words] + [sys.intern(f"k:{k}") for k in keys]


def entity_keys(mentions: Sequence[Mention]) -> dict[str, set[str]]:
    """Per article, its resolved entity ids as name keys (one id in every script)."""
    keys: dict[str, set[str]] = defaultdict(set)
    for mention in mentions:
        keys[mention.article].add(f"e:{mention.entity}")
    return keys


def anchor_keys(mentions: Sequence[Mention], articles: Sequence[Article]) -> dict[str, set[str]]:
    """Per article, what tells events of one story apart: its people (ANCHOR_TYPES), as resolved entity ids
    and as the name keys of their mentions. The ids join spellings across scripts; a name key depends on the
    mention alone, not on which articles were resolved together, so an incremental run anchors its articles
    as one run over everything does (docs/benchmarks.md, section incremental)."""
    lang = {article.id: article.lang for article in articles}
    keys: dict[str, set[str]] = defaultdict(set)
    for mention in mentions:
        if mention.type in ANCHOR_TYPES:
            keys[mention.article].add(f"e:{mention.entity}")
            if name := match_key(mention.text, lang.get(mention.article)):
                keys[mention.article].add(f"k:{name}")
    return keys


def _number_marks(item: Profile) -> frozenset[str]:
    return frozenset(f"n:{n}" for n in item.numbers if not relatedness.is_year(n))


def cluster_all(articles: Sequence[Article], mentions: Sequence[Mention],
                scorer: Relatedness | None = None) -> Clustering:
    """Group articles into events, events into stories, and record second-topic segments, all in memory (the
    benchmarks' batch; the pipeline streams through `cluster_more` instead).

    Articles stream in date order; an undated one streams at the date of the dated event it most likely
    belongs to (see `undated_positions`), so it meets that event while it is still open instead of after
    every window has closed.
    """
    keys = entity_keys(mentions)
    people = anchor_keys(mentions, articles)
    position = undated_positions(articles, keys, people, scorer)

    def when(article: Article) -> datetime | None:
        return article.published or position.get(article.id)

    ordered = sorted(articles, key=lambda a: (when(a) is None, when(a) or datetime.min, a.published is None, a.id))
    clusterer = OnlineClusterer(scorer=scorer)
    for article in ordered:
        clusterer.add(article, keys.get(article.id, ()), people.get(article.id, ()), when=when(article))
    return clusterer.finish()


def fresh_state() -> bytes:
    """The state a stream starts from: nothing open yet, keeping lately closed events for late articles."""
    clusterer = OnlineClusterer()
    clusterer.keep_closed = KEPT_CLOSED_EVENTS
    return clusterer.snapshot()


def open_articles(state: bytes, limit: int) -> list[str]:
    """The articles of the events open in a snapshot, the `limit` placed last: the window a new article is
    compared with."""
    placed: list[str] = pickle.loads(state)[0]  # in the order they were placed (see `snapshot`)
    return sorted(placed[-limit:])


@dataclass(slots=True)
class Continued:
    """What `cluster_more` did: the clustering of every article of the events open at the start or since (the
    events whose rows may change), the state to continue from next time, the events it closed or joined
    again with their stories (for the store's archive), the dense vectors it computed, by (article, part), and
    the events still open (whose stories are provisional)."""

    clustering: Clustering
    state: bytes
    archived: list[tuple[Group, str]]
    vectors: dict[tuple[str, str], list[float]]
    open: list[str]


def cluster_more(state: bytes, articles: Sequence[Article], mentions: Sequence[Mention],
                 scorer: Relatedness | None = None, archive: Archive | None = None,
                 vectors: Mapping[tuple[str, str], list[float]] | None = None,
                 prepared: Mapping[str, Prepared] | None = None, provisional: bool = True) -> Continued:
    """Continue a stream: place `articles` (the new ones) after the snapshot `state`, in date order, an
    undated one at the stream's time; a late article also looks for the closed events of its time in
    `archive`; `vectors` are dense vectors computed before (a rebuild embeds nothing again); `prepared` holds
    articles' `prepare` results computed ahead (by an engine), the others are prepared here. With
    `provisional`, open events get the stories they would close into now; else each gets a story id of its
    own (`provisional_story`), for the caller to keep the one it showed before."""
    keys = entity_keys(mentions)
    people = anchor_keys(mentions, articles)
    clusterer = OnlineClusterer.restore(state, scorer)
    clusterer.archive = archive
    clusterer.vectors = dict(vectors or {})
    ordered = sorted(articles, key=lambda a: (a.published is None, a.published or datetime.min.replace(tzinfo=UTC),
                                              a.id))
    for article in ordered:  # an undated article arrives after the dated ones, at the stream's time then
        clusterer.add(article, keys.get(article.id, ()), people.get(article.id, ()),
                      when=article.published or clusterer.latest(), undated_search=True,
                      prepared=(prepared or {}).get(article.id))
    after = clusterer.snapshot()
    closed = dict(clusterer.story_of)  # events closed by this run, with their stories for good
    for event_id in clusterer.reopened:  # closed before, joined by late articles now: rewritten too
        closed[event_id] = clusterer.closed_story[event_id]
        clusterer.event_of.update(dict.fromkeys(clusterer.closed[event_id].members, event_id))
    if provisional:  # open events get provisional stories (on a copy: the state goes on from `after`)
        result = OnlineClusterer.restore(after, scorer).finish()
    else:
        result = Clustering({a: e for a, e in clusterer.event_of.items() if e in clusterer.events},
                            {e: provisional_story(e) for e in clusterer.events},
                            {e: sorted(set(ids)) for e, ids in clusterer.related.items() if e in clusterer.events})
    event_of = {**{a: e for a, e in clusterer.event_of.items() if e in closed}, **result.event_of}
    related = {e: sorted(set(ids)) for e, ids in clusterer.related.items() if e in closed}
    archived = {e.id: e for e in clusterer.closed_now}
    archived.update({e: clusterer.closed[e] for e in clusterer.reopened})
    return Continued(Clustering(event_of, {**closed, **result.story_of}, {**related, **result.related}), after,
                     [(event, closed[event.id]) for event in archived.values()], clusterer.vectors_now,
                     sorted(clusterer.events))


def provisional_story(event_id: str) -> str:
    """The id of the story an event opens when no story takes it (so a story's id is its first event's)."""
    return "st-" + event_id.removeprefix("ev-")


def undated_positions(articles: Sequence[Article], keys: Mapping[str, set[str]],
                      people: Mapping[str, set[str]], scorer: Relatedness | None = None) -> dict[str, datetime]:
    """Where in time each undated article belongs: the last date of the dated event it would join, found by
    clustering the dated articles with no window and asking for the best event of each undated one. Only a
    position in the stream: the article's publication date stays unknown."""
    dated = sorted((a for a in articles if a.published is not None), key=lambda a: (a.published, a.id))
    undated = [a for a in articles if a.published is None]
    if not dated or not undated:
        return {}
    clusterer = OnlineClusterer(expire=False, scorer=scorer)
    for article in dated:
        clusterer.add(article, keys.get(article.id, ()), people.get(article.id, ()), segments=False)
    positions = {}
    for article in undated:
        item = clusterer.scorer.profile(f"{article.title}\n{article.text}", article.lang)
        item.keys = item.keys | frozenset(keys.get(article.id, ()))
        found = clusterer.best(item, None, frozenset(people.get(article.id, ())) | _number_marks(item))
        if found and found[0].last is not None:
            positions[article.id] = found[0].last
    return positions


def cluster(articles: Sequence[Article], mentions: Sequence[Mention]) -> tuple[dict[str, str], dict[str, str]]:
    """Group articles into events and events into stories: (article -> event, event -> story)."""
    result = cluster_all(articles, mentions)
    return result.event_of, result.story_of
