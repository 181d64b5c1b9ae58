"""cache.prune and the SQLite index's files (newsarc/index/db.py names): older generations and
SQLite's files beside them go, other versions after a day, scratch files of a killed build after a
day; the database kept, its -wal and -shm, and anything not named as newsarc names it, never."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsarc.index import cache

NOW = 2_000_000_000.0
DAY = 86400.0
KEY, OTHER_KEY = "0123456789abcdef0123", "fedcba9876543210fedc"
TAG, OTHER_TAG = "89abcdef", "01234567"
OLD_GEN, GEN, NEW_GEN = "18ee0000000000000000", "18ee1111111111111111", "18ee2222222222222222"


def put(folder: Path, name: str, age_days: float) -> Path:
    path = folder / name
    path.write_bytes(b"x")
    os.utime(path, (NOW - age_days * DAY, NOW - age_days * DAY))
    return path


def left(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture
def index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    return folder


def name(key=KEY, tag=TAG, gen=GEN, side="") -> str:
    return f"{key}.{tag}.{gen}.db{side}"


def test_the_database_kept_and_sqlites_files_beside_it_stay(index):
    keep = put(index, name(), 400)
    put(index, name(side="-wal"), 400)
    put(index, name(side="-shm"), 400)
    assert cache.prune(index, keep, now=NOW) == []
    assert left(index) == [name(), name(side="-shm"), name(side="-wal")]


def test_older_generations_go_with_their_files_newer_ones_stay(index):
    keep = put(index, name(), 0)
    for gen in (OLD_GEN, NEW_GEN):
        for side in ("", "-wal", "-shm"):
            put(index, name(gen=gen, side=side), 0)
    removed = cache.prune(index, keep, now=NOW)
    assert sorted(p.name for p in removed) == [name(gen=OLD_GEN, side=s) for s in ("", "-shm", "-wal")]
    assert left(index) == sorted([name(), *(name(gen=NEW_GEN, side=s) for s in ("", "-wal", "-shm"))])


def test_another_version_of_the_same_index_goes_after_a_day_unused(index):
    keep = put(index, name(), 0)
    young = put(index, name(tag=OTHER_TAG, gen=OLD_GEN), 0.5)
    assert cache.prune(index, keep, now=NOW) == []
    os.utime(young, (NOW - 2 * DAY, NOW - 2 * DAY))
    assert cache.prune(index, keep, now=NOW) == [young]


def test_other_indexes_go_after_30_days_unused(index):
    keep = put(index, name(), 0)
    put(index, name(key=OTHER_KEY, gen=OLD_GEN), 29)
    stale = put(index, name(key="a" * 20, gen=OLD_GEN), 31)
    stale_wal = put(index, name(key="a" * 20, gen=OLD_GEN, side="-wal"), 0)  # goes with its database
    assert sorted(cache.prune(index, keep, now=NOW)) == sorted([stale, stale_wal])


def test_orphaned_sqlite_files_go(index):
    keep = put(index, name(), 0)
    orphan = put(index, name(key=OTHER_KEY, side="-wal"), 0)
    assert cache.prune(index, keep, now=NOW) == [orphan]


def test_scratch_files_of_a_killed_build_go_after_a_day(index):
    keep = put(index, name(), 0)
    fresh = put(index, name(gen=NEW_GEN) + ".tmp", 0.5)  # a build at work now
    dead = put(index, name(gen=OLD_GEN) + ".tmp", 2)
    dead_wal = put(index, name(gen=OLD_GEN) + ".tmp-wal", 2)
    assert sorted(cache.prune(index, keep, now=NOW)) == sorted([dead, dead_wal])
    assert fresh.exists()


def test_names_not_newsarcs_and_links_and_folders_are_left_alone(tmp_path, index):
    keep = put(index, name(), 0)
    unrelated = [f"{KEY}.{TAG}.{GEN}.sqlite", f"{KEY}.{TAG}.db", f"{KEY.upper()}.{TAG}.{OLD_GEN}.db",
                 f"{KEY}.{TAG}.{OLD_GEN}.db.bak", f"{KEY}.{TAG}.{OLD_GEN}.db-wal2", "index.db", "index.db-wal"]
    for unrelated_name in unrelated:
        put(index, unrelated_name, 400)
    precious = put(tmp_path, "precious.db", 400)
    (index / name(gen=OLD_GEN)).symlink_to(precious)
    (index / name(gen=OLD_GEN, side="-wal")).symlink_to(precious)
    (index / name(key=OTHER_KEY, gen=OLD_GEN)).mkdir()
    os.mkfifo(index / name(key="b" * 20, gen=OLD_GEN))
    assert cache.prune(index, keep, now=NOW) == []
    assert precious.exists() and (index / name(key=OTHER_KEY, gen=OLD_GEN)).is_dir()
    assert (index / name(key="b" * 20, gen=OLD_GEN)).is_fifo()
