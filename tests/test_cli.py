"""The main job from the command line: digest, stories, show, search, export; exit codes; idempotency."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storyline.cli import main
from storyline.export import validate

from .conftest import CORPUS


def _article(folder: Path, name: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"{title}\n\n{body}\n", encoding="utf-8")


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    _article(folder, "port-1.txt", "Dock workers strike at the port of Valletta",
             "Dock workers at Valletta walked out on Wednesday, union leader Tomas Reinholt said. "
             "The strike halted 40 ships.")
    _article(folder, "port-2.txt", "Valletta port strike halts shipping",
             "Shipping at Valletta stopped on Wednesday as dock workers went on strike, Tomas Reinholt said. "
             "Forty ships waited outside the port.")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "feed.jsonl").write_text('{"id": "j1", "title": "T", "text": "body"}\nnot json\n', encoding="utf-8")
    return folder


def test_digest_writes_a_schema_valid_export_and_reports_bad_inputs(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    code = main(["digest", str(small_corpus), "--db", str(tmp_path / "s.db"), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    export = json.loads(out.read_text(encoding="utf-8"))
    validate(export)
    assert sorted(a["id"] for a in export["articles"]) == ["j1", "port-1", "port-2"]
    reasons = {r["reason"] for r in export["rejected"]}
    assert reasons == {"empty file", "malformed JSON line: Expecting value (column 1)"}
    error_lines = [line for line in captured.err.splitlines() if line.startswith("storyline: rejected")]
    assert len(error_lines) == 2
    assert any("empty.txt" in line for line in error_lines)
    assert any("feed.jsonl:2" in line for line in error_lines)
    assert "STORY" in captured.out and "port-1" in captured.out


def test_rerunning_on_the_same_inputs_adds_nothing(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert main(["digest", str(small_corpus), "--db", db, "--json", str(first)]) == 0
    assert main(["digest", str(small_corpus), "--db", db, "--json", str(second)]) == 0
    assert "3 articles read, 0 new" in capsys.readouterr().err
    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_exit_status_is_nonzero_when_nothing_was_processed(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    assert main(["digest", str(tmp_path / "empty.txt"), "--db", str(tmp_path / "s.db")]) == 1
    with pytest.raises(SystemExit) as misuse:
        main(["digest"])
    assert misuse.value.code == 2


def test_a_similarity_model_or_embedder_that_cannot_load_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one.txt").write_text("Headline\nSome text of an article.", encoding="utf-8")
    db = str(tmp_path / "s.db")
    assert main(["digest", str(tmp_path / "one.txt"), "--db", db, "--embedder", str(tmp_path / "nomodel")]) == 2
    assert "nomodel: not a local model directory" in capsys.readouterr().err
    assert main(["digest", str(tmp_path / "one.txt"), "--db", db,
                 "--similarity-model", str(tmp_path / "none.json")]) == 2
    assert "none.json: not a storyline similarity model" in capsys.readouterr().err


def test_stories_show_search_and_export_read_the_store(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "s.db")
    main(["digest", str(small_corpus), "--db", db])
    capsys.readouterr()
    assert main(["stories", "--db", db]) == 0
    assert "STORY" in capsys.readouterr().out
    assert main(["show", "port-1", "--db", db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == "port-1" and shown["event"]
    assert main(["show", "nothing-here", "--db", db]) == 1
    capsys.readouterr()
    for record_id in (shown["event"], shown["story"], "ent-valletta"):
        assert main(["show", record_id, "--db", db]) == 0
        assert json.loads(capsys.readouterr().out)["id"] == record_id
    assert main(["search", "valletta", "--db", db]) == 0
    assert "port-1" in capsys.readouterr().out
    out = tmp_path / "export.json"
    assert main(["export", "--json", str(out), "--db", db]) == 0
    validate(json.loads(out.read_text(encoding="utf-8")))


def test_seeds_export_is_valid_and_languages_are_detected(seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "seeds.json"
    assert main(["digest", str(seeds), "--db", str(tmp_path / "s.db"), "--json", str(out)]) == 0
    export = json.loads(out.read_text(encoding="utf-8"))
    validate(export)
    langs = {a["id"][:3]: a["lang"] for a in export["articles"]}
    assert langs == {"000": "en", "001": "en", "002": "en", "003": "ar", "004": "en"}
    assert all(a["title"] and a["text"] and not a["text"].startswith(a["title"]) for a in export["articles"])


def test_sample_corpus_digest_runs_as_a_module(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    result = subprocess.run(
        [sys.executable, "-m", "storyline", "digest", str(CORPUS), "--db", str(tmp_path / "d.db"), "--json", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    export = json.loads(out.read_text(encoding="utf-8"))
    validate(export)
    assert len(export["articles"]) >= 20
    assert export["rejected"] == []
    assert {"en", "ar", "ru"} <= {a["lang"] for a in export["articles"]}
    assert "STORY" in result.stdout


class _Terminal:
    """A stderr that says it is a terminal, so tqdm draws."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_digest_names_each_analysis_stage_on_a_terminal(
    small_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyline.pipeline import ANALYSIS_STAGES

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["digest", str(small_corpus), "--db", str(tmp_path / "s.db")]) == 0
    shown = [stage for stage in ANALYSIS_STAGES if re.search(rf"analysing \d+/\d+ articles: {stage}", terminal.text)]
    assert shown == list(ANALYSIS_STAGES)
    assert "analysing 3/3 articles: saving" in terminal.text  # the articles analysed, after their window


def test_analyse_reports_its_stages_in_order(small_corpus: Path, tmp_path: Path) -> None:
    from storyline.pipeline import ANALYSIS_STAGES, analyse, ingest
    from storyline.store import open_store

    store = open_store(tmp_path / "s.db")
    ingest([small_corpus], store)
    told: list[str] = []
    assert analyse(store, stage=told.append).events
    assert told == list(ANALYSIS_STAGES)


def test_a_run_with_nothing_new_keeps_the_stored_results_and_a_new_article_or_language_recomputes_them(
    small_corpus: Path, tmp_path: Path
) -> None:
    from storyline.pipeline import ANALYSIS_STAGES, analyse, ingest
    from storyline.store import open_store

    store = open_store(tmp_path / "s.db")
    ingest([small_corpus], store)
    told: list[str] = []
    first = analyse(store, stage=told.append)
    assert told == list(ANALYSIS_STAGES) and store.analysis_state()
    told.clear()
    assert analyse(store, stage=told.append) == first and told == []
    assert analyse(store, language="fr", stage=told.append).events and told == list(ANALYSIS_STAGES)
    told.clear()
    _article(small_corpus, "port-3.txt", "Valletta strike ends", "The dock workers went back to work on Friday.")
    ingest([small_corpus], store)
    assert len(analyse(store, language="fr", stage=told.append).articles) == 4 and told == list(ANALYSIS_STAGES)


def test_digest_prints_the_entities_involved_a_summary_and_a_quote_per_story(
    small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _article(small_corpus, "port-3.txt", "Valletta dock strike goes on",
             "“We will stay out until the company listens,” Tomas Reinholt told reporters in Valletta on "
             "Wednesday. The strike halted the port.")
    assert main(["digest", str(small_corpus), "--db", str(tmp_path / "s.db")]) == 0
    printed = capsys.readouterr().out
    involved = next(line for line in printed.splitlines() if line.startswith("  involved: "))
    assert "Tomas Reinholt" in involved and "Valletta" in involved
    assert "  summary: Dock workers at Valletta walked out on Wednesday" in printed
    assert "    Tomas Reinholt: “We will stay out until the company listens”" in printed


@pytest.mark.parametrize("kind", ["not a database", "a directory", "a server that is not there"])
def test_a_store_that_cannot_be_opened_is_a_usage_error_on_one_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = {"not a database": tmp_path / "notes.db", "a directory": tmp_path,
              "a server that is not there": "postgresql://nobody@127.0.0.1:1/news"}[kind]
    if kind == "not a database":
        (tmp_path / "notes.db").write_text("shopping list\n", encoding="utf-8")
    assert main(["stories", "--db", str(target)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"storyline: cannot open store {target}: ") and error.count("\n") == 1


@pytest.mark.parametrize("command", ["digest", "export"])
def test_a_json_target_that_cannot_be_written_is_refused_before_any_work(
    command: str, small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing" / "out.json"
    paths = [str(small_corpus)] if command == "digest" else []
    assert main([command, *paths, "--db", str(tmp_path / "s.db"), "--json", str(target)]) == 2
    assert capsys.readouterr().err == f"storyline: cannot write {target}: no directory {target.parent}\n"
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("command", [["stories"], ["show", "x"], ["search", "port"], ["export", "--json", "-"]])
def test_a_read_command_on_a_missing_store_says_so_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    db = tmp_path / "missing.db"
    assert main([*command, "--db", str(db)]) == 1
    assert capsys.readouterr().err == f"storyline: no store at {db} (digest or ingest creates one)\n"
    assert list(tmp_path.iterdir()) == []


def test_names_with_control_characters_are_printed_escaped_on_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bad\nname\x1b[31m.txt").write_bytes(b"")
    _article(folder, "ok.txt", "Port of Valletta\x1b[2J reopens", "The port reopened on Wednesday, officials said.")
    assert main(["digest", str(folder), "--db", str(tmp_path / "s.db")]) == 0
    captured = capsys.readouterr()
    assert "storyline: rejected " + str(folder) + "/bad\\nname\\x1b[31m.txt: empty file\n" in captured.err
    assert "\x1b" not in captured.out + captured.err  # ftfy takes terminal escapes out of the text itself
    assert "STORY st-ok: Port of Valletta reopens\n" in captured.out


class _Intranet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body><article><h1>Internal notice</h1><p>The admin password is hunter2.</p></article>" \
               b"</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_loopback_url_is_refused_unless_private_urls_are_allowed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Intranet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/admin"
    try:
        assert main(["digest", url, "--db", str(tmp_path / "s.db")]) == 1
        err = capsys.readouterr().err
        assert f"storyline: rejected {url}: address 127.0.0.1 of 127.0.0.1 is loopback; refused" in err
        assert main(["digest", url, "--db", str(tmp_path / "s.db"), "--allow-private-urls"]) == 0
        assert "Internal notice" in capsys.readouterr().out
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("sample") / "s.db")
    assert main(["digest", str(CORPUS), "--db", db]) == 0
    return db


def _story_lines(out: str) -> list[str]:
    return [line.split(":")[0].removeprefix("STORY ") for line in out.splitlines() if line.startswith("STORY ")]


def test_stories_are_paginated_and_say_where_the_page_ends(sample_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["stories", "--db", sample_db]) == 0
    every = _story_lines(capsys.readouterr().out)
    assert len(every) >= 3
    assert main(["stories", "--db", sample_db, "--limit", "1", "--offset", "1"]) == 0
    captured = capsys.readouterr()
    assert _story_lines(captured.out) == every[1:2]
    assert captured.err == f"storyline: 2 of {len(every)} stories (--offset 2 for more)\n"
    assert main(["stories", "--db", sample_db, "--limit", "2"]) == 0
    assert capsys.readouterr().err == f"storyline: 1-2 of {len(every)} stories (--offset 2 for more)\n"


def test_stories_and_search_are_filtered_by_language_entity_and_date(
        sample_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["stories", "--db", sample_db, "--entity", "Karim al-Haddad"]) == 0
    with_haddad = _story_lines(capsys.readouterr().out)
    assert with_haddad and all(s.startswith("st-") for s in with_haddad)
    assert main(["stories", "--db", sample_db, "--entity", "Nobody Atall"]) == 1
    assert capsys.readouterr().out == "No story matches.\n"
    assert main(["search", "Karim al-Haddad", "--db", sample_db, "--language", "ar"]) == 0
    hits = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert hits and {lang for _, lang, _ in hits} == {"ar"}
    assert main(["search", "Karim al-Haddad", "--db", sample_db, "--until", "1999-01-01"]) == 1
    with pytest.raises(SystemExit):  # argparse: a usage error
        main(["stories", "--db", sample_db, "--since", "not-a-date"])


def test_rebuild_recomputes_every_result_from_the_stored_articles(
        small_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    assert main(["digest", str(small_corpus), "--db", db]) == 0
    from storyline.store import open_store

    store = open_store(db)
    store.db.execute("UPDATE stories SET title = 'stale'")  # what an older version might have left
    store.db.commit()
    store.close()
    capsys.readouterr()
    assert main(["rebuild", "--db", db]) == 0
    assert capsys.readouterr().err.endswith("3 articles, 2 events, 2 stories rebuilt\n")
    assert main(["stories", "--db", db]) == 0
    assert "stale" not in capsys.readouterr().out
    assert main(["rebuild", "--db", str(tmp_path / "none.db")]) == 1
