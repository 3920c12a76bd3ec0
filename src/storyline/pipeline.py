"""The main job, top to bottom: raw inputs in, stories out, everything kept in the store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from storyline.cluster import cluster_all
from storyline.dedup import link_duplicates
from storyline.eventcoding import statements
from storyline.extraction import extract_batch
from storyline.ingest import read_documents
from storyline.language import detect_language
from storyline.model import Article, Digest, RawDocument, Rejected
from storyline.recognition import resolve
from storyline.relatedness import Relatedness
from storyline.store import Store
from storyline.summarise import summarise
from storyline.timeexpr import date_articles

Progress = Callable[[Iterable[RawDocument]], Iterable[RawDocument]]
# Told the name of each analysis stage as it starts (the CLI shows it: analysis of a big store takes minutes).
StageReport = Callable[[str], None]
ANALYSIS_STAGES = ("duplicates", "entities", "events and stories", "quotes and actions", "saving")


@dataclass(slots=True)
class RunReport:
    """What one run did: inputs read, articles new to the store, inputs rejected in this run."""

    read: int
    added: int
    rejected: list[Rejected]


def ingest(paths: Sequence[str | Path], store: Store, progress: Progress | None = None) -> RunReport:
    """Stages 1-3: read, extract and language-tag new inputs, and store them at once."""
    known = store.content_hashes()
    raw: list[RawDocument] = []
    rejected: list[Rejected] = []
    read = 0
    for item in read_documents(paths):
        if isinstance(item, Rejected):
            rejected.append(item)
            continue
        read += 1
        if known.get(item.id) != _hash(item):
            raw.append(item)
    fresh: list[tuple[Article, str]] = []
    hashes = {doc.id: _hash(doc) for doc in raw}
    for result in extract_batch(progress(raw) if progress else raw):
        if isinstance(result, Rejected):
            rejected.append(result)
            read -= 1
            continue
        result.lang = result.lang or detect_language(f"{result.title}\n{result.text}")
        fresh.append((result, hashes[result.id]))
    added = store.add_articles(fresh)
    store.add_rejected(rejected)
    return RunReport(read=read, added=added, rejected=rejected)


def analyse(store: Store, language: str = "en", scorer: Relatedness | None = None,
            stage: StageReport | None = None) -> Digest:
    """Stages 4-7 over every stored article: dedup, entities, clustering, summaries; results stored.
    `scorer` replaces the shipped similarity model (e.g. one fitted with dense embeddings); `stage` is told
    each of ANALYSIS_STAGES as it starts. Results computed from the same articles, language and code are
    kept as stored (always recomputed with a `scorer`, which has no fingerprint)."""
    fingerprint = _fingerprint(store.content_hashes(), language) if scorer is None else ""
    if fingerprint and store.fingerprint() == fingerprint:
        return store.load()
    say = stage or (lambda _: None)
    say("duplicates")
    articles = sorted(date_articles(store.articles()), key=lambda a: (a.published is None, a.published, a.id))
    link_duplicates(articles)
    say("entities")
    entities, mentions = resolve(articles)
    say("events and stories")
    events, stories = summarise(articles, cluster_all(articles, mentions, scorer), language)
    digest = Digest(articles=sorted(articles, key=lambda a: a.id), events=events, stories=stories,
                    entities=entities, mentions=mentions)
    say("quotes and actions")
    digest.quotes, digest.actions = statements(articles, entities, mentions)
    say("saving")
    store.save_results(digest, fingerprint)
    return store.load()


def digest(paths: Sequence[str | Path], store: Store, progress: Progress | None = None,
           language: str = "en", scorer: Relatedness | None = None,
           stage: StageReport | None = None) -> tuple[RunReport, Digest]:
    """The main job: ingest new inputs, then recompute events and stories over everything stored."""
    report = ingest(paths, store, progress)
    return report, analyse(store, language, scorer, stage)


def _fingerprint(content_hashes: dict[str, str], language: str) -> str:
    """What analysis results depend on: every stored article's content, the reader's language, and
    storyline's own code and data tables (an upgrade or an edited table recomputes them)."""
    digest = hashlib.sha1(f"{language}\0{_code_fingerprint()}".encode())
    for article_id, content_hash in sorted(content_hashes.items()):
        digest.update(f"\0{article_id}\0{content_hash}".encode())
    return digest.hexdigest()


@cache
def _code_fingerprint() -> str:
    """A hash of storyline's modules and data tables, read once per process."""
    digest = hashlib.sha1()
    package = resources.files("storyline")
    for path in sorted(Path(str(package)).rglob("*")):
        if path.is_file() and path.suffix in {".py", ".json"}:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _hash(doc: RawDocument) -> str:
    return hashlib.sha1(f"{doc.kind}\0{doc.title}\0{doc.content}".encode()).hexdigest()
