"""Helpers for the SQLite index tests (tests/index/test_index_*.py): ground truth found without the index,
what an index holds, and mtimes set in the past.

Ground truth walks the archive with os.walk and reads every file with the
parser: nothing of newsarc/index is used to compute it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from pathlib import Path

from newsarc.index import build, db
from newsarc.features import catalog  # noqa: F401  (registers the events group)
from newsarc.features.linkcheck import link_tables  # noqa: F401  (registers the groups the tests ask for)
from newsarc.features.search import word_index  # noqa: F401
from newsarc.reading.parser import read_event

GROUPS = ("events", "links")


class Clock:
    """Distinct past instants, one per call: an aged change is still a change (ageing everything to
    one instant could put a changed folder back on the mtime the index recorded, hiding a missed
    change), and old enough that the racy rule does not catch what the stamps should."""

    def __init__(self) -> None:
        self._next = itertools.count(int(time.time()) - 500_000, 7)

    def age(self, *paths: Path) -> None:
        for path in paths:
            past = next(self._next)
            os.utime(path, (past, past), follow_symlinks=False)

    def age_tree(self, root: Path) -> None:
        for folder, dirs, files in os.walk(root):
            self.age(*(Path(folder, name) for name in (*files, *dirs)))
        self.age(root)


CLOCK = Clock()


def truth(root: Path) -> dict[str, tuple]:
    """path -> (kind, digest, title, day) of every .md file (hidden names skipped, no links followed)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(folder, name)
            if not name.endswith(".md") or name.startswith(".") or not path.is_file() or path.is_symlink():
                continue
            rel = path.relative_to(root).as_posix()
            event = read_event(path, rel)
            if event.skipped:
                found[rel] = (db.SKIPPED, db.NO_DIGEST, None, None)
                continue
            digest = hashlib.blake2b(path.read_bytes(), digest_size=db.DIGEST_SIZE).digest()
            kind = db.DAY_PAGE if event.is_day_page else db.EVENT
            title = None if event.is_day_page else event.title
            day = None if event.is_day_page else (event.date.toordinal() if event.date else 0)
            found[rel] = (kind, digest, title, day)
    return found


def held(index: build.Index) -> dict[str, tuple]:
    """What the index says of each file, in truth()'s shape."""
    conn = index.conn
    events = dict(((fid, (title, day)) for fid, title, day in conn.execute("SELECT id, title, day FROM events"))) \
        if "events" in db.built_groups(conn) else {}
    found = {}
    for fid, path, kind, digest in conn.execute("SELECT id, path, kind, digest FROM files"):
        title, day = events.get(fid, (None, None))
        found[path] = (kind, digest, title, day)
    return found


def stamps_match(index: build.Index, root: Path) -> bool:
    """Every file row carries the file's stamp as it is now (an index that says so is trusted)."""
    for path, size, mtime, ctime, inode in index.conn.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files WHERE kind != 2"):
        info = os.stat(root / path)
        if (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino) != (size, mtime, ctime, inode):
            return False
    return True


def open_index(root: Path, cache_dir: Path, groups=GROUPS, **kw) -> build.Index:
    return build.open_fresh(root, root, groups, cache_dir=cache_dir, **kw)


def assert_true_to(index: build.Index, root: Path) -> None:
    """The index holds exactly the files there are, with their kinds, digests, titles and dates."""
    want, got = truth(root), held(index)
    assert sorted(got) == sorted(want)
    for path in want:
        if want[path][0] == db.SKIPPED:
            assert got[path][0] == db.SKIPPED, path
        else:
            assert got[path] == want[path], path
    if "links" in db.built_groups(index.conn):
        want_links, got_links = backlinks(root), {}
        for source, target in index.conn.execute(
                "SELECT s.path, t.path FROM links l JOIN files s ON s.id = l.id JOIN files t ON t.id = l.target WHERE l.role & 1"):
            got_links.setdefault(target, set()).add(source)
        assert got_links == want_links


def backlinks(root: Path) -> dict[str, set[str]]:
    """target -> the events linking to it, among files that exist (archive.link_targets on each event)."""
    from newsarc.archive import link_targets

    there = {p for p, v in truth(root).items() if v[0] != db.SKIPPED}
    found: dict[str, set[str]] = {}
    for path in there:
        event = read_event(root / path, path)
        if event.is_day_page:
            continue
        for target in link_targets(event):
            if target in there:
                found.setdefault(target, set()).add(path)
    return found


def databases(cache_dir: Path) -> list[Path]:
    folder = cache_dir / "index"
    return sorted(p for p in folder.iterdir() if db.NAME.fullmatch(p.name)) if folder.is_dir() else []


def leftovers(cache_dir: Path) -> list[str]:
    """Scratch files left in the index folder."""
    folder = cache_dir / "index"
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name) if folder.is_dir() else []
