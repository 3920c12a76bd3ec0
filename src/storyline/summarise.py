"""Stage 7, summarise: extractive titles, summaries and timelines for events and stories.

The event title is the headline of its most central article (in the reader's language when one of the
event's articles is in it); the summary is that article's lead sentences. A story's title is the title
of its largest event, its summary the first sentence of each of its main events in date order, its timeline
the events by date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from storyline.cluster import Clustering, cosine
from storyline.model import Article, Event, Story, TimelineEntry
from storyline.normalize import sentences, tokens

# Sentences and characters in an event summary; events quoted in a story summary, and its characters.
SUMMARY_SENTENCES = 2
SUMMARY_CHARS = 400
STORY_SUMMARY_EVENTS = 3
STORY_SUMMARY_CHARS = 600
# Opening lines of fewer words are labels, not the lead ("International", "Live updates").
MIN_LEAD_WORDS = 4
# Characters that end a sentence; a summary sentence without one (a standfirst line) gets a full stop.
_SENTENCE_FINAL = tuple(".!?؟。…\"'”»)")


def summarise(
    articles: Sequence[Article], clustering: Clustering, language: str = "en"
) -> tuple[list[Event], list[Story]]:
    """Build titled, summarised events and stories from the clustering's assignments."""
    by_id = {a.id: a for a in articles}
    members: dict[str, list[Article]] = defaultdict(list)
    for article_id, event_id in sorted(clustering.event_of.items()):
        members[event_id].append(by_id[article_id])
    events = [_event(event_id, group, clustering.story_of[event_id], language) for event_id, group in members.items()]
    for event in events:
        event.related_articles = sorted(clustering.related.get(event.id, []))
    events.sort(key=lambda e: (e.date or "9999", e.id))
    stories = stories_of(events)
    return events, stories


def _event(event_id: str, group: list[Article], story: str, language: str) -> Event:
    originals = [a for a in group if a.duplicate_of is None] or group
    lead = _central(originals, language)
    dates = sorted(a.published.date().isoformat() for a in group if a.published)
    return Event(
        id=event_id,
        story=story,
        title=lead.title,
        summary=lead_text(lead),
        date=dates[0] if dates else None,
        languages=sorted({a.lang for a in group if a.lang}),
        articles=[a.id for a in group],
    )


def _central(group: list[Article], language: str) -> Article:
    """The article closest to the group's word centroid, preferring the reader's language."""
    preferred = [a for a in group if a.lang == language] or group
    profiles = {a.id: _profile(a) for a in preferred}
    centroid: dict[str, float] = defaultdict(float)
    for profile in profiles.values():
        for word, weight in profile.items():
            centroid[word] += weight
    return max(preferred, key=lambda a: (cosine(profiles[a.id], centroid), len(a.text), a.id))


def _profile(article: Article) -> dict[str, float]:
    profile: dict[str, float] = defaultdict(float)
    for word in tokens(f"{article.title} {article.text}"):
        if len(word) > 3:
            profile[word] += 1.0
    return profile


def lead_text(article: Article) -> str:
    """The first sentences of an article, cut to the summary length on a word boundary. Short lines that open
    it are a kicker or section label ("International", "Breaking news"), not its lead, and are skipped."""
    lead = sentences(article.text)
    while lead and len(lead[0].split()) < MIN_LEAD_WORDS:
        lead = lead[1:]
    return _cut(" ".join(_closed(s) for s in lead[:SUMMARY_SENTENCES]) or article.title, SUMMARY_CHARS)


def _closed(sentence: str) -> str:
    """A sentence with end punctuation: a standfirst line has none, and joined to the next it would run on."""
    return sentence if sentence.endswith(_SENTENCE_FINAL) else sentence + "."


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def stories_of(events: list[Event]) -> list[Story]:
    """The stories the events belong to, titled and summarised from their events alone."""
    grouped: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        grouped[event.story].append(event)
    stories = []
    for story_id, group in grouped.items():
        main = max(group, key=lambda e: (len(e.articles), e.id))
        leading = sorted(group, key=lambda e: -len(e.articles))[:STORY_SUMMARY_EVENTS]
        stories.append(Story(
            id=story_id,
            title=main.title,
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
