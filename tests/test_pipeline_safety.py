"""The pipeline never loses a batch to one document, never lets ids collide silently, and readers see the
last complete analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storyline import extraction, increment, pipeline
from storyline.export import to_json, validate
from storyline.extraction import MAX_TITLE_CHARS, cap_title
from storyline.model import Article
from storyline.store import SQLiteStore


def _write(folder: Path, name: str, headline: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{headline}\n\n{body}", encoding="utf-8")
    return path


def _corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    _write(folder, "one.txt", "Talks open in Geneva", "Ministers met in Geneva on Monday to open talks.")
    _write(folder, "two.txt", "Port of Valletta reopens", "The port reopened on Wednesday after the strike ended.")
    _write(folder, "poison.txt", "POISON headline", "This POISON article breaks one analysis stage.")
    return folder


def test_same_stems_in_two_folders_get_two_ids_that_stay_the_same_in_every_run(tmp_path: Path) -> None:
    a = _write(tmp_path / "in" / "a", "report.txt", "Floods in the north", "Rivers rose across the north on Friday.")
    b = _write(tmp_path / "in" / "b", "report.txt", "Election in the south", "Voters in the south went to the polls.")
    store = SQLiteStore(tmp_path / "s.db")
    first = pipeline.ingest([tmp_path / "in"], store)
    assert (first.read, first.added, first.rejected) == (2, 2, [])
    ids = sorted(a.id for a in store.articles())
    assert ids[0] == "report" and ids[1].startswith("report-") and len(ids[1]) == len("report-") + 8
    again = pipeline.ingest([b], store)  # b alone, later: it keeps its own id, it does not update a's article
    assert (again.read, again.added) == (1, 0)
    assert pipeline.ingest([a, b, a], store).read == 2  # a file named twice is read once
    assert sorted(a.id for a in store.articles()) == ids
    store.close()


def test_an_id_given_by_two_inputs_of_one_run_rejects_the_second(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"id": "same", "text": "First record body."}\n', encoding="utf-8")
    (tmp_path / "y.jsonl").write_text('{"id": "same", "text": "Second record body."}\n', encoding="utf-8")
    store = SQLiteStore(tmp_path / "s.db")
    report = pipeline.ingest([tmp_path / "x.jsonl", tmp_path / "y.jsonl"], store)
    assert report.read == 1
    assert [(r.source.endswith("y.jsonl:1"), r.reason.split(" (")[0]) for r in report.rejected] == [
        (True, "repeated id 'same'")]
    store.close()


def test_a_title_longer_than_a_headline_is_cut_at_a_word_and_the_rest_opens_the_body() -> None:
    words = " ".join(f"word{n}" for n in range(200))
    title, text = cap_title(words, "The body.")
    assert len(title) <= MAX_TITLE_CHARS and not title.endswith(" ") and words.startswith(title)
    assert f"{title} {text.split(chr(10))[0]}" == words and text.endswith("\n\nThe body.")
    assert cap_title("Short headline", "Body") == ("Short headline", "Body")


def test_an_unexpected_error_extracting_one_document_is_a_rejection_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = extraction.extract_document

    def fragile(doc: Any, boilerplate: frozenset[str] = frozenset()) -> Article:
        if "POISON" in doc.content:
            raise RecursionError("maximum recursion depth exceeded")
        return real(doc, boilerplate)

    monkeypatch.setattr(extraction, "extract_document", fragile)
    store = SQLiteStore(tmp_path / "s.db")
    report, result = pipeline.digest([_corpus(tmp_path)], store)
    assert sorted(a.id for a in result.articles) == ["one", "two"]
    assert [(Path(r.source).name, r.reason) for r in report.rejected] == [
        ("poison.txt", "extraction failed: RecursionError: maximum recursion depth exceeded")]
    store.close()


def test_an_article_that_breaks_an_analysis_stage_is_rejected_naming_the_stage_and_the_rest_analysed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = increment.resolve_after

    def fragile(articles: list[Article], *context: Any) -> Any:
        if any("POISON" in a.text for a in articles):
            raise ValueError("cannot resolve this")
        return real(articles, *context)

    monkeypatch.setattr(increment, "resolve_after", fragile)
    store = SQLiteStore(tmp_path / "s.db")
    report, result = pipeline.digest([_corpus(tmp_path)], store)
    validate(to_json(result))
    assert sorted(a.id for a in result.articles) == ["one", "two"]
    assert [(Path(r.source).name, r.reason) for r in report.rejected] == [
        ("poison.txt", "analysis failed at stage 'entities': ValueError: cannot resolve this")]
    assert store.stored(["poison"]) == {} and store.pending() == 0
    assert [(Path(r.source).name) for r in store.load().rejected] == ["poison.txt"]
    store.close()


def test_readers_see_the_last_complete_analysis_and_count_the_articles_waiting(tmp_path: Path) -> None:
    folder = _corpus(tmp_path)
    store = SQLiteStore(tmp_path / "s.db")
    pipeline.digest([folder / "one.txt"], store)
    pipeline.ingest([folder / "two.txt"], store)  # stored, then the run dies before analysing it
    loaded = store.load()
    validate(to_json(loaded))
    assert [a.id for a in loaded.articles] == ["one"] and store.pending() == 1
    assert [a.id for a in store.search("port")] == []
    result = pipeline.analyse(store)
    assert sorted(a.id for a in result.articles) == ["one", "two"] and store.pending() == 0
    store.close()
