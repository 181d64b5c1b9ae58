"""validate-links' whole-archive forms: --reciprocal, --dump and --external read every file's links
parsed on every core (linkcheck/every_link.py), in the order of the archive's events, with the answers that every
event parsed first gives."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from newsarc import cores
from newsarc.archive import Archive
from newsarc.features.linkcheck import external
from newsarc.features.linkcheck import every_link as linkpass
from newsarc.features.linkcheck import checks as links
from newsarc.features.catalog import Catalog
from newsarc.features.linkcheck.checks import Checker, Columns, Options, Sources
from newsarc.features.linkcheck.over_limit import streamed
from tests.conftest import EXAMPLES
from tests.features.linkcheck.test_checks import build_fixture


# -- the parallel pass ---------------------------------------------------------------------------


def test_stream_answers_in_order_on_every_process():
    assert list(cores.stream(lambda k: [k, os.getpid()], 9, 3))[4][0] == 4
    answers = list(cores.stream(lambda k: [k, os.getpid()], 9, 3))
    assert [k for k, _ in answers] == list(range(9)) and len({pid for _, pid in answers}) == 3


def test_stream_computes_here_what_a_failed_child_did_not_send():
    parent = os.getpid()

    def answer(k: int) -> int:
        if k == 3 and os.getpid() != parent:
            os._exit(1)  # the child of k = 1, 3, 5...
        return k * k

    assert list(cores.stream(answer, 8, 2)) == [k * k for k in range(8)]


def test_a_reader_that_stops_early_ends_the_children():
    answers = cores.stream(lambda k: "x" * 100_000, 1000, 2)  # far more than a pipe holds
    assert next(answers) == "x" * 100_000
    answers.close()  # would hang in waitpid if the child were left blocked on its pipe


@pytest.mark.parametrize("which", ["fixture", "examples"])
def test_the_walk_key_is_the_order_of_the_walk(which, builder):
    root = build_fixture(builder) if which == "fixture" else EXAMPLES
    walked = [rel for _, rel in Archive.open(root, use_cache=False).walk_files()]
    assert sorted(walked, key=linkpass.walk_key) == walked


# -- the same answers as every event parsed first ------------------------------------------------------


def _loaded_sources(root: Path, cache_dir: Path) -> tuple[Archive, Sources]:
    """The whole archive with every file parsed first (Archive.load(): the reference), in its order:
    events by date and path, then day pages as the walk meets them."""
    site = Archive.open(root, cache_dir=cache_dir).load()
    docs = site.every_file()
    return site, Sources(docs, list(site.unreadable), [""], notes=list(site.scan_diagnostics), columns=Columns(docs))


def _open(root: Path, cache_dir: Path, catalogued: bool):
    archive = Archive.open(root, cache_dir=cache_dir)
    if not catalogued:
        return archive
    catalog = Catalog(archive, cache_dir=cache_dir)
    catalog.database  # built, as show builds it
    return catalog


@pytest.fixture(params=["fixture", "examples"])
def root(request, builder) -> Path:
    return build_fixture(builder) if request.param == "fixture" else EXAMPLES


@pytest.mark.parametrize("catalogued", [False, True])
def test_reciprocal_findings_equal_every_event_parsed_first(root, tmp_path, catalogued):
    site, src = _loaded_sources(root, tmp_path / "loaded")
    want = Checker(site, src, Options(reciprocal=True), narrow=False).run()
    got = links.validate(_open(root, tmp_path / "c", catalogued), options=Options(reciprocal=True))
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in want.findings]
    assert got.summary() == want.summary()
    assert any(f.kind == "not-reciprocal" for f in got.findings)


@pytest.mark.parametrize("catalogued", [False, True])
def test_dump_equals_every_event_parsed_first_in_its_order(root, tmp_path, catalogued):
    site, src = _loaded_sources(root, tmp_path / "loaded")
    want = [(doc.path, *record) for doc in [*src.docs, *streamed(root, src.unreadable)] for record in links.link_records(doc)]
    got = [tuple(r.to_dict().values()) for r in links.dump(_open(root, tmp_path / "c", catalogued))]
    assert got == want and len(got) > 30


def test_external_urls_equal_every_event_parsed_first_in_their_order(root, tmp_path):
    _, src = _loaded_sources(root, tmp_path / "loaded")
    want = external.collect([*src.docs, *streamed(root, src.unreadable)])
    archive = Archive.open(root, cache_dir=tmp_path / "c")
    got = external.gather(linkpass.every_file(archive, links.sources(archive), external.written_urls))
    assert list(got.items()) == list(want.items()) and got


def test_many_files_are_parsed_on_every_core_in_order(builder, tmp_path, monkeypatch):
    """Above linkpass._PARALLEL_FILES the pass forks: the answers still come in the archive's order."""
    monkeypatch.setattr(linkpass, "_PARALLEL_FILES", 10)
    monkeypatch.setattr(linkpass, "_BATCH", 3)
    monkeypatch.setenv("NEWSARC_WORKERS", "2")
    root = build_fixture(builder)
    for day in range(1, 12):
        builder.event(f"2016-02-{day:02d}", f"Event {day}", related=[("Alpha", "/news/2015/09/4/alpha-event.md", ["T"])])
    builder.write_day_pages()
    site, src = _loaded_sources(root, tmp_path / "loaded")
    want = [(doc.path, *record) for doc in [*src.docs, *streamed(root, src.unreadable)] for record in links.link_records(doc)]
    assert [tuple(r.to_dict().values()) for r in links.dump(Archive.open(root, cache_dir=tmp_path / "c"))] == want
    reference = Checker(site, src, Options(reciprocal=True), narrow=False).run()
    got = links.validate(Archive.open(root, cache_dir=tmp_path / "c"), options=Options(reciprocal=True))
    assert [f.to_dict() for f in got.findings] == [f.to_dict() for f in reference.findings]


# -- whatever index there is ---------------------------------------------------------------------

FORMS = [
    ["validate-links", "--format", "text"], ["validate-links", "--reciprocal", "--format", "json"],
    ["validate-links", "--dump", "--format", "json"], ["validate-links", "--dump", "--format", "text"],
]  # fmt: skip


@pytest.mark.parametrize("before", ["nothing", "--no-cache", "show"])
def test_the_whole_archive_forms_answer_alike_whatever_index_there_is(cli, tmp_path, before):
    """With no index, with none at all, and beside a catalogue (show built it): the same output."""
    cache = tmp_path / "cache"
    if before == "show":
        assert cli("--cache-dir", str(cache), "show", "hurricane-harvey-makes", "-a", str(EXAMPLES)).exit_code == 0
    options = ["--no-cache"] if before == "--no-cache" else ["--cache-dir", str(cache)]
    for form in FORMS:
        result = cli(*options, *form, "-a", str(EXAMPLES))
        plain = cli("--no-cache", *form, "-a", str(EXAMPLES))
        assert (result.exit_code, result.stdout) == (plain.exit_code, plain.stdout) and result.exit_code == 0, form


def test_edits_between_runs_are_seen(cli, builder, tmp_path):
    """Beside a catalogue built before the edits: a related link returned, a file added, a link added."""
    alpha = builder.event("2016-04-05", "Alpha", related=[("Bravo", "/news/2016/04/6/bravo.md", ["T"])])
    builder.event("2016-04-06", "Bravo")
    builder.write_day_pages()
    args = ["--cache-dir", str(tmp_path / "cache"), "validate-links", "-a", str(builder.root)]
    assert cli(*args[:2], "show", "alpha", "-a", str(builder.root)).exit_code == 0

    def reciprocal() -> list[str]:
        records = [json.loads(line) for line in cli(*args, "--reciprocal", "--format", "json").stdout.splitlines()]
        return [r["path"] for r in records if r.get("kind") == "not-reciprocal"]

    def dumped() -> list[str]:
        return [json.loads(line)["link"] for line in cli(*args, "--dump", "--format", "json").stdout.splitlines()]

    assert reciprocal() == ["news/2016/04/5/alpha.md"]
    builder.event("2016-04-06", "Bravo", related=[("Alpha", alpha, ["T"])])
    builder.event("2016-04-07", "Charlie", related=[("Alpha", alpha, ["T"])])
    builder.write_day_pages()
    assert reciprocal() == ["news/2016/04/7/charlie.md"]
    assert dumped().count(alpha) == 3 and "/news/2016/04/7/charlie.md" in dumped()  # Bravo, Charlie, its day page
