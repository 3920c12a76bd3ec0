"""The Dask engine gives what the in-process engine gives: same articles, events, stories, entities, quotes,
actions and rejections, on the sample corpus and on real BSNLP articles, with a worker killed mid-job too."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from storyline import pipeline, relatedness
from storyline.cli import main
from storyline.engine import Engine, InProcess, open_engine
from storyline.export import to_json
from storyline.relatedness import Relatedness
from storyline.store import SQLiteStore

from .conftest import CORPUS, data_file

pytest.importorskip("distributed", reason="the 'dask' extra (dask.distributed) is not installed")

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")
# Real BSNLP dev articles the engines are compared on: every topic and language, small enough for CI (the
# whole dev set is compared by bench/backfill.py).
BSNLP_ARTICLES = 600


@pytest.fixture(scope="module")
def dask_engine() -> Iterator[Engine]:
    engine = open_engine("dask", workers=2)
    yield engine
    engine.close()


def _export(inputs: Sequence[Path], db: Path, engine: Engine, scorer: Relatedness | None = None) -> dict[str, Any]:
    store = SQLiteStore(db)
    try:
        pipeline.digest(list(inputs), store, engine=engine, scorer=scorer, load=False)
        return to_json(store.load())
    finally:
        store.close()


def _with_bad_inputs(folder: Path) -> list[Path]:
    """The sample corpus plus inputs that must be rejected, the same way by both engines."""
    bad = folder / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_text("", encoding="utf-8")
    (bad / "no-text.html").write_text("<html><body><script>x()</script></body></html>", encoding="utf-8")
    (bad / "records.jsonl").write_text('{"id": "r1", "text": "Dock workers in Valletta walked out."}\n'
                                       '{"id": "r2", "text": 42}\n{broken\n', encoding="utf-8")
    return [CORPUS, bad]


def test_dask_engine_gives_the_in_process_export_of_the_sample_corpus(dask_engine: Engine, tmp_path: Path) -> None:
    inputs = _with_bad_inputs(tmp_path)
    local = _export(inputs, tmp_path / "local.db", InProcess())
    distributed = _export(inputs, tmp_path / "dask.db", dask_engine)
    assert len(local["articles"]) == 29 and len(local["stories"]) == 3
    assert {r["source"].rsplit("/", 1)[-1] for r in local["rejected"]} >= {"empty.txt", "no-text.html"}
    assert distributed == local


def _bsnlp_records(folder: Path, limit: int) -> Path:
    """The first `limit` BSNLP dev documents of each (topic, language) in turn, as JSONL records."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with gzip.open(data_file("bsnlp/dev.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            rows.setdefault((row["topic"], row["lang"]), []).append(row)
    picked: list[dict[str, Any]] = []
    while len(picked) < limit and any(rows.values()):
        for group in rows.values():
            if group and len(picked) < limit:
                row = group.pop(0)
                picked.append({"id": f"{row['topic']}-{row['lang']}-{row['doc_id']}", "title": row.get("title") or "",
                               "text": row["text"], "lang": row["lang"], "published": row.get("date") or ""})
    path = folder / "bsnlp.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in picked), encoding="utf-8")
    return path


def test_dask_engine_gives_the_in_process_export_of_real_bsnlp_articles(dask_engine: Engine, tmp_path: Path) -> None:
    records = _bsnlp_records(tmp_path, BSNLP_ARTICLES)
    scorer = relatedness.shipped()  # the lexical model: the encoder's runs are compared by bench/backfill.py
    local = _export([records], tmp_path / "local.db", InProcess(), scorer)
    distributed = _export([records], tmp_path / "dask.db", dask_engine, scorer)
    assert len(local["articles"]) >= 0.99 * BSNLP_ARTICLES  # a few dev documents repeat another's id
    assert len(local["events"]) > 50
    assert distributed == local


class _KillingEngine:
    """The Dask engine, killing one of its workers (SIGKILL) once the analysis has handed it work."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.killed: list[int] = []

    def map(self, fn: Callable[[C, T], R], shared: C, items: Sequence[T]) -> Iterator[R]:
        results: Iterator[R] = self.inner.map(fn, shared, items)  # the tasks are submitted now
        if fn is pipeline._prepared and not self.killed:
            pids = self.inner._client.run(os.getpid)
            self.killed.append(next(iter(pids.values())))
            os.kill(self.killed[0], signal.SIGKILL)
        return results

    def describe(self) -> str:
        return "killing " + str(self.inner.describe())

    def close(self) -> None:
        self.inner.close()


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    records = _bsnlp_records(tmp_path, 200)
    inputs = [CORPUS, records]
    local = _export(inputs, tmp_path / "local.db", InProcess())
    engine = _KillingEngine(open_engine("dask", workers=2))
    try:
        distributed = _export(inputs, tmp_path / "dask.db", engine)
    finally:
        engine.close()
    assert engine.killed
    assert len(distributed["articles"]) == len({a["id"] for a in distributed["articles"]}) >= 225
    assert distributed == local


def test_backfill_command_runs_on_a_local_dask_cluster(tmp_path: Path) -> None:
    # `python -m storyline`: worker processes import the main module again, which must not run the command.
    done = subprocess.run([sys.executable, "-m", "storyline", "backfill", str(CORPUS), "--db", str(tmp_path / "s.db"),
                           "--engine", "dask", "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "engine: dask: 2 workers on a local cluster" in done.stderr
    assert "28 articles, 5 events, 3 stories in the store" in done.stderr


def test_backfill_refuses_a_scheduler_without_the_dask_engine(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backfill", str(CORPUS), "--db", str(tmp_path / "s.db"), "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err


def test_dask_engine_gives_the_in_process_export_when_inputs_come_in_many_chunks(
        dask_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each chunk of inputs sends the workers its sources' recurring lines, which grow chunk after chunk: a
    # worker must see the ones of its own chunk (dask once handed them the first chunk's).
    monkeypatch.setattr(pipeline, "INGEST_CHUNK", 3)
    local = _export([CORPUS], tmp_path / "local.db", InProcess())
    distributed = _export([CORPUS], tmp_path / "dask.db", dask_engine)
    assert distributed == local
