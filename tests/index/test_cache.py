"""What the commands see is never stale, and what Archive parses on every core is what one core parses.

The index's own freshness rules (every kind of change picked up) are
test_index_freshness.py's; its crash, damage and concurrency cases, test_index_crash.py's.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from newsarc.index import cache
from newsarc.archive import Archive
from tests.conftest import run_newsarc


def age(root: Path, seconds: float = 100) -> None:
    """Make every file older than the racy window, so its cache entry is trusted."""
    past = time.time() - seconds
    for path in root.rglob("*.md"):
        os.utime(path, (past, past))


def load(root: Path, cache_dir: Path) -> Archive:
    return Archive.open(root, cache_dir=cache_dir).load()


@pytest.fixture
def aged(builder, tmp_path):
    builder.event("2016-04-03", "Army retakes the town", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    builder.event("2016-04-05", "Siege ends")
    age(builder.root)
    return builder, tmp_path / "cache"


def test_front_matter_types_survive_the_way_from_a_worker(builder, tmp_path):
    """A parsing worker sends its events as cache.encode's plain tuples (archive.parse_files)."""
    builder.event("2015-09-16", "Coup", front_matter="date: 2015-09-16\nwhen: 2015-09-16T10:00:00\nn: [1, 2.5, null, yes]")
    event = cache.decode(cache.encode(load(builder.root, tmp_path / "c").events[0]))
    assert event.meta == {"date": __import__("datetime").date(2015, 9, 16), "when": __import__("datetime").datetime(2015, 9, 16, 10), "n": [1, 2.5, None, True]}


def test_cli_no_cache_flag(aged):
    builder, cache_dir = aged
    done = run_newsarc("--no-cache", "show", "siege-ends", "--archive", str(builder.root), env={"NEWSARC_CACHE_DIR": str(cache_dir)})
    assert done.returncode == 0
    assert not (cache_dir / "index").exists()


def test_parallel_parse_gives_the_same_events(builder, tmp_path, monkeypatch):
    import newsarc.archive as archive_module

    for day in range(1, 29):
        builder.event(f"2016-02-{day:02d}", f"Event number {day}", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    builder.write("news/2016/02/3/binary.md", b"\x00\x01")
    serial = Archive.open(builder.root, use_cache=False).load()
    monkeypatch.setattr(archive_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(archive_module, "_CHUNK", 7)
    parallel = Archive.open(builder.root, cache_dir=tmp_path / "c").load()
    assert [e.to_dict() for e in parallel.events] == [e.to_dict() for e in serial.events]
    assert sorted(parallel.day_pages) == sorted(serial.day_pages)
    assert [str(d) for d in parallel.diagnostics] == [str(d) for d in serial.diagnostics]


def test_events_without_text_then_with_text(aged):
    builder, cache_dir = aged
    bare = Archive.open(builder.root, cache_dir=cache_dir, text=False).load()
    assert bare.parsed == 4 and all(e.body == "" for e in bare.events)
    full = Archive.open(builder.root, cache_dir=cache_dir).load()
    assert [e.body for e in full.events] == ["Something happened.", "Something happened."]
    assert bare.with_text(bare.events[0]).body == "Something happened."
    fresh = Archive.open(builder.root, cache_dir=cache_dir, use_cache=False).load()
    assert [e.to_dict() for e in full.events] == [e.to_dict() for e in fresh.events]


def test_progress_is_told_what_is_parsed(aged):
    builder, cache_dir = aged
    seen = []
    site = Archive.open(builder.root, cache_dir=cache_dir)
    site.progress = lambda done, total: seen.append((done, total))
    site.load()
    assert seen[-1] == (4, 4)


# -- answering while the index is checked (options.settled) --------------------------


@pytest.fixture(params=["serial", "forked"])
def check_mode(request, monkeypatch):
    """The background check runs in children past PARALLEL_STATS files; force both ways."""
    from newsarc.index import freshness

    if request.param == "forked":
        monkeypatch.delenv("NEWSARC_WORKERS", raising=False)
        monkeypatch.setattr(freshness, "PARALLEL_STATS", 1)
    else:
        monkeypatch.setenv("NEWSARC_WORKERS", "1")
    return request.param


def test_a_stale_index_is_never_shown_while_checked_in_the_background(aged, cli, check_mode):
    builder, cache_dir = aged
    args = ["--cache-dir", str(cache_dir)]
    assert "Siege ends" in cli(*args, "show", "siege-ends", "--archive", str(builder.root)).stdout
    path = builder.root / "news/2016/04/5/siege-ends.md"
    path.write_text(path.read_text().replace("Siege ends", "Siege ENDS"))  # same size, inside the racy window
    shown = cli(*args, "show", "siege-ends", "--json", "--archive", str(builder.root))
    assert shown.exit_code == 0 and json.loads(shown.stdout)["title"] == "Siege ENDS"
    found = cli(*args, "search", "-l", "ENDS", "--archive", str(builder.root))
    assert [line.rsplit("/site/", 1)[-1] for line in found.stdout.split()] == ["news/2016/04/5/siege-ends.md"]


def test_an_event_added_after_the_index_is_found_not_refused(aged, cli, check_mode):
    """The first answer (from the old index) is 'no such event'; it must not be the last."""
    builder, cache_dir = aged
    args = ["--cache-dir", str(cache_dir)]
    assert cli(*args, "show", "siege-ends", "--archive", str(builder.root)).exit_code == 0
    builder.event("2016-04-05", "Truce agreed")
    shown = cli(*args, "show", "truce-agreed", "--json", "--archive", str(builder.root))
    assert shown.exit_code == 0 and json.loads(shown.stdout)["title"] == "Truce agreed"
    checked = cli(*args, "validate-links", "--format", "json", "--archive", str(builder.root))
    assert checked.exit_code == 0, checked.stdout
