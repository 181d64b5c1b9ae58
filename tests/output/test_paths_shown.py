"""One rule for every path a person reads: relative to the current folder (results, show's fields,
diagnostics on stderr), wherever newsarc runs from; JSON keeps paths relative to the site root."""

from __future__ import annotations

import json

from tests.conftest import run_newsarc

SLUG = "an-eclipse-crosses-america"


def archive(builder):
    builder.event("2017-08-21", "An eclipse crosses America", related=[("x", "/news/2017/08/21/gone.md", ["Eclipses"])])
    builder.event("2017-08-22", "Glasses recalled", related=[("An eclipse", f"/news/2017/08/21/{SLUG}.md", ["Eclipses"])])
    builder.write("news/2017/08/21/broken.md", b"\x00\x01\x02binary")
    return builder.root


def test_from_above_the_archive(builder):
    root = archive(builder)
    shown = run_newsarc("show", SLUG, "--plain", "--archive", "site", cwd=root.parent)
    assert shown.stdout.splitlines()[0] == f"path: site/news/2017/08/21/{SLUG}.md"
    assert "linked-from: site/news/2017/08/22/glasses-recalled.md" in shown.stdout
    assert shown.stderr == "newsarc: site/news/2017/08/21/broken.md: binary file (contains NUL bytes); skipped\n"
    listed = run_newsarc("list-by-date", "2017-08-21", "--archive", "site", cwd=root.parent)
    assert listed.stdout.split("\t")[1] == f"site/news/2017/08/21/{SLUG}.md"
    assert listed.stderr == shown.stderr


def test_from_inside_news(builder):
    root = archive(builder)
    shown = run_newsarc("show", SLUG, "--plain", cwd=root / "news")
    assert shown.stdout.splitlines()[0] == f"path: 2017/08/21/{SLUG}.md"  # not ../news/2017/...
    assert shown.stderr == "newsarc: 2017/08/21/broken.md: binary file (contains NUL bytes); skipped\n"
    found = run_newsarc("search", "-l", "eclipse", cwd=root / "news" / "2017")
    assert found.stdout == f"08/21/{SLUG}.md\n"


def test_json_keeps_site_root_paths(builder):
    root = archive(builder)
    record = json.loads(run_newsarc("show", SLUG, "--json", "--archive", "site", cwd=root.parent).stdout)
    assert record["path"] == f"news/2017/08/21/{SLUG}.md"
