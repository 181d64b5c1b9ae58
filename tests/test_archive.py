"""The archive index: root detection, scanning, lookups and backlinks."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from newsarc.archive import Archive, day_spellings, find_root, resolve_link
from newsarc.dates import parse_when
from newsarc.errors import AmbiguousEvent, ArchiveNotFound, EventNotFound
from tests.conftest import EXAMPLES


@pytest.fixture
def small(builder):
    a = builder.event("2016-04-03", "Army retakes the town", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    builder.event("2016-04-05", "Siege ends", related=[("Army retakes the town", a, ["War", "Town, 2016"])])
    builder.event("2016-04-05", "Siege of the airport", related=[("Army retakes the town", a, ["War"])])
    builder.event("2017-08-13", "Eclipse glasses recalled")
    return builder


@pytest.mark.parametrize("start", ["", "news", "news/2016", "news/2016/04/3"])
def test_root_found_from_inside(small, start):
    assert find_root(small.root / start) == small.root


def test_root_found_from_above(small):
    assert find_root(small.root.parent) == small.root


def test_open_from_news_and_root_give_the_same_index(small):
    a = Archive.open(small.root).load()
    b = Archive.open(small.root / "news").load()
    assert [e.path for e in a.events] == [e.path for e in b.events]
    assert a.events[0].path == "news/2016/04/3/army-retakes-the-town.md"


def test_scope_below_root_reads_less_but_resolves_against_root(small):
    site = Archive.open(small.root / "news" / "2017").load()
    assert site.root == small.root
    assert [e.path for e in site.events] == ["news/2017/08/13/eclipse-glasses-recalled.md"]


def test_explicit_root_override(small, tmp_path):
    site = Archive.open(small.root / "news", root=small.root)
    assert site.root == small.root


def test_missing_archive_is_a_clear_error(tmp_path):
    with pytest.raises(ArchiveNotFound, match="does not exist"):
        Archive.open(tmp_path / "nope")


def test_day_pages_are_not_events(small):
    site = Archive.open(small.root).load()
    assert len(site.events) == 4
    assert sorted(site.day_pages) == [
        "news/2016/04/3/index.md",
        "news/2016/04/5/index.md",
        "news/2017/08/13/index.md",
    ]


def test_find_by_path_link_slug_and_prefix(small):
    site = Archive.open(small.root).load()
    want = "news/2016/04/5/siege-ends.md"
    assert site.find(str(small.root / want)).path == want
    assert site.find("/news/2016/04/5/siege-ends.md").path == want
    assert site.find("/news/2016/04/05/siege-ends.md").path == want  # other day spelling
    assert site.find("news/2016/04/5/siege-ends.md").path == want
    assert site.find("siege-ends").path == want
    assert site.find("siege-ends.md").path == want
    assert site.find("eclipse").path == "news/2017/08/13/eclipse-glasses-recalled.md"


def test_ambiguous_prefix_lists_candidates(small):
    site = Archive.open(small.root).load()
    with pytest.raises(AmbiguousEvent) as info:
        site.find("siege")
    assert info.value.candidates == ["news/2016/04/5/siege-ends.md", "news/2016/04/5/siege-of-the-airport.md"]


def test_unknown_event(small):
    with pytest.raises(EventNotFound, match="no event matches 'nothing-like-this'"):
        Archive.open(small.root).find("nothing-like-this")


def test_date_range_reads_only_needed_folders(small):
    site = Archive.open(small.root)
    events = site.events_in(parse_when("2016-04-05"))
    assert [e.title for e in events] == ["Siege ends", "Siege of the airport"]
    assert not site.loaded
    assert {e.path.split("/")[3] for e in site.events} == {"5"}  # nothing else was parsed


def test_padded_and_unpadded_day_folders(builder):
    builder.event("2016-04-03", "Padded day", day_folder="03")
    builder.event("2016-04-04", "Unpadded day")
    site = Archive.open(builder.root)
    assert [e.title for e in site.events_in(parse_when("2016-04"))] == ["Padded day", "Unpadded day"]


def test_backlinks_and_topics(small):
    site = Archive.open(small.root).load()
    target = site.find("army-retakes")
    assert [e.title for e in site.backlinks(target)] == ["Siege ends", "Siege of the airport"]
    topics = site.topics()
    assert [e.title for e in topics["War"]] == ["Army retakes the town", "Siege ends", "Siege of the airport"]
    assert [e.title for e in topics["Town, 2016"]] == ["Siege ends"]
    assert [e.title for e in site.with_topic("war")] == ["Army retakes the town", "Siege ends", "Siege of the airport"]


def test_resolve_link_forms():
    src = "news/2016/04/3/a.md"
    assert resolve_link(src, "/news/2016/04/5/b.md").path == "news/2016/04/5/b.md"
    assert resolve_link(src, "../5/b.md").path == "news/2016/04/5/b.md"
    assert resolve_link(src, "b%20c.md#Top").path == "news/2016/04/3/b c.md"
    assert resolve_link(src, "b.md#Top").fragment == "Top"
    assert resolve_link(src, "#Related").path == src
    assert resolve_link(src, "https://x.org/").external
    assert resolve_link(src, "mailto:a@b.c").external
    assert resolve_link(src, "../../../../../etc/passwd").outside


def test_day_spellings():
    assert day_spellings("news/2016/04/3/x.md") == ["news/2016/04/03/x.md"]
    assert day_spellings("news/2016/04/03/x.md") == ["news/2016/04/3/x.md"]
    assert day_spellings("news/2016/04/13/x.md") == []


def test_unreadable_and_binary_files_are_skipped_with_diagnostics(small):
    small.write("news/2016/04/5/binary.md", b"\x00\x01\x02")
    locked = small.write("news/2016/04/5/locked.md", "# Locked\n")
    os.chmod(locked, 0)
    try:
        site = Archive.open(small.root).load()
    finally:
        os.chmod(locked, 0o644)
    assert len(site.events) == (5 if os.geteuid() == 0 else 4)  # root reads mode-000 files
    messages = {d.path: d.message for d in site.diagnostics}
    assert messages["news/2016/04/5/binary.md"] == "binary file (contains NUL bytes); skipped"
    if os.geteuid() != 0:  # root reads anything
        assert messages["news/2016/04/5/locked.md"].startswith("cannot read file")


def test_symlinks_outside_and_loops_are_not_followed(small, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n")
    (small.root / "news" / "escape").symlink_to(outside)
    (small.root / "news" / "2016" / "loop").symlink_to(small.root / "news")
    site = Archive.open(small.root).load()
    assert all("secret" not in e.path for e in site.events)
    assert len(site.events) == 4
    notes = [str(d) for d in site.scan_diagnostics]
    assert "news/escape: symbolic link to outside the archive root; not followed" in notes
    assert any("symlink loop" in n for n in notes)


def test_examples_archive_is_clean():
    site = Archive.open(EXAMPLES).load()
    assert len(site.events) >= 40
    assert site.diagnostics == []
    years = {e.date.year for e in site.events}
    assert len(years) >= 2
    assert all(isinstance(e.date, dt.date) for e in site.events)


def test_fifo_named_md_is_named_and_skipped(small):
    fifo = small.root / "news/2016/04/5/pipe.md"
    os.mkfifo(fifo)
    site = Archive.open(small.root).load()
    assert len(site.events) == 4
    assert "news/2016/04/5/pipe.md: not a regular file; skipped" in [str(d) for d in site.scan_diagnostics]
