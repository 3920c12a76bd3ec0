"""The HTTP API under /api/: the store's resources as JSON with the export's field names, offset pagination,
and `POST /api/articles`, which ingests records exactly as `storyline ingest` reads a .json or .jsonl file
(the same validation, the same rejections, recorded in the store) and then analyses them incrementally.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from storyline import __version__
from storyline.export import article_json, event_json, story_json
from storyline.ingest.decoding import InputError, decode
from storyline.ingest.records import read_json, read_jsonl
from storyline.model import RawDocument, Rejected
from storyline.pipeline import analyse, ingest_documents
from storyline.serve import views
from storyline.serve.schemas import (
    ArticleOut,
    EntityOut,
    EventOut,
    HealthOut,
    IngestOut,
    SearchOut,
    StoriesOut,
    StoryOut,
)
from storyline.serve.settings import Settings
from storyline.serve.stores import threaded
from storyline.serve.text import link
from storyline.store import Store, StorySort

router = APIRouter(prefix="/api", tags=["api"])
bearer = HTTPBearer(auto_error=False, description="the server's token (--token or STORYLINE_TOKEN)")
# Where the records of one POST are said to come from: this and the SHA-1 of the body, so a rejection reads
# like the CLI's ("/api/articles/3fa9c0e1b2d4#2: record has neither ...") and names the request and record.
SOURCE_PREFIX = Path("/api/articles")
JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/ndjson")
_RECORDS = {"type": "object", "description": "a record as .json files hold them: id, url, title, text or html,"
                                             " published, source, lang (storyline/ingest/records.py)"}

Limit = Annotated[int, Query(ge=1, le=views.MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0, le=views.MAX_OFFSET)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _reader(request: Request) -> Store:
    return _settings(request).source.reader()


def _missing(kind: str, item_id: str) -> HTTPException:
    return HTTPException(404, f"no {kind} with id {item_id!r}")


@router.get("/health", response_model=HealthOut)
@threaded
def health(request: Request) -> dict[str, Any]:
    """Whether the store answers, and whether this server takes writes."""
    settings = _settings(request)
    return {"status": "ok", "version": __version__, "read_only": settings.read_only, "writes": settings.writes,
            "pending": _reader(request).pending()}


@router.get("/stories", response_model=StoriesOut)
@threaded
def stories(request: Request, language: str | None = None, since: str | None = None, until: str | None = None,
            entity: str | None = None, text: str | None = None, sort: StorySort = "recent", limit: Limit = 20,
            offset: Offset = 0) -> dict[str, Any]:
    """Stories newest first (`recent`), fastest-growing (`growth`) or largest (`size`), filtered like the CLI's
    `storyline stories`: by language, date range (ISO dates, inclusive), entity (id or any spelling) and text."""
    found = views.filters(language, since, until, entity, text)
    page = _reader(request).stories(found, sort, limit, offset)
    return {"items": [views.story_row(r) for r in page.items], "total": page.total, "offset": offset,
            "limit": limit, "next": offset + limit if offset + limit < page.total else None}


@router.get("/stories/{story_id:path}", response_model=StoryOut, responses={301: {"description": "merged"}})
@threaded
def story(request: Request, story_id: str) -> Any:
    """A story; one absorbed by a merge redirects to the story that absorbed it."""
    store = _reader(request)
    found = store.story(story_id)
    if found is not None:
        return story_json(found)
    survivor = store.merged_into(story_id)
    if survivor is not None:
        return RedirectResponse("/api" + link("story", survivor), status_code=301)
    raise _missing("story", story_id)


@router.get("/events/{event_id:path}", response_model=EventOut)
@threaded
def event(request: Request, event_id: str) -> dict[str, Any]:
    """An event with its articles in every language."""
    found = _reader(request).event(event_id)
    if found is None:
        raise _missing("event", event_id)
    return event_json(found)


@router.get("/articles/{article_id:path}", response_model=ArticleOut)
@threaded
def article(request: Request, article_id: str) -> dict[str, Any]:
    """An analysed article (one waiting for analysis is not shown yet) with its event and story."""
    store = _reader(request)
    found = store.article(article_id)
    placed = store.placement(article_id) if found else None
    if found is None or placed is None:
        raise _missing("article", article_id)
    return article_json(found, *placed)


@router.get("/entities/{entity_id:path}", response_model=EntityOut, responses={301: {"description": "merged"}})
@threaded
def entity(request: Request, entity_id: str) -> Any:
    """An entity with every spelling it was found under and every article naming it; one found to be another
    entity redirects to it."""
    store = _reader(request)
    found = views.entity_record(store, entity_id)
    if found is not None:
        return found
    survivor = store.merged_into(entity_id, "entity")
    if survivor is not None:
        return RedirectResponse("/api" + link("entity", survivor), status_code=301)
    raise _missing("entity", entity_id)


@router.get("/search", response_model=SearchOut)
@threaded
def search(request: Request, q: Annotated[str, Query(max_length=views.MAX_FILTER_CHARS)], language: str | None = None,
           since: str | None = None, until: str | None = None, entity: str | None = None, limit: Limit = 20,
           offset: Offset = 0) -> dict[str, Any]:
    """Full-text search in any language, entity-aware: a query naming an entity in any spelling or script
    ranks that entity's articles, in every language, first."""
    found = views.search(_reader(request), q, views.filters(language, since, until, entity), limit, offset)
    del found["filters"]
    return found


@router.post("/articles", response_model=IngestOut, status_code=200, responses={
    401: {"description": "no or wrong token"}, 403: {"description": "read-only, or no token configured"},
    413: {"description": "body over the size limit"}, 422: {"description": "no record could be read"}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [_RECORDS, {"type": "array", "items": _RECORDS}]}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON record a line"}}}}})
async def post_articles(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Any:
    """Ingest records (a JSON record, a list of them, or JSON lines) and analyse them incrementally. Needs
    `Authorization: Bearer <token>`. Records without an id get one from the SHA-1 of the body, so posting
    the same body twice adds nothing."""
    settings = _settings(request)
    if settings.read_only:
        raise HTTPException(403, "this server is read-only (--read-only)")
    if settings.token is None:
        raise HTTPException(403, "writes need a token: start the server with --token or STORYLINE_TOKEN")
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), settings.token.encode()):
        raise HTTPException(401, "a valid token is needed (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    body = await _body(request, settings.max_body)
    jsonl = request.headers.get("content-type", "").split(";")[0].strip().lower() in JSONL_TYPES
    result = await run_in_threadpool(_ingest, settings, body, jsonl)
    return result if result["read"] else JSONResponse(result, status_code=422)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused past `limit` bytes whatever Content-Length claims (chunked bodies too)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def documents(body: bytes, jsonl: bool) -> Iterator[RawDocument | Rejected]:
    """The records of a body, read by the functions that read .json and .jsonl files."""
    name = hashlib.sha1(body).hexdigest()[:12]
    source = SOURCE_PREFIX / name
    try:
        text = decode(body)
    except InputError as error:
        yield Rejected(str(source), str(error))
        return
    if jsonl:
        yield from read_jsonl(source, enumerate(text.splitlines(), 1), name)
    else:
        yield from read_json(source, text, name)


def _ingest(settings: Settings, body: bytes, jsonl: bool) -> dict[str, Any]:
    """Store the records, analyse what is new (incrementally when the kept state allows), say where each went."""
    read: list[RawDocument] = []

    def seen(items: Iterator[RawDocument | Rejected]) -> Iterator[RawDocument | Rejected]:
        for item in items:
            if isinstance(item, RawDocument):
                read.append(item)  # its final id is set when the store claims it
            yield item

    with settings.source.writer() as store:
        report = ingest_documents(seen(documents(body, jsonl)), store)
        analyse(store, settings.language, report=report, load=False, incremental=True)
        places = store.placements(sorted({doc.id for doc in read}))
        return {"read": report.read, "added": report.added,
                "rejected": [{"source": r.source, "reason": r.reason} for r in report.rejected],
                "warnings": [{"source": r.source, "reason": r.reason} for r in report.warnings],
                "articles": [{"id": i, "event": e, "story": s} for i, (e, s) in sorted(places.items())],
                "pending": store.pending()}
