"""The main job, top to bottom: raw inputs in, stories out, everything kept in the store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path

from storyline.cluster import cluster_all
from storyline.dedup import link_duplicates
from storyline.eventcoding import statements
from storyline.extraction import extract_batch
from storyline.increment import analyse_new
from storyline.ingest import FetchPolicy, read_documents
from storyline.ingest.ids import IdClaims
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
# Characters of an article's text that analysis reads. The longest articles of the benchmark sets are under
# 40,000; past this is a dump or a pasted log, where some stages (speakers, actions) slow down quadratically.
MAX_ANALYSED_CHARS = 60_000


@dataclass(slots=True)
class RunReport:
    """What one run did: inputs read, articles new to the store, inputs rejected in this run, and warnings
    about inputs kept without a field they got wrong (each `Rejected` names the input and the problem)."""

    read: int
    added: int
    rejected: list[Rejected]
    warnings: list[Rejected] = field(default_factory=list)


def ingest(paths: Sequence[str | Path], store: Store, progress: Progress | None = None,
           policy: FetchPolicy | None = None) -> RunReport:
    """Stages 1-3: read, extract and language-tag new inputs, and store them at once. URLs are fetched
    under `policy` (default: no private addresses)."""
    return ingest_documents(read_documents(paths, policy), store, progress)


def ingest_documents(items: Iterable[RawDocument | Rejected], store: Store,
                     progress: Progress | None = None) -> RunReport:
    """Stages 2-3 over documents already read (by `ingest`, or by `storyline watch` from what it polled).
    Only the stored rows of these documents' ids are read: an ingest costs the same in a store of any size."""
    items = list(items)
    ids = {n for doc in items if isinstance(doc, RawDocument) for n in (doc.id, IdClaims.qualified(doc))}
    stored = store.stored(sorted(ids))
    known = {article_id: content_hash for article_id, (content_hash, _) in stored.items()}
    claims = IdClaims({article_id: origin for article_id, (_, origin) in stored.items()})
    raw: list[RawDocument] = []
    report = RunReport(read=0, added=0, rejected=[])
    for item in items:
        if isinstance(item, Rejected):
            report.rejected.append(item)
        elif isinstance(claim := claims.claim(item), Rejected):
            report.rejected.append(claim)
        elif claim:
            report.read += 1
            if item.warnings:
                report.warnings.append(Rejected(item.source, "; ".join(item.warnings)))
            if known.get(item.id) != _hash(item):
                raw.append(item)
    fresh: list[tuple[Article, str]] = []
    hashes = {doc.id: _hash(doc) for doc in raw}
    for result in extract_batch(progress(raw) if progress else raw):
        if isinstance(result, Rejected):
            report.rejected.append(result)
            report.read -= 1
            continue
        try:
            result.lang = result.lang or detect_language(f"{result.title}\n{result.text}")
        except Exception as error:  # the detector's odd input never costs the article
            report.warnings.append(Rejected(result.source, f"language detection failed ({error}); none set"))
        fresh.append((result, hashes[result.id]))
    report.added = store.add_articles(fresh)
    store.add_rejected(report.rejected)
    return report


def analyse(store: Store, language: str = "en", scorer: Relatedness | None = None,
            stage: StageReport | None = None, report: RunReport | None = None, rebuild: bool = False,
            load: bool = True, incremental: bool = False) -> Digest:
    """Stages 4-7 over every stored article: dedup, entities, clustering, summaries; results stored.
    `scorer` replaces the shipped similarity model (e.g. one fitted with dense embeddings); `stage` is told
    each of ANALYSIS_STAGES as it starts. Results are kept as stored when no article waits, none changed
    since and they were made by the same code and language (always recomputed with a `scorer`, which the
    store cannot tell apart). One analysis runs at a time per store: a second writer waits, then analyses
    what both stored. An article that makes a stage fail is taken out of the store and rejected (added to
    `report`), and the others are analysed. `rebuild` recomputes even current results (`storyline rebuild`,
    after an upgrade or a new model).

    With `incremental`, when the store holds the clusterer state of an analysis by the same code and
    settings and no analysed article changed since, only the articles waiting for analysis are analysed
    (`storyline.increment`); else everything is. `ingest` and `watch` ask for it; `digest` and `rebuild`
    analyse everything (docs/benchmarks.md, section incremental). Returns the stored results, or an empty
    Digest when `load` is False (a tracker's run need not read the whole store)."""
    say = stage or (lambda _: None)
    with store.analysis_lock():
        key = _state_key(language)
        state = store.analysis_state() if scorer is None and not rebuild else None
        current = state is not None and state[0] == key and not store.changed_since_analysis()
        if current and not store.pending():
            return store.load() if load else Digest()
        if incremental and current and state is not None:
            try:
                increment = analyse_new([_bounded(a) for a in store.pending_articles()], store, state[1], language,
                                        say)
            except Exception:  # the full analysis below finds the article to blame, if one is
                increment = None
            if increment is not None:
                say("saving")
                store.save_increment(increment, key)
                return store.load() if load else Digest()
        snapshot: list[bytes] = []
        digest, failed = _analyse_guarded(store.articles, language, scorer, say, snapshot)
        if failed:
            store.add_rejected(failed.values())
            store.remove_articles(failed)
            if report is not None:
                report.rejected.extend(failed.values())
        say("saving")
        store.save_results(digest, (key, snapshot[-1]) if snapshot and scorer is None else None)
        return store.load() if load else Digest()


def _bounded(article: Article) -> Article:
    """The article as analysis reads it: up to MAX_ANALYSED_CHARS of its text (the stored text stays whole;
    offsets of mentions and quotes are the same in both)."""
    return replace(article, text=article.text[:MAX_ANALYSED_CHARS]) if len(article.text) > MAX_ANALYSED_CHARS \
        else article


def _analyse_articles(articles: list[Article], language: str, scorer: Relatedness | None,
                      say: StageReport, snapshot: list[bytes] | None = None) -> Digest:
    """Stages 4-7 over `articles`, in memory; the clusterer's state is appended to `snapshot` when given."""
    say("duplicates")
    articles = [_bounded(a) for a in articles]
    articles = sorted(date_articles(articles), key=lambda a: (a.published is None, a.published, a.id))
    link_duplicates(articles)
    say("entities")
    entities, mentions = resolve(articles)
    say("events and stories")
    events, stories = summarise(articles, cluster_all(articles, mentions, scorer, snapshot), language)
    digest = Digest(articles=sorted(articles, key=lambda a: a.id), events=events, stories=stories,
                    entities=entities, mentions=mentions)
    say("quotes and actions")
    digest.quotes, digest.actions = statements(articles, entities, mentions)
    return digest


def _analyse_guarded(load: Callable[[], list[Article]], language: str, scorer: Relatedness | None,
                     say: StageReport, snapshot: list[bytes]) -> tuple[Digest, dict[str, Rejected]]:
    """`_analyse_articles` over the loaded articles, never stopped by one of them. When a stage raises, each
    article is analysed alone to find the ones that make it fail; they are left out, each with a rejection
    naming the stage, and the rest analysed again (from a fresh load: stages annotate the articles). An error
    that no single article causes, or every article, is a bug of the stage and is raised."""
    try:
        return _analyse_articles(load(), language, scorer, say, snapshot), {}
    except Exception:  # the search below decides whether one article is to blame
        failed: dict[str, Rejected] = {}
        for article in load():
            reached = _StageSeen()
            try:
                _analyse_articles([article], language, scorer, reached)
            except Exception as error:
                reason = " ".join(str(error).split())[:200]
                failed[article.id] = Rejected(article.source, f"analysis failed at stage {reached.name!r}: "
                                                              f"{type(error).__name__}: {reason}")
        if not failed or len(failed) == len(rest := load()):
            raise  # no article, or every one, makes it fail: a bug of the stage, and the articles stay stored
        rest = [article for article in rest if article.id not in failed]
        return _analyse_articles(rest, language, scorer, say, snapshot), failed


class _StageSeen:
    """The last analysis stage started (a StageReport that remembers)."""

    name = ANALYSIS_STAGES[0]

    def __call__(self, name: str) -> None:
        self.name = name


def digest(paths: Sequence[str | Path], store: Store, progress: Progress | None = None,
           language: str = "en", scorer: Relatedness | None = None,
           stage: StageReport | None = None, policy: FetchPolicy | None = None) -> tuple[RunReport, Digest]:
    """The main job: ingest new inputs, then recompute events and stories over everything stored."""
    report = ingest(paths, store, progress, policy)
    return report, analyse(store, language, scorer, stage, report)


def _state_key(language: str) -> str:
    """What a saved clusterer state depends on: the reader's language and storyline's code and data."""
    return hashlib.sha1(f"{language}\0{_code_fingerprint()}".encode()).hexdigest()


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
