"""Stage 6, cluster: online grouping of articles into events and of events into stories.

Each article, in publication order, joins the most similar open event within a time window or opens a
new one; candidates come from an inverted index over event features, so the cost per article does not
grow with the number of events. Similarity has two parts: lexical TF-IDF cosine (meaningful within one
language) and the cosine of entity and number keys (shared across languages and scripts, because
entities are resolved to one id whatever the script). Events then join stories on their entities.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from storyline.model import Article, Mention
from storyline.normalize import tokens

# An article joins an event when its similarity to the event is at least this (tuned on examples/ and
# the seeds: same-event pairs score 0.35-0.8, different events of one story 0.1-0.3).
EVENT_THRESHOLD = 0.3
# Entity-key cosine is discounted against lexical cosine: sharing only a country is weak evidence.
ENTITY_FACTOR = 0.85
# Events join a story when their entity profiles have at least this cosine.
STORY_THRESHOLD = 0.3
# Articles further apart than this (days) do not report one event; events further apart are not one story.
EVENT_WINDOW_DAYS = 3
STORY_WINDOW_DAYS = 30
# Words shorter than this carry little topic (articles, prepositions in most languages).
MIN_WORD = 3
# Headline words count this many times body words.
TITLE_WEIGHT = 3
# Features looked up in the inverted index per article (its heaviest ones).
CANDIDATE_FEATURES = 24

Vector = dict[str, float]


@dataclass(slots=True)
class Group:
    """An event (members are article ids) or a story (members are event ids) while clustering."""

    id: str
    members: list[str] = field(default_factory=list)
    lexical: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, member: str, lexical: Vector, keys: Vector, when: datetime | None) -> None:
        self.members.append(member)
        self.lexical.update(lexical)
        self.keys.update(keys)
        if when is not None:
            self.first = min(self.first or when, when)
            self.last = max(self.last or when, when)

    def within(self, when: datetime | None, days: int) -> bool:
        if when is None or self.first is None or self.last is None:
            return True
        return (self.first - when).days <= days and (when - self.last).days <= days


def cosine(a: Vector | Counter[str], b: Vector | Counter[str]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(weight * b.get(key, 0.0) for key, weight in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def similarity(lexical_a: Vector | Counter[str], keys_a: Vector | Counter[str],
               lexical_b: Vector | Counter[str], keys_b: Vector | Counter[str]) -> float:
    """The combined score: the stronger of the lexical cosine and the discounted key cosine."""
    return max(cosine(lexical_a, lexical_b), ENTITY_FACTOR * cosine(keys_a, keys_b))


class OnlineClusterer:
    """Assign articles to events one at a time; candidates come from an inverted index of features."""

    def __init__(self, idf: dict[str, float]) -> None:
        self.idf = idf
        self.events: dict[str, Group] = {}
        self.index: dict[str, set[str]] = defaultdict(set)
        self.event_of: dict[str, str] = {}

    def add(self, article: Article, keys: Vector) -> str:
        """Place one article; returns its event id."""
        lexical = self.lexical_vector(article)
        if article.duplicate_of and article.duplicate_of in self.event_of:
            event = self.events[self.event_of[article.duplicate_of]]
        else:
            event = self._best(lexical, keys, article.published) or Group(f"ev-{article.id}")
            self.events[event.id] = event
        event.add(article.id, lexical, keys, article.published)
        for feature in list(lexical) + list(keys):
            self.index[feature].add(event.id)
        self.event_of[article.id] = event.id
        return event.id

    def lexical_vector(self, article: Article) -> Vector:
        counts: Counter[str] = Counter()
        for word in tokens(article.title):
            counts[word] += TITLE_WEIGHT
        counts.update(tokens(article.text))
        return {
            word: (1 + math.log(count)) * self.idf.get(word, 0.0)
            for word, count in counts.items()
            if len(word) >= MIN_WORD and not word.isdigit() and self.idf.get(word, 0.0) > 0
        }

    def _best(self, lexical: Vector, keys: Vector, when: datetime | None) -> Group | None:
        heaviest = sorted({**lexical, **keys}.items(), key=lambda kv: -kv[1])[:CANDIDATE_FEATURES]
        candidates = {event for feature, _ in heaviest for event in self.index.get(feature, ())}
        best, best_score = None, EVENT_THRESHOLD
        for event_id in sorted(candidates):
            event = self.events[event_id]
            if not event.within(when, EVENT_WINDOW_DAYS):
                continue
            score = similarity(lexical, keys, event.lexical, event.keys)
            if score >= best_score:
                best, best_score = event, score
        return best


def key_vectors(articles: Sequence[Article], mentions: Sequence[Mention]) -> dict[str, Vector]:
    """Per article, its entity ids and numbers as features weighted by rarity across the batch."""
    counts: dict[str, Counter[str]] = {a.id: Counter() for a in articles}
    for mention in mentions:
        if mention.article in counts:
            counts[mention.article][f"e:{mention.entity}"] += 1
    for article in articles:
        for word in tokens(f"{article.title} {article.text}"):
            if word.isdigit() and len(word) >= 2:
                counts[article.id][f"n:{int(word)}"] += 1
    idf = inverse_document_frequency(counts.values())
    return {
        article_id: {key: (1 + math.log(n)) * idf[key] for key, n in keys.items() if idf[key] > 0}
        for article_id, keys in counts.items()
    }


def inverse_document_frequency(documents: Iterable[Counter[str]]) -> dict[str, float]:
    """Smoothed IDF; features in more than half the documents get weight 0 (they separate nothing)."""
    frequency: Counter[str] = Counter()
    total = 0
    for document in documents:
        frequency.update(document.keys())
        total += 1
    return {
        feature: (math.log((1 + total) / (1 + n)) + 1) if total < 4 or n <= total / 2 else 0.0
        for feature, n in frequency.items()
    }


def cluster(articles: Sequence[Article], mentions: Sequence[Mention]) -> tuple[dict[str, str], dict[str, str]]:
    """Group articles into events and events into stories: (article -> event, event -> story)."""
    ordered = sorted(articles, key=lambda a: (a.published is None, a.published or datetime.min, a.id))
    idf = inverse_document_frequency(Counter(tokens(f"{a.title} {a.text}")) for a in ordered)
    keys = key_vectors(ordered, mentions)
    clusterer = OnlineClusterer(idf)
    for article in ordered:
        clusterer.add(article, keys[article.id])
    return clusterer.event_of, group_stories(list(clusterer.events.values()))


def group_stories(events: list[Group]) -> dict[str, str]:
    """Events join the story whose entity profile they share most (within the story window)."""
    stories: list[Group] = []
    story_of: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e.first is None, e.first or datetime.min, e.id)):
        best, best_score = None, STORY_THRESHOLD
        for story in stories:
            if story.within(event.first, STORY_WINDOW_DAYS):
                score = cosine(event.keys, story.keys)
                if score >= best_score:
                    best, best_score = story, score
        if best is None:
            best = Group("st-" + event.id.removeprefix("ev-"))
            stories.append(best)
        best.add(event.id, {}, dict(event.keys), event.first)
        story_of[event.id] = best.id
    return story_of
