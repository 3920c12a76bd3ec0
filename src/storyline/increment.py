"""Incremental analysis: a run analyses only its new articles, against the state the store keeps.

The clusterer is online in publication order, so continuing it from its saved state places new articles as
one batch over everything would, as long as they come after the stream's time (late articles join the open
events or open their own). Decisions stick: a placed article keeps its event and events keep their ids.
Stories of events still open are provisional: when an open event closes into another story than the one it
was shown in, the provisional story is absorbed and its id points to the survivor (a merge).
"""

from __future__ import annotations

import pickle
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from storyline.cluster import (
    EVENT_WINDOW_DAYS,
    MAX_CANDIDATES,
    Archive,
    Group,
    Prepared,
    cluster_more,
    open_articles,
)
from storyline.dedup import link_duplicates
from storyline.eventcoding import statements
from storyline.model import Article, Entity, Mention
from storyline.recognition import resolve_after
from storyline.recognition.resolution import name_rank
from storyline.recognition.spotting import lower_words_in_order
from storyline.relatedness import Relatedness, default
from storyline.store import ClosedEvent, Increment, Store
from storyline.summarise import stories_of, summarise
from storyline.timeexpr import date_articles

# Characters of an article's text that analysis reads. The longest articles of the benchmark sets are under
# 40,000; past this is a dump or a pasted log, where some stages (speakers, actions) slow down quadratically.
MAX_ANALYSED_CHARS = 60_000
# Articles before a new one whose lower-case words spotting reads with its own: about what an analysis
# window and the open events' articles gave it when it read its batch's.
LOWER_WORDS_ARTICLES = 300
_EARLIEST = datetime.min.replace(tzinfo=UTC)
# Articles of the open events a new window is read with (the last placed): the originals its copies may
# repeat, the names its names may join. Bounds each window's work where many events stay open.
CONTEXT_ARTICLES = 1000


def analyse_new(new: list[Article], store: Store, state: bytes, language: str,
                say: Callable[[str], None], scorer: Relatedness | None = None,
                prepared: Mapping[str, Prepared] | None = None, provisional: bool = True) -> Increment:
    """Stages 4-7 over the new articles only, continuing the clusterer `state` (`scorer` replaces the shipped
    similarity model); the rest of the store is read through its indexes. `prepared` holds new articles'
    `cluster.prepare` results an engine computed ahead; the others are prepared here. Without `provisional`
    (a window with more to come in the same run), open events keep the stories they were shown in, and a new
    one is shown as a story of its own, until a window with it groups them (grouping every open event again
    was a quarter of each window's work)."""
    say("duplicates")
    new = sorted(date_articles(new), key=lambda a: (a.published is None, a.published, a.id))
    context = sorted(store.articles_by_id(open_articles(state, CONTEXT_ARTICLES)),
                     key=lambda a: (a.published is None, a.published or _EARLIEST, a.id))
    link_duplicates(new, context)
    say("entities")
    entities, mentions, entity_merges = _resolved(new, context, store)
    say("events and stories")
    scorer = scorer or default()
    model = scorer.vector_model
    unprepared = [a.id for a in new if a.id not in (prepared or {})]
    known = store.vectors(unprepared, model) if model and unprepared else {}
    continued = cluster_more(state, new, mentions, scorer, _archive(store), known, prepared, provisional)
    clustering, after, archived = continued.clustering, continued.state, continued.archived
    if not provisional:  # open events keep the stories they were shown in (a new one: its own, for now)
        clustering.story_of.update(store.stories_of_events(continued.open))
    touched_ids = sorted(set(clustering.event_of) - {a.id for a in new})
    members = [*store.articles_by_id(touched_ids), *new]
    events, _ = summarise(members, clustering, language)
    before = store.stories_of_events([e.id for e in events])
    story_ids = sorted({e.story for e in events} | set(before.values()))
    touched = {e.id for e in events}
    kept = [e for e in store.events_of_stories(story_ids) if e.id not in touched]
    stories = stories_of([*events, *kept], language)
    story_now, alive = {e.id: e.story for e in events}, {s.id for s in stories}
    merges = {old: story_now[event] for event, old in before.items() if old not in alive}
    say("quotes and actions")
    quotes, actions = statements(new, entities, mentions)
    closed = [ClosedEvent(event.id, story, _iso(event.first), _iso(event.last), _archived_state(event),
                          sorted(event.indexed)) for event, story in archived]
    return Increment(new, events, stories, merges, entities, mentions, quotes, actions, after, closed,
                     model, continued.vectors, entity_merges)


def _archive(store: Store) -> Archive:
    """The store's index of closed events, as the clusterer asks it: the events of a late article's days
    (EVENT_WINDOW_DAYS either side) that share most of its features."""
    def find(features: list[str], when: datetime) -> list[tuple[Group, str]]:
        span = timedelta(days=EVENT_WINDOW_DAYS)
        found = store.closed_events(features, (when - span).isoformat(), (when + span).isoformat(), MAX_CANDIDATES)
        # The state is storyline's own, read from its own store, as the clusterer state is (see restore).
        return [(pickle.loads(event.state), event.story) for event in found]

    return find


def _archived_state(event: Group) -> bytes:
    event._pooled = None  # rebuilt when a late article asks
    return pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _resolved(new: list[Article], context: list[Article],
              store: Store) -> tuple[list[Entity], list[Mention], dict[str, str]]:
    """The new articles' entities, resolved together with the articles of the open events (the context a batch
    over everything would give them: spellings across scripts join through it), whose stored mentions are
    taken as they are (`resolve_after`), and mapped onto the registry.
    A resolved entity is the stored entity its context mentions had, by majority; else the one with its id or
    with one of its spellings; else new. Returns the new articles' mentions, the entities they name, and stored
    entities merged (absorbed -> survivor)."""
    known = store.mentions_of_articles([a.id for a in context])
    found, mentions = resolve_after(new, context, known, _lower_words(new, store))
    fresh = {a.id for a in new}
    stored_at = {(m.article, m.start, m.end): m.entity for m in known}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        if m.article not in fresh and (m.article, m.start, m.end) in stored_at:
            votes[m.entity][stored_at[m.article, m.start, m.end]] += 1
    named = {m.entity for m in mentions if m.article in fresh}
    return _registered([e for e in found if e.id in named], [m for m in mentions if m.article in fresh],
                       store, {e: v.most_common(1)[0][0] for e, v in votes.items()})


def _lower_words(new: list[Article], store: Store) -> dict[str, frozenset[str]]:
    """Each new article's (`new` in publication order) lower-case words for spotting: its own and those of
    the LOWER_WORDS_ARTICLES articles before it, read from the store, so that they do not depend on which
    articles share its batch."""
    if not new:
        return {}
    before = [f"{title}\n\n{text}" for title, text in store.preceding_texts(
        _iso(new[0].published), new[0].id, LOWER_WORDS_ARTICLES, MAX_ANALYSED_CHARS)]
    return lower_words_in_order([(a.id, f"{a.title}\n\n{a.text}") for a in new], before, LOWER_WORDS_ARTICLES)


def _registered(found: list[Entity], mentions: list[Mention], store: Store,
                known: dict[str, str]) -> tuple[list[Entity], list[Mention], dict[str, str]]:
    """The batch's entities mapped onto the store's registry, and stored entities found to be one.

    An entity `known` to be a stored one of its type, or with the id of one, is that entity (its variants
    grow); else the stored entity of its type that shares one of its full names (a key of two words or more)
    or, failing that, the only one that shares any of its spellings; others are new (renamed when a stored
    entity of another type has their id). Stored entities of its type sharing one of its full names with it
    are the same person or body (a shared full name is the corroboration a surname or a transliteration
    lacks): they are merged into the one it maps to, which mends the duplicates that earlier runs made before
    the names met. Returns the entities, the mentions, and absorbed -> survivor ids."""
    typed = {e.id: f"{e.id}-{e.type.lower()}" for e in found}  # the id of a new one whose id a stored one of
    # another type has (resolution gives two types of one name such ids too)
    stored = store.entities_by_id(sorted({*(e.id for e in found), *typed.values(), *known.values()}))
    keys = {e.id: e.name_keys() for e in found}
    owners = store.entities_by_keys(sorted({k for ks in keys.values() for k in ks}))
    registry = {**store.entities_by_id(sorted({i for ids in owners.values() for i in ids})), **stored}
    survivor: dict[str, str] = {}  # stored id -> the stored id it was merged into (union-find parents)

    def final(entity_id: str) -> str:
        while entity_id in survivor:
            entity_id = survivor[entity_id]
        return entity_id

    remap: dict[str, str] = {}
    fresh: dict[str, Entity] = {}  # new entities renamed
    for entity in found:
        same = {i for k in keys[entity.id] for i in owners.get(k, ())
                if i in registry and registry[i].type == entity.type}
        full = sorted({i for k in keys[entity.id] if " " in k for i in owners.get(k, ()) if i in same})
        target = known.get(entity.id, entity.id)
        if target not in stored or stored[target].type != entity.type:  # a person is never a country
            target = typed[entity.id] if typed[entity.id] in stored \
                else max(full, key=lambda i: (len(keys[entity.id] & registry[i].name_keys()), i)) if full \
                else next(iter(same)) if len(same) == 1 else ""
        if not target:
            if entity.id in stored:
                fresh[entity.id] = Entity(typed[entity.id], entity.name, entity.type, entity.variants)
            continue
        target = final(target)
        for other in map(final, full):
            if other != target:
                survivor[other] = target
        remap[entity.id] = target
    merges = {old: final(old) for old in survivor}
    result = {e.id: e for e in found if e.id not in remap and e.id not in fresh}
    result.update({e.id: e for e in fresh.values()})
    for survivor_id in sorted({final(t) for t in remap.values()}):
        joined = [registry[survivor_id], *(registry[old] for old, new in merges.items() if new == survivor_id),
                  *(e for e in found if remap.get(e.id) and final(remap[e.id]) == survivor_id)]
        names = [registry[survivor_id].name, *(registry[old].name for old in merges if merges[old] == survivor_id)]
        # The survivor keeps its name unless an absorbed one is Latin where it is not, or a full name where
        # it is a single word (counts are not stored).
        result[survivor_id] = Entity(survivor_id, max(names, key=lambda n: name_rank(n, 0)[:2]),
                                     registry[survivor_id].type, sorted({v for e in joined for v in e.variants}))
    remap.update({old: e.id for old, e in fresh.items()})
    moved = [Mention(m.article, final(remap.get(m.entity, m.entity)), m.start, m.end, m.text, m.type)
             for m in mentions]
    return sorted(result.values(), key=lambda e: e.id), moved, merges
