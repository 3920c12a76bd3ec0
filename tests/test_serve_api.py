"""`storyline serve` against the real app (TestClient) and a real store: the sample corpus digested by the
pipeline. Pages and their JSON twins, the API and its export field names, writes through POST /api/articles
(token, limits, the CLI's validation), hostile articles escaped everywhere, and live reads."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from storyline import pipeline
from storyline.cli import main
from storyline.export import to_json
from storyline.serve import SETTINGS_ENV, Settings, app_from_environment, create_app, is_loopback, stores
from storyline.serve.app import PAGE_POLICY
from storyline.store import SQLiteStore, open_store

from .conftest import CORPUS
from .serve_fixtures import HOSTILE, RAW_PAYLOADS, TOKEN, copy_store, corpus_db

__all__ = ["corpus_db"]  # the session fixture, used by name

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(corpus_db: Path) -> Iterator[TestClient]:
    """A read-only view of the digested corpus."""
    with TestClient(create_app(Settings(str(corpus_db), read_only=True))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def export(corpus_db: Path) -> dict[str, Any]:
    """The JSON export of the same store: what the API's records must equal."""
    store = SQLiteStore(corpus_db, create=False)
    try:
        return to_json(store.load())
    finally:
        store.close()


@pytest.fixture
def writable(corpus_db: Path, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    """A client that takes writes (with TOKEN) on a private copy of the store."""
    db = copy_store(corpus_db, tmp_path)
    with TestClient(create_app(Settings(str(db), token=TOKEN))) as test_client:
        yield test_client, db


def _by_id(records: list[dict[str, Any]], item_id: str) -> dict[str, Any]:
    return next(r for r in records if r["id"] == item_id)


def _placed(export: dict[str, Any], article_id: str) -> tuple[str, str]:
    """The event and story the pipeline put an article in (expectations follow the clusterer's choices)."""
    article = _by_id(export["articles"], article_id)
    return article["event"], article["story"]


def test_home_ranks_stories_by_growth_with_languages_counts_and_volume_charts(client: TestClient,
                                                                            export: dict[str, Any]) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    data = client.get("/index.json").json()
    assert data["sort"] == "growth" and data["total"] == len(export["stories"]) >= 3 and data["pending"] == 0
    recent = [s["recent"] for s in data["stories"]]
    assert recent == sorted(recent, reverse=True)
    dam = _by_id(data["stories"], _placed(export, "a1-ar-nabd")[1])
    story = _by_id(export["stories"], dam["id"])
    assert dam["article_count"] == len(story["articles"]) and dam["event_count"] == len(story["events"])
    assert dam["languages"] == ["ar", "de", "en", "fr", "ru"]
    assert {v["date"] for v in dam["volume"]} >= {"2026-03-02", "2026-03-09"}
    assert page.text.count('<svg class="sparkline"') == data["total"]
    for story in data["stories"]:
        assert f'href="/stories/{story["id"]}"' in page.text
    assert 'href="/index.json"' in page.text  # the twin is linked


def test_home_filters_by_language_dates_entity_and_pages(client: TestClient, export: dict[str, Any]) -> None:
    def ids(query: str) -> list[str]:
        return [s["id"] for s in client.get(f"/index.json?{query}").json()["stories"]]

    dam, port, quake = (_placed(export, a)[1] for a in ("a1-ar-nabd", "b1-es-marea", "c1-ar-nabd"))
    assert ids("language=es") == [port]
    assert ids("entity=Karim al-Haddad") == [dam]
    assert ids("entity=كريم الحداد") == [dam]  # any spelling, any script
    assert set(ids("since=2026-03-05&until=2026-03-05")) == {dam, quake, port}  # stories spanning the day
    assert ids("since=2026-03-07") == [dam] and ids("until=2026-03-03") == [dam]
    assert ids("text=earthquake") == [quake]
    every = ids("sort=size")
    assert every[0] == dam
    second = client.get("/index.json?sort=size&limit=1&offset=1").json()
    assert [s["id"] for s in second["stories"]] == every[1:2] and second["next"] == 2
    html = client.get("/?sort=size&limit=1&offset=1&language=").text
    assert 'rel="next" href="/?sort=size&amp;limit=1&amp;offset=2"' in html
    assert 'rel="prev" href="/?sort=size&amp;limit=1&amp;offset=0"' in html


def test_api_records_are_the_export_records(client: TestClient, export: dict[str, Any]) -> None:
    for story in export["stories"]:
        assert client.get(f"/api/stories/{story['id']}").json() == story
    for event in export["events"]:
        assert client.get(f"/api/events/{event['id']}").json() == event
    for article in export["articles"]:
        assert client.get(f"/api/articles/{article['id']}").json() == article
    for entity in export["entities"][:20]:
        assert client.get(f"/api/entities/{entity['id']}").json() == entity


def test_api_lists_stories_with_offset_pagination(client: TestClient, export: dict[str, Any]) -> None:
    first = client.get("/api/stories?limit=2").json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["next"] == 2
    rest = client.get("/api/stories?limit=2&offset=2").json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert {s["id"] for s in first["items"] + rest["items"]} == {s["id"] for s in export["stories"]}
    assert set(first["items"][0]) == {"id", "title", "languages", "article_count", "event_count", "first_date",
                                      "last_date", "recent"}
    assert client.get("/api/stories?language=ar&sort=size").json()["items"][0]["id"] == _placed(export, "a1-ar-nabd")[1]


def test_every_page_has_a_json_twin_with_the_export_records(client: TestClient, export: dict[str, Any]) -> None:
    event_id, story_id = _placed(export, "b1-en-globalwire")
    story = client.get(f"/stories/{story_id}.json").json()
    assert story["story"] == _by_id(export["stories"], story_id)
    event = client.get(f"/events/{event_id}.json").json()
    assert event["event"] == _by_id(export["events"], event_id)
    article = client.get("/articles/a1-en-cpa.json").json()
    assert article["article"] == _by_id(export["articles"], "a1-en-cpa")
    entity = client.get("/entities/ent-karim-al-haddad.json").json()
    record = _by_id(export["entities"], "ent-karim-al-haddad")
    assert entity["entity"] == {k: v for k, v in record.items() if k != "articles"}
    assert entity["article_count"] == len(record["articles"])
    search = client.get("/search.json?q=Reinholt").json()
    assert search["items"] and all(item == _by_id(export["articles"], item["id"]) for item in search["items"])
    for path, twin in ((f"/stories/{story_id}", f"/stories/{story_id}.json"),
                       (f"/events/{event_id}", f"/events/{event_id}.json"),
                       ("/articles/a1-en-cpa", "/articles/a1-en-cpa.json"),
                       ("/entities/ent-karim-al-haddad", "/entities/ent-karim-al-haddad.json"),
                       ("/search?q=Reinholt", "/search.json?q=Reinholt")):
        assert f'<link rel="alternate" type="application/json" href="{twin}">' in client.get(path).text


def test_story_page_shows_summary_timeline_entities_quotes_and_a_chart_by_language(
        client: TestClient, export: dict[str, Any]) -> None:
    first_event, dam = _placed(export, "a1-ar-nabd")
    data = client.get(f"/stories/{dam}.json").json()
    assert [t["event"] for t in data["timeline"]] == [t["event"] for t in _by_id(export["stories"], dam)["timeline"]]
    counts = {t["event"]: t["article_count"] for t in data["timeline"]}
    assert counts == {e["id"]: len(e["articles"]) for e in export["events"] if e["story"] == dam}
    names = [e["name"] for e in data["entities"]]
    assert "Karim al-Haddad" in names and "Olena Verbytska" in names
    assert any(q["speaker"] == "ent-karim-al-haddad" for q in data["quotes"])
    days = {(row["date"], row["lang"]) for row in data["articles_per_day"]}
    assert ("2026-03-02", "en") in days and ("2026-03-09", "ar") in days
    html = client.get(f"/stories/{dam}").text
    assert data["story"]["summary"][:60] in html
    assert f'href="/events/{first_event}"' in html and 'href="/entities/ent-karim-al-haddad"' in html
    chart = re.search(r'<figure class="chart">.*?</figure>', html, re.S)
    assert chart and "<rect" in chart.group() and "<title>2026-03-09 · ar: " in chart.group()


def test_event_page_sets_languages_side_by_side_folds_copies_and_says_why(client: TestClient,
                                                                         export: dict[str, Any]) -> None:
    event_id, story_id = _placed(export, "b1-en-globalwire")
    assert set(_by_id(export["events"], event_id)["articles"]) == {"b1-de-tagesblick", "b1-en-globalwire",
                                                                  "b1-en-harbourtimes", "b1-es-marea",
                                                                  "b1-ru-novgorizont"}
    data = client.get(f"/events/{event_id}.json").json()
    columns = {c["lang"]: c["articles"] for c in data["languages"]}
    assert set(columns) == {"de", "en", "es", "ru"}
    assert [(a["id"], a["copies"]) for a in columns["en"]] == [("b1-en-globalwire", ["b1-en-harbourtimes"])]
    why = data["why"]
    assert why["articles"] == 4 and why["copies"] == 1 and why["languages"] == ["de", "en", "es", "ru"]
    assert "Tomas Reinholt" in [e["name"] for e in why["shared_entities"]]
    assert "marsaxlokk" in [w["word"] for w in why["shared_title_words"]]
    assert any(f["figure"] == "14" for f in why["shared_figures"])  # the 14 ships waiting
    assert data["story"] == {"id": story_id, "title": _by_id(export["stories"], story_id)["title"]}
    assert data["quotes"] and data["actions"]
    html = client.get(f"/events/{event_id}").text
    assert "1 syndicated copy" in html and 'href="/articles/b1-en-harbourtimes"' in html
    assert html.count('class="column"') == 4
    arabic = client.get(f"/events/{_placed(export, 'c1-ar-nabd')[0]}").text
    assert re.search(r'<article class="card" lang="ar" dir="rtl">', arabic)


def test_event_model_scores_are_computed_on_request(client: TestClient, export: dict[str, Any]) -> None:
    event_id = _placed(export, "b1-en-globalwire")[0]
    assert "similarity_to_first" not in client.get(f"/events/{event_id}.json").json()["why"]
    scores = client.get(f"/events/{event_id}.json?scores=1").json()["why"]["similarity_to_first"]
    assert len(scores["scores"]) == 3  # four originals (the syndicated copy folded), each against the first
    assert all(0.0 <= s["p_same_story"] <= 1.0 for s in scores["scores"])


def test_article_page_marks_entities_and_quotes_and_links_only_http_urls(client: TestClient,
                                                                         export: dict[str, Any]) -> None:
    data = client.get("/articles/a1-en-cpa.json").json()
    assert (data["event"]["id"], data["story"]["id"]) == _placed(export, "a1-en-cpa")
    html = client.get("/articles/a1-en-cpa").text
    assert re.search(r'<mark class="entity t-PER[^"]*"><a href="/entities/ent-karim-al-haddad"', html)
    assert '<span class="quoted">' in html
    assert f'<a href="{data["article"]["url"]}" rel="noopener noreferrer nofollow"' in html
    copy = client.get("/articles/b1-en-harbourtimes").text
    assert 'Copy of</dt><dd><a href="/articles/b1-en-globalwire"' in copy
    assert client.get("/articles/b1-en-globalwire.json").json()["copies"] == ["b1-en-harbourtimes"]
    arabic = client.get("/articles/a1-ar-nabd").text
    assert '<article lang="ar" dir="rtl">' in arabic and "كريم الحداد" in arabic


def test_entity_page_shows_variants_by_script_neighbours_quotes_and_mentions_over_time(
        client: TestClient, export: dict[str, Any]) -> None:
    data = client.get("/entities/ent-olena-verbytska.json").json()
    scripts = data["variants_by_script"]
    assert "Olena Werbyzka" in scripts["Latin"] and "Олена Вербицька" in scripts["Cyrillic"]
    assert "Arabic" in client.get("/entities/ent-karim-al-haddad.json").json()["variants_by_script"]
    assert data["entity"]["type"] == "PER" and data["story_count"] == 1
    naming = _by_id(export["entities"], "ent-olena-verbytska")["articles"]
    assert [s["id"] for s in data["stories"]] == [_placed(export, "a1-ar-nabd")[1]]
    assert {e["id"] for e in data["events"]} == {_placed(export, a)[0] for a in naming}
    assert data["article_count"] == len(naming)
    assert "ent-karim-al-haddad" in [e["id"] for e in data["cooccurring"]]
    assert all(q["speaker"] == "ent-olena-verbytska" for q in data["quotes"]) and data["quotes"]
    assert {d["date"] for d in data["mentions_per_day"]} >= {"2026-03-02", "2026-03-09"}
    html = client.get("/entities/ent-olena-verbytska").text
    assert "Олена Вербицька" in html and "<dt>Cyrillic</dt>" in html and '<figure class="chart">' in html


def test_search_is_full_text_and_entity_aware_in_any_language(client: TestClient, export: dict[str, Any]) -> None:
    arabic = client.get("/search.json", params={"q": "كريم الحداد"}).json()
    assert [e["id"] for e in arabic["entities"]] == ["ent-karim-al-haddad"]
    languages = {item["lang"] for item in arabic["items"]}
    assert {"ar", "en", "de"} <= languages  # the entity's articles in every language, not only Arabic ones
    english = client.get("/search.json", params={"q": "earthquake", "language": "en"}).json()
    quake = _placed(export, "c1-ar-nabd")[1]
    assert english["items"] and all(i["lang"] == "en" and i["story"] == quake for i in english["items"])
    dated = client.get("/search.json", params={"q": "Reinholt", "since": "2026-03-06"}).json()["items"]
    assert dated and all(i["published"] >= "2026-03-06" for i in dated)
    paged = client.get("/api/search", params={"q": "كريم الحداد", "limit": 2}).json()
    assert len(paged["items"]) == 2 and paged["next"] == 2
    assert client.get("/api/search", params={"q": "كريم الحداد", "limit": 2, "offset": 2}).json()["items"][0]["id"] \
        == arabic["items"][2]["id"]
    html = client.get("/search", params={"q": "زلزال"}).text
    assert 'href="/articles/c1-ar-nabd"' in html and 'dir="rtl"' in html
    assert client.get("/search.json?q=").json()["items"] == []


def test_bad_parameters_and_unknown_ids_answer_in_the_page_kind(client: TestClient) -> None:
    page = client.get("/?since=yesterday")
    assert page.status_code == 400 and "since is not a date" in page.text and page.text.startswith("<!doctype html>")
    assert client.get("/api/stories?since=yesterday").json() == {
        "detail": "since is not a date (YYYY-MM-DD): 'yesterday'"}
    assert client.get("/?limit=1000").status_code == 400
    assert client.get("/api/stories?limit=1000").status_code == 422
    assert client.get("/?sort=sideways").status_code == 400
    missing = client.get("/stories/st-nope")
    assert missing.status_code == 404 and "no story with id" in missing.text and "<html" in missing.text
    assert client.get("/stories/st-nope.json").json() == {"detail": "no story with id 'st-nope'"}
    assert client.get("/api/articles/nope").status_code == 404
    assert client.get("/no/such/page").status_code == 404


def test_every_answer_carries_a_strict_policy_and_pages_hold_no_script_or_inline_style(
        client: TestClient, export: dict[str, Any]) -> None:
    assert "'unsafe-inline'" not in PAGE_POLICY and "script-src" not in PAGE_POLICY
    event_id, story_id = _placed(export, "a1-ar-nabd")
    for path in ("/", f"/stories/{story_id}", f"/events/{event_id}", "/articles/a1-ar-nabd",
                 "/entities/ent-tomas-reinholt", "/search?q=Malta", "/api/stories", "/stories/nope"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == PAGE_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        if answer.headers["content-type"].startswith("text/html"):
            assert "<script" not in answer.text and " style=" not in answer.text
            assert not re.search(r'(?:src|href)="(?:https?:)?//(?!cpa\.|courrier|novgorizont|nabd\.|hafen|newsdesk)',
                                 answer.text)
    docs = client.get("/api/docs")
    assert "script-src 'self';" in docs.headers["content-security-policy"]
    assert re.findall(r'<script[^>]*src="([^"]+)"', docs.text) == ["/static/docs/swagger-ui-bundle.js",
                                                                  "/static/swagger-init.js"]
    assert "<script>" not in docs.text and "//" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', docs.text))
    assert client.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/api/openapi.json").json()
    assert {"/api/stories", "/api/search", "/api/health", "/api/articles", "/api/events/{event_id}"} \
        <= set(spec["paths"])
    assert spec["paths"]["/api/articles"]["post"]["security"] == [{"HTTPBearer": []}]
    assert client.get("/api/health").json() == {"status": "ok", "version": "0.1.0", "read_only": True,
                                                "writes": False, "pending": 0}


def test_writes_need_the_token_and_stay_within_the_size_limit(writable: tuple[TestClient, Path],
                                                              client: TestClient) -> None:
    test_client, _ = writable
    record = {"id": "w1", "title": "T", "text": "Some text about the port of Valletta."}
    assert client.post("/api/articles", json=record, headers=AUTH).status_code == 403  # read-only
    assert test_client.post("/api/articles", json=record).status_code == 401
    assert test_client.post("/api/articles", json=record, headers={"Authorization": "Bearer wrong"}).status_code == 401
    huge = b'{"id": "big", "text": "' + b"x" * (11 * 2**20) + b'"}'
    assert test_client.post("/api/articles", content=huge, headers=AUTH).status_code == 413
    chunked = test_client.post("/api/articles", content=iter([huge[:2**20]] * 11), headers=AUTH)
    assert chunked.status_code == 413  # no Content-Length: counted as it is read
    assert test_client.get("/api/articles/big").status_code == 404


def test_writes_are_refused_without_a_configured_token(corpus_db: Path, tmp_path: Path) -> None:
    with TestClient(create_app(Settings(str(copy_store(corpus_db, tmp_path))))) as test_client:
        refused = test_client.post("/api/articles", json={"text": "x"}, headers=AUTH)
        assert refused.status_code == 403 and "--token" in refused.json()["detail"]


def _cli_reasons(records: list[Any], folder: Path, db: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The reasons `storyline ingest` gives, on stderr, for the same records in a .json file."""
    path = folder / "records.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    capsys.readouterr()
    main(["ingest", str(path), "--db", str(db)])
    found = [re.match(r"storyline: (?:rejected|warning:) \S+?: (.*)", line)
             for line in capsys.readouterr().err.splitlines()]
    return [line.group(1) for line in found if line]


def test_post_validates_as_the_cli_does_then_analyses_and_shows_at_once(
        writable: tuple[TestClient, Path], corpus_db: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    test_client, _ = writable
    records: list[Any] = [
        {"id": "w-good", "title": "Malta port strike ends as dock workers return",
         "text": "Dock workers at Malta's Marsaxlokk port returned to work on Tuesday, union leader Tomas Reinholt "
                 "said, ending the strike after mediation by Helena Borg Vassallo.",
         "published": "2026-03-10", "url": "ftp://example.org/x", "lang": "xx-nonsense"},
        {"id": "w-empty", "title": "Nothing"},
        {"id": ["not", "a", "string"], "text": "body"},
        "not a record",
    ]
    answer = test_client.post("/api/articles", json=records, headers=AUTH)
    assert answer.status_code == 200
    result = answer.json()
    assert result["read"] == 1 and result["added"] == 1 and result["pending"] == 0
    assert [a["id"] for a in result["articles"]] == ["w-good"]
    source = result["rejected"][0]["source"]
    assert re.fullmatch(r"/api/articles/[0-9a-f]{12}#2", source)
    api_reasons = [r["reason"] for r in result["rejected"] + result["warnings"]]
    (tmp_path / "cli").mkdir()
    cli_db = copy_store(corpus_db, tmp_path / "cli")
    assert sorted(api_reasons) == sorted(_cli_reasons(records, tmp_path, cli_db, capsys))
    assert "record has neither a non-empty 'text' nor 'html' field" in api_reasons
    shown = test_client.get("/articles/w-good.json").json()
    assert shown["article"]["url"] is None and shown["story"]["id"] == result["articles"][0]["story"]
    event_page = test_client.get(f"/events/{result['articles'][0]['event']}").text
    assert "Malta port strike ends as dock workers return" in event_page  # live: no restart, no cache
    again = test_client.post("/api/articles", json=records, headers=AUTH).json()
    assert again["read"] == 1 and again["added"] == 0  # idempotent, as the CLI
    nothing = test_client.post("/api/articles", json=[{"title": "no body"}], headers=AUTH)
    assert nothing.status_code == 422 and nothing.json()["read"] == 0
    broken = test_client.post("/api/articles", content=b"{broken", headers=AUTH)
    assert broken.status_code == 422 and broken.json()["rejected"][0]["reason"].startswith("malformed JSON:")


def test_post_takes_json_lines_and_gives_records_without_id_a_stable_one(writable: tuple[TestClient, Path]) -> None:
    test_client, _ = writable
    lines = "\n".join(json.dumps({"title": f"Quake aftershock {n} near Izmir", "text": f"An aftershock of magnitude "
                                  f"4.{n} shook Izmir on Friday, the Turkish Red Crescent said."}) for n in (1, 2))
    headers = {**AUTH, "Content-Type": "application/x-ndjson"}
    first = test_client.post("/api/articles", content=lines.encode(), headers=headers).json()
    assert first["read"] == 2 and first["added"] == 2
    ids = [a["id"] for a in first["articles"]]
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{12}-[12]", i) for i in ids)
    assert test_client.post("/api/articles", content=lines.encode(), headers=headers).json()["added"] == 0
    assert test_client.get(f"/articles/{ids[0]}").status_code == 200


def test_hostile_articles_are_escaped_in_every_page(writable: tuple[TestClient, Path]) -> None:
    test_client, _ = writable
    result = test_client.post("/api/articles", json=HOSTILE, headers=AUTH).json()
    assert result["read"] == 3 and len(result["articles"]) == 3
    assert any("field 'url' is not an http(s) URL" in w["reason"] for w in result["warnings"])
    placed = {a["id"]: a for a in result["articles"]}
    pages = ["/", "/?sort=recent", "/search?q=strike", "/search?q=Reinholt", "/search?q=%3Cscript%3E"]
    for item in placed.values():
        pages += [f"/articles/{_quoted(item['id'])}", f"/events/{_quoted(item['event'])}",
                  f"/stories/{_quoted(item['story'])}", f"/events/{_quoted(item['event'])}?scores=1"]
    mentions = test_client.get("/articles/xss-script.json").json()["mentions"]
    pages += [f"/entities/{_quoted(m['entity'])}" for m in mentions]
    for path in pages:
        answer = test_client.get(path)
        assert answer.status_code == 200, path
        for payload in RAW_PAYLOADS:
            assert payload not in answer.text, (path, payload)
        assert not re.search(r'href="\s*javascript:', answer.text, re.I), path
    article = test_client.get("/articles/xss-script").text
    assert "Harbour strike news" in article  # inline markup leaves titles and text at ingest, script and all
    assert "&lt;svg onload=" in article
    second = test_client.get(f"/articles/{_quoted(HOSTILE[1]['id'])}").text
    assert 'href="https://evil.example.com/&#34;&gt;&lt;script&gt;' in second  # an http URL, escaped whole
    assert test_client.get(f"/api/articles/{_quoted(HOSTILE[1]['id'])}").json()["id"] == HOSTILE[1]["id"]


@pytest.mark.parametrize("url", ["javascript:window.__xss='stored'", " JaVaScRiPt:alert(1)", "data:text/html,<b>x",
                                 "vbscript:msgbox(1)", "//evil.example.com/x"])
def test_a_stored_url_that_is_no_http_url_is_never_a_link(writable: tuple[TestClient, Path], url: str) -> None:
    test_client, db = writable
    with sqlite3.connect(db) as raw:  # no ingestion path stores one (records and feeds drop it): an old store might
        raw.execute("UPDATE articles SET url = ? WHERE id = 'a1-en-cpa'", (url,))
    article = test_client.get("/articles/a1-en-cpa").text
    assert 'class="original"' not in article and 'title="not an http(s) link"' in article  # shown as text
    event = test_client.get(f"/events/{test_client.get('/api/articles/a1-en-cpa').json()['event']}").text
    for html in (article, event):
        assert not re.search(r'href="\s*(?:javascript|data|vbscript):', html, re.I) and 'href="//evil' not in html


def _quoted(item_id: str) -> str:
    return quote(item_id, safe="")


def test_pages_show_what_a_watcher_adds_without_a_restart(writable: tuple[TestClient, Path], tmp_path: Path) -> None:
    test_client, db = writable
    before = {s["id"]: s["article_count"] for s in test_client.get("/index.json").json()["stories"]}
    assert test_client.get("/articles/ferry-1").status_code == 404
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "ferry-1.txt").write_text(
        "Ferry workers join Malta port strike\n\nFerry crews in Valletta joined the dock workers' strike at "
        "Marsaxlokk on Thursday, union leader Tomas Reinholt said.\n", encoding="utf-8")
    store = SQLiteStore(db)
    try:  # what `storyline watch` does with a new file: ingest, then analyse incrementally
        report = pipeline.ingest([folder], store)
        pipeline.analyse(store, report=report, load=False, incremental=True)
    finally:
        store.close()
    placed = test_client.get("/api/articles/ferry-1").json()
    after = {s["id"]: s["article_count"] for s in test_client.get("/index.json").json()["stories"]}
    assert after[placed["story"]] == before.get(placed["story"], 0) + 1
    assert "Ferry workers join Malta port strike" in test_client.get(f"/events/{placed['event']}").text
    assert any(i["id"] == "ferry-1" for i in test_client.get("/api/search?q=ferry").json()["items"])


@pytest.mark.parametrize(("table", "path"), [("merges", "stories"), ("entity_merges", "entities")])
def test_a_merged_story_or_entity_redirects_to_its_survivor(corpus_db: Path, tmp_path: Path, export: dict[str, Any],
                                                            table: str, path: str) -> None:
    survivor = _placed(export, "b1-es-marea")[1] if path == "stories" else export["entities"][0]["id"]
    db = copy_store(corpus_db, tmp_path)
    with sqlite3.connect(db) as raw:  # a merge as incremental analysis records one
        raw.execute(f"INSERT INTO {table} VALUES ('old', ?)", (survivor,))
    with TestClient(create_app(Settings(str(db), read_only=True))) as test_client:
        page = test_client.get(f"/{path}/old", follow_redirects=False)
        assert page.status_code == 301 and page.headers["location"] == f"/{path}/{survivor}"
        api = test_client.get(f"/api/{path}/old", follow_redirects=False)
        assert api.headers["location"] == f"/api/{path}/{survivor}"
        twin = test_client.get(f"/{path}/old.json").json()
        assert twin["story" if path == "stories" else "entity"]["id"] == survivor
        assert test_client.get(f"/{path}/older", follow_redirects=False).status_code == 404


def test_a_read_past_the_deadline_is_interrupted(corpus_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stores, "PROGRESS_STEPS", 1)
    with TestClient(create_app(Settings(str(corpus_db), read_only=True, deadline=-1.0))) as test_client:
        api = test_client.get("/api/stories")
        assert api.status_code == 503 and "took too long" in api.json()["detail"]
        page = test_client.get("/")
        assert page.status_code == 503 and "<html" in page.text


def test_serve_refuses_writes_on_a_public_address_without_a_token(corpus_db: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORYLINE_TOKEN", raising=False)
    assert main(["serve", "--db", str(corpus_db), "--host", "0.0.0.0"]) == 2
    assert "refusing to serve writes on 0.0.0.0 without a token" in capsys.readouterr().err
    assert main(["serve", "--db", str(corpus_db.parent / "missing.db")]) == 1
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("no-such-host.invalid")


def test_a_loopback_server_answers_only_to_loopback_host_names(corpus_db: Path) -> None:
    app = create_app(Settings(str(corpus_db), hosts=("localhost", "127.0.0.1")))
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/health", headers={"host": "localhost:8080"}).status_code == 200
        assert client.get("/", headers={"host": "rebound.example:8080"}).status_code == 400


@pytest.fixture
def postgres_corpus(postgres_url: str) -> Iterator[str]:
    """The corpus digested into a database of its own on the session's PostgreSQL server."""
    psycopg = pytest.importorskip("psycopg")
    name = "storyline_serve_test"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    store = open_store(url)
    try:
        pipeline.digest([CORPUS], store)
    finally:
        store.close()
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_pages_and_api_read_a_postgresql_store(postgres_corpus: str) -> None:
    store = open_store(postgres_corpus, create=False)
    try:
        export = to_json(store.load())
    finally:
        store.close()
    event_id, story_id = _placed(export, "a1-ar-nabd")
    with TestClient(create_app(Settings(postgres_corpus, read_only=True))) as test_client:
        home = test_client.get("/index.json").json()
        assert home["total"] == len(export["stories"]) and all(s["volume"] for s in home["stories"])
        story = test_client.get(f"/stories/{story_id}.json").json()
        assert story["story"] == _by_id(export["stories"], story_id) and story["entities"] and story["quotes"]
        assert test_client.get(f"/events/{event_id}.json").json()["event"] == _by_id(export["events"], event_id)
        article = test_client.get("/articles/a1-ar-nabd.json").json()["article"]
        assert article == _by_id(export["articles"], "a1-ar-nabd")
        entity = test_client.get("/entities/ent-karim-al-haddad.json").json()
        assert entity["cooccurring"] and entity["events"] and entity["mentions_per_day"]
        arabic = test_client.get("/search.json", params={"q": "كريم الحداد"}).json()
        assert [e["id"] for e in arabic["entities"]] == ["ent-karim-al-haddad"] and len(arabic["items"]) > 3
        for path in ("/", f"/stories/{story_id}", f"/events/{event_id}", "/articles/a1-ar-nabd",
                     "/entities/ent-karim-al-haddad", "/search?q=earthquake"):
            assert test_client.get(path).status_code == 200, path


def test_an_id_ending_in_json_keeps_its_page_and_its_twin(writable: tuple[TestClient, Path]) -> None:
    test_client, _ = writable
    record = {"id": "notes.json", "title": "Valletta port strike notes",
              "text": "Dock workers at Marsaxlokk kept up their strike on Monday, Tomas Reinholt said."}
    assert test_client.post("/api/articles", json=record, headers=AUTH).json()["added"] == 1
    page = test_client.get("/articles/notes.json")
    assert page.headers["content-type"].startswith("text/html") and "Valletta port strike notes" in page.text
    assert test_client.get("/articles/notes.json.json").json()["article"]["id"] == "notes.json"
    assert 'href="/articles/notes.json.json"' in page.text


def test_worker_processes_rebuild_the_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTINGS_ENV, json.dumps({"db": "/srv/s.db", "token": "t", "read_only": False,
                                                 "language": "de", "max_body": 1000, "deadline": 2.0}))
    settings = app_from_environment().state.settings
    assert (settings.db, settings.token, settings.language, settings.max_body, settings.writes) == \
        ("/srv/s.db", "t", "de", 1000, True)


def test_an_answer_is_reused_until_anything_commits_to_the_store(corpus_db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from storyline.serve import views

    homes: list[int] = []
    home = views.home
    monkeypatch.setattr(views, "home", lambda *args: homes.append(1) or home(*args))
    db = copy_store(corpus_db, tmp_path)
    with TestClient(create_app(Settings(str(db), read_only=True))) as test_client:
        first = test_client.get("/")
        again = test_client.get("/")
        assert first.text == again.text and len(homes) == 1  # the second answer came from memory
        assert again.headers["content-security-policy"] == PAGE_POLICY  # with the headers, once
        assert test_client.get("/?limit=5").status_code == 200 and len(homes) == 2  # another query: read
        store = SQLiteStore(db)
        try:
            store.set_watch_state("feed", {"etag": "1"})  # any commit, by another connection
        finally:
            store.close()
        test_client.get("/")
        assert len(homes) == 3
    with TestClient(create_app(Settings(str(db), read_only=True, cache_entries=0))) as test_client:
        test_client.get("/")
        test_client.get("/")
        assert len(homes) == 5  # no cache: every request reads the store
