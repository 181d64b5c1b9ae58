"""--no-cache and --cache-dir work on either side of the command name."""

from __future__ import annotations

import pytest

from tests.conftest import run_newsarc


@pytest.mark.parametrize("where", ["before", "after"])
def test_cache_dir_either_side(builder, tmp_path, where):
    builder.event("2017-08-21", "An eclipse crosses America")
    cache = tmp_path / "elsewhere"
    options, command = ["--cache-dir", str(cache)], ["stats", "--archive", str(builder.root)]
    args = [*options, *command] if where == "before" else [*command, *options]
    done = run_newsarc(*args, env={"NEWSARC_CACHE_DIR": str(tmp_path / "default")})
    assert done.returncode == 0, done.stderr
    assert any((cache / "index").iterdir())
    assert not (tmp_path / "default").exists()


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_cache_either_side_writes_nothing(builder, tmp_path, where):
    builder.event("2017-08-21", "An eclipse crosses America")
    command = ["validate-links", "--archive", str(builder.root)]
    args = ["--no-cache", *command] if where == "before" else [*command, "--no-cache"]
    done = run_newsarc(*args, env={"NEWSARC_CACHE_DIR": str(tmp_path / "default")})
    assert done.returncode == 0, done.stderr
    assert "no problems" in done.stderr
    assert not (tmp_path / "default").exists()


def test_options_after_the_command_do_not_stick_to_the_next_run(cli, builder, tmp_path, monkeypatch):
    """In one process (CliRunner), a later command without the option uses the cache again."""
    builder.event("2017-08-21", "An eclipse crosses America")
    monkeypatch.setenv("NEWSARC_CACHE_DIR", str(tmp_path / "default"))
    assert cli("stats", "--archive", str(builder.root), "--no-cache").exit_code == 0
    assert not (tmp_path / "default").exists()
    assert cli("stats", "--archive", str(builder.root)).exit_code == 0
    assert (tmp_path / "default").exists()
