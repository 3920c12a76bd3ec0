"""Online clustering: events and stories on the seeds and the sample corpus, the bounded inverted index,
time windows and second-topic segments."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from storyline import cluster, relatedness
from storyline.cluster import (
    COUNTRY_STORY_EVENTS,
    EVENT_WINDOW_DAYS,
    STORY_WINDOW_DAYS,
    Clustering,
    Group,
    OnlineClusterer,
    StoryGrouper,
    cluster_all,
)
from storyline.dedup import link_duplicates
from storyline.model import Article
from storyline.pipeline import ingest
from storyline.recognition import resolve
from storyline.store import SQLiteStore

from .conftest import CORPUS

# Ground truth of examples/README.md, by article id prefix (the two RSS items have generated ids).
CORPUS_EVENTS = {"newsdesk-98d56843": "a2", "newsdesk-c54ce317": "b2"}


def _clustered(path: Path, tmp_path: Path) -> Clustering:
    store = SQLiteStore(tmp_path / "s.db")
    ingest([path], store)
    articles = sorted(store.articles(), key=lambda a: a.id)
    link_duplicates(articles)
    _, mentions = resolve(articles)
    return cluster_all(articles, mentions)


def _groups(assignment: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for item, group in assignment.items():
        members[group].add(item)
    return {frozenset(m) for m in members.values()}


def pair_f1(truth: dict[str, str], found: dict[str, str]) -> float:
    """F1 over article pairs put together (1.0 = the same partition)."""
    pairs = list(combinations(sorted(truth), 2))
    same_truth = {p for p in pairs if truth[p[0]] == truth[p[1]]}
    same_found = {p for p in pairs if found[p[0]] == found[p[1]]}
    if not same_truth or not same_found:
        return float(same_truth == same_found)
    precision = len(same_truth & same_found) / len(same_found)
    recall = len(same_truth & same_found) / len(same_truth)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def test_seeds_form_three_events_and_one_story(seeds: Path, tmp_path: Path) -> None:
    result = _clustered(seeds, tmp_path)
    events = {frozenset(a[:3] for a in group) for group in _groups(result.event_of)}
    assert events == {frozenset({"000", "003"}), frozenset({"001", "004"}), frozenset({"002"})}
    assert len(set(result.story_of.values())) == 1


def test_sample_corpus_stories_exact_and_events_close(tmp_path: Path) -> None:
    result = _clustered(CORPUS, tmp_path)
    truth = {a: CORPUS_EVENTS.get(a, a[:2]) for a in result.event_of}
    stories = {a: result.story_of[e] for a, e in result.event_of.items()}
    assert _groups(stories) == _groups({a: t[0] for a, t in truth.items()})
    # Events: A1/A2 and B1/B2 share people and places and several texts carry no date; undated articles
    # stream beside the dated event they most resemble. All five events come out exact today
    # (bench/clustering.py prints the BCubed figure); the floor leaves room for one stray article.
    assert pair_f1(truth, result.event_of) >= 0.95


def _article(id_: str, title: str, text: str, day: int | None = None) -> Article:
    when = datetime(2026, 3, 1) + timedelta(days=day) if day is not None else None
    return Article(id=id_, title=title, text=text, published=when, lang="en")


PORT = ("Dock workers at Marsaxlokk strike over pay", "About 1,200 dock workers at the port of Marsaxlokk began an "
        "indefinite strike on Wednesday, union leader Tomas Reinholt said. Fourteen ships were waiting at anchor.")
QUAKE = ("Magnitude 6.1 earthquake near Izmir kills 12", "A magnitude 6.1 earthquake struck near Izmir on Thursday, "
         "killing at least 12 people and injuring 246, officials said. The Red Crescent sent tents and blankets.")


def test_articles_of_one_event_join_and_other_events_stay_apart() -> None:
    clusterer = OnlineClusterer()
    first = clusterer.add(_article("p1", *PORT, day=0), anchors={"e:reinholt"})
    again = clusterer.add(_article("p2", PORT[0] + " again", PORT[1], day=1), anchors={"e:reinholt"})
    quake = clusterer.add(_article("q1", *QUAKE, day=1))
    assert first == again != quake


def test_undated_articles_join_their_event_even_after_its_window_closed_in_the_stream() -> None:
    # The quake event (day 0) has closed by the time a day-9 event streams past; undated reports of the quake
    # still join it, rather than forming an event of their own at the end of the stream.
    dated = [_article("q1", *QUAKE, day=0), _article("q2", QUAKE[0] + " (update)", QUAKE[1], day=0),
             _article("p1", *PORT, day=9)]
    undated = [_article("q3", "Izmir earthquake: 12 dead, 246 injured", QUAKE[1]),
               _article("p2", "Marsaxlokk dock strike continues", PORT[1])]
    result = cluster_all(dated + undated, [])
    assert result.event_of["q3"] == result.event_of["q1"] == result.event_of["q2"]
    assert result.event_of["p2"] == result.event_of["p1"] != result.event_of["q1"]
    assert all(a.published is None for a in undated)  # a position in the stream, not a made-up date


def test_events_outside_the_window_are_not_joined_and_leave_the_index() -> None:
    clusterer = OnlineClusterer()
    first = clusterer.add(_article("p1", *PORT, day=0), anchors={"e:reinholt"})
    later = clusterer.add(_article("p9", *PORT, day=EVENT_WINDOW_DAYS + 5), anchors={"e:reinholt"})
    assert later != first
    assert all(first not in events for events in clusterer.index.values())


def test_an_event_opened_before_the_stream_had_a_time_holds_no_later_event_open() -> None:
    clusterer = OnlineClusterer()
    clusterer.add(_article("undated", *QUAKE), anchors={"e:izmir"})
    port = clusterer.add(_article("p1", *PORT, day=0), anchors={"e:reinholt"})
    clusterer.add(_article("q9", *QUAKE, day=3 * EVENT_WINDOW_DAYS), anchors={"e:izmir"})
    assert port not in clusterer.events and port in clusterer.story_of  # closed once its window passed
    clusterer.add(_article("q10", *QUAKE, day=6 * EVENT_WINDOW_DAYS), anchors={"e:izmir"})
    assert "ev-undated" not in clusterer.events  # it took the stream's time, and closed in its turn


def test_a_second_topic_segment_joins_its_event_without_leaving_the_main_one() -> None:
    clusterer = OnlineClusterer()
    quake = clusterer.add(_article("q1", *QUAKE, day=0))
    port = clusterer.add(_article("p1", *PORT, day=0), anchors={"e:reinholt"})
    port_paragraphs = [PORT[1]] * 2 + ["Shipping lines said the port strike at Marsaxlokk would delay cargo."] * 2
    quake_paragraphs = [QUAKE[1], "Rescue teams searched collapsed buildings in Izmir after the earthquake. "
                        "The magnitude 6.1 earthquake was felt across the Aegean coast; 246 people were injured.",
                        QUAKE[1], "Aftershocks of the earthquake near Izmir continued through the night."]
    mixed = _article("m1", PORT[0], "\n".join(port_paragraphs + quake_paragraphs), day=0)
    assert clusterer.add(mixed, anchors={"e:reinholt"}) == port
    assert clusterer.related[quake] == ["m1"]


@pytest.mark.parametrize("count", [200])
def test_candidate_search_scores_a_bounded_number_of_events(count: int) -> None:
    from storyline import cluster as module

    clusterer = OnlineClusterer()
    for i in range(count):
        clusterer.add(_article(f"x{i}", f"Topic {i} report", f"Unique word zq{i}x appears here with shared words "
                               "port strike earthquake.", day=i % 3), segments=False)
    scored: list[int] = []
    original = module.relatedness.score

    def counting(*args: object, **kwargs: object) -> float:
        scored.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    module.relatedness.score = counting  # type: ignore[assignment]
    try:
        clusterer.add(_article("probe", "Topic report", "shared words port strike earthquake", day=1),
                      segments=False)
    finally:
        module.relatedness.score = original  # type: ignore[assignment]
    assert len(scored) <= module.MAX_CANDIDATES


def test_without_dates_at_most_max_open_events_stay_open_and_the_closed_ones_get_stories(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Undated articles never pass an event window: the least lately joined events close past the cap, so a
    # folder of undated files does not keep every event open (and every window re-reading all of them).
    from storyline import cluster
    from storyline.cluster import OnlineClusterer

    monkeypatch.setattr(cluster, "MAX_OPEN_EVENTS", 3)
    topics = ["harbour strike dockers", "vaccine approval regulator", "election recount ballots",
              "wildfire evacuation village", "satellite launch orbit", "football transfer striker"]
    clusterer = OnlineClusterer()
    for n, words in enumerate(topics):
        clusterer.add(Article(id=f"a{n}", title=words.title(), text=" ".join([words] * 6) + ".", lang="en"))
        assert len(clusterer.events) <= 3
    assert clusterer.story_of  # events closed by the cap went to their stories then
    result = clusterer.finish()
    assert len(result.event_of) == len(topics) and set(result.story_of) == set(result.event_of.values())


def _event(event_id: str, texts: list[str], day: int) -> Group:
    """A closed event of the given articles (headline on the first line), all on `day`."""
    event = Group(event_id)
    for number, text in enumerate(texts):
        event.add(f"{event_id}-{number}", relatedness.profile(text, "en"), datetime(2026, 1, 1) + timedelta(days=day))
    return event


STRIKE = ("Dock workers in {place} strike over pay\nThousands of dock workers in {place} walked out on Monday over "
          "pay, union leaders said, as ships waited at anchor and the strike in {place} entered its {n} day.")


def test_a_story_that_has_lasted_stays_open_through_a_quiet_spell_a_new_one_does_not() -> None:
    stories = StoryGrouper(relatedness.shipped())
    lasting = [stories.add(_event(f"ev-a{day}", [STRIKE.format(place="Gdansk", n=day)], day))
               for day in range(0, 241, 20)]
    assert len(set(lasting)) == 1
    assert stories.stories[lasting[0]].story_window() == 60  # a quarter of its 240 days
    assert stories.add(_event("ev-a290", [STRIKE.format(place="Gdansk", n=290)], 290)) == lasting[0]
    fresh = StoryGrouper(relatedness.shipped())
    once = fresh.add(_event("ev-b0", [STRIKE.format(place="Gdansk", n=1)], 0))
    assert fresh.stories[once].story_window() == STORY_WINDOW_DAYS
    assert fresh.add(_event("ev-b50", [STRIKE.format(place="Gdansk", n=50)], 50)) != once


def test_a_story_about_one_country_does_not_take_an_event_about_another(monkeypatch: pytest.MonkeyPatch) -> None:
    def grouped() -> tuple[str, str, str]:
        stories = StoryGrouper(relatedness.shipped())
        egypt = {stories.add(_event(f"ev-e{day}", [STRIKE.format(place="Egypt", n=day)] * 2, day))
                 for day in range(COUNTRY_STORY_EVENTS)}
        assert len(egypt) == 1
        both = stories.add(_event("ev-ey", [STRIKE.format(place="Egypt and Yemen", n=2)] * 2, COUNTRY_STORY_EVENTS))
        yemen = stories.add(_event("ev-y", [STRIKE.format(place="Yemen", n=1)] * 2, COUNTRY_STORY_EVENTS))
        return egypt.pop(), yemen, both

    egypt, yemen, both = grouped()
    assert yemen != egypt and both == egypt
    monkeypatch.setattr(cluster, "COUNTRY_SHARE", 2.0)  # no country is ever a story's: the model alone joins them
    egypt, yemen, _ = grouped()
    assert yemen == egypt
