"""Command line: `storyline digest PATH...` and friends. Exit 0 on success, 1 when nothing usable was
processed or the store has nothing to show, 2 when the command itself is misused."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO, TypeVar

from storyline import __version__
from storyline.embeddings import SentenceTransformerEmbedder
from storyline.engine import ENGINES, open_engine
from storyline.export import Section, article_json, entity_json, event_json, story_json, write
from storyline.ingest import FetchPolicy
from storyline.ingest.fetch import DEADLINE_SECONDS
from storyline.model import Digest, Quote
from storyline.pipeline import RunReport, analyse, digest, ingest
from storyline.relatedness import Relatedness, load
from storyline.store import Filters, Store, StoreMissing, open_store
from storyline.watch import DEFAULT_EVERY_SECONDS, Watcher, parse_interval

EXIT_OK, EXIT_NOTHING, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool ended by SIGPIPE
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What `digest` prints of each story: the entities in most of its articles, people first among equals (in
# at least two articles when it has several: one article's stray capitals are no story's actors; types are
# not split, as places unknown to the gazetteers come out as MISC), its summary wrapped to PRINT_WIDTH, and
# each event's first direct quote of a known speaker, in the reader's language when there is one, shortened
# to PRINTED_QUOTE characters.
PRINTED_ENTITIES = 8
TYPE_ORDER = {"PER": 0, "ORG": 1, "LOC": 2}
PRINT_WIDTH = 110
PRINTED_QUOTE = 100
T = TypeVar("T")
DEFAULT_DB = "storyline.db"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    problem = _unwritable(getattr(args, "json", None))
    if problem is not None:  # before any work: a digest of a big folder must not end in a failed write
        _error(f"cannot write {args.json}: {problem}")
        return EXIT_USAGE
    try:
        store = open_store(args.db, create=args.writes, read_only=args.read_only)
    except StoreMissing as error:
        _error(str(error))
        return EXIT_NOTHING
    except (ValueError, OSError) as error:
        _error(f"cannot open store {args.db}: {error}")
        return EXIT_USAGE
    try:
        code: int = args.run(args, store)
        return code
    except BrokenPipeError:
        # The reader went away (`storyline export --json - | head`): end quietly, as Unix tools do. stdout is
        # pointed at /dev/null so that flushing it at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        store.close()


def printable(text: str) -> str:
    """`text` on one line: control characters (a newline in a file name, a terminal escape in a title) are
    shown escaped, as Python writes them."""
    return _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)


def _error(message: str) -> None:
    print(f"storyline: {printable(message)}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="storyline", description="Raw multilingual news in, stories out.")
    parser.add_argument("--version", action="version", version=f"storyline {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=DEFAULT_DB,
                        help=f"store: a SQLite file (default ./{DEFAULT_DB}) or a postgresql:// URL")
    common.set_defaults(writes=False, read_only=False)  # writes: creates a missing store
    inputs = argparse.ArgumentParser(add_help=False)
    inputs.add_argument("--allow-private-urls", action="store_true",
                        help="fetch URLs on loopback, private and link-local addresses (intranet feeds)")
    inputs.add_argument("--url-deadline", type=float, default=DEADLINE_SECONDS, metavar="SECONDS",
                        help=f"seconds each URL has in all, redirects and body included (default {DEADLINE_SECONDS:g})")
    inputs.set_defaults(writes=True)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("digest", parents=[common, inputs], help="ingest inputs, build and print the stories")
    run.add_argument("paths", nargs="+",
                     help="files, directories or URLs (.txt .html .json .jsonl RSS/Atom .warc, and these .gz)")
    run.add_argument("--json", metavar="FILE", help="also write the JSON export to FILE")
    run.add_argument("--language", default="en", help="preferred language of titles and summaries")
    run.add_argument("--similarity-model", metavar="FILE",
                     help="a similarity model from bench/train_similarity.py --output (default: the shipped one)")
    run.add_argument("--embedder", metavar="DIR",
                     help="a local sentence-transformers model directory, for a model fitted with it")
    run.set_defaults(run=_digest)

    add = commands.add_parser("ingest", parents=[common, inputs], help="ingest inputs and update the stories")
    add.add_argument("paths", nargs="+")
    add.add_argument("--full", action="store_true",
                     help="analyse every stored article again, not only the new ones (placed articles may move)")
    add.set_defaults(run=_ingest)

    narrow = argparse.ArgumentParser(add_help=False)
    narrow.add_argument("--language", help="only stories or articles in this language (ISO 639-1)")
    narrow.add_argument("--since", metavar="DATE", type=_iso_date, help="from this date on (YYYY-MM-DD)")
    narrow.add_argument("--until", metavar="DATE", type=_iso_date, help="up to this date (YYYY-MM-DD)")
    narrow.add_argument("--entity", metavar="NAME", help="naming this entity (an id or any spelling of its name)")
    narrow.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    narrow.add_argument("--offset", type=int, default=0, help="skip this many first (pagination)")

    stories = commands.add_parser("stories", parents=[common, narrow], help="list the stories in the store")
    stories.add_argument("--sort", choices=["recent", "growth", "size"], default="recent",
                         help="newest first (default), growing fastest, or largest")
    stories.add_argument("--text", metavar="QUERY", help="only stories with an article matching QUERY")
    stories.set_defaults(run=_stories, read_only=True)

    show = commands.add_parser("show", parents=[common], help="show one story, event, article or entity")
    show.add_argument("id")
    show.set_defaults(run=_show, read_only=True)

    search = commands.add_parser("search", parents=[common, narrow],
                                 help="full-text and entity search over analysed articles")
    search.add_argument("query")
    search.set_defaults(run=_search, read_only=True)

    backfill = commands.add_parser("backfill", parents=[common, inputs],
                                   help="ingest and analyse a large archive, the per-document work on an engine")
    backfill.add_argument("paths", nargs="+", help="files, directories or URLs, as for digest")
    backfill.add_argument("--engine", choices=ENGINES, default="local",
                          help="local: this process (default); dask: the workers of a Dask cluster")
    backfill.add_argument("--scheduler", metavar="ADDRESS",
                          help="a running Dask scheduler (tcp://HOST:PORT); default: a local cluster")
    backfill.add_argument("--workers", type=int, metavar="N",
                          help="worker processes of the local Dask cluster (default: one per core)")
    backfill.add_argument("--language", default="en", help="preferred language of titles and summaries")
    backfill.set_defaults(run=_backfill)

    rebuild = commands.add_parser("rebuild", parents=[common],
                                  help="recompute every result from the stored articles (after an upgrade)")
    rebuild.add_argument("--language", default="en", help="preferred language of titles and summaries")
    rebuild.set_defaults(run=_rebuild)

    watch = commands.add_parser("watch", parents=[common, inputs],
                                help="poll feeds, pages and folders; ingest and analyse what is new")
    watch.add_argument("sources", nargs="+", metavar="SOURCE", help="RSS/Atom feed or page URLs, folders, files")
    watch.add_argument("--every", type=_interval, default=DEFAULT_EVERY_SECONDS, metavar="INTERVAL",
                       help="time between polls of a source: 30s, 10m (default), 1h")
    watch.add_argument("--once", action="store_true", help="poll every source once, then stop (for cron)")
    watch.add_argument("--full", action="store_true",
                       help="analyse every stored article again at each poll, not only the new ones")
    watch.add_argument("--language", default="en", help="preferred language of titles and summaries")
    watch.set_defaults(run=_watch)

    serve = commands.add_parser("serve", parents=[common], help="web UI and HTTP API over the store")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--token", default=os.environ.get("STORYLINE_TOKEN"),
                       help="token POST /api/articles needs (default: $STORYLINE_TOKEN; none: no writes)")
    serve.add_argument("--read-only", action="store_true", help="take no writes at all")
    serve.add_argument("--language", default="en", help="preferred language of titles and summaries")
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.add_argument("--cache-entries", type=int, default=None,
                       help="answers kept until the store changes (0: read the store for every request)")
    serve.set_defaults(run=_serve)

    export = commands.add_parser("export", parents=[common], help="write the JSON export of the store")
    export.add_argument("--json", metavar="FILE", required=True, help="output file ('-' for stdout)")
    export.set_defaults(run=_export, read_only=True)
    return parser


def _progress(items: Iterable[T]) -> Iterable[T]:
    from tqdm import tqdm

    # tqdm draws only on a terminal (disable=None) and only when the run is long enough to notice. Inputs are
    # a stream (a folder is walked as it is read), so the bar counts them without a total.
    return tqdm(items, desc="reading", unit="input", disable=None, mininterval=1.0, file=sys.stderr)


class _StageBar:
    """The analysis stage now running and the articles analysed so far, on a terminal only (tqdm's
    disable=None). The bar opens at the first stage, after the extraction bar of `digest` has closed."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.stage = ""

    def __call__(self, name: str) -> None:
        self.stage = name
        self._shown().set_description_str(name)  # redraws

    def articles(self, done: int, total: int) -> None:
        bar = self._shown()
        bar.total, bar.n = total, done
        bar.set_description_str(self.stage)

    def _shown(self) -> Any:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=0, disable=None, file=sys.stderr, unit="article",
                            bar_format="analysing {n_fmt}/{total_fmt} articles: {desc}")
        return self.bar

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _analysed(run: Callable[[_StageBar], T]) -> T:
    """`run` with a stage bar that is closed however it ends."""
    bar = _StageBar()
    try:
        return run(bar)
    finally:
        bar.close()


def _report(report: RunReport, counts: bool = True) -> None:
    """One line on stderr per rejected input and per input kept with a warning, then the counts."""
    for rejected in report.rejected:
        _error(f"rejected {rejected.source}: {rejected.reason}")
    for warned in report.warnings:
        _error(f"warning: {warned.source}: {warned.reason}")
    if counts:
        print(f"{report.read} articles read, {report.added} new, {len(report.rejected)} rejected", file=sys.stderr)


def _policy(args: argparse.Namespace) -> FetchPolicy:
    return FetchPolicy(allow_private=args.allow_private_urls, deadline=args.url_deadline)


def _say_pending(store: Store) -> None:
    """Readers answer from the last complete analysis; they say when articles wait for the next one."""
    waiting = store.pending()
    if waiting:
        _error(f"{_count(waiting, 'article')} stored after the last complete analysis wait for it "
               "(the next digest or ingest analyses them)")


def _digest(args: argparse.Namespace, store: Store) -> int:
    scorer = None
    if args.similarity_model or args.embedder:
        try:
            embedder = SentenceTransformerEmbedder(args.embedder) if args.embedder else None
            scorer = load(args.similarity_model, embedder) if args.similarity_model else Relatedness(None, embedder)
        except ValueError as error:
            _error(str(error))
            return EXIT_USAGE
    report, result = _analysed(lambda bar: digest(args.paths, store, _progress, args.language, scorer, bar,
                                                  _policy(args), bar.articles))
    _report(report)
    written = _write_json(lambda _: [result], args.json) if args.json else 0
    _print_stories(result, sys.stdout, language=args.language)
    if written is None:
        return EXIT_USAGE
    return EXIT_OK if report.read else EXIT_NOTHING


def _ingest(args: argparse.Namespace, store: Store) -> int:
    report = ingest(args.paths, store, _progress, _policy(args))
    _analysed(lambda bar: analyse(store, stage=bar, report=report, load=False, incremental=not args.full,
                                  progress=bar.articles))
    _report(report)
    return EXIT_OK if report.read else EXIT_NOTHING


def _backfill(args: argparse.Namespace, store: Store) -> int:
    """`digest` without printing every story, its per-document work on the chosen engine."""
    if args.workers is not None and args.workers < 1:
        _error("--workers must be at least 1")
        return EXIT_USAGE
    try:
        engine = open_engine(args.engine, args.scheduler, args.workers)
    except ImportError:
        _error("the Dask engine needs dask.distributed: pip install 'storyline[dask]'")
        return EXIT_USAGE
    except (ValueError, OSError) as error:
        _error(f"cannot start the {args.engine} engine: {error}")
        return EXIT_USAGE
    try:
        _error(f"engine: {engine.describe()}")
        report, _ = _analysed(lambda bar: digest(args.paths, store, _progress, args.language, stage=bar,
                                                 policy=_policy(args), analysed=bar.articles, engine=engine,
                                                 load=False))
    finally:
        engine.close()
    _report(report)
    articles, events, stories = store.totals()
    print(f"{_count(articles, 'article')}, {_count(events, 'event')}, "
          f"{'1 story' if stories == 1 else f'{stories} stories'} in the store", file=sys.stderr)
    return EXIT_OK if report.read else EXIT_NOTHING


def _stories(args: argparse.Namespace, store: Store) -> int:
    _say_pending(store)
    filters = _filters(args, text=args.text)
    page = store.stories(filters, args.sort, args.limit, args.offset)
    if not page.total:
        print("No stories yet." if filters == Filters() else "No story matches.")
    for row in page.items:
        span = " to ".join(dict.fromkeys(d for d in (row.first_date, row.last_date) if d)) or "undated"
        print(printable(f"STORY {row.id}: {row.title}"))
        print(f"  {_count(row.articles, 'article')}, {_count(row.events, 'event')}, languages: "
              f"{', '.join(row.languages) or '-'}, {span}" + (f", {row.recent} new" if args.sort == "growth" else ""))
    shown = page.offset + len(page.items)
    if page.total > shown:
        span = f"{page.offset + 1}-{shown}" if shown > page.offset + 1 else str(shown)
        _error(f"{span} of {page.total} stories (--offset {shown} for more)")
    return EXIT_OK if page.items else EXIT_NOTHING


def _show(args: argparse.Namespace, store: Store) -> int:
    _say_pending(store)
    record = _record(store, args.id)
    if record is None:
        _error(f"no story, event, article or entity with id {args.id!r}")
        return EXIT_NOTHING
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return EXIT_OK


def _record(store: Store, item_id: str) -> dict[str, Any] | None:
    """The export record of one story, event, article or entity, read through the store's indexes."""
    if story := store.story(item_id):
        return story_json(story)
    if (survivor := store.merged_into(item_id)) and (story := store.story(survivor)):
        _error(f"story {item_id} was merged into {survivor}")
        return story_json(story)
    if event := store.event(item_id):
        return event_json(event)
    if (article := store.article(item_id)) and (placed := store.placement(item_id)):
        return article_json(article, *placed)
    if found := store.entity(item_id):
        return entity_json(found.entity, found.articles)
    if (survivor := store.merged_into(item_id, "entity")) and (found := store.entity(survivor)):
        _error(f"entity {item_id} was found to be {survivor}")
        return entity_json(found.entity, found.articles)
    return None


def _search(args: argparse.Namespace, store: Store) -> int:
    _say_pending(store)
    hits = store.search(args.query, args.limit, _filters(args), args.offset)
    for article in hits:
        print(f"{printable(article.id)}\t{article.lang or '-'}\t{printable(article.title)}")
    return EXIT_OK if hits else EXIT_NOTHING


def _rebuild(args: argparse.Namespace, store: Store) -> int:
    report = RunReport(read=0, added=0, rejected=[])
    _analysed(lambda bar: analyse(store, args.language, stage=bar, report=report, rebuild=True, load=False,
                                  progress=bar.articles))
    _report(report, counts=False)
    articles, events, stories = store.totals()
    print(f"{_count(articles, 'article')}, {_count(events, 'event')}, "
          f"{'1 story' if stories == 1 else f'{stories} stories'} rebuilt", file=sys.stderr)
    return EXIT_OK if articles else EXIT_NOTHING


def _watch(args: argparse.Namespace, store: Store) -> int:
    """Poll until SIGINT or SIGTERM, which end the loop after the step in progress (nothing is cut short)."""
    watcher = Watcher(args.sources, store, _policy(args), args.every, language=args.language,
                      incremental=not args.full,
                      say=lambda line: print(printable(line), flush=True), warn=_error_line)
    if args.once:
        for change in watcher.poll():
            print(printable(change.line()), flush=True)
        return EXIT_OK
    previous = {sig: signal.signal(sig, lambda *_: watcher.stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK


def _serve(args: argparse.Namespace, store: Store) -> int:
    from storyline.serve import Settings, serve

    store.close()  # the server opens its own connections, one per worker thread
    settings = Settings(args.db, args.token, args.read_only, args.language)
    if args.cache_entries is not None:
        settings.cache_entries = max(0, args.cache_entries)
    return serve(settings, args.host, args.port, _error, args.workers)


def _interval(value: str) -> float:
    try:
        return parse_interval(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _error_line(line: str) -> None:
    print(printable(line), file=sys.stderr, flush=True)


def _filters(args: argparse.Namespace, text: str | None = None) -> Filters:
    return Filters(language=args.language, since=args.since, until=args.until, entity=args.entity, text=text)


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _export(args: argparse.Namespace, store: Store) -> int:
    _say_pending(store)
    written = _write_json(store.scan, args.json)
    if written is None:
        return EXIT_USAGE
    return EXIT_OK if written else EXIT_NOTHING


def _unwritable(target: str | None) -> str | None:
    """Why a --json file cannot be written, or None when it can (or when there is none, or it is stdout)."""
    if not target or target == "-":
        return None
    path = Path(target)
    if path.is_dir():
        return "it is a directory"
    folder = path.absolute().parent
    if not folder.is_dir():
        return f"no directory {folder}"
    if not os.access(folder, os.W_OK):
        return f"directory {folder} is not writable"
    return None


def _write_json(scan: Callable[[Section], Iterable[Digest]], target: str) -> int | None:
    """Write the export of the pieces `scan` gives, streamed (a file appears whole or not at all); the
    articles written, or None, with one line on stderr, when the file cannot be written."""
    if target == "-":
        return write(scan, sys.stdout)
    partial = Path(f"{target}.partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            written = write(scan, out)
        partial.replace(target)
    except OSError as error:
        _error(f"cannot write {target}: {error.strerror or error}")
        partial.unlink(missing_ok=True)
        return None
    finally:
        partial.unlink(missing_ok=True)
    return written


def _print_stories(result: Digest, out: TextIO, language: str = "en") -> None:
    events = {e.id: e for e in result.events}
    articles = {a.id: a for a in result.articles}
    names = {e.id: e.name for e in result.entities}
    types = {e.id: e.type for e in result.entities}
    entities_of: dict[str, set[str]] = defaultdict(set)
    for mention in result.mentions:
        if mention.entity in names:
            entities_of[mention.article].add(mention.entity)
    quotes_of: dict[str, list[Quote]] = defaultdict(list)
    for said in result.quotes:
        if said.direct and said.speaker in names:
            quotes_of[said.article].append(said)
    if not result.stories:
        print("No stories yet.", file=out)
    for story in result.stories:
        langs = ", ".join(story.languages) or "-"
        print(f"STORY {story.id}: {printable(story.title)}", file=out)
        print(f"  {_count(len(story.articles), 'article')}, {_count(len(story.events), 'event')}, languages: {langs}",
              file=out)
        involved = Counter(e for a in story.articles for e in entities_of[a])
        top = sorted((e for e in involved if involved[e] >= min(2, len(story.articles))),
                     key=lambda e: (-involved[e], TYPE_ORDER.get(types[e], len(TYPE_ORDER)), names[e]))
        if top:
            print(f"  involved: {', '.join(printable(names[e]) for e in top[:PRINTED_ENTITIES])}", file=out)
        print(textwrap.fill(printable(story.summary), PRINT_WIDTH, initial_indent="  summary: ",
                            subsequent_indent="    "), file=out)
        for entry in story.timeline:
            event = events[entry.event]
            when = event.date or "undated"
            print(printable(f"  EVENT {event.id} [{when}] {event.title} ({', '.join(event.languages)})"), file=out)
            said_in = sorted(event.articles, key=lambda a: articles[a].lang != language)
            first = next((q for a in said_in for q in quotes_of[a]), None)
            if first is not None:
                words = textwrap.shorten(first.text, PRINTED_QUOTE, placeholder=" …")
                print(f"    {printable(names[first.speaker or ''])}: “{printable(words)}”", file=out)
            for article_id in event.articles:
                article = articles[article_id]
                copy = f" (copy of {article.duplicate_of})" if article.duplicate_of else ""
                line = f"    - {article.id} [{article.lang or '?'}] {article.title}{copy}"
                print(printable(line), file=out)
        print(file=out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
