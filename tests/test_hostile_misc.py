"""Hostile archives, items 7 and 8: index files that are not files, dates dateutil would guess,
damage to what the index stores, and link fragments that name HTML anchors or heading ids.

Everything runs for real: archives in tmp_path, the CLI in-process (CliRunner)
and as a subprocess with a timeout, so a command that blocks fails its test
instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsarc.store import Store
from tests.conftest import ArchiveBuilder

TITLE = "Floods on the Amazonas displace thousands"


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """newsarc as a subprocess that may not hang: 30 s, then the test fails (TimeoutExpired)."""
    full = {**os.environ, "COLUMNS": "100", "NEWSARC_WORKERS": "1", **env}
    full.pop("NEWSARC_ARCHIVE", None)
    return subprocess.run([sys.executable, "-m", "newsarc", *args], env=full, capture_output=True, text=True, timeout=30)


@pytest.fixture
def site(builder: ArchiveBuilder) -> Path:
    builder.event("2017-08-13", TITLE, body="The river rose overnight.")
    builder.event("2017-08-14", "Rains stop in the basin", body="Water levels fell.")
    return builder.root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")}


def _store_file(env: dict[str, str]) -> Path:
    (found,) = (Path(env["NEWSARC_CACHE_DIR"]) / "index").glob("*.store")
    return found


def _show(site: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run("show", "floods-on-the-amazonas", "--json", "-a", str(site), env=env)


# -- 7. a one-bit flip in a stored record --------------------------------------------------


def test_a_bit_flipped_in_a_stored_title_is_one_clear_error_then_the_right_answer(site, env):
    """`Amazonas` -> `Alazonas` in the record's bytes: the old store decoded it and printed it (exit 0)."""
    assert json.loads(_show(site, env).stdout)["title"] == TITLE
    store_file = _store_file(env)
    index = Store.read(store_file)
    blobs, rows = store_file.parent / index.blob_file[0], index.at("rows")
    i = index.find("news/2017/08/13/floods-on-the-amazonas-displace-thousands.md")
    data = bytearray(blobs.read_bytes())
    at = data.find(b"Amazonas", rows[2 * i], rows[2 * i + 1])  # the event's record (the day page's names it too)
    assert at >= 0
    data[at + 1] ^= 0x01  # m -> l
    blobs.write_bytes(bytes(data))
    damaged = _show(site, env)
    assert (damaged.returncode, damaged.stdout) == (2, "")
    assert damaged.stderr == (
        "newsarc: the index cache was damaged (its rows do not read back) and has been removed; run the command again\n"
    )
    again = _show(site, env)
    assert again.returncode == 0 and json.loads(again.stdout)["title"] == TITLE
