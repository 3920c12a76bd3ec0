"""The application: pages and API over one store, behind security headers and a request size limit.

Every answer carries a Content-Security-Policy that allows no script and no inline style on the pages
(they have neither), and only same-origin files anywhere; the API documentation page, whose Swagger UI is a
script, may run the scripts it is served with and nothing inline.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyline import __version__
from storyline.serve import api, pages
from storyline.serve.cache import ResponseCache
from storyline.serve.settings import Settings
from storyline.serve.stores import timed_out
from storyline.serve.views import BadRequest

DOCS_PATH = "/api/docs"
DOCS_STATIC = "/static/docs"  # fastapi-offline's Swagger UI files
# No script, styles only from our own style sheet, images only our own or inline SVG, forms only to us, and
# no framing (clickjacking); `base-uri` stops an injected <base> from redirecting relative links.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "frame-ancestors 'none'; base-uri 'none'")
# Swagger UI sets style attributes as it renders, and fetches the OpenAPI document.
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin")]


class Guard:
    """ASGI middleware: refuses a body whose Content-Length is over the limit before reading it (a body
    without one is counted as it is read, api._body), and adds the security headers to every answer."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_body:
            problem = "a bad Content-Length" if not length.isdigit() else f"a body over {self.max_body} bytes"
            response = JSONResponse({"detail": f"refused: {problem}"}, status_code=413 if length.isdigit() else 400)
            await response(scope, receive, self._secured(send, scope["path"]))
            return
        await self.app(scope, receive, self._secured(send, scope["path"]))

    @staticmethod
    def _secured(send: Send, path: str) -> Send:
        docs = path == DOCS_PATH or path.startswith(DOCS_STATIC)
        policy = (DOCS_POLICY if docs else PAGE_POLICY).encode()

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"content-security-policy", policy), *_HEADERS]
            await send(message)

        return secured


def create_app(settings: Settings) -> FastAPI:
    """The web UI and API over `settings.db`; an answer is reused until the store changes (serve/cache.py)."""
    app = FastAPIOffline(title="storyline", version=__version__, docs_url=None, redoc_url=None,
                         openapi_url="/api/openapi.json", static_url=DOCS_STATIC,
                         description="Stories, events, articles and entities of a storyline store. Field names"
                                     " are those of the JSON export (storyline/schema/export.schema.json).")
    app.state.settings = settings
    app.add_middleware(ResponseCache, version=settings.source.version, entries=settings.cache_entries)
    app.add_middleware(Guard, max_body=settings.max_body)  # outside the cache: headers on every answer
    if settings.hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.hosts))
    app.mount("/static", StaticFiles(directory=str(resources.files("storyline.serve") / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if pages.wants_json(request) or not isinstance(error.detail, str):
            return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
        return pages.error_page(request, error.status_code, error.detail)

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, error: BadRequest) -> Response:
        return _error(request, 400, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        if pages.wants_json(request):
            return JSONResponse({"detail": _plain(error.errors())}, status_code=422)
        return pages.error_page(request, 400, "; ".join(str(e.get("msg", e)) for e in error.errors()))

    async def store_error(request: Request, error: Exception) -> Response:
        if timed_out(error):
            return _error(request, 503, "the store took too long to answer; try a narrower query")
        raise error

    for kind in _timeout_errors():
        app.add_exception_handler(kind, store_error)
    return app


def _timeout_errors() -> list[type[Exception]]:
    """The errors a query stopped by the read deadline raises: SQLite's, and psycopg's when installed."""
    kinds: list[type[Exception]] = [sqlite3.OperationalError]
    try:
        from psycopg.errors import QueryCanceled
    except ImportError:
        return kinds
    return [*kinds, QueryCanceled]


def _error(request: Request, status: int, message: str) -> Response:
    if pages.wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return pages.error_page(request, status, message)


def _plain(errors: Any) -> Any:
    """Validation errors as JSON data (pydantic puts the exception objects themselves under `ctx`)."""
    return [{key: value for key, value in e.items() if key in {"loc", "msg", "type"}} for e in errors]

