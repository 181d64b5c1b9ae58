"""`stats` on the catalogue (features/stats.py): the counts group against the files decoded one by one.

The Archive's answer (every file parsed and counted) is the yardstick: test_overview.py has long pinned it down. Here the
catalogue's answer must equal it, whole and over spans, on the examples, a
generated archive and validate-links' fixture; and stay right when files
change between runs (a link target deleted and put back, an event added,
a diagnostic fixed), which the group's rows cannot know when written.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest

from newsarc.archive import Archive
from newsarc.features.catalog import Catalog
from newsarc.features.stats import stats
from newsarc.reading.dates import parse_when
from tests.conftest import EXAMPLES, ArchiveBuilder, event_text, generated_archive, run_newsarc
from tests.features.linkcheck.test_checks import build_fixture

SPANS = ["2015..2017", "2016", "2017-08", "2017-08-21", "..2016-03-27", "2016-03-28..", "1990"]


def _catalog(root: Path, cache_dir: Path) -> Catalog:
    return Catalog(Archive.open(root, cache_dir=cache_dir), cache_dir=cache_dir, more=("counts",))


def _expected(root: Path, span=None, top: int = 10) -> dict:
    return asdict(stats(Archive.open(root, use_cache=False), span, top=top))


def _same_everywhere(root: Path, cache: Path, spans: list[str], top: int = 10) -> None:
    """The catalogue's answer equals the archive's: whole, then each span read from the day folders
    (no index open) and from the index."""
    assert asdict(stats(_catalog(root, cache), top=top)) == _expected(root, top=top)
    assert asdict(stats(_catalog(root, cache), top=top)) == _expected(root, top=top)  # the sums kept in the index
    for when in spans:
        span = parse_when(when)
        from_folders = _catalog(root, cache / "none")
        assert asdict(stats(from_folders, span, top=top)) == _expected(root, span, top), when
        opened = _catalog(root, cache)
        opened.database
        assert asdict(stats(opened, span, top=top)) == _expected(root, span, top), when


def test_the_catalogue_counts_as_the_archive_does_on_the_examples(tmp_path):
    _same_everywhere(EXAMPLES, tmp_path / "cache", SPANS)
    assert _expected(EXAMPLES)["events"] > 20


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """bench/gen_archive.py OUT --events 1500 --seed 5 (front matter, CRLF, entities, injected broken links), with
    a file whose date line is not a date and a binary one."""
    out = generated_archive(tmp_path_factory.mktemp("generated"), 1500, 5)
    (out / "news/2016/02/3").mkdir(parents=True, exist_ok=True)
    (out / "news/2016/02/3/undated-note.md").write_text(event_text("2016-02-03", "Undated note").replace("2016-02-03]", "someday]"))
    (out / "news/2016/02/3/broken.md").write_bytes(b"\x00\x01 binary")
    return out


def test_the_catalogue_counts_as_the_archive_does_on_a_generated_archive(generated, tmp_path):
    whole = _expected(generated, top=25)
    assert whole["broken_links"] > 5 and whole["files_with_diagnostics"] > 0 and whole["sources"] > 1500
    first, last = whole["first"], whole["last"]
    _same_everywhere(generated, tmp_path / "cache", [f"{first.year + 1}", f"{first.isoformat()}..{last.year - 1}",
                                                     f"{last.year}-{last.month:02d}"], top=25)


def test_the_catalogue_counts_as_the_archive_does_on_the_link_checkers_fixture(builder, tmp_path):
    """Folder targets, images, a file beside the events, outside links, front matter, a binary file."""
    root = build_fixture(builder)
    whole = _expected(root)
    assert (whole["broken_links"], whole["broken_by_role"]) == (
        10, {"body": 2, "date": 1, "day-page": 1, "front-matter": 1, "related": 5})
    _same_everywhere(root, tmp_path / "cache", ["2015-09", "2015-09-06", "2015-09-10.."])


def _stats(root: Path, cache: Path, *args: str) -> dict:
    done = run_newsarc("stats", "--json", *args, "--archive", str(root), env={"NEWSARC_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _fresh(root: Path, *args: str) -> dict:
    done = run_newsarc("--no-cache", "stats", "--json", *args, "--archive", str(root))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def site(builder: ArchiveBuilder) -> ArchiveBuilder:
    builder.event("2016-04-05", "Siege ends", sources=[("Reuters", "https://www.reuters.com/a")])
    builder.event("2016-04-07", "Aid reaches the town", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])],
                  sources=[("AP", "https://apnews.com/b")])
    builder.event("2016-05-02", "Talks open", body="See [the map](/img/map.png).")
    builder.write_day_pages()
    return builder


def _links(found: dict) -> tuple:
    return found["internal_links"], found["broken_links"], found["broken_by_role"]


def test_a_target_deleted_then_put_back_changes_the_answer(site, tmp_path):
    """The rows were written when the target existed: the next runs see it gone, then back (as a run
    from nothing does), whole and over a span, each time through the index kept up to date."""
    cache = tmp_path / "cache"
    assert _links(_stats(site.root, cache)) == (8, 1, {"body": 1})  # 3 date lines, 1 related, 1 image; 3 day-page items
    target = site.root / "news/2016/04/5/siege-ends.md"
    kept = target.read_bytes()
    target.unlink()
    for args in ((), ("--from", "2016-04", "--to", "2016-04")):
        gone = _stats(site.root, cache, *args)
        assert gone == _fresh(site.root, *args)
    assert _links(_stats(site.root, cache)) == (7, 3, {"body": 1, "day-page": 1, "related": 1})  # its own date line gone
    target.write_bytes(kept)
    assert _links(_stats(site.root, cache)) == (8, 1, {"body": 1})
    (site.root / "img").mkdir()
    (site.root / "img/map.png").write_bytes(b"\x89PNG")  # a target the index does not hold: looked for every run
    assert _links(_stats(site.root, cache)) == (8, 0, {})
    assert _stats(site.root, cache) == _fresh(site.root)


def test_an_event_added_in_the_span_and_a_diagnostic_fixed_change_the_answer(site, tmp_path):
    cache = tmp_path / "cache"
    span = ("--from", "2016-04", "--to", "2016-04")
    before = _stats(site.root, cache, *span)
    assert (before["events"], before["sources"], before["files_with_diagnostics"]) == (2, 2, 0)
    site.event("2016-04-06", "Convoy waits", sources=[("BBC News", "https://www.bbc.co.uk/news/c")],
               related=[("Gone", "/news/2016/04/2/no-such-event.md", ["War"])])
    site.write_day_pages()
    bad = site.root / "news/2016/05/2/talks-open.md"
    bad.write_text(event_text("2016-05-02", "Talks open").replace("2016-05-02]", "someday]"))
    for args in ((), span):
        after = _stats(site.root, cache, *args)
        assert after == _fresh(site.root, *args)
    after = _stats(site.root, cache, *span)
    assert (after["events"], after["sources"], after["broken_by_role"]) == (3, 3, {"related": 1})
    assert {p["publisher"] for p in after["top_publishers"]} == {"AP", "BBC News", "Reuters"}
    whole = _stats(site.root, cache)
    assert (whole["files_with_diagnostics"], whole["diagnostics"]) == (1, 1)
    bad.write_text(event_text("2016-05-02", "Talks open"))
    fixed = _stats(site.root, cache)
    assert (fixed["files_with_diagnostics"], fixed["diagnostics"]) == (0, 0) and fixed == _fresh(site.root)


def test_the_group_holds_targets_as_ids_and_missing_ones_as_paths(site, tmp_path):
    """What the moved hook keeps right: a target gone is a path in count_missing; back, an id again."""
    cache = tmp_path / "cache"
    _stats(site.root, cache)

    def missing() -> list[str]:
        (db_path,) = [p for p in (cache / "index").iterdir() if p.name.endswith(".db")]
        conn = sqlite3.connect(db_path)
        try:
            return sorted(row[0] for row in conn.execute("SELECT target FROM count_missing"))
        finally:
            conn.close()

    assert missing() == ["img/map.png"]
    target = site.root / "news/2016/04/5/siege-ends.md"
    kept = target.read_bytes()
    target.unlink()
    _stats(site.root, cache)
    assert missing() == ["img/map.png", "news/2016/04/5/siege-ends.md", "news/2016/04/5/siege-ends.md"]
    target.write_bytes(kept)
    _stats(site.root, cache)
    assert missing() == ["img/map.png"]


def test_stats_builds_the_catalogue_and_says_nothing_else(site, tmp_path):
    cache = tmp_path / "cache"
    for args in ((), ("--from", "2016"), ("--top", "1")):
        done = run_newsarc("stats", *args, "--archive", str(site.root), env={"NEWSARC_CACHE_DIR": str(cache)})
        assert done.returncode == 0 and done.stderr == ""
    names = [p.name for p in (cache / "index").iterdir()]
    assert [n for n in names if n.endswith(".db")]


def test_a_short_span_on_no_index_reads_its_day_folders_and_builds_nothing(site, tmp_path):
    cache = tmp_path / "cache"
    found = _stats(site.root, cache, "--from", "2016-04-07", "--to", "2016-04-07")
    assert (found["events"], found["internal_links"]) == (1, 3)
    assert not cache.exists() or not any((cache / "index").iterdir())
    assert os.path.isdir(site.root / "news")
