"""The index as one SQLite database: schema, connection, format check, build and update (a spike).

What the index itself knows is files: their path, freshness stamp (size,
mtime_ns, ctime_ns, inode) and a digest of the bytes parsed, and what kind of
file each is (event, day page, skipped). Everything else is a *group* of
tables that a feature registers (`register`): its DDL, how to turn one parsed
event into rows, and how to take rows out again when a file changes. A
command asks for the groups it uses (`ensure`), and only those are built: a
first `validate-links` builds files + links, never the search text.

Layout of one database (one per archive root and scope):

    meta(key, value)          made_by (newsarc and parser version), scanned (the time a scan began)
    groups(name, version)     the groups built; another version of a group -> that group is rebuilt
    files(id, path, size, mtime_ns, ctime_ns, inode, digest, kind)
    + the registered groups' tables, rows keyed by files.id

`PRAGMA user_version` is SCHEMA: a database of another format (or one SQLite
cannot read, or another newsarc's) is removed and built again, never read.

Builds: parsing runs in forked worker processes (chunks of files, rows sent
back as marshal bytes); the parent inserts with executemany in one
transaction. A build from nothing writes a new file with the journal off
and renames it into place (atomic; readers never see half an index); an
update changes rows of the files that changed, in one WAL transaction.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from newsarc import __version__

SCHEMA = 1  # PRAGMA user_version; bump on any change to a table's layout (a group's own: its version)
MADE_BY = f"newsarc/{__version__}/py{sys.version_info[0]}.{sys.version_info[1]}"
EVENT, DAY_PAGE, SKIPPED = 0, 1, 2
DIGEST_SIZE = 16
NO_DIGEST = bytes(DIGEST_SIZE)
RACY_SECONDS = 2.0  # as cache.RACY_SECONDS: a file this young at the scan is checked by its bytes
CHUNK = 500  # files per task sent to a worker
PARALLEL_MIN_FILES = 2000
PAGE_SIZE = 8192

Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


class IndexDamaged(Exception):
    """SQLite could not read the database (not a database, malformed pages): it is rebuilt."""


def digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


# -- what features register ---------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Tables one or more features need, filled from parsed events.

    `tables` are CREATE statements run when the group is built; `indexes`
    after its rows are in (cheaper than keeping an index up to date row by
    row). `inserts` maps a table to its INSERT statement; `rows(event)`
    returns, per table, the rows of one event *without* the file id, which
    the build puts first (for an FTS5 table: its rowid). It runs in worker
    processes: it must return plain values (marshal). `drop` takes a group's
    rows of some files out (default: DELETE ... WHERE id IN); an FTS5 table
    without content needs its own (see tables.py). `kinds` are the kinds of
    file whose events the group wants."""

    name: str
    version: int
    tables: tuple[str, ...]
    inserts: dict[str, str]
    rows: Callable[[Any], dict[str, list[tuple]]]
    indexes: tuple[str, ...] = ()
    kinds: tuple[int, ...] = (EVENT, DAY_PAGE)
    drop: Callable[[sqlite3.Connection, list[int]], None] | None = None
    moved: Callable[[sqlite3.Connection, list[tuple[int, str]], list[int]], None] | None = None  # files added, gone
    after: Callable[[sqlite3.Connection], None] | None = None  # once the rows are in (derived tables)
    names: tuple[str, ...] = field(default=())  # the tables it owns (for drops and sizes); from `tables` if empty

    def table_names(self) -> tuple[str, ...]:
        if self.names:
            return self.names
        return tuple(ddl.split("(")[0].split()[-1] for ddl in self.tables if " INDEX " not in ddl.upper())


GROUPS: dict[str, Group] = {}
_IDS: dict[str, int] = {}  # path -> file id of every file the index will hold, set before workers fork


def file_id(path: str) -> int | None:
    """The id the file at `path` has (or gets in this build); None for a path the index lacks. For a
    group's `rows`: links can be stored as ids, not repeated paths."""
    return _IDS.get(path)


def register(group: Group) -> Group:
    """Make a group known to every index (a feature does this when its module is imported)."""
    GROUPS[group.name] = group
    return group


# -- the connection -----------------------------------------------------------------------------

_CORE = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    "CREATE TABLE groups(name TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, digest BLOB NOT NULL,"
    " kind INTEGER NOT NULL)",
)


def connect(path: str | os.PathLike, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the settings every use wants: WAL, synchronous=NORMAL (a crash loses at most
    the last update, never consistency: it is a cache), mmap for reads, temporary data in memory."""
    if readonly:
        conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(os.fspath(path), isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA mmap_size=268435456")
    conn.execute("PRAGMA cache_size=-32768")  # 32 MB of page cache
    return conn


def _usable(path: str) -> bool:
    """The database there is ours, of this format: SCHEMA, made by this newsarc, and readable."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
            return False
        row = conn.execute("SELECT value FROM meta WHERE key='made_by'").fetchone()
        return row is not None and row[0] == MADE_BY
    except sqlite3.Error:  # "file is not a database", "database disk image is malformed", no meta table
        return False
    finally:
        conn.close()


def open_index(path: str | os.PathLike) -> tuple[sqlite3.Connection, bool]:
    """(connection, reused) for the index at `path`: the database there if it is usable, else a new
    empty one in its place (another format, another newsarc, damaged: removed and made again)."""
    path = os.fspath(path)
    if os.path.exists(path) and _usable(path):
        return connect(path), True
    remove(path)
    conn = connect(path)
    create(conn)
    return conn, False


def remove(path: str) -> None:
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass


def create(conn: sqlite3.Connection, *, wal: bool = True) -> None:
    """The core tables of an empty database, and its format marks."""
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    for ddl in _CORE:
        conn.execute(ddl)
    conn.execute("INSERT INTO meta VALUES('made_by', ?)", (MADE_BY,))
    conn.execute(f"PRAGMA user_version={SCHEMA}")
    conn.execute("COMMIT")


def built_groups(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT name, version FROM groups"))


def check(conn: sqlite3.Connection, quick: bool = True) -> bool:
    """SQLite's own check of every page (quick_check: b-tree structure, not row contents)."""
    try:
        found = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError:
        return False
    return found == [("ok",)]


# -- parsing, in workers ------------------------------------------------------------------------

Item = tuple[str, str, Stamp]  # (path on disk, relpath, stamp)


def _parse_one(item: Item, groups: Sequence[str]) -> tuple[tuple, dict[str, dict[str, list[tuple]]]]:
    """(file row without id, {group: {table: rows}}) for one file."""
    from newsarc.model import Diagnostic
    from newsarc.parser import parse_bytes, read_limited, skipped_event

    path, relpath, stamp = item
    diagnostics: list[Diagnostic] = []
    data = read_limited(path, relpath, diagnostics)
    if data is None:
        event, found = skipped_event(relpath, diagnostics), NO_DIGEST
    else:
        event, found = parse_bytes(data, relpath), digest(data)
    kind = SKIPPED if event.skipped else DAY_PAGE if event.is_day_page else EVENT
    if kind == SKIPPED:
        found = NO_DIGEST
    rows = {}
    for name in groups:
        group = GROUPS[name]
        if kind in group.kinds:
            rows[name] = group.rows(event)
    return (relpath, *stamp, found, kind), rows


def _parse_chunk(task: tuple[int, list[Item], tuple[str, ...]]) -> bytes:
    """Rows of a chunk of files, ids from `first` on, as marshal bytes (cheap to send back)."""
    first, items, groups = task
    files, tables = [], {}
    for k, item in enumerate(items):
        file_id = first + k
        file_row, rows = _parse_one(item, groups)
        files.append((file_id, *file_row))
        for name, by_table in rows.items():
            for table, table_rows in by_table.items():
                tables.setdefault(table, []).extend((file_id, *row) for row in table_rows)
    return marshal.dumps((files, tables))


def _chunks(items: Sequence[Item], ids: Sequence[int] | None, groups: tuple[str, ...], chunk: int):
    """Tasks for the workers: (first id, items, groups), ids consecutive within a task."""
    if ids is None:
        for start in range(0, len(items), chunk):
            yield (start + 1, list(items[start : start + chunk]), groups)
        return
    start = 0
    while start < len(items):  # runs of consecutive ids (an update: new files get new ids at the end)
        stop = start + 1
        while stop < len(items) and stop - start < chunk and ids[stop] == ids[stop - 1] + 1:
            stop += 1
        yield (ids[start], list(items[start:stop]), groups)
        start = stop


def parsed(items: Sequence[Item], groups: tuple[str, ...], ids: Sequence[int] | None = None, workers: int | None = None) -> Iterator[bytes]:
    """Marshal bytes of (files rows, {table: rows}) per chunk, in order, parsed on `workers` processes."""
    tasks = _chunks(items, ids, groups, CHUNK)
    workers = _workers() if workers is None else workers
    if workers < 2 or len(items) < PARALLEL_MIN_FILES:
        yield from map(_parse_chunk, tasks)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_parse_chunk, tasks)


def _workers() -> int:
    from newsarc import forks

    return forks.workers()


# -- building and updating ------------------------------------------------------------------------


@dataclass
class Built:
    files: int = 0
    parse_insert: float = 0.0  # parse in workers + inserts here (overlapping)
    indexes: float = 0.0  # CREATE INDEX after the load, FTS5 optimize
    commit: float = 0.0


def _create_group(conn: sqlite3.Connection, group: Group) -> None:
    for ddl in group.tables:
        conn.execute(ddl)


def _insert(conn: sqlite3.Connection, blob: bytes, with_files: bool) -> int:
    files, tables = marshal.loads(blob)
    if with_files:
        conn.executemany("INSERT INTO files VALUES(?,?,?,?,?,?,?,?)", files)
    for table, rows in tables.items():
        conn.executemany(_INSERTS[table], rows)
    return len(files)


_INSERTS: dict[str, str] = {}  # table -> INSERT (filled from the registered groups)


def _statements(groups: Iterable[str]) -> None:
    for name in groups:
        _INSERTS.update(GROUPS[name].inserts)


def build_new(path: str | os.PathLike, items: Sequence[Item], groups: Sequence[str], *, scanned: float | None = None,
              workers: int | None = None, optimize: bool = True) -> Built:
    """A new index at `path` holding `items` and `groups`, built in a scratch file with the journal
    off and renamed into place (a crash leaves the old index, or none, plus a scratch file)."""
    path = os.fspath(path)
    scratch = f"{path}.tmp-{os.getpid()}"
    remove(scratch)
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    create(conn, wal=False)
    groups = tuple(groups)
    done = _fill(conn, items, groups, None, scanned, workers, optimize)
    conn.execute("PRAGMA journal_mode=WAL")  # persistent: every later connection uses WAL
    conn.close()
    os.replace(scratch, path)
    return done


def _fill(conn, items, groups: tuple[str, ...], ids, scanned, workers, optimize: bool) -> Built:
    done = Built()
    _statements(groups)
    start = time.perf_counter()
    _IDS.clear()
    _IDS.update(conn.execute("SELECT path, id FROM files"))
    if ids is None:
        _IDS.update((item[1], k) for k, item in enumerate(items, 1))
    conn.execute("BEGIN")
    have = built_groups(conn)
    for name in groups:
        if name not in have:
            _create_group(conn, GROUPS[name])
    with_files = ids is None or not conn.execute("SELECT 1 FROM files LIMIT 1").fetchone()
    for blob in parsed(items, groups, ids, workers):
        done.files += _insert(conn, blob, with_files)
    done.parse_insert = time.perf_counter() - start
    start = time.perf_counter()
    for name in groups:
        if name not in have:
            for ddl in GROUPS[name].indexes:
                if optimize or " INDEX " in ddl.upper():
                    conn.execute(ddl)
        if GROUPS[name].after is not None:
            GROUPS[name].after(conn)
        conn.execute("INSERT OR REPLACE INTO groups VALUES(?, ?)", (name, GROUPS[name].version))
    conn.execute("INSERT OR REPLACE INTO meta VALUES('scanned', ?)", (scanned if scanned is not None else time.time(),))
    done.indexes = time.perf_counter() - start
    start = time.perf_counter()
    conn.execute("COMMIT")
    done.commit = time.perf_counter() - start
    return done


def ensure(conn: sqlite3.Connection, root: str, groups: Sequence[str], *, workers: int | None = None) -> Built | None:
    """Build the groups asked for that the index lacks (or holds in another version), for every file
    it knows: a command builds only what it uses. Nothing when all are there."""
    have = built_groups(conn)
    missing = tuple(name for name in groups if have.get(name) != GROUPS[name].version)
    if not missing:
        return None
    conn.execute("BEGIN")
    for name in missing:
        if name in have:
            _drop_tables(conn, GROUPS[name])
            conn.execute("DELETE FROM groups WHERE name=?", (name,))
    conn.execute("COMMIT")
    rows = conn.execute("SELECT id, path, size, mtime_ns, ctime_ns, inode FROM files ORDER BY id").fetchall()
    items = [(os.path.join(root, path), path, tuple(stamp)) for _, path, *stamp in rows]
    return _fill(conn, items, missing, [row[0] for row in rows], None, workers, True)


def _drop_tables(conn: sqlite3.Connection, group: Group) -> None:
    for table in group.table_names():
        conn.execute(f"DROP TABLE IF EXISTS {table}")


# -- freshness ----------------------------------------------------------------------------------


@dataclass
class Changes:
    added: list[Item] = field(default_factory=list)
    changed: list[tuple[int, Item]] = field(default_factory=list)  # (file id, item)
    restamped: list[tuple[int, Stamp]] = field(default_factory=list)  # same bytes, new stamp
    gone: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.restamped or self.gone)


def scan(root: str, scope: str | None = None) -> list[Item]:
    """Every Markdown file under `scope` (default: root) with its stamp, in walk order (sorted names).
    The spike's walk: the real one keeps archive.py's rules (symlinks, hidden folders, notes)."""
    found: list[Item] = []
    stack = [scope or root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        below = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                below.append(entry.path)
            elif entry.name.endswith(".md") and entry.is_file(follow_symlinks=False):
                try:
                    info = entry.stat(follow_symlinks=False)
                    stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
                except OSError:
                    stamp = (-1, -1, -1, -1)
                found.append((entry.path, os.path.relpath(entry.path, root).replace(os.sep, "/"), stamp))
        stack.extend(reversed(below))
    return found


def changes(conn: sqlite3.Connection, items: Sequence[Item]) -> Changes:
    """What differs between the index and the files as scanned (`items`). A file is taken as unchanged
    when its stamp is, unless its mtime is within RACY_SECONDS of the last scan: then its bytes decide
    (git's racily-clean rule). Same bytes under a new stamp (a clone, a restored cache): restamped."""
    scanned = conn.execute("SELECT value FROM meta WHERE key='scanned'").fetchone()
    racy_from = int(((scanned[0] if scanned else 0.0) - RACY_SECONDS) * 1e9)
    known = {path: (fid, (size, mtime, ctime, inode), dig, kind) for fid, path, size, mtime, ctime, inode, dig, kind
             in conn.execute("SELECT * FROM files")}
    found = Changes()
    for item in items:
        old = known.pop(item[1], None)
        if old is None:
            found.added.append(item)
            continue
        fid, stamp, dig, kind = old
        if kind == SKIPPED:
            found.changed.append((fid, item))  # looked at again every run
        elif stamp == item[2] and stamp[1] < racy_from:
            continue
        elif stamp[0] == item[2][0] and _bytes_digest(item[0]) == dig:
            if stamp != item[2]:
                found.restamped.append((fid, item[2]))
        else:
            found.changed.append((fid, item))
    found.gone = [old[0] for old in known.values()]
    return found


def _bytes_digest(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return digest(handle.read())
    except OSError:
        return None


def update(conn: sqlite3.Connection, found: Changes, *, scanned: float | None = None, workers: int | None = None) -> Built:
    """Apply `changes` to every group built, in one transaction: rows of changed and gone files out,
    changed and added files parsed and put in (changed ones keep their id)."""
    groups = tuple(built_groups(conn))
    _statements(groups)
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    out = [fid for fid, _ in found.changed] + found.gone
    if out:
        for name in groups:
            group = GROUPS[name]
            if group.drop is not None:
                group.drop(conn, out)
            else:
                for table in group.table_names():
                    conn.executemany(f"DELETE FROM {table} WHERE id=?", [(i,) for i in out])
        conn.executemany("DELETE FROM files WHERE id=?", [(i,) for i in out])
    conn.executemany("UPDATE files SET size=?, mtime_ns=?, ctime_ns=?, inode=? WHERE id=?",
                     [(*stamp, fid) for fid, stamp in found.restamped])
    top = conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()[0]
    items = [item for _, item in found.changed] + found.added
    ids = [fid for fid, _ in found.changed] + list(range(top + 1, top + 1 + len(found.added)))
    order = sorted(range(len(items)), key=ids.__getitem__)
    _IDS.clear()
    _IDS.update(conn.execute("SELECT path, id FROM files"))
    _IDS.update((item[1], fid) for item, fid in zip(items, ids))
    for name in groups:  # a group whose rows name other files (links) hears of those added and gone
        hook = GROUPS[name].moved
        if hook is not None:
            hook(conn, [(fid, item[1]) for fid, item in zip(ids[len(found.changed):], found.added)], found.gone)
    done = Built()
    for blob in parsed([items[k] for k in order], groups, [ids[k] for k in order], workers):
        done.files += _insert(conn, blob, True)
    for name in groups:
        if GROUPS[name].after is not None:
            GROUPS[name].after(conn)
    conn.execute("INSERT OR REPLACE INTO meta VALUES('scanned', ?)", (scanned if scanned is not None else time.time(),))
    conn.execute("COMMIT")
    done.parse_insert = time.perf_counter() - start
    return done


def sizes(conn: sqlite3.Connection) -> dict[str, int]:
    """Bytes on disk per table and index (dbstat), the FTS5 shadow tables under their own names."""
    try:
        return dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    except sqlite3.Error:
        return {}
