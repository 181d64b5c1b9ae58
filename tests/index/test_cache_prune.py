"""cache.prune: what newsarc left in its index folder goes, nothing else, and it never raises.

Real files in tmp_path; ages are set with os.utime (atime and mtime), and
`now` is passed so no test depends on the clock.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from newsarc.index import cache

NOW = 2_000_000_000.0
DAY = 86400.0
KEY = "0123456789abcdef0123"
OTHER = "fedcba9876543210fedc"


def put(folder: Path, name: str, age_days: float, *, accessed_days: float | None = None) -> Path:
    """A file of `name`, last modified `age_days` and last read `accessed_days` (default: same) before NOW."""
    path = folder / name
    path.write_bytes(b"x")
    accessed = age_days if accessed_days is None else accessed_days
    os.utime(path, (NOW - accessed * DAY, NOW - age_days * DAY))
    return path


def names(paths) -> list[str]:
    return sorted(p.name for p in paths)


def left(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture
def index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    return folder


def test_old_marshal_files_go_whatever_their_age(index):
    keep = put(index, f"{KEY}.store", 0)
    put(index, f"{OTHER}.marshal", 0)
    put(index, f"{OTHER}.text.marshal", 0)
    put(index, f"{KEY}.marshal", 400)
    removed = cache.prune(index, keep, now=NOW)
    assert names(removed) == [f"{KEY}.marshal", f"{OTHER}.marshal", f"{OTHER}.text.marshal"]
    assert all(p.parent == index for p in removed)
    assert left(index) == [f"{KEY}.store"]


def test_stores_go_after_30_days_neither_written_nor_read(index):
    keep = put(index, f"{KEY}.store", 0)
    stale = put(index, "a" * 20 + ".store", 31)
    put(index, "b" * 20 + ".store", 29)  # written 29 days ago
    put(index, "c" * 20 + ".store", 90, accessed_days=2)  # old, but read two days ago
    put(index, "d" * 20 + ".store", 2, accessed_days=90)  # written two days ago
    assert cache.prune(index, keep, now=NOW) == [stale]
    assert left(index) == [f"{KEY}.store", "b" * 20 + ".store", "c" * 20 + ".store", "d" * 20 + ".store"]


def test_the_limit_is_the_constant(index):
    keep = index / f"{KEY}.store"
    just_under = cache.STORE_UNUSED_DAYS - 0.01
    put(index, "a" * 20 + ".store", just_under)
    assert cache.prune(index, keep, now=NOW) == []
    assert cache.prune(index, keep, now=NOW + 0.02 * DAY) == [index / ("a" * 20 + ".store")]


def test_scratch_files_of_a_crashed_writer_go_after_a_day(index):
    keep = put(index, f"{KEY}.store", 0)
    put(index, ".tmp-k2_9xq0a", 2)  # Writer._write: mkstemp(prefix=".tmp-")
    put(index, "tmpa1b2c3d4", 1.5)  # Writer's scratch (TemporaryFile) where it has a name
    put(index, ".tmp-fresh123", 0.5)  # a writer at work now
    put(index, "tmp_live_01", 0.1)
    removed = cache.prune(index, keep, now=NOW)
    assert names(removed) == [".tmp-k2_9xq0a", "tmpa1b2c3d4"]
    assert left(index) == [".tmp-fresh123", f"{KEY}.store", "tmp_live_01"]


def test_keep_is_never_removed_however_old(index):
    keep = put(index, f"{KEY}.store", 365)
    assert cache.prune(index, keep, now=NOW) == []
    assert cache.prune(index.parent / "index" / "." / keep.name, keep, now=NOW) == []
    assert left(index) == [f"{KEY}.store"]


def test_keep_reached_through_a_symlinked_folder_is_kept(tmp_path, index):
    put(index, f"{KEY}.store", 365)
    alias = tmp_path / "alias"
    alias.symlink_to(index, target_is_directory=True)
    assert cache.prune(index, alias / f"{KEY}.store", now=NOW) == []
    assert left(index) == [f"{KEY}.store"]


def test_unrelated_files_are_left_alone(index):
    keep = index / f"{KEY}.store"
    unrelated = [
        "notes.txt",
        "README",
        f"{KEY}.store.bak",
        f"{KEY.upper()}.store",  # upper-case hex: not a name newsarc makes
        f"{KEY[:19]}.store",  # 19 digits
        "g" * 20 + ".store",  # not hex
        f"{KEY}.Text.marshal",
        "x.marshal",
        "tmp",
        "tmpfile-of-someone",  # 15 characters after "tmp"
        ".tmp-short",
        "tmp12345678.txt",
    ]
    for name in unrelated:
        put(index, name, 400)
    (index / f"{OTHER}.marshal").mkdir()  # a folder, even named like ours
    put(index / f"{OTHER}.marshal", "inside.txt", 400)
    assert cache.prune(index, keep, now=NOW) == []
    assert left(index) == sorted(unrelated + [f"{OTHER}.marshal"])


def test_symlinks_are_not_followed_nor_removed(tmp_path, index):
    keep = index / f"{KEY}.store"
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    target = put(elsewhere, f"{OTHER}.marshal", 400)
    (index / f"{OTHER}.marshal").symlink_to(target)
    (index / ("a" * 20 + ".store")).symlink_to(put(elsewhere, "a" * 20 + ".store", 400))
    (index / ("b" * 20 + ".store")).symlink_to(elsewhere / "missing")  # dangling
    assert cache.prune(index, keep, now=NOW) == []
    assert left(elsewhere) == ["a" * 20 + ".store", f"{OTHER}.marshal"]
    assert left(index) == ["a" * 20 + ".store", "b" * 20 + ".store", f"{OTHER}.marshal"]


def test_a_missing_folder_is_nothing_to_prune(tmp_path):
    assert cache.prune(tmp_path / "nowhere", tmp_path / "nowhere" / f"{KEY}.store", now=NOW) == []
    assert cache.prune(tmp_path / "a-file", tmp_path / f"{KEY}.store") == []  # not even there


def _lock(folder: Path) -> bool:
    """Make `folder` refuse removals: chmod, and for root (whom chmod does not stop) the immutable flag."""
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() != 0:
        return True
    chattr = shutil.which("chattr")
    return chattr is not None and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0


def _unlock(folder: Path) -> None:
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run([shutil.which("chattr"), "-i", str(folder)], capture_output=True)
    folder.chmod(stat.S_IRWXU)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_read_only_folder_does_not_raise(index):
    keep = put(index, f"{KEY}.store", 0)
    doomed = [put(index, f"{OTHER}.marshal", 1), put(index, "a" * 20 + ".store", 60), put(index, ".tmp-abcdefgh", 3)]
    try:
        if not _lock(index):
            pytest.skip("running as root without chattr +i: no way to make a folder refuse removals")
        assert cache.prune(index, keep, now=NOW) == []
        assert all(path.exists() for path in doomed)
    finally:
        _unlock(index)
    assert names(cache.prune(index, keep, now=NOW)) == names(doomed)  # and once writable, they go
