"""The web pages: server-rendered Jinja2 templates, no script, each page with a `.json` twin that returns the
data it was rendered from (`/index.json`, `/stories/ID.json`, `/search.json?q=...`).

Ids are percent-encoded whole in links and taken with the path converter, so an id holding `/` or `?`
still names one page. `ID.json` is the twin of ID unless the store holds an item whose id is `ID.json`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from storyline.serve import charts, text, views
from storyline.serve.settings import Settings
from storyline.store import Store, StorySort

router = APIRouter(include_in_schema=False)
TWIN = ".json"

templates = Environment(loader=PackageLoader("storyline.serve", "templates"), autoescape=True,
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
templates.globals.update(link=text.link, http_url=text.http_url, direction=text.direction,
                         segments=text.segments, lead=text.lead, sparkline=charts.sparkline,
                         stacked_bars=charts.stacked_bars, bars=charts.bars)


def _reader(request: Request) -> Store:
    settings: Settings = request.app.state.settings
    return settings.source.reader()


def wants_json(request: Request) -> bool:
    """Whether an answer to this request, an error included, is JSON: the API and the pages' twins."""
    return request.url.path.startswith("/api/") or request.url.path.endswith(TWIN)


def page_url(request: Request, **changes: object) -> str:
    """This page's URL with some query parameters changed (None drops one): pagination keeps the filters."""
    params = dict(request.query_params)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    params = {name: value for name, value in params.items() if value != ""}
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


templates.globals["page_url"] = page_url


def render(request: Request, name: str, data: dict[str, Any], as_json: bool) -> Response:
    """The page `name` over `data`, or `data` itself for the `.json` twin."""
    if as_json:
        return JSONResponse(data)
    path = request.url.path
    twin = f"{path.rstrip('/') or '/index'}{TWIN}" + (f"?{request.url.query}" if request.url.query else "")
    html = templates.get_template(name).render(data=data, request=request, twin=twin)
    return HTMLResponse(html)


def error_page(request: Request, status: int, message: str) -> Response:
    """An error as a page of the site, for a reader who followed a link."""
    html = templates.get_template("error.html").render(status=status, message=message, request=request,
                                                       twin=None)
    return HTMLResponse(html, status_code=status)


def _item(item_id: str, exists: Callable[[str], object]) -> tuple[str, bool]:
    """The id a page names and whether it is the `.json` twin's."""
    if item_id.endswith(TWIN) and not exists(item_id):
        return item_id[:-len(TWIN)], True
    return item_id, False


def _int(value: str | None, name: str, default: int) -> int:
    """A whole-number query parameter; a page answers 400 for anything else (the API's 422 is FastAPI's)."""
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        raise views.BadRequest(f"{name} must be a whole number") from None


def _sort(value: str | None) -> StorySort:
    """The home page's order: fastest-growing first unless asked otherwise (EMM's top stories)."""
    if value in (None, ""):
        return "growth"
    if value not in ("recent", "growth", "size"):
        raise views.BadRequest("sort must be recent, growth or size")
    return cast(StorySort, value)


@router.get("/", response_class=HTMLResponse)
@router.get("/index.json")
def home(request: Request) -> Response:
    """Top stories: fastest-growing first, filtered by language, dates, entity and text, a page at a time."""
    q = request.query_params
    found = views.filters(q.get("language"), q.get("since"), q.get("until"), q.get("entity"), q.get("text"))
    limit, offset = views.paging(_int(q.get("limit"), "limit", views.DEFAULT_LIMIT), _int(q.get("offset"), "offset", 0))
    data = views.home(_reader(request), found, _sort(q.get("sort")), limit, offset)
    return render(request, "home.html", data, request.url.path.endswith(TWIN))


@router.get("/search", response_class=HTMLResponse)
@router.get("/search.json")
def search(request: Request) -> Response:
    """Full-text and entity-aware search with the home page's filters."""
    q = request.query_params
    found = views.filters(q.get("language"), q.get("since"), q.get("until"), q.get("entity"))
    limit, offset = views.paging(_int(q.get("limit"), "limit", views.DEFAULT_LIMIT), _int(q.get("offset"), "offset", 0))
    data = views.search(_reader(request), q.get("q", ""), found, limit, offset)
    return render(request, "search.html", data, request.url.path.endswith(TWIN))


@router.get("/stories/{story_id:path}", response_class=HTMLResponse)
def story(request: Request, story_id: str) -> Response:
    """A story, or a redirect to the story that absorbed it."""
    store = _reader(request)
    story_id, as_json = _item(story_id, store.story)
    data = views.story(store, story_id)
    if data is None:
        survivor = store.merged_into(story_id)
        if survivor is None:
            raise HTTPException(404, f"no story with id {story_id!r}")
        return RedirectResponse(text.link("story", survivor) + (TWIN if as_json else ""), status_code=301)
    return render(request, "story.html", data, as_json)


@router.get("/events/{event_id:path}", response_class=HTMLResponse)
def event(request: Request, event_id: str) -> Response:
    """An event; `?scores=1` adds the model's similarity scores (slow)."""
    store = _reader(request)
    event_id, as_json = _item(event_id, store.event)
    data = views.event(store, event_id, scores=request.query_params.get("scores") == "1")
    if data is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    return render(request, "event.html", data, as_json)


@router.get("/articles/{article_id:path}", response_class=HTMLResponse)
def article(request: Request, article_id: str) -> Response:
    """An analysed article, its entities and quotes marked."""
    store = _reader(request)
    article_id, as_json = _item(article_id, store.article)
    data = views.article(store, article_id)
    if data is None:
        raise HTTPException(404, f"no analysed article with id {article_id!r}")
    return render(request, "article.html", data, as_json)


@router.get("/entities/{entity_id:path}", response_class=HTMLResponse)
def entity(request: Request, entity_id: str) -> Response:
    """An entity, or a redirect to the entity it was found to be."""
    store = _reader(request)
    entity_id, as_json = _item(entity_id, lambda i: store.entities_by_id([i]))
    data = views.entity(store, entity_id)
    if data is None:
        survivor = store.merged_into(entity_id, "entity")
        if survivor is None:
            raise HTTPException(404, f"no entity with id {entity_id!r}")
        return RedirectResponse(text.link("entity", survivor) + (TWIN if as_json else ""), status_code=301)
    return render(request, "entity.html", data, as_json)


@router.get("/api/docs", response_class=HTMLResponse)
def docs(request: Request) -> Response:
    """Swagger UI from the files fastapi-offline ships, started by a static script (no inline script)."""
    return HTMLResponse(templates.get_template("docs.html").render(request=request))

