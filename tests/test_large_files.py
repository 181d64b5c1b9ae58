"""Files that cannot be checked, and huge files ("Hostile archives", items 4 and 6).

- A file validate-links cannot check (a binary file, one it cannot read) is an
  error finding in every format, so CI fails on it; a text file with a stray NUL
  byte is read (the NUL as U+FFFD) and its links are checked.
- A file over the size limit (NEWSARC_MAX_FILE_SIZE or --max-file-size, default
  16 MB) is named on stderr and skipped for content by every command, while
  validate-links still checks its links, reading it a part at a time.
"""

from __future__ import annotations

import json

import pytest

from newsarc.archive import Archive
from newsarc.links import validate
from tests.conftest import event_text, run_newsarc

DAY = "news/2017/08/13"
BIG = f"{DAY}/huge-town.md"
LIMIT = {"NEWSARC_MAX_FILE_SIZE": "64k"}


@pytest.fixture
def site(builder, monkeypatch):
    """Two clean events that link each other, with their day pages; the current folder is the root."""
    monkeypatch.chdir(builder.root)
    builder.event("2017-08-12", "Rebels leave the town", body="Rebels left Homs.")
    builder.event("2017-08-13", "Army retakes the town", related=[("Rebels", "/news/2017/08/12/rebels-leave-the-town.md", ["Homs"])])
    return builder


def links(cli, root, *args, env=None):
    return cli("validate-links", "-a", str(root), *args, env=env)


# -- item 4: files that cannot be checked ------------------------------------------------


def test_stray_nul_byte_does_not_hide_broken_links(site, cli):
    text = event_text("2017-08-13", "Nul town", body="A stray \x00 byte.\n\nSee [gone](/news/2017/08/13/gone.md).")
    site.write(f"{DAY}/nul-town.md", text)
    site.days[DAY].append(("Nul town", f"/{DAY}/nul-town.md"))
    site.write_day_pages()
    result = links(cli, site.root, "--format", "text")
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"{DAY}/nul-town.md:7:5: error: missing file: /news/2017/08/13/gone.md [missing-file]" in lines
    assert f"{DAY}/nul-town.md:5:1: warning: text contains NUL bytes (1); read as U+FFFD [unparsed]" in lines
    records = [json.loads(line) for line in links(cli, site.root, "--format", "json").stdout.splitlines()]
    assert [(r["line"], r["kind"], r["severity"]) for r in records if r.get("path") == f"{DAY}/nul-town.md"] == [
        (5, "unparsed", "warning"),
        (7, "missing-file", "error"),
    ]


def test_nul_byte_event_is_listed_and_searchable(site, cli):
    site.write(f"{DAY}/nul-town.md", event_text("2017-08-13", "Nul town", body="A stray \x00 byte."))
    listed = cli("list-by-date", "2017-08-13", "-a", str(site.root), "--json")
    assert "Nul town" in [json.loads(line)["title"] for line in listed.stdout.splitlines()]
    assert f"{DAY}/nul-town.md:5: text contains NUL bytes (1); read as U+FFFD" in listed.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit", "markdown", "rich"])
def test_binary_file_is_an_error_in_every_format(site, cli, fmt):
    site.write(f"{DAY}/picture.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = links(cli, site.root, "--format", fmt)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "cannot check links: binary file" in result.stdout


def test_binary_file_finding(site):
    site.write(f"{DAY}/picture.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    report = validate(Archive.open(site.root, use_cache=False))
    assert [(f.path, f.kind, f.severity, f.message) for f in report.findings] == [
        (f"{DAY}/picture.md", "unreadable", "error", "cannot check links: binary file (contains NUL bytes)")
    ]


def test_binary_file_exit_status_as_a_process(site):
    site.write(f"{DAY}/picture.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    done = run_newsarc("validate-links", "-a", str(site.root))
    assert done.returncode == 1, done.stderr
    assert "picture.md: error: cannot check links: binary file (contains NUL bytes)" in done.stdout
