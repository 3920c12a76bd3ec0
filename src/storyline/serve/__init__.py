"""Stage 9, serve: `storyline serve`, a web UI and an HTTP API over the store (FastAPI on uvicorn).

A thin layer over the readers the CLI uses, datasette-style: every HTML page has a `.json` twin, the API
under /api/ speaks the export's field names, and `POST /api/articles` ingests records as `storyline ingest`
does. `app.py` puts it together; `views.py` computes each page's data from Store readers (the pages' own live
in `store/reading.py`), `pages.py` and `api.py` answer, `charts.py` draws SVG, `text.py` marks text.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Callable
from dataclasses import fields

from fastapi import FastAPI

from storyline.serve.app import create_app
from storyline.serve.settings import Settings

__all__ = ["SETTINGS_ENV", "Settings", "app_from_environment", "create_app", "is_loopback", "serve"]

# Connections served at once; past it uvicorn answers 503 at once rather than queueing without bound.
MAX_CONNECTIONS = 256
# Seconds an idle keep-alive connection is kept.
KEEP_ALIVE_SECONDS = 5
# The names a loopback server answers to (Starlette compares the Host header without its port).
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
# How the settings reach worker processes, which uvicorn starts from an import string.
SETTINGS_ENV = "STORYLINE_SERVE_SETTINGS"


def is_loopback(host: str) -> bool:
    """Whether every address `host` stands for is a loopback one (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(str(address).split("%")[0]).is_loopback for address in found)


def app_from_environment() -> FastAPI:
    """The application of one worker process, from the settings `serve` left in the environment."""
    return create_app(Settings(**json.loads(os.environ[SETTINGS_ENV])))


def serve(settings: Settings, host: str, port: int, warn: Callable[[str], None], workers: int = 1) -> int:
    """Run the server until interrupted, in `workers` processes (each reads the store itself, so all stay
    live). Refuses (exit status 2) to take writes on a non-loopback address without a token: anyone who can
    reach it could write to the store."""
    if not is_loopback(host) and not settings.read_only and settings.token is None:
        warn(f"refusing to serve writes on {host} without a token: pass --token (or set STORYLINE_TOKEN), "
             "or --read-only")
        return 2
    import uvicorn

    if is_loopback(host) and not settings.hosts:
        settings.hosts = (host, *LOOPBACK_NAMES)
    if settings.token is None and not settings.read_only:
        warn("no token: POST /api/articles is refused (pass --token or set STORYLINE_TOKEN to take writes)")
    if workers > 1:  # uvicorn starts each worker from an import string
        given = {field.name: getattr(settings, field.name) for field in fields(settings) if field.init}
        os.environ[SETTINGS_ENV] = json.dumps(given)  # the token with it, as STORYLINE_TOKEN may carry it
    target: str | FastAPI = "storyline.serve:app_from_environment" if workers > 1 else create_app(settings)
    uvicorn.run(target, factory=workers > 1, workers=workers, host=host, port=port, server_header=False,
                limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=KEEP_ALIVE_SECONDS, log_level="info")
    return 0
