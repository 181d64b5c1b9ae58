"""Outside an archive, newsarc says so at once instead of reading whatever lies below.

Run from `/` or a home folder, it used to read every Markdown file below,
mix unrelated folders into one answer, exit 0 and write an index of gigabytes.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import ArchiveBuilder, run_newsarc


@pytest.mark.parametrize("command", [["stats"], ["list-by-date", "2017-08-21"], ["validate-links"], ["search", "x"]])
def test_a_folder_without_news_is_an_error_and_nothing_is_written(tmp_path, command):
    loose = tmp_path / "notes"
    (loose / "deep" / "er").mkdir(parents=True)
    (loose / "todo.md").write_text("# Todo\n\nbuy milk\n")
    (loose / "deep" / "er" / "x.md").write_text("### [2017-08-21](/news/2017/08/21/index.md)\n\n# X\n")
    cache = tmp_path / "cache"
    result = run_newsarc(*command, cwd=loose, env={"NEWSARC_CACHE_DIR": str(cache)})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"newsarc: no archive at '{loose}': found no news/ folder there, above it or up to 3 levels below;"
        " pass --archive PATH or set NEWSARC_ARCHIVE\n"
    )
    assert not cache.exists() or not any(cache.rglob("*"))


def test_several_archives_below_are_named_not_mixed(tmp_path):
    for name in ("one", "two"):
        ArchiveBuilder(tmp_path / name).event("2017-08-21", f"Event in {name}")
    result = run_newsarc("list-by-date", "2017-08-21", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"newsarc: '{tmp_path}' holds 2 archives ({tmp_path / 'one'}, {tmp_path / 'two'}); pass one with --archive\n"
    )
    picked = run_newsarc("list-by-date", "2017-08-21", "--archive", "two", cwd=tmp_path)
    assert picked.returncode == 0
    assert "Event in two" in picked.stdout and "Event in one" not in picked.stdout


def test_one_archive_below_is_still_found(tmp_path):
    ArchiveBuilder(tmp_path / "site").event("2017-08-21", "The only event")
    result = run_newsarc("list-by-date", "2017-08-21", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "The only event" in result.stdout


def test_root_option_still_names_any_folder(tmp_path):
    """--root overrides detection: the user says where /news/... links resolve."""
    site = tmp_path / "site"
    ArchiveBuilder(site).event("2017-08-21", "Named by root")
    result = run_newsarc("list-by-date", "2017-08-21", "--archive", str(site / "news"), "--root", str(site), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Named by root" in result.stdout
    assert os.path.isdir(site)
