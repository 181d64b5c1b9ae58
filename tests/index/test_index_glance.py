"""A build that glances (reading/glance.py) at the files its groups allow writes exactly the rows of a build
that parses every file: the files table (kind, digest, stamps) and every row of the events and links groups,
on examples/, a generated archive (built on every core) and the hostile archives' files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from newsarc.index import build, db
from newsarc.features import catalog  # noqa: F401  (registers the events group)
from newsarc.features.linkcheck import link_tables
from newsarc.reading.parser import parse_bytes
from tests.conftest import EXAMPLES, event_text
from tests.reading.test_glance import generate, md_files

TABLES = {(): ("files",), ("events",): ("files", "events", "topics"),
          ("events", "links"): ("files", "events", "topics", "links", "links_missing", "link_facts")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """examples/, a 2,000-event generated archive (front matter, CRLF, entities, broken links) and the
    hostile cases' files (binary, UTF-16, BOM, bad YAML and dates, 10k links...) under one root."""
    top = tmp_path_factory.mktemp("glanced")
    root = generate(top / "root", 2000, 3)
    shutil.copytree(EXAMPLES / "news", root / "news", dirs_exist_ok=True)
    from tests.cli.test_hostile import CASES, base_archive

    outside = top / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(event_text("2017-08-13", "Secret town"))
    for name, case in CASES.items():
        if name in ("beyond-path-max", "chmod-000", "symlink-loop", "deep-100"):
            continue  # about the walk, not the files read
        case_root = top / name
        bad = case.build(base_archive(case_root), outside)
        target = root / "hostile" / name / bad
        if (case_root / bad).is_file() and not (case_root / bad).is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(case_root / bad, target)
    return root


def dump(root: Path, cache: Path, groups: tuple[str, ...]) -> dict[str, list[tuple]]:
    index = build.open_fresh(root, root, groups, cache_dir=cache)
    try:
        assert index.report.built
        return {name: index.conn.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall() for name in TABLES[groups]}
    finally:
        index.close()


@pytest.mark.parametrize("groups", list(TABLES))
def test_glanced_build_equals_parsed_build(archive, tmp_path, monkeypatch, groups):
    assert build._needs(groups) is not None  # these groups are glanced at
    glanced = dump(archive, tmp_path / "glanced", groups)
    monkeypatch.setattr(build, "_needs", lambda groups: None)  # every file parsed, as before the glance
    parsed = dump(archive, tmp_path / "parsed", groups)
    assert len(glanced["files"]) > 2000 + 100
    assert {row[7] for row in glanced["files"]} == {db.EVENT, db.DAY_PAGE, db.SKIPPED}
    for name in TABLES[groups]:
        assert glanced[name] == parsed[name], name


def test_groups_that_read_more_are_parsed():
    assert build._needs(("events", "links", "search")) is None
    assert build._needs(("words",)) is None


def reference_link_rows(event) -> dict[str, list[tuple]]:
    """The links group's rows as first written (archive.link_targets, day_page_targets, link_facts): the
    faster _link_rows must give the same."""
    from newsarc.archive import day_page_targets, link_facts, link_targets

    import marshal

    roles: dict[str, int] = {}
    lists = None
    if event.is_day_page:
        lists = marshal.dumps([db.stored_path(target) for target in day_page_targets(event)])
        for target in day_page_targets(event):
            roles[target] = link_tables.LISTED
    else:
        for target in link_targets(event):
            roles[target] = roles.get(target, 0) | link_tables.BACKLINK
    links, http, written, quiet = link_facts(event)
    odd = 0
    for target in written.split("\0") if written else ():
        if target[:1] == "/" and "%" not in target and "?" not in target and "#" not in target:
            roles[target[1:]] = roles.get(target[1:], 0) | link_tables.PLAIN
        else:
            odd += 1
    found, missing = [], []
    for target, role in roles.items():
        fid = db.file_id(target)
        (missing if fid is None else found).append((target, role) if fid is None else (fid, role))
    return {"links": found, "links_missing": missing, "link_facts": [(links, http, int(quiet), odd, lists)]}


def _decoded(rows: dict) -> dict:
    """A day page's list as its paths (marshal's bytes for equal lists may differ by its references)."""
    import marshal

    facts = [(*row[:-1], None if row[-1] is None else marshal.loads(row[-1])) for row in rows["link_facts"]]
    return {**rows, "link_facts": facts}


def test_link_rows_equal_the_first_formula(archive, monkeypatch):
    files = md_files(archive)
    monkeypatch.setattr(db, "_IDS", {rel: k for k, (_, rel) in enumerate(files, 1)})
    for data, rel in files:
        event = parse_bytes(data, rel)
        if not event.skipped:
            assert _decoded(link_tables._link_rows(event)) == _decoded(reference_link_rows(event)), rel


@pytest.mark.parametrize("target", ["", "/news/a.md", "b.md", "#top", "foo:bar", "//host/x", "/news/../x.md", "/a%20b.md",
                                    "https://x.org", " http://x.org", "mailto:a@b.c", "/news/x.md?q", "/news/./x.md"])
def test_link_rows_of_odd_targets(tmp_path, target, monkeypatch):
    """A target alone, and beside a plain one: one empty target reads as none in link_facts' joined text."""
    monkeypatch.setattr(db, "_IDS", {"news/a.md": 1, "news/2017/08/13/b.md": 2})
    for body in (f"See [x]({target}).", f"See [x]({target}) and [y](/news/a.md)."):
        event = parse_bytes(event_text("2017-08-13", "Odd town", body=body).encode(), "news/2017/08/13/odd.md")
        assert _decoded(link_tables._link_rows(event)) == _decoded(reference_link_rows(event))
