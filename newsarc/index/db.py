"""The index as one SQLite database: its schema, where it lives, its connection, its format check.

What the index itself knows is files and folders: each file's path, freshness
stamp (size, mtime_ns, ctime_ns, inode), a digest of the bytes parsed and its
kind (event, day page, skipped); each folder's stamp and a digest of its names;
the scan's notes (symbolic links skipped, folders that could not be read).
freshness.py decides from them whether the index still describes the files.
Everything else is a *group* of tables that a feature registers (`register`):
its DDL, how to turn one parsed event into rows, and how to take rows out
again. A command asks for the groups it uses (build.open_fresh), and only
those are built: a first `validate-links` builds files + links, never the
search text. The index imports no feature.

Layout of one database (one per archive root and scope):

    PRAGMA user_version = SCHEMA
    meta(key, value)      made_by (newsarc and Python), scanned (ns: when the scan that read the files
                          began), generation (bumped by every write: a writer that checked an older
                          one checks again), root, scope
    groups(name, version, tables)   the groups built, and their tables; another version of a group ->
                          that group is built again; one no feature of this process registered is
                          dropped before an update (its rows could not be kept up to date)
    folders(path, mtime_ns, ctime_ns, names)   every folder the scan read (path relative to the root,
                          "" for the root itself; names: digest of its entries' names, NULL when it
                          could not be read)
    files(id, path, size, mtime_ns, ctime_ns, inode, digest, kind)
    notes(path, line, message, severity)       what the scan noted, in walk order
    + the registered groups' tables, rows keyed by files.id

Where it lives, and why names are never reused. SQLite keeps a WAL database's
recent writes in `<name>-wal`, indexed by `<name>-shm`, and finds both by name.
Replacing or removing a database file that another process still has open
would pair that process's -wal with another file: writes of one index
applied to the pages of another. So a database file is never replaced in
place: each is written whole under a new name, `<key>.<tag>.<generation>.db`
(key: a hash of the root and scope; tag: this SCHEMA and newsarc;
generation: when it was made, so names sort by age), and readers open the
newest usable one. Older generations are unlinked once a newer one is in
place: a process still reading one keeps its open files, and no new file will
ever take its names. Another version of newsarc uses another tag: two
versions never write one file.

Nothing that is not ours is removed or opened: only regular files (not
symbolic links) named as above are; a FIFO, a folder or a link at one of
these names is left alone and the database is built in a temporary file for
this run (`Unusable`). Opening a FIFO would block for ever.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newsarc import __version__

SCHEMA = 4  # PRAGMA user_version; bump on any change to a core table (a group has its own version)
MADE_BY = f"newsarc/{__version__}/py{sys.version_info[0]}.{sys.version_info[1]}/sqlite{sqlite3.sqlite_version}"
TAG = hashlib.sha1(f"{SCHEMA}/{MADE_BY}".encode()).hexdigest()[:8]
EVENT, DAY_PAGE, SKIPPED = 0, 1, 2  # files.kind
DIGEST_SIZE = 16
NO_DIGEST = bytes(DIGEST_SIZE)  # a skipped file: read again on every run, never reused
PAGE_SIZE = 8192
BUSY_MS = 600_000  # a writer waits this long for another (an update of 100k files holds the lock for a minute)
WAL_LIMIT = 64 << 20  # the -wal file is cut back to this after a checkpoint (a big update makes it large)

Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode

# <key>.<tag>.<generation>.db; the generation is 16 hex digits of time_ns and 4 random ones.
NAME = re.compile(r"([0-9a-f]{20})\.([0-9a-f]{8})\.([0-9a-f]{20})\.db")
SIDE = ("-wal", "-shm", "-journal")  # SQLite's own files beside a database
SCRATCH = ".tmp"  # a database being built from nothing: <name>.tmp, renamed into place when whole


class IndexDamaged(Exception):
    """SQLite could not read the database (not a database, malformed pages, cut short): it goes, and
    the index is built again."""


class Unusable(Exception):
    """Something that is not ours (a FIFO, a folder, a symbolic link) at one of the index's names,
    or a cache folder that cannot be written: the index is built in a temporary file for this run.
    `message` says what, for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_UNDECODABLE = re.compile("[\udc80-\udcff]")
_ESCAPED = re.compile("\0(.)", re.S)


def stored_path(path: str) -> str:
    """A path as the index holds it. SQLite holds UTF-8 text, and a name that is not UTF-8 reaches
    Python with each such byte as a lone surrogate (os.fsdecode's \\udcXX); the index holds NUL +
    chr(XX) instead. No name holds NUL, so the form is one to one (`real_path` undoes it)."""
    if path.isascii():
        return path
    return _UNDECODABLE.sub(lambda m: "\0" + chr(ord(m.group()) - 0xDC00), path)


def real_path(text: str) -> str:
    """The path `stored_path` was given."""
    if "\0" not in text:
        return text
    return _ESCAPED.sub(lambda m: chr(ord(m.group(1)) + 0xDC00), text)


def digest(data: bytes) -> bytes:
    """What a file's bytes are, for reuse when its stamp changed but its content did not (a fresh
    clone, a restored CI cache, `touch`): blake2b."""
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
    without content needs its own. `moved` hears of files added and gone
    (links to them re-resolve); `after` derives tables once rows are in.
    `kinds` are the kinds of file whose events the group wants. `needs`
    names the Event fields `rows` reads (reading/glance.py's names: "path",
    "kind", "date", "title", "sources", "topics", "links", "meta",
    "diagnostics"...); when every group built names only fields a glance at
    the file gives, the build glances instead of parsing (None: the whole
    event, parsed)."""

    name: str
    version: int
    tables: tuple[str, ...]
    inserts: dict[str, str]
    rows: Callable[[Any], dict[str, list[tuple]]]
    indexes: tuple[str, ...] = ()
    kinds: tuple[int, ...] = (EVENT, DAY_PAGE)
    drop: Callable[[sqlite3.Connection, list[int]], None] | None = None
    moved: Callable[[sqlite3.Connection, list[tuple[int, str]], list[int]], None] | None = None  # files added, gone
    after: Callable[[sqlite3.Connection], None] | None = None
    names: tuple[str, ...] = field(default=())  # the tables it owns (for drops and sizes); from `tables` if empty
    needs: frozenset[str] | None = None

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


_MODULES: dict[str, str] = {}  # group name -> the module whose import registers it


def register_module(name: str, module: str) -> None:
    """Say which module registers group `name` (the features say it of theirs): an index holding the
    group is then kept up to date by any process, which imports that module when it must, instead of
    dropping a group it does not know (a `show` after an edit would drop `related`'s words, and the
    next `related` pay their whole build again)."""
    _MODULES[name] = module


def group(name: str) -> Group | None:
    """The registered group `name`, its module imported if one was named for it; None when unknown."""
    if name not in GROUPS and name in _MODULES:
        import importlib

        importlib.import_module(_MODULES[name])
    return GROUPS.get(name)


# -- schema -------------------------------------------------------------------------------------

CORE = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    "CREATE TABLE groups(name TEXT PRIMARY KEY, version INTEGER NOT NULL, tables TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE folders(path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, names BLOB)"
    " WITHOUT ROWID",
    "CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, digest BLOB NOT NULL,"
    " kind INTEGER NOT NULL)",
    "CREATE TABLE notes(path TEXT NOT NULL, line INTEGER NOT NULL, message TEXT NOT NULL, severity TEXT NOT NULL)",
    # A rowid table: in a WITHOUT ROWID one, finding a key compares whole records, megabytes each here.
    "CREATE TABLE answers(name TEXT PRIMARY KEY, value BLOB NOT NULL)",
)


def create(conn: sqlite3.Connection, root: str, scope: str) -> None:
    """The core tables of an empty database, and its format marks."""
    conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
    conn.execute("BEGIN")
    for ddl in CORE:
        conn.execute(ddl)
    conn.executemany("INSERT INTO meta VALUES(?, ?)", [
        ("made_by", MADE_BY), ("generation", 0), ("scanned", 0), ("root", root), ("scope", scope)])
    conn.execute(f"PRAGMA user_version={SCHEMA}")
    conn.execute("COMMIT")


def meta(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else row[0]


def recall(conn: sqlite3.Connection, name: str) -> bytes | None:
    """An answer kept by `keep` from this index as it is (every update forgets them all)."""
    row = conn.execute("SELECT value FROM answers WHERE name=?", (name,)).fetchone()
    return None if row is None else row[0]


def keep(conn: sqlite3.Connection, name: str, value: bytes, generation: int) -> None:
    """Keep an answer that depends on the index alone, worked out from it at `generation` (read in
    the same transaction as the data), for the next runs; kept only if the index is still at that
    generation, and not at all when it cannot be written now (another writer, a read-only cache)."""
    conn.execute("PRAGMA busy_timeout=0")  # never wait for a writer for this
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    try:
        if int(meta(conn, "generation") or 0) == generation:
            conn.execute("INSERT OR REPLACE INTO answers VALUES(?, ?)", (name, value))
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")


def built_groups(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT name, version FROM groups"))


def check(conn: sqlite3.Connection, quick: bool = True) -> bool:
    """SQLite's own check of every page (quick_check: b-tree structure, not row contents). Reads the
    whole file: for tests and repairs, not for every run."""
    try:
        found = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError:
        return False
    return found == [("ok",)]


def sizes(conn: sqlite3.Connection) -> dict[str, int]:
    """Bytes on disk per table and index (dbstat), the FTS5 shadow tables under their own names."""
    try:
        return dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    except sqlite3.Error:
        return {}


# -- the connection -----------------------------------------------------------------------------


def connect(path: str, *, mmap_mb: int = 64) -> sqlite3.Connection:
    """A connection to the database at `path` (which must exist: never created here) with the settings
    every use wants: WAL (set when it was made), synchronous=NORMAL (a crash loses at most the last
    update, never consistency: it is a cache), a bounded page cache and memory map, temporary data in
    memory. "" is a private temporary database (SQLite removes it on close)."""
    if path:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_MS / 1000)
    else:
        conn = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA mmap_size={mmap_mb << 20}")
    conn.execute("PRAGMA cache_size=-16384")  # 16 MB of page cache
    conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
    return conn


def usable(path: str) -> bool | None:
    """The database at `path` is one this newsarc reads: SCHEMA, made by this newsarc, readable.
    None: SQLite was busy (another connection recovering the WAL): not known, so not removed."""
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None, timeout=5.0)
    except sqlite3.Error:
        return False
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA:
            return False
        return meta(conn, "made_by") == MADE_BY
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return None
        return False
    except sqlite3.Error:  # "file is not a database", "database disk image is malformed", no meta table
        return False
    finally:
        conn.close()


# -- where it lives -----------------------------------------------------------------------------


def key_of(root: str | os.PathLike, scope: str | os.PathLike) -> str:
    """One index per (root, scope): the key is a hash, the folder stays outside the archive."""
    return hashlib.sha1(f"{Path(root)}\0{Path(scope)}".encode()).hexdigest()[:20]


def _regular(path: str) -> bool | None:
    """True: a regular file; None: nothing there; False: something else (not ours to open)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode)


@dataclass
class Found:
    """What the index folder holds for one key: the newest usable database, the others of this tag."""

    newest: str | None = None
    older: list[str] = field(default_factory=list)  # of this tag, older than the newest or unusable
    foreign: list[str] = field(default_factory=list)  # at our names but not regular files: never touched


def generations(folder: str, key: str) -> list[tuple[str, str]]:
    """(generation, name) of every database name of this key and tag in `folder`, newest first."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        match = NAME.fullmatch(name)
        if match and match.group(1) == key and match.group(2) == TAG:
            found.append((match.group(3), name))
    return sorted(found, reverse=True)


def locate(folder: str, key: str) -> Found:
    """The newest usable database of `key` in `folder`. A database SQLite cannot read, or of another
    format at our name, is listed in `older` (the caller removes it); anything not a regular file at
    a database's names (its -wal or -shm included) in `foreign`."""
    found = Found()
    for _, name in generations(folder, key):
        path = os.path.join(folder, name)
        kinds = [_regular(path), *(_regular(path + side) for side in SIDE)]
        if False in kinds:
            found.foreign.append(path)
            continue
        if kinds[0] is None:
            continue
        verdict = usable(path) if found.newest is None else True
        if verdict is None:
            continue  # busy: neither used nor removed
        if found.newest is None and verdict:
            found.newest = path
        else:
            found.older.append(path)
    return found


def new_name(folder: str, key: str) -> str:
    return os.path.join(folder, f"{key}.{TAG}.{time.time_ns():016x}{secrets.token_hex(2)}.db")


def remove(path: str) -> None:
    """A database of ours and SQLite's files beside it; regular files only, never through a link."""
    for name in (path, *(path + side for side in SIDE)):
        if _regular(name):
            try:
                os.unlink(name)
            except OSError:
                pass


def publish(scratch: str, folder: str, key: str) -> str:
    """Give a whole database built in `scratch` a name of its own (never one in use: os.link fails if
    the name is taken, and the name is new anyway); older generations of this key and tag go.
    Returns the name."""
    path = _renamed(scratch, lambda: new_name(folder, key))
    if path is None:
        raise Unusable(f"no free name for the index in {folder}")
    mine = NAME.fullmatch(os.path.basename(path)).group(3)  # type: ignore[union-attr]
    for generation, name in generations(folder, key):
        if generation < mine:  # a newer one (another writer's) stays: it replaces ours next time
            remove(os.path.join(folder, name))
    return path


def sweep_scratch(folder: str, key: str) -> None:
    """Scratch files of `key` whose builder is gone (killed mid-build): each builder holds a lock on
    its own (hold_scratch) while it writes; one that can be locked has nobody writing it."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.endswith(SCRATCH) or not name.startswith(key + "."):
            continue
        match = NAME.fullmatch(name[: -len(SCRATCH)])
        if not match or match.group(1) != key:
            continue
        path = os.path.join(folder, name)
        if not _regular(path):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                remove(path)
        finally:
            os.close(fd)


def hold_scratch(folder: str, key: str) -> tuple[str, int]:
    """A new scratch file, created here (never one that exists), and a descriptor holding a lock on it
    for as long as the build runs (released by the kernel if the builder is killed).

    It is created and locked under a name no sweep looks at, and only then given its scratch name:
    another builder's sweep that opened it between its creation and its lock found it unlocked and
    removed it, and this build's publish then failed ("No such file or directory")."""
    import tempfile

    fd, hidden = tempfile.mkstemp(prefix=".tmp-", dir=folder)  # prune's scratch rule, should we be killed now
    try:
        os.fchmod(fd, 0o644)
        _try_lock(fd)
        path = _renamed(hidden, lambda: new_name(folder, key) + SCRATCH)
    except BaseException:
        os.close(fd)
        raise
    finally:
        if os.path.lexists(hidden):
            os.unlink(hidden)
    if path is None:
        os.close(fd)
        raise Unusable(f"no free name for a scratch index in {folder}")
    return path, fd


def _renamed(source: str, name: Callable[[], str]) -> str | None:
    """`source` under a new name of its own, `name()` tried until one is free (os.link fails if it is
    taken; where there are no hard links, rename, having looked that it is free); None when eight
    were taken."""
    for _ in range(8):
        path = name()
        try:
            os.link(source, path)
        except FileExistsError:
            continue
        except OSError:
            if _regular(path) is not None:
                continue
            os.rename(source, path)
            return path
        os.unlink(source)
        return path
    return None


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock: a scratch file left behind goes with prune's age rule
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
