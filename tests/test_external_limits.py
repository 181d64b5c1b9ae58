"""`--external` against hostile servers and no network: rate limits, a deadline, where links.json lives.

Servers are test_external's (stdlib HTTP on 127.0.0.1); hosts that must not
resolve are `.invalid` names (RFC 6761), which newsarc answers itself, so no
test depends on a DNS server or sends anything beyond 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_newsarc
from tests.test_external import server  # noqa: F401 - `server` is a fixture


@pytest.fixture
def one_url_archive(builder, server):  # noqa: F811
    builder.event("2017-08-01", "One", sources=[("Wire", server.url("/ok"))])
    return builder.root


# -- links.json follows the index cache ------------------------------------------------------------


def _homes(tmp_path: Path) -> dict[str, str | None]:
    """A private HOME and XDG cache: the user cache dir newsarc would otherwise write to."""
    return {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg"), "NEWSARC_CACHE_DIR": None}


def _written(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_cache_dir_option_holds_links_json(cli, one_url_archive, tmp_path):
    chosen = tmp_path / "chosen"
    result = cli("--cache-dir", str(chosen), "validate-links", "-a", str(one_url_archive), "--external", env=_homes(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert "links.json" in _written(chosen)
    assert _written(tmp_path / "home") == [] and _written(tmp_path / "xdg") == []


def test_cache_dir_variable_holds_links_json(one_url_archive, tmp_path):
    chosen = tmp_path / "chosen"
    env = {**_homes(tmp_path), "NEWSARC_CACHE_DIR": str(chosen)}
    result = run_newsarc("validate-links", "-a", str(one_url_archive), "--external", env=env)
    assert result.returncode == 0, result.stderr
    assert "links.json" in _written(chosen)
    assert _written(tmp_path / "home") == [] and _written(tmp_path / "xdg") == []


def test_no_cache_reads_and_writes_no_links_json(cli, one_url_archive, server, tmp_path):  # noqa: F811
    chosen = tmp_path / "chosen"
    args = ("validate-links", "-a", str(one_url_archive), "--external")
    cli("--cache-dir", str(chosen), *args, env=_homes(tmp_path))
    assert json.loads((chosen / "links.json").read_text())["entries"]  # a success, fresh for a day
    server.log.clear()
    result = cli("--no-cache", "--cache-dir", str(chosen), *args, env=_homes(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert server.requests() == [("HEAD", "/ok")]  # not answered from links.json
    assert "from the cache" not in result.stderr
    stamp = (chosen / "links.json").stat().st_mtime_ns
    cli("--no-cache", *args, env=_homes(tmp_path))
    assert (chosen / "links.json").stat().st_mtime_ns == stamp
    assert _written(tmp_path / "home") == [] and _written(tmp_path / "xdg") == []

