"""The archive index: root detection, scanning, lookups and backlinks."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from newsarc.archive import Archive, day_spellings, find_root, resolve_link
from newsarc.reading.dates import parse_when
from newsarc.errors import AmbiguousEvent, ArchiveNotFound, EventNotFound
from tests.conftest import EXAMPLES, event_text


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


@pytest.fixture
def misfiled(builder):
    """Two months of events, one filed under a day its date line contradicts, one a folder below its day."""
    for day in range(1, 29):
        builder.event(f"2016-03-{day:02d}", f"March day {day}")
    builder.event("2016-04-02", "April event")
    builder.write("news/2016/03/3/filed-in-march.md", event_text("2016-04-10", "Dated April, filed in March"))
    builder.write("news/2016/04/2/early.md", event_text("2016-03-30", "Dated March, filed in April"))
    builder.write("news/2016/03/4/more/nested.md", event_text("2016-03-04", "Below its day folder"))
    return builder


@pytest.mark.parametrize("when", ["2016-03", "2016-03-02..2016-04-01", "2016-03-03..", "..2016-04-02", "2016-04", "2015"])
def test_a_long_span_from_the_index_lists_what_its_day_folders_hold(misfiled, monkeypatch, when):
    """A span of many day folders is picked from the catalogue's index: the same events, in the same order,
    as reading its day folders (a file dated outside its folder's day is in neither; one below it is)."""
    from newsarc.features import catalog

    span = parse_when(when)
    by_folders = Archive.open(misfiled.root).events_in(span)
    catalog.Catalog(Archive.open(misfiled.root)).database.close()  # the index is written
    monkeypatch.setattr(catalog, "INDEX_FOLDERS", 1)
    site = catalog.Catalog(Archive.open(misfiled.root))
    from_index = site.events_in(span)
    assert site.opened == bool(by_folders)  # 2015: no folder, nothing read
    assert [e.path for e in from_index] == [e.path for e in by_folders]
    assert [(e.date, e.title, len(e.sources)) for e in from_index] == [(e.date, e.title, len(e.sources)) for e in by_folders]
    assert "news/2016/03/4/more/nested.md" in [e.path for e in from_index] or span.start != parse_when("2016-03").start


def test_a_long_span_without_an_index_reads_folders_unless_it_is_most_of_the_archive(misfiled, monkeypatch):
    from newsarc.features import catalog

    monkeypatch.setattr(catalog, "INDEX_FOLDERS", 5)
    site = catalog.Catalog(Archive.open(misfiled.root))
    site.events_in(parse_when("2016-03-01..2016-03-10"))
    assert not site.opened  # 10 of 30 folders: no index built
    site = catalog.Catalog(Archive.open(misfiled.root))
    site.events_in(parse_when("2016-03-01..2016-03-20"))
    assert site.opened  # 20 of 30: built, and used


def test_list_by_date_from_the_index_prints_and_reports_what_the_folders_give(misfiled, monkeypatch, cli):
    """Same stdout, and the same problems on stderr: those of the span's files, not of every file."""
    misfiled.write("news/2016/03/5/binary.md", b"\x00\x01binary")
    misfiled.write("news/2016/04/2/binary.md", b"\x00\x01binary")
    misfiled.write("news/2016/03/6/no-headline.md", "### [2016-03-06](/news/2016/03/6/index.md)\n\nNo headline here.\n")
    from_index = _same_both_ways(misfiled, monkeypatch, cli, "list-by-date", "2016-03")
    assert "03/5/binary.md" in from_index.stderr and "04/2/binary.md" not in from_index.stderr
    assert "no headline" in from_index.stderr and from_index.stdout.count("\n") == 30


@pytest.mark.parametrize("command", [("stats",), ("topics",), ("search", "-i", "march")])
def test_commands_over_a_span_answer_alike_from_folders_or_index(misfiled, monkeypatch, cli, command):
    """stats counts the day pages of the span's folders: it reads them, index or not."""
    found = _same_both_ways(misfiled, monkeypatch, cli, *command, "--from", "2016-03-02", "--to", "2016-04-05")
    assert found.stdout or command == ("topics",)  # these events carry no topic


def test_stats_over_a_span_names_the_problems_of_its_folders_from_folders_or_index(misfiled, monkeypatch, cli):
    """stats over a span named what reading its day folders found; from the catalogue, which knows every
    unreadable file, it names those of the span's folders, no more (features/stats.reported)."""
    misfiled.write("news/2016/03/5/binary.md", b"\x00\x01binary")
    misfiled.write("news/2016/04/9/binary.md", b"\x00\x01binary")
    misfiled.write("news/drafts/binary.md", b"\x00\x01binary")
    found = _same_both_ways(misfiled, monkeypatch, cli, "stats", "--from", "2016-03-02", "--to", "2016-04-05")
    assert "03/5/binary.md" in found.stderr and "04/9/binary.md" not in found.stderr and "drafts" not in found.stderr


def _same_both_ways(misfiled, monkeypatch, cli, *args):
    """Run a command once reading the span's folders, once from the catalogue's index; both answer alike."""
    from newsarc.features import catalog, stats

    args = (*args, "--archive", str(misfiled.root))
    monkeypatch.setattr(catalog, "INDEX_FOLDERS", 10**9)
    by_folders = cli(*args)
    catalog.Catalog(Archive.open(misfiled.root), more=(stats.COUNTS.name,)).database
    monkeypatch.setattr(catalog, "INDEX_FOLDERS", 1)
    from_index = cli(*args)
    assert (from_index.exit_code, from_index.stdout, from_index.stderr) == (by_folders.exit_code, by_folders.stdout, by_folders.stderr)
    return from_index


def test_diagnostics_of_events_from_the_catalogue_read_only_the_files_it_noted(misfiled):
    """What every event's own diagnostics say, whether the events come as the catalogue's view, a list
    of its events, or parsed events; only the files it noted as having something are read again."""
    from newsarc.features.catalog import Catalog

    misfiled.write("news/2016/03/6/no-headline.md", "### [2016-03-06](/news/2016/03/6/index.md)\n\nNo headline here.\n")
    truth = Archive.open(misfiled.root).load()
    expected = sorted((d.path, d.message) for e in truth.events for d in e.diagnostics)
    assert any(path.endswith("no-headline.md") for path, _ in expected)
    site = Catalog(Archive.open(misfiled.root))
    view = site.view()
    as_list = list(view)
    for events in (view, as_list, truth.events):
        assert sorted((d.path, d.message) for d in site.diagnostics_of(events)) == expected
    assert {e.path for e in as_list if e.noted} == {path for path, _ in expected}


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
