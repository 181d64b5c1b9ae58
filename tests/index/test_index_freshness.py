"""newsarc/index/freshness.py: the README's rules for trusting the index, on real files.

Each test builds an aged archive (tests/index_truth.Clock), opens its index
once, changes the files, and checks that the next open sees exactly what
changed (Report: what was parsed, restamped, read), and that the index then
equals ground truth found without it.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from newsarc.index import build, db, freshness
from tests.conftest import event_text
from tests.index_truth import CLOCK, assert_true_to, open_index, stamps_match


@pytest.fixture(params=["one process", "shares"])
def processes(request, monkeypatch):
    """Every rule in one process, and with the check's share of the files table read and stat-ed in
    three forked processes (freshness._share: each reads its own rows), even on a one-core machine."""
    if request.param == "one process":
        monkeypatch.setenv("NEWSARC_WORKERS", "1")
    else:
        monkeypatch.delenv("NEWSARC_WORKERS", raising=False)
        monkeypatch.setattr(freshness, "PARALLEL_STATS", 1)
        monkeypatch.setattr(freshness.cores, "workers", lambda: 3)
    return request.param


@pytest.fixture
def aged(builder, tmp_path, processes):
    """Four events and their day pages, aged, with an index that is fresh."""
    for day in (3, 5, 6, 7):
        builder.event(f"2016-04-0{day}", f"Event of day {day}", related=[("Day five", "/news/2016/04/5/event-of-day-5.md", ["War"])])
    CLOCK.age_tree(builder.root)
    cache_dir = tmp_path / "cache"
    first = open_index(builder.root, cache_dir)
    assert first.report.built
    first.close()
    again = reopen(builder.root, cache_dir)
    assert again.report.parsed == 0 and again.report.checks == 1 and again.report.folders_read == 0
    return builder, cache_dir


def reopen(root: Path, cache_dir: Path) -> build.Index:
    index = open_index(root, cache_dir)
    assert_true_to(index, root)
    assert not index.report.built
    return index


def _same_size_edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new))


def test_nothing_changed_parses_nothing_reads_no_folder(aged):
    builder, cache_dir = aged
    index = reopen(builder.root, cache_dir)
    assert (index.report.parsed, index.report.restamped, index.report.folders_read) == (0, 0, 0)


def test_an_edit_that_keeps_the_size_and_puts_the_mtime_back_is_seen_by_the_ctime(aged):
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    before = target.stat()
    _same_size_edit(target, "Event of day 6", "EVENT OF DAY 6")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert after.st_ctime_ns != before.st_ctime_ns
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1 and index.report.folders_read == 0
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='EVENT OF DAY 6'").fetchone()[0] == 1


def test_an_edit_with_an_older_mtime_is_seen(aged):
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    before = target.stat()
    _same_size_edit(target, "Event of day 6", "EVENT OF DAY 6")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns - 1))
    assert reopen(builder.root, cache_dir).report.parsed == 1


def test_a_racily_clean_edit_is_seen(aged):
    """git's rule: a file whose mtime is not older than the scan minus 2 s is compared by its bytes,
    even when its whole stamp matches (an edit within one timestamp tick; here the stamp is put back
    whole, ctime aside, which utime cannot set: so the ctime is put in the index instead)."""
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    _same_size_edit(target, "Event of day 6", "Event of day X")  # young now
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1
    young = target.stat()
    assert young.st_mtime_ns >= (time.time() - freshness.RACY_SECONDS) * 1e9 - 1e9
    _same_size_edit(target, "Event of day X", "Event of day Y")
    os.utime(target, ns=(young.st_atime_ns, young.st_mtime_ns))
    now = target.stat()
    # What a coarse filesystem clock would show: the same stamp as the index holds, ctime included.
    index.conn.execute("UPDATE files SET ctime_ns=? WHERE path=?", (now.st_ctime_ns, "news/2016/04/6/event-of-day-6.md"))
    freshness.keep_stamps(index.conn)  # the check reads the stamps kept beside the table
    assert freshness.check(index.conn, str(builder.root)).files[0][2]  # changed by its bytes: the stamp matched
    scanned = index.conn.execute("SELECT value FROM meta WHERE key='scanned'").fetchone()[0]
    assert now.st_mtime_ns >= scanned - freshness.RACY_NS, "too slow: the file aged"
    index.close()
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='Event of day Y'").fetchone()[0] == 1


def test_a_young_file_unchanged_is_read_but_not_parsed_and_trusted_once_it_ages(aged):
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    data = target.read_bytes()
    target.write_bytes(data)  # same bytes, new stamp, young
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 0 and index.report.restamped == 1
    index.close()
    index = reopen(builder.root, cache_dir)  # still young: vouched for by its bytes, nothing parsed
    assert index.report.parsed == 0 and index.report.restamped == 0
    index.close()
    CLOCK.age(target)  # the stamp changes: read, hashed, restamped; then trusted by the stamp
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 0 and index.report.restamped == 1
    assert stamps_match(index, builder.root)


def test_touch_without_a_change_parses_nothing(aged):
    builder, cache_dir = aged
    files = sorted(builder.root.rglob("*.md"))
    for path in files:
        path.touch()
    CLOCK.age(*files)
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 0 and index.report.restamped == len(files)
    assert index.report.folders_read == 0
    assert stamps_match(index, builder.root)
    index.close()
    assert reopen(builder.root, cache_dir).report.restamped == 0


def test_a_new_file_is_found_by_listing_only_its_folder(aged):
    builder, cache_dir = aged
    builder.event("2016-04-06", "A second event that day", day_page=False)
    folder = builder.root / "news/2016/04/6"
    CLOCK.age(folder / "a-second-event-that-day.md", folder)
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1 and index.report.folders_read == 1 and not index.report.walked


def test_a_new_file_in_new_month_and_year_folders(aged):
    builder, cache_dir = aged
    builder.event("2019-12-31", "A later year", day_page=False)
    CLOCK.age(builder.root / "news/2019/12/31/a-later-year.md", builder.root / "news/2019/12/31",
              builder.root / "news/2019/12", builder.root / "news/2019", builder.root / "news")
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1 and not index.report.walked
    assert index.report.folders_read == 4  # news listed again, 2019, 12 and 31 walked


def test_a_removed_file(aged):
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/7/event-of-day-7.md"
    target.unlink()
    CLOCK.age(target.parent)
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 0 and index.report.gone == 1


def test_a_removed_folder(aged):
    builder, cache_dir = aged
    folder = builder.root / "news/2016/04/7"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    CLOCK.age(folder.parent)
    index = reopen(builder.root, cache_dir)
    assert index.report.gone == 2 and index.report.parsed == 0
    assert index.conn.execute("SELECT count(*) FROM folders WHERE path LIKE 'news/2016/04/7%'").fetchone()[0] == 0


@pytest.mark.parametrize("shift", [-10**9, 0], ids=["older-mtime", "same-mtime"])
def test_a_file_replaced_by_a_rename_with_the_same_size_and_folder_stamp(aged, shift):
    """os.replace of a same-size file, its folder's mtime put back: with the same mtime only the inode
    (and ctime) tell."""
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    folder = target.parent
    before, folder_before = target.stat(), folder.stat()
    twin = folder / ".incoming"
    twin.write_text(target.read_text().replace("Event of day 6", "EVENT OF DAY 6"))
    os.utime(twin, ns=(before.st_atime_ns, before.st_mtime_ns + shift))
    os.replace(twin, target)
    os.utime(folder, ns=(folder_before.st_atime_ns, folder_before.st_mtime_ns))
    assert target.stat().st_ino != before.st_ino
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1


def test_a_renamed_file(aged):
    builder, cache_dir = aged
    old = builder.root / "news/2016/04/6/event-of-day-6.md"
    new = old.with_name("renamed.md")
    old.rename(new)
    CLOCK.age(old.parent)
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1 and index.report.gone == 1
    paths = {row[0] for row in index.conn.execute("SELECT path FROM files")}
    assert "news/2016/04/6/renamed.md" in paths and "news/2016/04/6/event-of-day-6.md" not in paths


def test_a_renamed_folder(aged):
    builder, cache_dir = aged
    old = builder.root / "news/2016/04/6"
    old.rename(old.with_name("16"))
    CLOCK.age(old.parent, old.with_name("16"))
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 2 and index.report.gone == 2


def test_a_folder_whose_permissions_change_is_read_again(aged):
    """A chmod changes the folder's ctime only: the folder is listed again (and nothing else is)."""
    builder, cache_dir = aged
    folder = builder.root / "news/2016/04/6"
    before = folder.stat()
    folder.chmod(stat.S_IRWXU)
    assert folder.stat().st_ctime_ns != before.st_ctime_ns
    os.utime(folder, ns=(before.st_atime_ns, before.st_mtime_ns))
    index = reopen(builder.root, cache_dir)
    assert index.report.folders_read == 1 and index.report.parsed == 0


def test_a_file_whose_permissions_change_is_checked_by_its_bytes(aged):
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    target.chmod(0o600)
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 0 and index.report.restamped == 1


def test_a_file_that_could_not_be_read_is_read_again_every_time(aged, permissions_apply):
    builder, cache_dir = aged
    target = builder.write("news/2016/04/6/later-readable.md", event_text("2016-04-06", "Later readable"))
    CLOCK.age(target, target.parent)
    target.chmod(0)
    try:
        index = reopen(builder.root, cache_dir)
        assert index.conn.execute("SELECT kind FROM files WHERE path='news/2016/04/6/later-readable.md'").fetchone()[0] == db.SKIPPED
        assert "Permission denied" in index.unreadable()[0][2]
        index.close()
        index = reopen(builder.root, cache_dir)  # trusted, the skipped file read again
        assert index.report.parsed == 0 and "Permission denied" in index.unreadable()[0][2]
        index.close()
    finally:
        target.chmod(0o644)  # changes the ctime only
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='Later readable'").fetchone()[0] == 1


def test_a_binary_file_that_becomes_an_event_with_the_same_stamp(aged):
    """Skipped files are read again every run: here nothing else could tell."""
    builder, cache_dir = aged
    valid = event_text("2016-04-06", "Was binary").encode()
    path = builder.write("news/2016/04/6/was-binary.md", b"\x00" * len(valid))
    CLOCK.age(path, path.parent)
    reopen(builder.root, cache_dir).close()
    before = path.stat()
    path.write_bytes(valid)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    index = reopen(builder.root, cache_dir)
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='Was binary'").fetchone()[0] == 1


def test_a_file_over_a_lowered_size_limit_is_read_again_to_be_skipped(aged, monkeypatch):
    builder, cache_dir = aged
    big = sorted(p for p in builder.root.rglob("*.md") if p.stat().st_size > 100)
    assert len(big) >= 4
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "100")
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == len(big)
    assert {row[0] for row in index.conn.execute("SELECT kind FROM files WHERE size > 100")} == {db.SKIPPED}
    assert "over the 100 bytes limit" in index.unreadable()[0][2]
    index.close()
    monkeypatch.delenv("NEWSARC_MAX_FILE_SIZE")
    assert reopen(builder.root, cache_dir).report.parsed == len(big)


@pytest.mark.parametrize("where", ["hidden folder", "outside the scope"])
def test_a_dangling_symlink_whose_target_appears(aged, where):
    builder, cache_dir = aged
    link = builder.root / "news/2016/04/5/later.md"
    if where == "hidden folder":
        scope, target = builder.root, builder.root / ".stash/later.md"
        os.symlink("../../../../.stash/later.md", link)
    else:
        scope, target = builder.root / "news/2016", builder.root / "news/2017/04/5/later.md"
        os.symlink("../../../2017/04/5/later.md", link)
    target.parent.mkdir(parents=True)
    folders = [target.parent, *(p for p in target.parent.parents if builder.root in (p, *p.parents))]
    CLOCK.age(link, link.parent, *folders)
    index = build.open_fresh(builder.root, scope, ["events"], cache_dir=cache_dir)
    assert ("news/2016/04/5/later.md", 0, "symbolic link to a missing file; skipped", "warning") in index.notes()
    index.close()
    index = build.open_fresh(builder.root, scope, ["events"], cache_dir=cache_dir)
    assert index.report.parsed == 0 and not index.report.walked  # trusted from here on
    index.close()
    target.write_text(event_text("2016-04-05", "Later"))
    CLOCK.age(target, target.parent)  # no folder the index watches changes
    index = build.open_fresh(builder.root, scope, ["events"], cache_dir=cache_dir)
    assert index.report.walked
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='Later'").fetchone()[0] == 1
    assert index.notes() == []


def test_a_symlinked_day_folder_that_gets_a_file(aged):
    builder, cache_dir = aged
    real = builder.root / ".days/8"
    real.mkdir(parents=True)
    (real / "linked.md").write_text(event_text("2016-04-08", "Linked day"))
    os.symlink("../../../.days/8", builder.root / "news/2016/04/8")
    CLOCK.age_tree(builder.root)
    index = open_index(builder.root, cache_dir)
    assert index.report.walked  # a symbolic link in a changed folder: a walk of everything
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='Linked day'").fetchone()[0] == 1
    index.close()
    (real / "second.md").write_text(event_text("2016-04-08", "Second linked"))
    CLOCK.age(real / "second.md", real)
    index = open_index(builder.root, cache_dir)
    assert index.report.parsed == 1
    assert index.conn.execute("SELECT count(*) FROM events WHERE title='Second linked'").fetchone()[0] == 1


@pytest.mark.parametrize("odd_thing", ["symlink to a file", "fifo"])
def test_anything_out_of_the_ordinary_in_a_changed_folder_means_a_walk(aged, odd_thing):
    builder, cache_dir = aged
    folder = builder.root / "news/2016/04/6"
    if odd_thing == "fifo":
        os.mkfifo(folder / "pipe.md")
    else:
        os.symlink("event-of-day-6.md", folder / "alias.md")
    CLOCK.age(folder)
    index = open_index(builder.root, cache_dir)
    assert index.report.walked
    if odd_thing == "fifo":
        assert ("news/2016/04/6/pipe.md", 0, "not a regular file; skipped", "warning") in index.notes()


def test_the_stat_check_on_every_core_sees_an_edit_in_any_slice(aged, monkeypatch):
    """From PARALLEL_STATS files on, forked children stat the files (one slice each)."""
    builder, cache_dir = aged
    monkeypatch.delenv("NEWSARC_WORKERS", raising=False)
    monkeypatch.setattr(freshness, "PARALLEL_STATS", 1)
    if freshness.cores.workers() < 2:
        pytest.skip("one core: the check never forks")
    assert reopen(builder.root, cache_dir).report.parsed == 0
    for day in (3, 5, 6, 7):
        target = builder.root / f"news/2016/04/{day}/event-of-day-{day}.md"
        _same_size_edit(target, f"Event of day {day}", f"EVENT OF DAY {day}")
        CLOCK.age(target)
        index = reopen(builder.root, cache_dir)
        assert index.report.parsed == 1, day


def test_an_unreadable_folder_that_becomes_readable(aged, permissions_apply):
    builder, cache_dir = aged
    folder = builder.root / "news/2016/04/6"
    folder.chmod(0)
    try:
        index = open_index(builder.root, cache_dir)
        assert ("news/2016/04/6", 0, "cannot read folder: Permission denied", "warning") in index.notes()
        index.close()
    finally:
        folder.chmod(0o755)
    index = reopen(builder.root, cache_dir)
    assert index.notes() == []


# -- a speculative open: answer while the check runs, confirm before telling ---------------------


def test_a_speculative_open_of_a_fresh_index_confirms_after_one_check(aged):
    builder, cache_dir = aged
    index = open_index(builder.root, cache_dir, speculate=True)
    titles = {t for (t,) in index.conn.execute("SELECT title FROM events")}  # the answer, while the check runs
    assert "Event of day 6" in titles
    assert index.confirm() is True and index.confirm() is True  # asked twice: one check all the same
    assert (index.report.checks, index.report.parsed, index.report.folders_read) == (1, 0, 0)


def test_a_speculative_open_of_a_stale_index_updates_it_from_what_the_check_found(aged):
    builder, cache_dir = aged
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    _same_size_edit(target, "Event of day 6", "EVENT OF DAY 6")
    CLOCK.age(target)
    (builder.root / "news/2016/04/6/added.md").write_text(event_text("2016-04-06", "Added on day 6"))
    CLOCK.age(builder.root / "news/2016/04/6/added.md", builder.root / "news/2016/04/6")
    index = open_index(builder.root, cache_dir, speculate=True)
    assert index.confirm() is False  # what was answered meanwhile is thrown away, and asked again
    assert index.report.checks == 1 and index.report.parsed == 2 and index.report.folders_read == 1
    assert_true_to(index, builder.root)
    assert {t for (t,) in index.conn.execute("SELECT title FROM events WHERE title LIKE '%6'")} == {"EVENT OF DAY 6", "Added on day 6"}
    assert index.confirm() is True


def test_a_speculative_open_builds_a_missing_group_first(aged):
    builder, cache_dir = aged
    index = open_index(builder.root, cache_dir, groups=("events", "search"), speculate=True)
    assert "search" in db.built_groups(index.conn) and index.report.groups_built == ("search",)
    assert index.confirm() is True and index.report.checks == 1


def test_the_check_reads_the_files_table_when_no_stamps_are_kept(aged):
    """Every update keeps the stamps beside the files table (freshness.keep_stamps); an index without
    them (written before they were kept) is checked from the table, by the same rules."""
    builder, cache_dir = aged
    index = reopen(builder.root, cache_dir)
    assert index.conn.execute("SELECT count(*) FROM answers WHERE name LIKE 'stamps-%'").fetchone()[0] == freshness.STAMP_PIECES
    index.conn.execute("DELETE FROM answers")
    assert freshness.check(index.conn, str(builder.root)).fresh
    index.close()
    target = builder.root / "news/2016/04/6/event-of-day-6.md"
    before = target.stat()
    _same_size_edit(target, "Event of day 6", "EVENT OF DAY 6")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    index = reopen(builder.root, cache_dir)
    assert index.report.parsed == 1
    assert index.conn.execute("SELECT count(*) FROM answers WHERE name LIKE 'stamps-%'").fetchone()[0] == freshness.STAMP_PIECES
