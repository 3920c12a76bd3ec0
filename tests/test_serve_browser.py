"""`storyline serve` in real Chromium (Debian's package, driven by Playwright's sync API): the reading path
from the top stories to a story, an event, an article and an entity; search in Arabic and English; hostile
articles that must run no script; the API docs offline. Every page is checked for console errors and for
requests leaving the server, and screenshotted under build/screenshots/."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest

from storyline.serve import Settings

from .conftest import ROOT
from .serve_fixtures import HOSTILE, TOKEN, copy_store, corpus_db, running

__all__ = ["corpus_db"]  # the session fixture, used by name


def _chromium() -> str | None:
    """The system Chromium: $STORYLINE_CHROMIUM, else Debian's binary (Playwright's own download needs its CDN)."""
    for candidate in (os.environ.get("STORYLINE_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium",
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found (apt-get install chromium, as "
                                                          ".ci/run does, or set STORYLINE_CHROMIUM)")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the 'dev' extra)")
SHOTS = ROOT / "build" / "screenshots"


@dataclass
class Watch:
    """What a page did that a test forbids: console errors, uncaught exceptions, dialogs, outside requests."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [] and self.dialogs == [] and self.outside == []


@pytest.fixture(scope="module")
def server(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server on a free loopback port over a copy of the corpus store, the hostile records posted to it."""
    db = copy_store(corpus_db, tmp_path_factory.mktemp("browser"))
    with running(Settings(str(db), token=TOKEN)) as base:
        request = urllib.request.Request(f"{base}/api/articles", data=json.dumps(HOSTILE).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {TOKEN}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as posted:
            assert len(json.load(posted)["articles"]) == len(HOSTILE)
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def _page(browser: Any, server: str, watch: Watch, bypass_csp: bool = False) -> Any:
    """A fresh page that records into `watch` and refuses any request not to `server`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp)
    host = urlparse(server).netloc

    def route(request_route: Any) -> None:
        if urlparse(request_route.request.url).netloc != host:
            watch.outside.append(request_route.request.url)
            request_route.abort()
        else:
            request_route.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: watch.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))

    def dialog(shown: Any) -> None:
        watch.dialogs.append(shown.message)
        shown.dismiss()

    page.on("dialog", dialog)
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _api(server: str, path: str) -> Any:
    with urllib.request.urlopen(server + path, timeout=30) as answer:
        return json.load(answer)


def test_reading_path_from_top_stories_to_an_entity(browser: Any, server: str) -> None:
    watch = Watch()
    page = _page(browser, server, watch)
    placed = _api(server, "/api/articles/a1-ar-nabd")
    home = _api(server, "/index.json")

    page.goto(server + "/")
    rows = page.locator("li.story-row")
    assert rows.count() == len(home["stories"]) > 0
    assert page.locator("svg.sparkline").count() == len(home["stories"])
    first = home["stories"][0]
    assert rows.first.locator("h3").inner_text() == first["title"]
    _shot(page, "home")

    page.click(f'li.story-row a[href="/stories/{placed["story"]}"]')
    page.wait_for_url(f"**/stories/{placed['story']}")
    story = _api(server, f"/api/stories/{placed['story']}")
    assert page.locator("h1").inner_text() == story["title"]
    assert page.locator("figure.chart svg rect").count() > 0
    assert page.locator("ol.timeline li").count() == len(story["timeline"])
    _shot(page, "story")

    page.click(f'ol.timeline a[href="/events/{placed["event"]}"]')
    page.wait_for_url(f"**/events/{placed['event']}")
    event = _api(server, f"/api/events/{placed['event']}")
    assert page.locator("h1").inner_text() == event["title"]
    assert page.locator("section.column").count() == len(event["languages"])
    arabic = page.locator('article.card[lang="ar"]')
    assert arabic.count() == 1
    assert arabic.evaluate("node => getComputedStyle(node).direction") == "rtl"
    assert page.locator("dl.facts").inner_text().count("Shared entities") == 1
    _shot(page, "event")

    arabic.locator("h4 a").click()
    page.wait_for_url("**/articles/a1-ar-nabd")
    body = page.locator("div.body")
    assert body.evaluate("node => getComputedStyle(node).direction") == "rtl"
    assert page.locator("h1").inner_text() == _api(server, "/api/articles/a1-ar-nabd")["title"]
    assert page.locator("mark.entity").count() > 3 and page.locator(".quoted").count() > 0
    _shot(page, "article")

    page.locator('mark.entity a[href="/entities/ent-karim-al-haddad"]').first.click()
    page.wait_for_url("**/entities/ent-karim-al-haddad")
    assert page.locator("h1").inner_text() == "Karim al-Haddad"
    variants = page.locator("dl.variants").inner_text()
    assert "كريم الحداد" in variants and "Kareem Al-Hadad" in variants
    assert page.locator("figure.chart svg rect").count() > 0
    _shot(page, "entity")
    watch.assert_clean()


def test_search_in_arabic_and_in_english(browser: Any, server: str) -> None:
    watch = Watch()
    page = _page(browser, server, watch)
    page.goto(server + "/")
    page.fill('header input[name="q"]', "كريم الحداد")
    page.press('header input[name="q"]', "Enter")
    page.wait_for_url(lambda url: "/search?q=" in url)
    assert page.locator('a[href="/entities/ent-karim-al-haddad"]').count() >= 1  # the entity the query names
    hits = page.locator("ol.stories li.card")
    assert hits.count() > 3
    languages = set(page.locator("ol.stories .lang").all_inner_texts())
    assert {"ar", "en"} <= languages  # the entity's articles in every language
    assert page.locator('ol.stories li.card[lang="ar"]').first.evaluate(
        "node => getComputedStyle(node).direction") == "rtl"
    _shot(page, "search-arabic")

    page.fill('form.filters input[name="q"]', "earthquake")
    page.fill('form.filters input[name="language"]', "en")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url(lambda url: "q=earthquake" in url)
    expected = _api(server, "/search.json?q=earthquake&language=en")["items"]
    assert expected and hits.count() == len(expected)
    assert set(page.locator("ol.stories .lang").all_inner_texts()) == {"en"}
    assert page.locator("ol.stories h3").first.inner_text() == expected[0]["title"]
    _shot(page, "search-english")
    watch.assert_clean()


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "without-csp"])
def test_hostile_articles_run_no_script(browser: Any, server: str, bypass_csp: bool) -> None:
    """Escaping alone must hold: the pages are also opened with the Content-Security-Policy switched off."""
    watch = Watch()
    page = _page(browser, server, watch, bypass_csp)
    paths = ["/", "/?sort=recent", "/search?q=%3Cscript%3E", "/search?q=strike"]
    for record in HOSTILE:
        placed = _api(server, f"/api/articles/{quote(record['id'], safe='')}")
        paths += [f"/articles/{quote(record['id'], safe='')}", f"/events/{quote(placed['event'], safe='')}",
                  f"/stories/{quote(placed['story'], safe='')}"]
    for path in paths:
        page.goto(server + path)
        page.wait_for_load_state("load")
        assert page.evaluate("() => window.__xss") is None, path
        page.hover("h1")
    page.goto(server + "/articles/xss-script")
    assert page.locator("h1").inner_text() == "Harbour strike news"  # ingest keeps no markup in titles
    assert page.locator('a[href^="javascript:"]').count() == 0
    for link in page.locator("a").all():
        href = link.get_attribute("href") or ""
        assert href.startswith(("/", "http://", "https://")), href
    _shot(page, "hostile-csp-off" if bypass_csp else "hostile")
    watch.assert_clean()


def test_api_docs_render_from_local_files(browser: Any, server: str) -> None:
    watch = Watch()
    page = _page(browser, server, watch)
    page.goto(server + "/api/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 8
    assert "/api/articles" in page.locator(".opblock-summary-path").all_inner_texts()
    _shot(page, "api-docs")
    watch.assert_clean()
