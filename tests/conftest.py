"""Shared fixtures: paths to the shipped sample corpus and to the shared seeds and data (when present)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "examples" / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
DATA = SHARED / "data"


@pytest.fixture
def seeds() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    return SEEDS


def data_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = DATA / relative
    if not path.is_file():
        pytest.skip(f"evaluation data {relative} not found under {DATA}")
    return path


def _postgres_bin() -> Path | None:
    """The directory of a PostgreSQL server's binaries (Debian's layout first, then PATH)."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").is_file():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server started for the test session (or STORYLINE_TEST_POSTGRES, if set).

    initdb refuses to run as root, so as root the server runs as the `postgres` system user.
    """
    if os.environ.get("STORYLINE_TEST_POSTGRES"):
        yield os.environ["STORYLINE_TEST_POSTGRES"]
        return
    pytest.importorskip("psycopg", reason="the 'postgres' extra (psycopg) is not installed")
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine; .ci/run installs them")
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as another user.
    home = Path(tempfile.mkdtemp(prefix="storyline-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = home / "data"
    subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "storyline",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"),
                    "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://storyline@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
