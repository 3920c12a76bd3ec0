"""Crash safety with real processes: `kill -9` of a writer at a chosen moment, and two writers at once.

A writer is the real CLI run in a child process by a small driver that patches one function to SIGKILL its
own process at the chosen moment (while extracting, while analysing, inside the transaction that saves the
results). Afterwards the readers answer from the last complete analysis and say how many articles wait for
the next one, and rerunning the same `digest` loses and duplicates nothing.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storyline.export import validate
from storyline.store import SQLiteStore

# Headline on the first line, a blank line, then the body: invented short news, English and French.
NORTH = {
    "n01-port-strike": ("Dock workers strike at the port of Valletta",
                        "Dock workers at Valletta walked out on Wednesday, union leader Tomas Reinholt said. "
                        "The strike halted forty container ships. Talks with the port authority broke down."),
    "n02-port-strike": ("Valletta port strike halts shipping for a second day",
                        "Shipping at Valletta stayed frozen on Thursday as dock workers kept up their strike. "
                        "Tomas Reinholt said the union would not return without a new wage offer."),
    "n03-greve-port": ("Grève des dockers au port de La Valette",
                       "Les dockers de La Valette ont cessé le travail mercredi, a déclaré le syndicaliste "
                       "Tomas Reinholt. Une quarantaine de porte-conteneurs attendent au large."),
    "n04-incendie": ("Un incendie ravage la forêt près de Manosque",
                     "Un violent incendie a détruit 800 hectares de pinède près de Manosque dimanche. "
                     "Les pompiers ont évacué trois hameaux. Le mistral attise les flammes."),
    "n05-incendie": ("Incendie de Manosque : les pompiers fixent le feu",
                     "Les pompiers ont annoncé lundi avoir fixé l'incendie qui a brûlé la pinède de Manosque. "
                     "Les habitants des hameaux évacués peuvent rentrer chez eux."),
    "n06-wildfire": ("Wildfire near Manosque forces evacuations in Provence",
                     "A wildfire burned 800 hectares of pine forest near Manosque on Sunday. "
                     "Firefighters evacuated three hamlets as the mistral wind fanned the flames."),
    "n07-election": ("Opposition leader Mira Kostadin wins Velmar presidential vote",
                     "Mira Kostadin won the presidential election in Velmar with 54 percent of the vote, the "
                     "electoral commission said on Monday. Turnout reached a record 71 percent."),
    "n08-election": ("Velmar president concedes defeat to Kostadin",
                     "Outgoing president Darius Fell conceded defeat to Mira Kostadin on Tuesday. "
                     "He called on his supporters to accept the result of the Velmar election peacefully."),
    "n09-layoffs": ("Chipmaker Orvanta to cut 2,000 jobs",
                    "Orvanta, the chipmaker based in Eindhoven, will cut 2,000 jobs as demand for memory chips "
                    "falls, chief executive Lena Brandt said. Shares rose 4 percent."),
    "n10-musee": ("Vol spectaculaire au musée des Beaux-Arts de Lyon",
                  "Deux tableaux de Corot ont été volés dans la nuit de vendredi au musée des Beaux-Arts de "
                  "Lyon. La police judiciaire a ouvert une enquête et examine les caméras."),
}
SOUTH = {
    "s01-flood": ("Floods cut off the city of Rivamar after days of rain",
                  "Floodwater cut every road into Rivamar on Friday after five days of heavy rain. "
                  "Mayor Ines Carvalho said 3,000 residents had been moved to schools and gyms."),
    "s02-flood": ("Rivamar floods: army helicopters deliver food",
                  "Army helicopters dropped food and water in flooded Rivamar on Saturday. "
                  "Mayor Ines Carvalho said the river was still rising in the lower town."),
    "s03-inondation": ("Inondations à Rivamar : la ville coupée du monde",
                       "Les eaux ont coupé toutes les routes menant à Rivamar vendredi après cinq jours de pluie. "
                       "La maire Ines Carvalho a fait évacuer 3 000 habitants."),
    "s04-cup-final": ("Kestrel United win the cup final on penalties",
                      "Kestrel United beat Harbor City 5-4 on penalties in the cup final on Sunday after a "
                      "goalless draw. Goalkeeper Sami Oduya saved two spot kicks."),
    "s05-finale": ("Kestrel United remporte la finale de la coupe aux tirs au but",
                   "Kestrel United a battu Harbor City aux tirs au but dimanche en finale de la coupe. "
                   "Le gardien Sami Oduya a arrêté deux tentatives."),
    "s06-rates": ("Central bank of Norland raises rates to 4.5 percent",
                  "The central bank of Norland raised its main interest rate to 4.5 percent on Thursday, "
                  "governor Piet Hallen said, citing stubborn food prices."),
    "s07-rates": ("Norland rate rise hits mortgage holders",
                  "Mortgage holders in Norland face higher payments after the central bank raised rates to "
                  "4.5 percent. Governor Piet Hallen said more rises were possible."),
    "s08-deraillement": ("Un train de marchandises déraille près de Dijon",
                         "Un train de marchandises transportant des céréales a déraillé mardi près de Dijon. "
                         "Aucun blessé n'est à déplorer, mais la ligne Paris-Lyon est coupée."),
    "s09-deraillement": ("Déraillement près de Dijon : le trafic reprend",
                         "Le trafic a repris jeudi sur la ligne Paris-Lyon après le déraillement d'un train de "
                         "marchandises près de Dijon, a annoncé la SNCF."),
    "s10-vaccine": ("Health ministry of Velmar starts measles vaccine drive",
                    "The health ministry of Velmar began a measles vaccination campaign in schools on Monday. "
                    "Minister Anya Petrov said 400,000 children would get the vaccine by June."),
}
# Words found in one corpus only, for searches.
NORTH_WORD, SOUTH_WORD = "Manosque", "Rivamar"

# Runs the real CLI with one function patched to SIGKILL the process at the chosen moment. Each moment
# says on stderr where it kills, so the test knows the kill happened where it meant it to.
DRIVER = r"""
import os
import signal
import sys

stage, argv = sys.argv[1], sys.argv[2:]


def die(where):
    sys.stderr.write(f"KILLING {where}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


if stage == "extraction":  # on the 3rd article extracted: extract_batch calls it by module global name
    import storyline.extraction as extraction

    original = extraction.extract_document
    calls = [0]

    def extract_document(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 3:
            die("while extracting")
        return original(*args, **kwargs)

    extraction.extract_document = extract_document
elif stage == "analysis":  # once entities are resolved, as events are clustered (a full or incremental run)
    import storyline.increment as increment

    def cluster_more(*args, **kwargs):
        die("while analysing")

    increment.cluster_more = cluster_more
elif stage == "saving":  # inside save_increment's transaction, after its DELETEs and INSERTs, before the commit
    import sqlite3

    class KillingCursor(sqlite3.Cursor):
        def executemany(self, sql, rows):
            result = super().executemany(sql, rows)
            if sql.lstrip().upper().startswith("UPDATE ARTICLES"):
                die(f"while saving in_transaction={self.connection.in_transaction}")
            return result

    class KillingConnection(sqlite3.Connection):
        def cursor(self, factory=KillingCursor):
            return super().cursor(factory)

    connect = sqlite3.connect

    def connecting(*args, **kwargs):
        kwargs.setdefault("factory", KillingConnection)
        return connect(*args, **kwargs)

    sqlite3.connect = connecting
elif stage == "held-analysis":
    # Not killed: once it has read the articles it analyses, it waits until another writer has stored more,
    # then until that writer has saved an analysis or HELD seconds have passed (with one analysis at a time,
    # the other cannot save before this one has).
    import sqlite3
    import time

    import storyline.increment as increment

    HELD = 4.0
    original = increment.resolve_after
    db = argv[argv.index("--db") + 1]

    def count(query):
        connection = sqlite3.connect(db, timeout=60)
        try:
            return connection.execute(query).fetchone()[0]
        finally:
            connection.close()

    held = []

    def resolve(articles, *args, **kwargs):
        if held:  # held once: a later window (the other writer's articles, analysed by this run) goes on
            return original(articles, *args, **kwargs)
        held.append(True)
        sys.stderr.write(f"ANALYSING {len(articles)}\n")
        sys.stderr.flush()
        deadline = time.monotonic() + 60
        while count("SELECT COUNT(*) FROM articles") <= len(articles) and time.monotonic() < deadline:
            time.sleep(0.05)
        sys.stderr.write("OTHER STORED\n")
        sys.stderr.flush()
        deadline = time.monotonic() + HELD
        while not count("SELECT COUNT(*) FROM meta WHERE key = 'analysis'") and time.monotonic() < deadline:
            time.sleep(0.05)
        return original(articles, *args, **kwargs)

    increment.resolve_after = resolve
else:
    raise SystemExit(f"unknown stage {stage!r}")

from storyline.cli import main

sys.exit(main(argv))
"""
WHERE = {"extraction": "KILLING while extracting", "analysis": "KILLING while analysing",
         "saving": "KILLING while saving in_transaction=True"}
TIMEOUT = 120


def _write(folder: Path, articles: dict[str, tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, body) in articles.items():
        (folder / f"{name}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return folder


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "storyline", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _show(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join("DRIVER" if arg == DRIVER else str(arg) for arg in result.args)
    out, err = result.stdout[-3000:], result.stderr[-3000:]
    return f"{command}\nexit {result.returncode}\n--- stdout\n{out}\n--- stderr\n{err}"


def _run_all(commands: dict[str, list[str]], db: Path, cwd: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Readers run at once (each is a fresh interpreter: started together they take less time)."""
    started = {name: subprocess.Popen([sys.executable, "-m", "storyline", *args, "--db", str(db)], cwd=cwd,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name, args in commands.items()}
    return {name: _finish(process) for name, process in started.items()}


def _finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    out, err = process.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _stored_ids(db: Path) -> set[str]:
    """Every article in the store, analysed or waiting for analysis."""
    store = SQLiteStore(db, create=False)
    try:
        return {article.id for article in store.articles()}
    finally:
        store.close()


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, _show(result)
    assert result.returncode in (0, 1), _show(result)


def _waiting(result: subprocess.CompletedProcess[str], pending: int) -> None:
    """The reader says how many articles wait for analysis when some do, and says nothing of it otherwise."""
    lines = [line for line in result.stderr.splitlines() if "wait for" in line]
    if pending:
        noun = "article" if pending == 1 else "articles"
        assert len(lines) == 1 and f"{pending} {noun}" in lines[0], _show(result)
    else:
        assert not lines, _show(result)


def _placed_once(export: dict[str, Any]) -> dict[str, str]:
    """Each article's event, checking that every article is in exactly one event and no event names an
    article the export lacks."""
    validate(export)
    ids = [a["id"] for a in export["articles"]]
    assert len(ids) == len(set(ids)), f"duplicated articles: {sorted(i for i in ids if ids.count(i) > 1)}"
    in_events: dict[str, list[str]] = {}
    for event in export["events"]:
        for article in event["articles"]:
            in_events.setdefault(article, []).append(event["id"])
    assert {a: len(e) for a, e in in_events.items() if len(e) != 1} == {}
    assert set(in_events) == set(ids)
    for article in export["articles"]:
        assert in_events[article["id"]] == [article["event"]]
    return {a: e[0] for a, e in in_events.items()}


def _export(db: Path, cwd: Path, name: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    target = cwd / name
    result = _cli("export", "--json", str(target), "--db", str(db), cwd=cwd)
    assert result.returncode == 0, _show(result)
    export: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return result, export


@pytest.fixture
def corpora(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path / "north", NORTH), _write(tmp_path / "south", SOUTH)


# digest at every moment; ingest, which runs the same stages, once.
@pytest.mark.parametrize(("command", "stage"), [("digest", "extraction"), ("digest", "analysis"),
                                                ("digest", "saving"), ("ingest", "analysis")])
def test_kill_9_leaves_the_last_analysis_readable_and_a_rerun_completes_it(
    stage: str, command: str, corpora: tuple[Path, Path], tmp_path: Path
) -> None:
    north, south = corpora
    db = tmp_path / "store.db"
    first = _cli("digest", str(north), "--db", str(db), cwd=tmp_path)
    assert first.returncode == 0, _show(first)
    _, before = _export(db, tmp_path, "before.json")
    assert sorted(a["id"] for a in before["articles"]) == sorted(NORTH)

    killed = subprocess.run([sys.executable, "-c", DRIVER, stage, command, str(north), str(south), "--db", str(db)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert killed.returncode == -signal.SIGKILL, _show(killed)
    assert WHERE[stage] in killed.stderr, _show(killed)
    stored = _stored_ids(db)
    assert set(NORTH) <= stored <= {*NORTH, *SOUTH}, sorted(stored)
    pending = len(stored - set(NORTH))
    if stage != "extraction":  # extraction was over: the south folder is stored, and waits for analysis
        assert pending == len(SOUTH), sorted(stored)

    # Every reader works (exit 0 or 1, no traceback), answers from the first analysis, and says how many
    # articles wait for the next one.
    story = before["stories"][0]["id"]
    readers = _run_all({
        "export": ["export", "--json", str(tmp_path / "after-kill.json")],
        "show article": ["show", "n01-port-strike"],
        "show story": ["show", story],
        "show unplaced": ["show", "s01-flood"],  # stored or not, it has no event yet
        "stories": ["stories"],
        "search": ["search", NORTH_WORD],
        "search unplaced": ["search", SOUTH_WORD],
    }, db, tmp_path)
    for result in readers.values():
        _no_traceback(result)
        _waiting(result, pending)

    assert readers["export"].returncode == 0, _show(readers["export"])
    after_kill = json.loads((tmp_path / "after-kill.json").read_text(encoding="utf-8"))
    assert _placed_once(after_kill) == _placed_once(before)
    assert after_kill["events"] == before["events"] and after_kill["stories"] == before["stories"]

    shown = readers["show article"]
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == "n01-port-strike", _show(shown)
    shown = readers["show story"]
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == story, _show(shown)
    shown = readers["show unplaced"]
    assert shown.returncode == 1 and not shown.stdout.strip(), _show(shown)

    listed = readers["stories"]
    assert listed.returncode == 0, _show(listed)
    assert sorted(line.split(":")[0].split()[1] for line in listed.stdout.splitlines() if line.startswith("STORY ")) \
        == sorted(s["id"] for s in before["stories"]), _show(listed)

    found = readers["search"]
    assert found.returncode == 0, _show(found)
    assert {line.split("\t")[0] for line in found.stdout.splitlines()} == {"n04-incendie", "n05-incendie",
                                                                            "n06-wildfire"}, _show(found)
    found = readers["search unplaced"]
    assert found.returncode == 1 and not found.stdout.strip(), _show(found)

    # The same command again completes the job: every article of both folders, once, each in one event.
    rerun = _cli(command, str(north), str(south), "--db", str(db), cwd=tmp_path)
    assert rerun.returncode == 0, _show(rerun)
    assert "Traceback" not in rerun.stderr, _show(rerun)
    final_result, final = _export(db, tmp_path, "final.json")
    _waiting(final_result, 0)
    assert sorted(a["id"] for a in final["articles"]) == sorted([*NORTH, *SOUTH])
    _placed_once(final)
    assert final["rejected"] == []


def _ingest(folder: Path, db: Path, cwd: Path, driver: str | None = None) -> subprocess.Popen[str]:
    run = [sys.executable, "-c", DRIVER, driver] if driver else [sys.executable, "-m", "storyline"]
    return subprocess.Popen([*run, "ingest", str(folder), "--db", str(db)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _every_article_placed_once(db: Path, cwd: Path, writers: list[subprocess.CompletedProcess[str]]) -> None:
    for writer in writers:
        assert writer.returncode == 0 and "Traceback" not in writer.stderr, _show(writer)
    exported, export = _export(db, cwd, "both.json")
    _waiting(exported, 0)
    assert sorted(a["id"] for a in export["articles"]) == sorted([*NORTH, *SOUTH])
    _placed_once(export)
    assert export["rejected"] == []


@pytest.mark.parametrize("round_", range(3))
def test_two_ingests_started_at_once_on_one_store_place_every_article_once(
    round_: int, corpora: tuple[Path, Path], tmp_path: Path
) -> None:
    north, south = corpora
    db = tmp_path / f"store-{round_}.db"
    started = [_ingest(folder, db, tmp_path) for folder in (north, south)]
    _every_article_placed_once(db, tmp_path, [_finish(writer) for writer in started])


def test_a_writer_that_stores_while_another_analyses_waits_and_analyses_both(
    corpora: tuple[Path, Path], tmp_path: Path
) -> None:
    """The race made certain: the second ingest stores its articles while the first, having read only its
    own, is held in its analysis. Without one analysis at a time, the first would save last and leave the
    second folder's articles out of every event."""
    north, south = corpora
    db = tmp_path / "store.db"
    first = _ingest(north, db, tmp_path, driver="held-analysis")
    assert first.stderr is not None
    seen = []
    for line in first.stderr:  # the first writer has read the articles and analyses them
        seen.append(line)
        if line.startswith("ANALYSING"):
            break
    else:
        pytest.fail(_show(_finish(first)) + "".join(seen))
    second = _finish(_ingest(south, db, tmp_path))
    held = _finish(first)
    held.stderr = "".join(seen) + held.stderr
    assert f"ANALYSING {len(NORTH)}\n" in held.stderr and "OTHER STORED" in held.stderr, _show(held)
    _every_article_placed_once(db, tmp_path, [held, second])
