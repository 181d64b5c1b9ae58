"""The SQLite index under crashes, damage, other versions, concurrent writers and things not ours.

Never a wrong answer, at worst one rebuild: after each mishap the next open
returns an index equal to ground truth found without it (tests/index_truth),
and nothing that newsarc did not write is removed or opened. Crashes are
real: a child process building or updating the index kills itself with
SIGKILL at a chosen point (the build's progress callback), mid-transaction.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from newsarc.index import build, db
from tests.conftest import ROOT
from tests.index_truth import CLOCK, assert_true_to, databases, leftovers, open_index


@pytest.fixture
def site(builder):
    """Enough events for several chunks of a parallel build (build.CHUNK files each)."""
    for day in range(1, 29):
        for k in range(3):
            builder.event(f"2016-02-{day:02d}", f"Event {k} of day {day}",
                          related=[("First", "/news/2016/02/1/event-0-of-day-1.md", ["War"])])
    CLOCK.age_tree(builder.root)
    return builder


CHILD = textwrap.dedent("""
    import os, signal, sys
    from newsarc.index import build
    from newsarc.features import catalog  # noqa: F401  (registers the groups)
    root, cache_dir, stage, at, parallel_min = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    build.PARALLEL_MIN_FILES = parallel_min
    build.CHUNK = 20

    def progress(name, done, total):
        if name == stage and done >= at:
            os.kill(os.getpid(), signal.SIGKILL)

    index = build.open_fresh(root, root, ["events", "links"], cache_dir=cache_dir, progress=progress)
    print(index.report.parsed)
""")


def run_child(root: Path, cache_dir: Path, stage: str, at: int = 0, parallel_min: int = 10**9, workers: str = "1"):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSARC_WORKERS": workers}
    if workers != "1":
        env.pop("NEWSARC_WORKERS")
    return subprocess.run([sys.executable, "-c", CHILD, str(root), str(cache_dir), stage, str(at), str(parallel_min)],
                          env=env, capture_output=True, text=True, timeout=120, cwd=str(root.parent))


# -- kill -9 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "at", "parallel"), [
    ("parse", 20, False),  # the first chunk inserted into the scratch file
    ("parse", 60, False),  # mid-build
    ("parse", 40, True),  # mid-build, workers running
    ("publish", 0, False),  # the scratch file whole, not yet named
])
def test_kill_9_during_a_build_from_nothing(site, tmp_path, stage, at, parallel):
    cache_dir = tmp_path / "cache"
    result = run_child(site.root, cache_dir, stage, at, parallel_min=1 if parallel else 10**9, workers="2" if parallel else "1")
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert databases(cache_dir) == []  # no index: the scratch file is all there is
    assert leftovers(cache_dir)
    index = open_index(site.root, cache_dir)
    assert index.report.built
    assert_true_to(index, site.root)
    assert leftovers(cache_dir) == []  # the next build removes what the killed one left
    assert len(databases(cache_dir)) == 1


@pytest.mark.parametrize(("stage", "at"), [("parse", 1), ("commit", 0)])
def test_kill_9_during_an_update_leaves_the_old_index_whole(site, tmp_path, stage, at):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    before = databases(cache_dir)
    target = site.root / "news/2016/02/5/event-1-of-day-5.md"
    target.write_text(target.read_text().replace("Event 1 of day 5", "Event one of day five"))
    site.event("2016-02-05", "Added the same day")
    CLOCK.age(target, target.parent, target.parent / "index.md", target.parent / "added-the-same-day.md")
    result = run_child(site.root, cache_dir, stage, at)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert databases(cache_dir) == before
    conn = sqlite3.connect(before[0])
    assert conn.execute("PRAGMA quick_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM events WHERE title='Event one of day five'").fetchone()[0] == 0
    conn.close()
    index = open_index(site.root, cache_dir)
    assert not index.report.built and index.report.parsed == 3  # the edit, the new event, its day page
    assert_true_to(index, site.root)
    assert databases(cache_dir) == before


def test_a_worker_killed_mid_build_costs_time_not_the_answer(site, tmp_path, monkeypatch):
    """parallel.ordered: tasks of a dead worker are done in the parent."""
    from newsarc.index import parallel

    monkeypatch.delenv("NEWSARC_WORKERS", raising=False)
    if parallel.workers() < 2:
        pytest.skip("one core: no workers")
    monkeypatch.setattr(build, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(build, "CHUNK", 10)
    killed = []

    def progress(stage, done, total):
        if stage == "parse" and not killed:
            import multiprocessing

            children = multiprocessing.active_children()
            if children:
                os.kill(children[0].pid, signal.SIGKILL)
                killed.append(children[0].pid)

    index = build.open_fresh(site.root, site.root, ["events", "links"], cache_dir=tmp_path / "cache", progress=progress)
    assert killed
    assert_true_to(index, site.root)


# -- two writers ---------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from newsarc.index import build
    from newsarc.features import catalog  # noqa: F401  (registers the groups)
    index = build.open_fresh(sys.argv[1], sys.argv[1], ["events", "links"], cache_dir=sys.argv[2])
    print(index.conn.execute("SELECT group_concat(title, '|') FROM (SELECT title FROM events ORDER BY title)").fetchone()[0])
""")


def _writers(root: Path, cache_dir: Path, count: int = 4) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSARC_WORKERS": "1"}
    runs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(cache_dir)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(count)]
    outputs = [p.communicate(timeout=120) for p in runs]
    assert [p.returncode for p in runs] == [0] * count, [err for _, err in outputs]
    return [out for out, _ in outputs]


def test_a_sweep_between_a_scratch_files_creation_and_its_lock_leaves_it(tmp_path, monkeypatch):
    """Another builder sweeps dead scratch files at any moment. One sweep that ran after a scratch
    file was created and before it was locked removed it, and that build's publish failed ("cannot
    write the index ... No such file or directory", seen with four builds at once under load)."""
    folder, key = str(tmp_path), db.key_of("/srv/site", "/srv/site")
    lock = db._try_lock
    swept = []

    def another_builder_sweeps_first(fd: int) -> bool:
        if not swept:  # the worst moment, once: the file is made, not locked yet
            swept.append(True)
            monkeypatch.setattr(db, "_try_lock", lock)
            db.sweep_scratch(folder, key)
        return lock(fd)

    monkeypatch.setattr(db, "_try_lock", another_builder_sweeps_first)
    path, fd = db.hold_scratch(folder, key)
    try:
        assert swept and os.path.isfile(path)
        db.sweep_scratch(folder, key)  # and locked from then on, for every sweep
        assert os.path.isfile(path) and os.listdir(folder) == [os.path.basename(path)]
    finally:
        os.close(fd)
    db.sweep_scratch(folder, key)  # its builder gone: swept
    assert os.listdir(folder) == []


def test_two_writers_build_from_nothing_at_once(site, tmp_path):
    cache_dir = tmp_path / "cache"
    outputs = _writers(site.root, cache_dir)
    assert len(set(outputs)) == 1 and "Event 0 of day 1" in outputs[0]
    assert len(databases(cache_dir)) == 1  # each newer one replaced the older
    index = open_index(site.root, cache_dir)
    assert not index.report.built and index.report.parsed == 0
    assert_true_to(index, site.root)
    assert leftovers(cache_dir) == []


def test_two_writers_update_at_once(site, tmp_path):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    before = databases(cache_dir)
    site.event("2016-02-09", "A tsunami warning")
    target = site.root / "news/2016/02/9/event-2-of-day-9.md"
    target.write_text(target.read_text().replace("Event 2 of day 9", "Event two of day nine"))
    CLOCK.age(*(site.root / "news/2016/02/9").iterdir(), site.root / "news/2016/02/9")
    outputs = _writers(site.root, cache_dir)
    assert len(set(outputs)) == 1 and "A tsunami warning" in outputs[0] and "Event two of day nine" in outputs[0]
    assert databases(cache_dir) == before  # updated in place, one database
    index = open_index(site.root, cache_dir)
    assert index.report.parsed == 0
    assert_true_to(index, site.root)
    assert index.conn.execute("SELECT count(*) FROM files").fetchone()[0] == len(list(site.root.rglob("*.md")))


def test_a_writer_whose_check_predates_another_update_checks_again(site, tmp_path):
    """Two processes' worth of steps, in one: A checks, B updates, A's plan is void, A checks again."""
    from newsarc.index import freshness

    cache_dir = tmp_path / "cache"
    first = open_index(site.root, cache_dir)
    site.event("2016-02-09", "Seen by both")
    CLOCK.age(*(site.root / "news/2016/02/9").iterdir(), site.root / "news/2016/02/9")
    found = freshness.check(first.conn, str(site.root))
    plan = freshness.plan(first.conn, str(site.root), str(site.root), found)
    other = open_index(site.root, cache_dir)  # B: updates first
    assert other.report.parsed == 2
    assert not build.apply(first.conn, plan)  # A: another writer's update came first
    again = open_index(site.root, cache_dir)
    assert again.report.parsed == 0
    assert_true_to(again, site.root)


# -- damage ----------------------------------------------------------------------------------------


def _flip(path: Path, offsets) -> None:
    data = bytearray(path.read_bytes())
    for at in offsets:
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _btree_page_offsets(path: Path) -> list[int]:
    """Where each b-tree page's header is (its type byte, cell count, cell pointers): flipping them
    is damage SQLite sees."""
    conn = sqlite3.connect(path)
    pages = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE pagetype IN ('leaf', 'internal')")]
    conn.close()
    return [(page - 1) * db.PAGE_SIZE + (100 if page == 1 else 0) + k for page in pages if page > 1 for k in (0, 3, 4, 8, 9)]


DAMAGE = {
    "magic flipped": lambda path: _flip(path, range(0, 16)),
    "page size flipped": lambda path: _flip(path, (16, 17)),
    "b-tree pages flipped": lambda path: _flip(path, _btree_page_offsets(path)),
    "cut in half": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "cut mid-page": lambda path: path.write_bytes(path.read_bytes()[: 3 * db.PAGE_SIZE + 100]),
    "cut to the header": lambda path: path.write_bytes(path.read_bytes()[:100]),
    "empty": lambda path: path.write_bytes(b""),
    "random bytes": lambda path: path.write_bytes(os.urandom(path.stat().st_size)),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_means_one_rebuild_never_a_wrong_answer(site, tmp_path, damage):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    [path] = databases(cache_dir)
    DAMAGE[damage](path)
    index = open_index(site.root, cache_dir)
    assert index.report.built or index.report.damaged
    assert_true_to(index, site.root)
    assert not path.exists()  # a database SQLite cannot read is never read again
    index.close()
    again = open_index(site.root, cache_dir)
    assert not again.report.built and again.report.parsed == 0
    assert_true_to(again, site.root)


def test_damage_found_after_the_check_is_one_rebuild(site, tmp_path):
    """A damaged page the check does not read (the events table): the first write or read of it fails,
    the database goes, the index is built again."""
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    [path] = databases(cache_dir)
    conn = sqlite3.connect(path)
    pages = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name='events' AND pagetype='leaf'")]
    conn.close()
    _flip(path, [(page - 1) * db.PAGE_SIZE + k for page in pages for k in (0, 3, 4)])
    site.event("2016-02-10", "Forces an update")
    CLOCK.age(*(site.root / "news/2016/02/10").iterdir(), site.root / "news/2016/02/10")
    index = open_index(site.root, cache_dir)
    assert index.report.damaged == 1 and index.report.built
    assert_true_to(index, site.root)


@pytest.mark.parametrize("change", ["user_version", "made_by", "no meta"])
def test_a_database_of_another_version_at_our_name_is_rebuilt(site, tmp_path, change):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    [path] = databases(cache_dir)
    conn = sqlite3.connect(path)
    if change == "user_version":
        conn.execute(f"PRAGMA user_version={db.SCHEMA + 1}")
    elif change == "made_by":
        conn.execute("UPDATE meta SET value='newsarc/0.0.1/py3.0' WHERE key='made_by'")
    else:
        conn.execute("DROP TABLE meta")
    conn.commit()
    conn.close()
    index = open_index(site.root, cache_dir)
    assert index.report.built
    assert_true_to(index, site.root)
    assert databases(cache_dir) != [path] and len(databases(cache_dir)) == 1


def test_another_newsarc_has_its_own_file_and_neither_writes_the_others(site, tmp_path):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    [mine] = databases(cache_dir)
    other_tag = "0" * 8 if db.TAG != "0" * 8 else "1" * 8
    theirs = mine.with_name(mine.name.replace(f".{db.TAG}.", f".{other_tag}."))
    theirs.write_bytes(b"another version's index")
    index = open_index(site.root, cache_dir)
    assert not index.report.built and theirs.read_bytes() == b"another version's index"


def test_a_group_of_another_version_is_built_again_alone(site, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    newer = db.Group(**{**db.GROUPS["events"].__dict__, "version": db.GROUPS["events"].version + 1})
    monkeypatch.setitem(db.GROUPS, "events", newer)
    index = open_index(site.root, cache_dir)
    assert index.report.groups_built == ("events",) and not index.report.built
    assert_true_to(index, site.root)


# -- not ours --------------------------------------------------------------------------------------


def _fresh_name(cache_dir: Path, site) -> Path:
    folder = cache_dir / "index"
    folder.mkdir(parents=True, exist_ok=True)
    return Path(db.new_name(str(folder), db.key_of(site.root, site.root)))


@pytest.mark.parametrize("kind", ["fifo", "folder", "symlink"])
def test_something_not_ours_at_a_database_name_is_left_alone_and_never_blocks(site, tmp_path, kind):
    cache_dir = tmp_path / "cache"
    name = _fresh_name(cache_dir, site)
    precious = tmp_path / "precious.db"
    precious.write_bytes(b"not newsarc's")
    if kind == "fifo":
        os.mkfifo(name)
    elif kind == "folder":
        name.mkdir()
        (name / "inside").write_text("x")
    else:
        name.symlink_to(precious)
    index = open_index(site.root, cache_dir)  # would block for ever opening a FIFO
    assert_true_to(index, site.root)
    assert any(str(name) in notice for notice in index.notices)
    assert os.path.lexists(name) and precious.read_bytes() == b"not newsarc's"
    if kind == "folder":
        assert (name / "inside").read_text() == "x"
    index.close()
    again = open_index(site.root, cache_dir)
    assert again.path is not None and again.report.parsed == 0  # the index on disk is ours, beside it


@pytest.mark.parametrize("side", ["-wal", "-shm"])
def test_a_fifo_beside_our_database_is_never_opened(site, tmp_path, side):
    cache_dir = tmp_path / "cache"
    open_index(site.root, cache_dir).close()
    [path] = databases(cache_dir)
    for name in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if name.exists():
            name.unlink()
    fifo = path.with_name(path.name + side)
    os.mkfifo(fifo)
    index = open_index(site.root, cache_dir)
    assert index.report.built and index.path != str(path)
    assert_true_to(index, site.root)
    assert fifo.is_fifo()  # left alone (the database beside it was ours: it goes as an older generation)


@pytest.mark.parametrize("kind", ["fifo", "file"])
def test_a_cache_folder_that_is_not_a_folder_means_a_temporary_index(site, tmp_path, kind):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    folder = cache_dir / "index"
    os.mkfifo(folder) if kind == "fifo" else folder.write_text("mine")
    index = open_index(site.root, cache_dir)
    assert index.path is None and index.notices
    assert_true_to(index, site.root)
    assert folder.is_fifo() if kind == "fifo" else folder.read_text() == "mine"


def test_no_cache_writes_nothing(site, tmp_path):
    cache_dir = tmp_path / "cache"
    index = open_index(site.root, cache_dir, use_cache=False)
    assert index.path is None and not cache_dir.exists()
    assert_true_to(index, site.root)
