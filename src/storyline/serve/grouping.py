"""Why an event's articles were grouped: the signals the clusterer weighs, recomputed from what the store kept.

The clusterer (storyline.cluster) joins an article to an event on P(same story) from the relatedness model
and on the event's anchors: the people and the figures (non-year numbers) the article shares with it. The
store keeps the decision, not its inputs, so the page shows what can be read back: entities and figures in
several of the articles, headline words in several headlines, the languages and the days; and, on request
(it profiles every text, tens of milliseconds each), the model's P(same story) of each article against the
event's first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from storyline import relatedness
from storyline.model import Article, Entity, Mention
from storyline.normalize import normalize

# Headline words shorter than this are left out (articles, prepositions, conjunctions in most languages).
MIN_TITLE_WORD = 4
# Figures as the clusterer's anchors read them: numbers, with years (four digits from 1900 to 2099) left out.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR = re.compile(r"(?:19|20)\d\d")
# Signals listed per kind, most shared first.
SHOWN = 12
# Articles profiled for model scores: a profile took ~45 ms an article on one core of the dev machine.
MAX_SCORED = 12


def _shared(members: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Keys found in at least two articles, most shared first, each with its articles."""
    kept = [(key, sorted(ids)) for key, ids in members.items() if len(ids) >= 2]
    kept.sort(key=lambda item: (-len(item[1]), item[0]))
    return [{"key": key, "articles": ids} for key, ids in kept[:SHOWN]]


def signals(articles: list[Article], mentions: list[Mention], entities: dict[str, Entity],
            scores: bool = False) -> dict[str, Any]:
    """The grouping signals of one event's articles (syndicated copies left out: they were grouped as copies)."""
    originals = [a for a in articles if not a.duplicate_of]
    ids = {a.id for a in originals}
    by_entity: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.article in ids and m.entity in entities:
            by_entity[m.entity].add(m.article)
    by_number: dict[str, set[str]] = defaultdict(set)
    by_word: dict[str, set[str]] = defaultdict(set)
    for a in originals:
        for number in _NUMBER.findall(a.text):
            if not _YEAR.fullmatch(number):
                by_number[number].add(a.id)
        for word in normalize(a.title).split():
            if len(word) >= MIN_TITLE_WORD and not word.isdigit():
                by_word[word].add(a.id)
    shared_entities = []
    for item in _shared(by_entity):
        entity = entities[item["key"]]
        shared_entities.append({"id": entity.id, "name": entity.name, "type": entity.type,
                                "articles": item["articles"]})
    days = sorted(a.published.date().isoformat() for a in originals if a.published)
    found: dict[str, Any] = {
        "articles": len(originals),
        "copies": len(articles) - len(originals),
        "languages": sorted({a.lang or "?" for a in originals}),
        "sources": sorted({a.site or a.source for a in originals}),
        "first_day": days[0] if days else None,
        "last_day": days[-1] if days else None,
        "shared_entities": shared_entities,
        "shared_figures": [{"figure": i["key"], "articles": i["articles"]} for i in _shared(by_number)],
        "shared_title_words": [{"word": i["key"], "articles": i["articles"]} for i in _shared(by_word)],
    }
    if scores and len(originals) > 1:
        scored = originals[:MAX_SCORED]
        profiles = [relatedness.profile(f"{a.title}\n{a.text}", a.lang) for a in scored]
        found["similarity_to_first"] = {"first": scored[0].id, "scores": [
            {"article": a.id, "p_same_story": round(p, 3)}
            for a, p in zip(scored[1:], relatedness.score_many(profiles[0], profiles[1:]), strict=True)]}
    return found
