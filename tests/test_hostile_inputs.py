"""A fuzz test of the real command line: 40+ hostile inputs beside good articles, in one `storyline digest`.

The promise under test: a bad input is exactly one clear line on stderr naming it (the file, plus `:N` for a
JSONL line, `#N` for an item of a JSON list), an input kept without a bad optional field is one warning line,
and nothing stops or loses the batch; every good article is stored, in exactly one event, within bounded time
and memory.

Each input is one row of a table: where it lies (the name the CLI must print), how it is written, and what must
happen to it (stored silently, stored with one warning line, or rejected with one line).
"""

from __future__ import annotations

import enum
import gzip
import io
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storyline.export import validate

FOLDER = "in"  # the input folder, relative to the run's working directory: every source the CLI prints starts so
NAMED = "named.pdf"  # an unsupported file named explicitly on the command line (outside FOLDER)
MAX_SECONDS = 120  # the whole run: measured 12 s on a slow 2-core machine
MAX_RSS_BYTES = 2**30  # peak resident memory of the child: measured 522 MiB
MAX_TITLE_CHARS = 300
MIB = 2**20


class Outcome(enum.Enum):
    STORED = "stored, no line"
    WARNED = "stored, one warning line"
    REJECTED = "not stored, one rejection line"


R, W, S = Outcome.REJECTED, Outcome.WARNED, Outcome.STORED


@dataclass(frozen=True)
class Case:
    """One input: `source` is the name the CLI prints for it (relative to the run's working directory)."""

    source: str
    outcome: Outcome
    reason: str = ""  # a piece of the stderr line's reason, when the reason is part of the promise
    lang: str | None = None  # the export's `lang` of the stored article
    title_has: str | None = None  # a piece of the stored title (an encoding decoded right, mojibake repaired)
    url_none: bool = False  # the stored article has no url


# --- the good articles: short invented news, one story in four languages, plus another topic ---------------

EN_TXT = """Floodwaters force evacuation of Tarnova old town

TARNOVA, March 4 (Riverline) - Rescue teams evacuated about 2,000 residents from the old town of Tarnova on
Tuesday after the Selva river burst its banks, mayor Irina Halvorsen said.
"The water rose faster than any of us expected," Halvorsen told reporters outside the town hall.
The regional government of Ostmark sent 300 soldiers and 40 boats to help. No deaths were reported.
"""

EN_HTML = """<!doctype html><html lang="en"><head><title>Selva river floods Tarnova</title>
<meta name="author" content="Lena Brandt"></head><body><article>
<h1>Selva river floods Tarnova, thousands leave their homes</h1>
<p>About 2,000 people left the old town of Tarnova on Tuesday as the Selva river flooded its streets,
the town's mayor Irina Halvorsen said.</p>
<p>Soldiers sent by the Ostmark regional government used boats to reach families trapped on upper floors.
Schools will stay closed until Friday, officials said.</p>
</article></body></html>
"""

FR_TXT = """Inondations à Tarnova : 2 000 habitants évacués

TARNOVA, 4 mars - Les secours ont évacué mardi environ 2 000 habitants de la vieille ville de Tarnova après
la crue de la rivière Selva, a annoncé la maire Irina Halvorsen.
« L'eau est montée plus vite que prévu », a déclaré Mme Halvorsen devant la mairie.
Le gouvernement régional de l'Ostmark a envoyé 300 soldats et 40 bateaux. Aucun décès n'a été signalé.
"""

AR_TXT = """فيضانات تجبر ألفي ساكن على إخلاء البلدة القديمة في تارنوفا

تارنوفا، 4 مارس - أجلت فرق الإنقاذ يوم الثلاثاء نحو ألفي ساكن من البلدة القديمة في تارنوفا بعد فيضان نهر
سيلفا، بحسب ما قالت رئيسة البلدية إيرينا هالفورسن.
وأرسلت حكومة إقليم أوستمارك 300 جندي و40 قاربا للمساعدة. ولم تسجل أي وفيات.
"""

RU_TXT = """Наводнение в Тарнове: эвакуированы две тысячи жителей

ТАРНОВА, 4 марта - Спасатели во вторник эвакуировали около двух тысяч жителей старого города Тарновы после
того, как река Сельва вышла из берегов, сообщила мэр Ирина Хальворсен.
Правительство региона Остмарк направило 300 военных и 40 лодок. Погибших нет.
"""

GOOD_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Qesland Ledger</title><language>en</language>
<item><title>Qesland central bank holds interest rate at 4 percent</title>
<link>https://ledger.example/qesland-rates</link><guid>qesland-rates-0305</guid>
<pubDate>Wed, 05 Mar 2026 09:00:00 GMT</pubDate>
<description>The central bank of Qesland kept its main interest rate at 4 percent on Wednesday, governor Matteo
Varga said, citing slowing inflation and weak exports.</description></item>
</channel></rss>
"""

# Inputs that look odd but are good text: they must be stored without a line.
UTF16_FR = """Grève des cheminots à Lormont : aucun train ce jeudi

LORMONT, 6 mars - Les cheminots de Lormont se sont mis en grève jeudi pour protester contre la fermeture de
deux lignes régionales, a indiqué le syndicat. Aucun train n'a circulé entre Lormont et Vessac.
"""

CP1251_RU = """Новый мост через реку Вольха открыли в Загорске

ЗАГОРСК, 7 марта - В Загорске в пятницу открыли новый мост через реку Вольха, сообщил губернатор области
Павел Ермаков. Строительство моста длилось три года и обошлось бюджету в два миллиарда рублей.
По словам губернатора, мост сократит время в пути между северными и южными районами города вдвое.
"""

MOJIBAKE_FR = """Le café de Montréal « Chez Hélène » ferme ses portes

MONTRÉAL, 8 mars - Après quarante ans, le café « Chez Hélène » de la rue Sainte-Élisabeth fermera ses portes
samedi, a annoncé sa propriétaire Hélène Côté. Les habitués du quartier ont organisé une fête d'adieu.
"""

REPORT_A = "Harbour cranes idle in Brekka as dock strike enters second day\n\nDock workers in Brekka stayed off " \
           "work for a second day on Thursday, union leader Sven Oddsen said.\n"
REPORT_B = "Brekka city council approves new tram line\n\nThe city council of Brekka approved a new tram line " \
           "to the airport on Thursday, council leader Ada Nilsen said.\n"

# A plain text about something else, for JSON records: `{topic}` keeps each record distinct.
RECORD_TEXT = ("Officials in the town of Verrin said on Monday that work on the {topic} would start in April. "
               "The project is paid for by the regional council of Halden, spokesman Piet Moor said.")


def _record(record_id: object, **fields: object) -> str:
    """A JSONL line: a record with a text about `record_id`, the given fields replacing or adding to it."""
    topic = f"project {record_id}"
    record: dict[str, object] = {"id": record_id, "title": f"Verrin starts the {topic}",
                                 "text": RECORD_TEXT.format(topic=topic)}
    record.update(fields)
    return json.dumps(record, ensure_ascii=False)


# --- JSONL lines: each line of records.jsonl is one input --------------------------------------------------

JSONL_LINES: list[tuple[str, Outcome, str, dict[str, Any]]] = [
    # (the line, its outcome, a piece of its reason, checks of the stored article)
    ('{"id": "rec-broken", "text": "The line ends', R, "malformed JSON line", {}),
    ("42", R, "number", {}),
    ("[1, 2]", R, "array", {}),
    ('{"id": "rec-nobody", "title": "A title and nothing else"}', R, "neither", {}),
    (_record("rec-text-number", text=12345), R, "'text'", {}),
    (json.dumps({"id": "rec-html-object", "html": {"body": "<p>x</p>"}}), R, "'html'", {}),
    (_record(["rec", "id", "list"]), R, "'id'", {}),
    (_record({"rec": "id object"}), R, "'id'", {}),
    (_record("rec-id\nnewline"), R, "'id'", {}),
    (_record("rec-source-object", source={"name": "Verrin Post"}), W, "'source'", {}),
    (_record("rec-source-list", source=["Verrin Post"]), W, "'source'", {}),
    (_record("rec-lang-list", lang=["en"]), W, "'lang'", {}),
    (_record("rec-lang-42", lang=42), W, "'lang'", {}),
    (_record("rec-lang-true", lang=True), W, "'lang'", {}),
    (_record("rec-lang-en-us", lang="en-US"), S, "", {"lang": "en"}),
    (_record("rec-lang-upper", lang="EN"), S, "", {"lang": "en"}),
    (_record("rec-lang-pt-br", lang="pt_BR",
             text="A prefeitura de Verrin anunciou na segunda-feira que as obras da nova ponte começam em abril."),
     S, "", {"lang": "pt"}),
    (_record("rec-url-list", url=["https://verrin.example/a"]), W, "'url'", {"url_none": True}),
    (_record("rec-url-javascript", url="javascript:alert(1)"), W, "'url'", {"url_none": True}),
    (_record("rec-published-word", published="yesterday"), W, "'published'", {}),
    (_record("rec-published-number", published=12345), W, "'published'", {}),
    (_record("rec-title-list", title=["Verrin", "works"]), W, "'title'", {}),
    (_record("rec-repeated"), S, "", {}),
    (_record("rec-repeated", text="Another text that reuses the id of an earlier line of this file."), R,
     "repeated id", {}),
    (_record("rec-script", title="<script>alert('title')</script> Verrin council votes on the bridge",
             text="<script>alert('text')</script> The council of Verrin voted on Monday to build the bridge."),
     S, "", {}),
]


# --- how the other inputs are written ----------------------------------------------------------------------

Writer = Callable[[Path], object]  # writes the input at the path (what it returns is ignored)


def _text(content: str, encoding: str = "utf-8") -> Writer:
    return lambda path: path.write_bytes(content.encode(encoding))


def _bytes(content: bytes) -> Writer:
    return lambda path: path.write_bytes(content)


def _random_high_bytes(path: Path) -> None:
    """4 KiB of bytes 0x80-0xff: no NUL to make it binary, no text in any encoding either."""
    rng = random.Random(1)
    path.write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(4096)))


def _control_characters(path: Path) -> None:
    rng = random.Random(2)
    controls = [chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r\x0b\x0c"]
    path.write_text("Headline\n" + "".join(rng.choice(controls) + "ab" for _ in range(3000)), encoding="utf-8")


def _mojibake(path: Path) -> None:
    """UTF-8 text decoded once as cp1252 and saved again as UTF-8 (the classic "CafÃ©")."""
    path.write_text(MOJIBAKE_FR.encode("utf-8").decode("cp1252"), encoding="utf-8")


def _long_line(path: Path) -> None:
    """A single line of 5 MB: all "headline", which must be cut to a title."""
    sentence = "The council of Verrin met again on Monday and the debate about the bridge went on for hours. "
    path.write_text(sentence * (5_000_000 // len(sentence)), encoding="utf-8")


def _sparse(path: Path) -> None:
    """51 MiB of zeros that cost no disk: past the 50 MiB cap on a file read whole."""
    with path.open("wb") as stream:
        stream.truncate(51 * MIB)


def _gzip_bomb(path: Path) -> None:
    """About 60 KiB of gzip that decompresses to 60 MiB of text."""
    chunk = b"flood " * (MIB // 6)
    with gzip.open(path, "wb", compresslevel=9) as stream:
        stream.write(b"Headline\n\n")
        for _ in range(60):
            stream.write(chunk)


def _corrupt_gzip(path: Path) -> None:
    good = gzip.compress(b"Headline\n\nSome article text that will never be read.\n" * 20)
    path.write_bytes(good[:10] + bytes(random.Random(3).randrange(256) for _ in range(200)))


def _good_jsonl_gz(path: Path) -> None:
    record = {"id": "gz-record", "title": "Verrin opens its first public library",
              "text": "The town of Verrin opened its first public library on Saturday, mayor Ona Lind said. "
                      "It holds 20,000 books in four languages.", "lang": "en"}
    path.write_bytes(gzip.compress((json.dumps(record) + "\n").encode("utf-8")))


def _json_list(path: Path) -> None:
    records = [{"id": "list-good", "title": "Halden council cuts bus fares",
                "text": "The regional council of Halden cut bus fares by half on Monday, its leader Bo Strand said."},
               {"id": "list-bad", "title": "A record with no body"}]
    path.write_text(json.dumps(records), encoding="utf-8")


def _deep_json(path: Path) -> None:
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


def _div_bomb(path: Path) -> None:
    path.write_text("<html><head><title>Deep page</title></head><body>" + "<div>" * 100_000
                    + "Deep inside the page a sentence hides." + "</div>" * 100_000 + "</body></html>",
                    encoding="utf-8")


def _empty_paragraphs(path: Path) -> None:
    path.write_text("<html><body>" + "<p></p>" * (MIB // 7) + "</body></html>", encoding="utf-8")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Laughs</title>
<item><title>&lol9;</title><guid>laugh-1</guid><description>&lol9;</description></item>
</channel></rss>
"""


def _warc_response(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    body = EN_HTML.replace("Selva river floods Tarnova", "Tarnova counts the cost of the Selva flood").encode()
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warc_record(
            "https://riverline.example/tarnova-cost", "response", payload=io.BytesIO(body), http_headers=headers,
            warc_headers_dict={"WARC-Date": "2026-03-05T08:00:00Z"}))


def _symlink_loop(path: Path) -> None:
    os.symlink(path.parent.resolve(), path)


def _dangling(path: Path) -> None:
    os.symlink("nowhere.txt", path)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"

# (file under FOLDER, how to write it, expected outcome, a piece of the reason, checks of the stored article);
# the source the CLI prints is FOLDER/file, FOLDER/file#N for the item N of a JSON list (#itemN of a feed,
# #recordN of a WARC file), FOLDER/file:N for the line N of a JSONL file.
FILES: list[tuple[str, Writer, Outcome, str, dict[str, Any]]] = [
    # good articles
    ("good/en-floods.txt", _text(EN_TXT), S, "", {"lang": "en"}),
    ("good/en-selva.html", _text(EN_HTML), S, "", {"lang": "en"}),
    ("good/fr-inondations.txt", _text(FR_TXT), S, "", {"lang": "fr"}),
    ("good/ar-fayadan.txt", _text(AR_TXT), S, "", {"lang": "ar"}),
    ("good/ru-navodnenie.txt", _text(RU_TXT), S, "", {"lang": "ru"}),
    ("good/ledger.rss#item1", _text(GOOD_FEED), S, "", {"lang": "en"}),
    # empty, binary, undecodable
    ("empty.txt", _bytes(b""), R, "empty", {}),
    ("blank.txt", _text("   \n\t\n   \r\n"), R, "empty", {}),
    ("empty.json", _bytes(b""), R, "empty", {}),
    ("photo.html", _bytes(PNG + bytes(range(256)) * 8), R, "binary", {}),
    ("nul-bytes.txt", _bytes(b"Headline\n\n" + b"\x00" * 512 + b"text after the zeros"), R, "binary", {}),
    ("random-bytes.txt", _random_high_bytes, R, "", {}),
    ("control-chars.txt", _control_characters, R, "binary", {}),
    # odd but good encodings: stored silently, decoded right
    ("utf16-bom.txt", _text(UTF16_FR, "utf-16"), S, "", {"lang": "fr", "title_has": "Grève des cheminots"}),
    ("cp1251.txt", _text(CP1251_RU, "cp1251"), S, "", {"lang": "ru", "title_has": "Новый мост"}),
    ("mojibake.txt", _mojibake, S, "", {"lang": "fr", "title_has": "Le café de Montréal"}),
    # size: a 5 MB line is an article with a capped title; past 50 MiB (plain or gzipped) is refused
    ("long-line.txt", _long_line, S, "", {}),
    ("huge-sparse.txt", _sparse, R, "", {}),
    ("bomb.txt.gz", _gzip_bomb, R, "larger than", {}),
    ("corrupt.txt.gz", _corrupt_gzip, R, "", {}),
    ("library.jsonl.gz:1", _good_jsonl_gz, S, "", {"lang": "en"}),
    # JSON files
    ("empty-list.json", _text("[]"), R, "no records", {}),
    ("deep.json", _deep_json, R, "malformed JSON", {}),
    ("malformed.json", _text('{"id": "cut", "text": "The record stops in the mid'), R, "malformed JSON", {}),
    ("mixed.json#1", _json_list, S, "", {}),
    ("mixed.json#2", lambda path: None, R, "neither", {}),  # written with #1
    # HTML bombs: harmless (the page is read within bounds) or one rejection
    ("div-bomb.html", _div_bomb, S, "", {}),
    ("empty-paragraphs.html", _empty_paragraphs, R, "", {}),
    # feeds
    # an entity bomb: a feed that declares entities is refused before any parser sees it
    ("laughs.xml", _text(BILLION_LAUGHS), R, "declares XML entities", {}),
    ("broken.rss", _text('<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><title>'),
     R, "broken feed", {}),
    ("no-items.rss", _text('<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'),
     R, "no items", {}),
    # names and links
    ("slides.pptx", _bytes(b"PK\x03\x04 not read: storyline does not read this type"), S, "", {"absent": True}),
    ("loop", _symlink_loop, R, "symbolic link loop", {}),
    ("dangling.txt", _dangling, R, "broken symbolic link", {}),
    ("bad\nname.txt", _bytes(b"\x00\x01\x02garbage\xff\xfe\x00"), R, "", {}),
    ("a/report.txt", _text(REPORT_A), S, "", {}),
    ("b/report.txt", _text(REPORT_B), S, "", {}),
    # WARC
    ("junk.warc#record1", lambda path: path.write_bytes(random.Random(4).randbytes(4096)), R,
     "broken WARC record: not a WARC record", {}),
    ("capture.warc.gz#record1", _warc_response, S, "", {"lang": "en"}),
]


def _cli_name(text: str) -> str:
    """A source as the CLI prints it: control characters escaped as Python writes them."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda match: ascii(match.group())[1:-1], text)


def _write_inputs(root: Path) -> list[Case]:
    """Write every input under root/FOLDER (and NAMED beside it); the expected outcome of each."""
    folder = root / FOLDER
    cases: list[Case] = []
    for name, write, outcome, reason, table_checks in FILES:
        checks = dict(table_checks)
        file = folder / re.split(r"[#:]", name)[0]
        file.parent.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(file):
            write(file)
        if checks.pop("absent", False):
            continue  # skipped silently: no line, nothing stored, so nothing to name
        cases.append(Case(_cli_name(f"{FOLDER}/{name}"), outcome, reason, **checks))
    lines = [line for line, *_ in JSONL_LINES]
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for number, (_, outcome, reason, checks) in enumerate(JSONL_LINES, 1):
        cases.append(Case(f"{FOLDER}/records.jsonl:{number}", outcome, reason, **checks))
    (root / NAMED).write_bytes(b"%PDF-1.4 a file type storyline does not read")
    cases.append(Case(NAMED, R, "unsupported file type"))
    return cases


LINE = re.compile(r"storyline: (?:(?P<rejected>rejected) |(?P<warning>warning): )(?P<source>.+?): (?P<reason>.+)")
SUMMARY = re.compile(r"(\d+) articles read, (\d+) new, (\d+) rejected")


def _run_measured(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run `command` (killed after MAX_SECONDS) and return it with its own resource usage: wait4 reads this
    child's, where RUSAGE_CHILDREN would give the largest of every child the test process ever had."""
    with (cwd / "out.txt").open("w+") as out, (cwd / "err.txt").open("w+") as err:
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True)
        timer = threading.Timer(MAX_SECONDS, child.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(command, child.returncode, out.read(), err.read()), usage


def test_hostile_inputs_beside_good_ones_cost_one_line_each_and_never_the_batch(tmp_path: Path) -> None:
    cases = _write_inputs(tmp_path)
    assert len([c for c in cases if not c.source.startswith(f"{FOLDER}/good/")]) >= 40
    out = tmp_path / "export.json"
    command = [sys.executable, "-m", "storyline", "digest", FOLDER, NAMED, "--db", "s.db", "--json", str(out)]
    started = time.monotonic()
    run, usage = _run_measured(command, tmp_path)
    seconds = time.monotonic() - started
    if seconds >= MAX_SECONDS:
        pytest.fail(f"digest of {len(cases)} inputs still running after {MAX_SECONDS} s: killed", pytrace=False)
    peak_rss = usage.ru_maxrss * 1024  # KiB on Linux
    print(f"digest of {len(cases)} inputs: {seconds:.1f} s, peak RSS {peak_rss / MIB:.0f} MiB")
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 0, run.stderr
    assert seconds < MAX_SECONDS
    assert peak_rss < MAX_RSS_BYTES

    export = json.loads(out.read_text(encoding="utf-8"))
    validate(export)
    stored = {a["source"]: a for a in export["articles"]}
    event_count = Counter(a for event in export["events"] for a in event["articles"])

    assert run.stderr.strip(), "nothing on stderr, not even the counts"
    *lines, summary = run.stderr.splitlines()
    said: dict[str, list[tuple[str, str]]] = {}
    strays: list[str] = []
    for line in lines:
        match = LINE.fullmatch(line)
        if match is None:
            strays.append(line)
            continue
        kind = "rejected" if match["rejected"] else "warning"
        said.setdefault(match["source"], []).append((kind, match["reason"]))

    problems: list[str] = [f"stderr line that names no input: {line!r}" for line in strays]
    for case in cases:
        got = said.pop(case.source, [])
        article = stored.get(case.source)
        expected_line = {S: None, W: "warning", R: "rejected"}[case.outcome]
        if expected_line is None and got:
            problems.append(f"{case.source!r}: expected no line, got {got}")
        if expected_line is not None and ([kind for kind, _ in got] != [expected_line]
                                          or case.reason not in got[0][1]):
            problems.append(f"{case.source!r}: expected one {expected_line} line with {case.reason!r}, got {got}")
        if case.outcome is R:
            if article is not None:
                problems.append(f"{case.source!r}: expected rejected, but stored as {article['id']!r}")
            continue
        if article is None:
            problems.append(f"{case.source!r}: expected stored, but it is not in the export")
            continue
        if event_count[article["id"]] != 1:
            problems.append(f"{case.source!r}: in {event_count[article['id']]} events")
        if case.lang is not None and article["lang"] != case.lang:
            problems.append(f"{case.source!r}: lang {article['lang']!r}, expected {case.lang!r}")
        if case.title_has is not None and case.title_has not in (article["title"] or ""):
            problems.append(f"{case.source!r}: title {article['title']!r} lacks {case.title_has!r}")
        if case.url_none and article["url"] is not None:
            problems.append(f"{case.source!r}: url {article['url']!r}, expected none")
        if len(article["title"] or "") > MAX_TITLE_CHARS:
            problems.append(f"{case.source!r}: title of {len(article['title'])} characters")
    problems += [f"stderr lines for an input not in the table: {source!r}: {got}" for source, got in said.items()]
    problems += [f"article stored from an input not in the table: {source!r}"
                 for source in stored if source not in {case.source for case in cases}]

    first, second = stored.get(f"{FOLDER}/a/report.txt"), stored.get(f"{FOLDER}/b/report.txt")
    if first and second and first["id"] == second["id"]:
        problems.append(f"a/report.txt and b/report.txt share the id {first['id']!r}")
    kept = [c for c in cases if c.outcome is not R]
    rejected = len(cases) - len(kept)
    match = SUMMARY.fullmatch(summary)
    if match is None or match.groups() != (str(len(kept)), str(len(kept)), str(rejected)):
        problems.append(f"last line {summary!r}, expected '{len(kept)} articles read, {len(kept)} new, "
                        f"{rejected} rejected'")
    assert not problems, "\n".join(problems)


LONG_TEXT = "Verrin council debates the bridge budget\n\n" + "\n\n".join(
    f"Paragraph {n}: the council of Verrin debated the budget of the new bridge for another hour on Monday, "
    f"and member {n} of the finance committee asked for a new estimate before the vote." for n in range(1500))


def test_export_into_a_closed_pipe_and_a_reader_without_a_store(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bridge.txt").write_text(LONG_TEXT, encoding="utf-8")
    storyline = [sys.executable, "-m", "storyline"]
    made = subprocess.run([*storyline, "digest", "in", "--db", "s.db"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr

    # `storyline export --json - | head -c 100`: the export (well past a pipe's buffer) meets a closed pipe.
    export = subprocess.Popen([*storyline, "export", "--json", "-", "--db", "s.db"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert export.stdout is not None and export.stderr is not None
    head = export.stdout.read(100)
    export.stdout.close()
    errors = export.stderr.read().decode("utf-8", "replace")
    code = export.wait(timeout=120)
    assert len(head) == 100 and head.lstrip().startswith(b"{")
    assert "Traceback" not in errors and "Exception ignored" not in errors, errors
    assert code in {0, 128 + 13}, errors  # done, or ended quietly by SIGPIPE as Unix tools are

    # A reader never creates a store: a typo in --db is "no store", exit 1, and no file.
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    stories = subprocess.run([*storyline, "stories", "--db", "missing.db"], cwd=empty, capture_output=True,
                             text=True, timeout=120, check=False)
    assert stories.returncode == 1
    assert "no store" in stories.stderr
    assert "Traceback" not in stories.stderr
    assert list(empty.iterdir()) == []
