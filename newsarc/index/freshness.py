"""Whether the index still describes the files, and if not, exactly what changed.

The rules are the README's ("The index cache"), those the column store kept before
the move to SQLite, unchanged:

- The index is used as it is only if every folder the scan read has the
  mtime and ctime it had (so no file was added, deleted or renamed, and no
  folder's permissions changed), and every file has the size, mtime, ctime
  (both to the nanosecond) and inode it had.
- git's racily-clean rule: where an mtime is not older than the moment the
  scan that read the file began minus RACY_SECONDS, an edit within the same
  timestamp tick could keep the stamp, so the file must still have the same
  bytes (its digest) and the folder the same names (a digest of them).
- The ctime cannot be set by hand: an edit that keeps the size and puts the
  mtime back is still seen, as is a chmod.
- Files that could not be read are read again every time; symbolic links the
  scan skipped (dangling, or leading out of the root) are looked at again; a
  file read whole that is now over the size limit is read again (to be
  skipped as the limit says).
- From PARALLEL_STATS files on, the stat calls run on every core (cores.py).

When the check fails it says what it found (`Found`), and `plan` starts
from that instead of walking everything again: only the folders whose stamps
changed are listed again, and new folders walked; anything out of the
ordinary in a changed folder (a symbolic link, something the walk would
note) means a walk of everything. A file whose stamp changed but whose size
and bytes did not (a fresh clone, a restored CI cache, `touch`) is read and
hashed, not parsed again (`Plan.restamped`).

The walk itself (`Walk`) is archive.py's: sorted names, hidden names
skipped, symbolic links followed only when they stay inside the root, a
folder reached twice read once, FIFOs and devices named and skipped.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsarc import cores
from newsarc.index import db
from newsarc.reading.limits import max_file_size, over_limit
from newsarc.model import Diagnostic

RACY_SECONDS = 2.0
RACY_NS = int(RACY_SECONDS * 1e9)
PARALLEL_STATS = 20000  # from this many files, the check stats on every core
PARALLEL_DIGESTS = 2000  # from this many files to hash, every core hashes
STAMP_PIECES = 8  # the files' stamps, kept as this many blobs (keep_stamps): a share of the check reads its pieces
STAMPS = "stamps-"  # their names in the answers table
GONE: db.Stamp = (-1, -1, -1, -1)  # vanished or unreadable when stat-ed: the parser says why

Item = tuple[str, str, db.Stamp]  # (path on disk, path relative to the root, stamp)
Note = tuple[str, int, str, str]  # a Diagnostic as plain values: path, line, message, severity


def stamp_of(info: os.stat_result) -> db.Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def changed_share(conn: sqlite3.Connection, root: str, sample: int) -> float:
    """The share of `sample` files the index lists, evenly spread, whose stamps differ now (a file
    gone counts): after a fresh clone, a restored CI cache or a `touch` of everything, nearly all.
    Milliseconds: a look, not the check (which stats every file, then reads and hashes those whose
    stamps changed)."""
    top = conn.execute("SELECT max(id) FROM files").fetchone()[0] or 0
    step = max(1, top // max(sample, 1))
    rows = conn.execute("SELECT path, size, mtime_ns, ctime_ns, inode FROM files WHERE id % ? = 0 AND kind != ? LIMIT ?",
                        (step, db.SKIPPED, sample)).fetchall()
    changed = 0
    for path, *stamp in rows:
        try:
            changed += stamp_of(os.stat(os.path.join(root, db.real_path(path)))) != tuple(stamp)
        except OSError:
            changed += 1
    return changed / len(rows) if rows else 0.0


def names_digest(names: Iterable[str]) -> bytes:
    """What a folder holds, by name: compared for folders the racy rule cannot vouch for."""
    return db.digest("\0".join(sorted(names)).encode("utf-8", "surrogateescape"))


def _listing(folder: str) -> bytes | None:
    try:
        return names_digest(os.listdir(folder))
    except OSError:
        return None


def file_digests(paths: Sequence[str]) -> list[bytes]:
    """`db.digest` of each file's bytes; NO_DIGEST for one that cannot be read."""
    found = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found.append(db.digest(handle.read()))
        except OSError:
            found.append(db.NO_DIGEST)
    return found


def digests(paths: Sequence[str]) -> list[bytes]:
    """file_digests, on every core from PARALLEL_DIGESTS files on."""
    if not paths:
        return []
    parts = cores.split(paths, cores.workers() if len(paths) >= PARALLEL_DIGESTS else 1)
    return [d for part in cores.fan_out(file_digests, parts) for d in part]


# -- the walk -----------------------------------------------------------------------------------


class Walk:
    """Files and folders below a start folder, by archive.py's rules (see the module docstring).

    `folders` gets (relpath, mtime_ns, ctime_ns, names digest or None where the
    folder could not be listed) of every folder read; `notes` what the walk
    noted; `odd` turns True when it met a symbolic link or noted anything
    (plan() then walks everything)."""

    def __init__(self, root: str):
        self.root = root.rstrip(os.sep) or os.sep
        self.prefix = self.root.rstrip(os.sep) + os.sep
        self._real_root = Path(self.root).resolve()
        self.folders: list[tuple[str, int, int, bytes | None]] = []
        self.notes: list[Note] = []
        self.odd = False

    def relpath(self, path: str) -> str:
        if path == self.root:
            return ""
        if path.startswith(self.prefix):
            rest = path[len(self.prefix):]
            return db.stored_path(rest if os.sep == "/" else rest.replace(os.sep, "/"))
        return db.stored_path(Path(os.path.relpath(path, self.root)).as_posix())

    def disk(self, relpath: str) -> str:
        return self.prefix + db.real_path(relpath) if relpath else self.root

    def files(self, start: str, seen: set[tuple[int, int]] | None = None) -> Iterator[Item]:
        """(path, relpath, stamp) of every .md file below `start` (a path on disk), in walk order."""
        seen = set() if seen is None else seen
        stack = [start]
        while stack:
            folder = stack.pop()
            try:
                info = os.stat(folder)
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    self._note(folder, "symlink loop; folder read once")
                    continue
                seen.add(key)
                self.folders.append((self.relpath(folder), info.st_mtime_ns, info.st_ctime_ns, None))
                entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
                self.folders[-1] = (*self.folders[-1][:3], names_digest(e.name for e in entries))
            except OSError as exc:
                self._note(folder, f"cannot read folder: {exc.strerror or exc}")
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                found = self.entry(entry, stack)
                if found is not None:
                    yield found

    def entry(self, entry: os.DirEntry, stack: list[str]) -> Item | None:
        """A .md file as an item; a folder onto `stack`; anything else noted or passed over."""
        try:
            if entry.is_symlink():
                self.odd = True
                problem = self.symlink_problem(entry.path)
                if problem:
                    self._note(entry.path, problem)
                    return None
            if entry.is_dir():
                stack.append(entry.path)
            elif entry.name.endswith(".md"):
                if entry.is_file():
                    try:
                        found = stamp_of(entry.stat())
                    except OSError:
                        found = GONE
                    return (entry.path, self.relpath(entry.path), found)
                self._note(entry.path, "not a regular file; skipped")  # a FIFO, socket or device: reading could block
        except OSError as exc:
            self._note(entry.path, f"cannot read: {exc.strerror or exc}")
        return None

    def symlink_problem(self, path: str) -> str:
        """Why a symbolic link is not followed; "" when it stays inside the root."""
        try:
            real = Path(path).resolve(strict=True)
        except FileNotFoundError:
            return "symbolic link to a missing file; skipped"
        except (OSError, RuntimeError):  # ELOOP (RuntimeError before Python 3.13)
            return "symbolic link loop; not followed"
        if real == self._real_root or self._real_root in real.parents:
            return ""
        return "symbolic link to outside the archive root; not followed"

    def _note(self, path: str, message: str) -> None:
        self.odd = True
        self.notes.append((self.relpath(path), 0, message, "warning"))


# -- what the index holds -----------------------------------------------------------------------


@dataclass
class Known:
    """The index's files and folders as read for a check (and reused by the plan that follows)."""

    scanned: int  # ns
    generation: int
    ids: list[int]
    paths: list[str]
    stamps: list[db.Stamp]
    digests: list[bytes]
    kinds: list[int]
    folders: list[tuple[str, int, int, bytes | None]]
    notes: list[Note]

    @property
    def limit(self) -> int:
        """mtimes from here on are too young to trust by stamp (the racy rule)."""
        return self.scanned - RACY_NS


def known(conn: sqlite3.Connection) -> Known:
    """Everything a plan needs, read in one read transaction (one consistent state). (The check
    itself reads less, each process its share: `check`.)"""
    conn.execute("BEGIN")
    try:
        scanned = int(db.meta(conn, "scanned") or 0)
        generation = int(db.meta(conn, "generation") or 0)
        rows = conn.execute("SELECT id, path, size, mtime_ns, ctime_ns, inode, digest, kind FROM files").fetchall()
        kinds, found_digests = [r[7] for r in rows], [r[6] for r in rows]
        folders = conn.execute("SELECT path, mtime_ns, ctime_ns, names FROM folders").fetchall()
        notes = conn.execute("SELECT path, line, message, severity FROM notes ORDER BY rowid").fetchall()
    finally:
        conn.execute("COMMIT")
    return Known(
        scanned, generation,
        [r[0] for r in rows], [r[1] for r in rows], [(r[2], r[3], r[4], r[5]) for r in rows],
        found_digests, kinds, folders, notes,
    )


# -- the check ----------------------------------------------------------------------------------


@dataclass
class Found:
    """What a check saw. Nothing in it: the index is fresh."""

    began: float  # when the check began: a scan time safe to record for an index made from what it saw
    generation: int = 0  # the index's generation the check saw
    folders: list[str] = field(default_factory=list)  # relpaths of folders whose stamp or names changed, or gone
    files: list[tuple[int, db.Stamp | None, bool]] = field(default_factory=list)  # (file id, new stamp or None, bytes differ)
    walk: bool = False  # something only a walk of everything can settle (a skipped symbolic link changed)
    young: int = 0  # files and folders vouched for by their bytes, not their stamps
    unreadable: list[Note] = field(default_factory=list)  # why each skipped file is still skipped, as of now

    @property
    def fresh(self) -> bool:
        return not (self.folders or self.files or self.walk)


def keep_stamps(conn: sqlite3.Connection) -> None:
    """The stamps of the files the check stats, as STAMP_PIECES blobs (by id) in the answers table,
    written by every update with its new generation: a share of the check reads one blob per piece
    instead of a row per file, which cost about as much as stat-ing the files."""
    rows = conn.execute("SELECT id, path, size, mtime_ns, ctime_ns, inode FROM files WHERE kind != ? ORDER BY id", (db.SKIPPED,)).fetchall()
    step = -(-len(rows) // STAMP_PIECES)  # pieces of neighbouring ids: files of a folder are stat-ed together
    kept = []
    for k in range(STAMP_PIECES):
        piece = rows[k * step: (k + 1) * step]
        ids = array("q", [row[0] for row in piece])
        stamps = array("q", [value for row in piece for value in row[2:]])
        kept.append((f"{STAMPS}{k}", marshal.dumps((ids.tobytes(), [row[1] for row in piece], stamps.tobytes()))))
    conn.executemany("INSERT OR REPLACE INTO answers VALUES(?, ?)", kept)


def check(conn: sqlite3.Connection, root: str) -> Found:
    """Compare the index with the files (see the module docstring for the rules)."""
    return start(conn, root, background=False).found()


def start(conn: sqlite3.Connection, root: str, *, background: bool = True) -> Checking:
    """The check, begun: with `background`, forked processes stat while this one goes on (an answer
    from the index meanwhile is given only once `Checking.found()` says it was fresh).

    Each process reads its own share of the files table (`_share`) and stats
    those files: reading 110k rows into one process cost about as much as
    stat-ing them. This process reads only what is small: the skipped files
    (read again here), the folders and the notes."""
    began = time.time()
    walk = Walk(root)
    found, scanned, skipped, folders, notes = _small(conn, began)
    limit, size_limit = scanned - RACY_NS, max_file_size()
    for fid, path, *stamp in skipped:  # read again: a fixed permission changes no mtime
        _look_again(walk, fid, path, tuple(stamp), found)
    for path, _, message, _ in notes:
        if message.startswith("symbolic link") and walk.symlink_problem(walk.disk(path)) != message:
            found.walk = True
    total = conn.execute("SELECT max(id) FROM files").fetchone()[0] or 0
    count = cores.workers() if total >= PARALLEL_STATS else 1
    database = None if count == 1 else _database_file(conn)
    if database is None:
        count = 1
    prefix = walk.prefix

    def look(part):
        if part is None:
            return _folders_changed(walk, folders, limit)
        own = conn if database is None else db.connect(database)  # a connection is not carried across fork
        try:
            return _share(own, prefix, part, count, limit, size_limit)
        finally:
            if own is not conn:
                own.close()

    parts: list = [None, *range(count)]  # None: the folders
    if count == 1:
        return Checking(found, cores.Done([look(part) for part in parts]))
    return Checking(found, cores.start(look, parts) if background else cores.Done(cores.fan_out(look, parts)))


class Checking:
    """A check under way: `found()` waits for its processes and says what they saw."""

    def __init__(self, found: Found, pending: cores.Pending):
        self._found, self._pending = found, pending
        self._done = False

    def unreadable(self) -> list[Note]:
        """Why each skipped file is still skipped (read again before the check's processes started)."""
        return self._found.unreadable

    def ready(self) -> bool:
        """Whether `found()` would not wait."""
        return self._done or self._pending.ready()

    def found(self) -> Found:
        found = self._found
        if not self._done:
            (changed_folders, young), *shares = self._pending.results()
            found.folders = changed_folders
            found.young += young
            for generation, files, racy in shares:
                if generation != found.generation:  # another writer committed between the reads: check again
                    found.walk = True
                found.files.extend(files)
                found.young += racy
            found.files.sort()
            self._done = True
        return found


def _small(conn: sqlite3.Connection, began: float) -> tuple[Found, int, list[tuple], list[tuple], list[Note]]:
    """What the parent reads for a check, in one read transaction: the scan time, the generation, the
    skipped files (id, path, stamp), the folders and the notes."""
    conn.execute("BEGIN")
    try:
        scanned = int(db.meta(conn, "scanned") or 0)
        generation = int(db.meta(conn, "generation") or 0)
        skipped = conn.execute("SELECT id, path, size, mtime_ns, ctime_ns, inode FROM files WHERE kind = ?", (db.SKIPPED,)).fetchall()
        folders = conn.execute("SELECT path, mtime_ns, ctime_ns, names FROM folders").fetchall()
        notes = conn.execute("SELECT path, line, message, severity FROM notes ORDER BY rowid").fetchall()
    finally:
        conn.execute("COMMIT")
    return Found(began, generation), scanned, skipped, folders, notes


def _database_file(conn: sqlite3.Connection) -> str | None:
    """The file of `conn`'s main database, for a forked process to open its own connection; None for a
    database in memory or a temporary one (built by this run: there is nothing to check in parallel)."""
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return file or None
    return None


def _share(conn: sqlite3.Connection, prefix: str, part: int, count: int, limit: int, size_limit: int) -> tuple[int, list, int]:
    """One process's share of the check: the files whose id is `part` modulo `count`, read and stat-ed.
    Returns the generation its read saw, (file id, new stamp or None, bytes differ) of each file that
    changed, and how many young files were vouched for by their bytes."""
    conn.execute("BEGIN")
    try:
        generation = int(db.meta(conn, "generation") or 0)
        names = [f"{STAMPS}{k}" for k in range(STAMP_PIECES) if k % count == part]
        kept = conn.execute(f"SELECT value FROM answers WHERE name IN ({','.join('?' * len(names))})", names).fetchall()
        ids, paths, stamps = array("q"), [], array("q")
        if len(kept) == len(names):
            for (value,) in kept:
                piece_ids, piece_paths, piece_stamps = marshal.loads(value)
                ids.frombytes(piece_ids)
                paths += piece_paths
                stamps.frombytes(piece_stamps)
        else:  # kept by every update since they were introduced; read from the table otherwise
            for fid, path, *stamp in conn.execute("SELECT id, path, size, mtime_ns, ctime_ns, inode FROM files"
                                                  " WHERE kind != ? AND id % ? = ?", (db.SKIPPED, count, part)):
                ids.append(fid)
                paths.append(path)
                stamps.extend(stamp)
        young = [ids[k] for k in range(len(ids)) if stamps[4 * k + 1] >= limit]
        digests = dict(conn.execute(f"SELECT id, digest FROM files WHERE id IN ({','.join('?' * len(young))})", young).fetchall()) if young else {}
    finally:
        conn.execute("COMMIT")
    return generation, *_changed(prefix, ids, paths, stamps, limit, size_limit, digests)


def _changed(prefix: str, ids: Sequence[int], paths: list[str], stamps: array, limit: int, size_limit: int,
             digests: dict[int, bytes]) -> tuple[list, int]:
    """(file id, new stamp or None, bytes differ) of each file that changed, and how many young files
    were vouched for by their bytes. The stamps are compared where they lie (four ints a file): making
    a tuple of each cost more than the stat."""
    stat, found, racy = os.stat, [], 0
    for k, path in enumerate(paths):
        j = 4 * k
        size, mtime = stamps[j], stamps[j + 1]
        if "\0" in path:
            path = db.real_path(path)
        if size_limit and size > size_limit:
            found.append((ids[k], (size, mtime, stamps[j + 2], stamps[j + 3]), True))  # the limit was lowered: read again
            continue
        try:
            info = stat(prefix + path)
        except OSError:
            found.append((ids[k], None, True))
            continue
        if info.st_mtime_ns != mtime or info.st_ctime_ns != stamps[j + 2] or info.st_size != size or info.st_ino != stamps[j + 3]:
            found.append((ids[k], (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino), False))
        elif mtime >= limit:
            if file_digests([prefix + path])[0] != digests[ids[k]]:
                found.append((ids[k], (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino), True))
            else:
                racy += 1
    return found, racy


def _look_again(walk: Walk, fid: int, relpath: str, stamp: db.Stamp, found: Found) -> None:
    """A skipped file read again: still skipped (why goes to found.unreadable), or changed."""
    from newsarc.reading.parser import read_event

    path = walk.disk(relpath)
    event = read_event(path, relpath)
    try:
        now = stamp_of(os.stat(path))
    except OSError:
        now = None
    if event.skipped:
        found.unreadable.extend((d.path, d.line, d.message, d.severity) for d in event.diagnostics)
        if now != stamp and not (now is None and stamp == GONE):
            found.files.append((fid, now, True))  # still skipped, under another stamp (or gone): recorded again
    else:
        found.files.append((fid, now, True))


def _folders_changed(walk: Walk, folders: list[tuple], limit: int) -> tuple[list[str], int]:
    """Relpaths of the folders that changed, and how many were vouched for by their names. A folder's
    mtime changes when a file in it is added, deleted or renamed; its ctime when it is chmod-ed. A
    folder changed within RACY_SECONDS of the scan could change again within the same tick unseen:
    its listing is compared with the one the scan read."""
    found, young = [], 0
    for path, mtime, ctime, names in folders:
        disk = walk.disk(path)
        try:
            info = os.stat(disk)
        except OSError:
            found.append(path)
            continue
        if info.st_mtime_ns != mtime or info.st_ctime_ns != ctime:
            found.append(path)
        elif mtime >= limit:
            young += 1
            if names is None or _listing(disk) != names:
                found.append(path)
    return found, young


# -- what to do about it ------------------------------------------------------------------------


@dataclass
class Plan:
    """What brings the index up to date: files to parse (new ones get new ids), stamps to correct, rows
    to remove, the folders and notes to record."""

    scanned: float  # the scan time to record (when the check or walk began)
    generation: int  # the generation checked: the update is void if another writer wrote meanwhile
    added: list[Item] = field(default_factory=list)
    changed: list[tuple[int, Item]] = field(default_factory=list)  # (file id, item): parsed again, same id
    restamped: list[tuple[int, db.Stamp]] = field(default_factory=list)  # same bytes under a new stamp
    gone: list[int] = field(default_factory=list)  # file ids
    folders_put: list[tuple[str, int, int, bytes | None]] = field(default_factory=list)
    folders_gone: list[str] = field(default_factory=list)
    all_folders: bool = False  # folders_put is every folder (a walk of everything): the others go
    notes: list[Note] | None = None  # None: as they were
    folders_read: int = 0  # what keeping the index up to date cost (for reports and tests)
    walked: bool = False  # the whole scope was walked

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.restamped or self.gone or self.folders_put
                    or self.folders_gone or self.notes is not None)


def walk_plan(root: str, scope: str, have: Known | None, generation: int = 0) -> Plan:
    """A plan from a walk of the whole scope (a build from nothing: `have` None)."""
    began = time.time()
    walk = Walk(root)
    items = list(walk.files(scope))
    plan = Plan(began, generation, folders_put=walk.folders, all_folders=True, notes=walk.notes,
                folders_read=len(walk.folders), walked=True)
    if have is None:
        plan.added = items
        return plan
    at = {path: k for k, path in enumerate(have.paths)}
    pending = []
    for item in items:
        k = at.pop(item[1], None)
        if k is None:
            plan.added.append(item)
        else:
            pending.append((k, item, False))
    plan.gone = [have.ids[k] for k in at.values()]
    _decide(plan, have, pending)
    return plan


def plan(conn: sqlite3.Connection, root: str, scope: str, found: Found) -> Plan:
    """What brings the index up to date, from what the check found: only changed folders are listed
    again. Falls back on walk_plan where only a walk can tell. (An index written since the check
    gives a plan that build.apply refuses: the check is made again.)"""
    have = known(conn)
    if have.generation != found.generation:
        return Plan(found.began, found.generation)
    at = {fid: k for k, fid in enumerate(have.ids)}
    found = Found(found.began, found.generation, found.folders, [(at[fid], new, differs) for fid, new, differs in found.files],
                  found.walk, found.young, found.unreadable)
    if found.walk:
        return walk_plan(root, scope, have, have.generation)
    walk = Walk(root)
    by_folder: dict[str, list[int]] = {}
    for k, path in enumerate(have.paths):
        by_folder.setdefault(path.rpartition("/")[0], []).append(k)
    changed_folders = set(found.folders)
    for k, new, _ in found.files:
        if new is None and have.paths[k].rpartition("/")[0] not in changed_folders and have.kinds[k] != db.SKIPPED:
            return walk_plan(root, scope, have, have.generation)  # gone, its folder not changed: a link's target
    if changed_folders and have.notes:
        return walk_plan(root, scope, have, have.generation)  # links skipped, loops, unreadable folders: the walk's rules
    result = Plan(found.began, have.generation)
    by_position = {k: (new, differs) for k, new, differs in found.files}
    pending: list[tuple[int, Item, bool]] = []
    if changed_folders:
        listed = _relist(walk, scope, have, changed_folders, by_folder)
        if listed is None:
            return walk_plan(root, scope, have, have.generation)
        items, gone_positions, folders_put, folders_gone = listed
        result.folders_put, result.folders_gone = folders_put, folders_gone
        result.folders_read = len(folders_put)
        result.gone = [have.ids[k] for k in gone_positions]
        for k in gone_positions:
            by_position.pop(k, None)
        for item, k in items:
            if k is None:
                result.added.append(item)
            else:
                by_position.pop(k, None)
                pending.append((k, item, False))
    for k, (new, differs) in by_position.items():
        if new is None:
            if have.kinds[k] == db.SKIPPED:  # still unreadable, not even stat-able: read again (and skipped)
                pending.append((k, (walk.disk(have.paths[k]), have.paths[k], GONE), True))
                continue
            result.gone.append(have.ids[k])
            continue
        pending.append((k, (walk.disk(have.paths[k]), have.paths[k], new), differs))
    _decide(result, have, pending)
    return result


def _relist(walk: Walk, scope: str, have: Known, changed: set[str], by_folder: dict[str, list[int]]):
    """The changed folders listed again, new folders walked, folders no longer there dropped, from the
    scope down. Returns (items as (item, position or None), positions gone, folders to record, folders
    gone); None when something there is out of the ordinary (a symbolic link, anything the walk notes)."""
    known_folders = {entry[0]: entry for entry in have.folders}
    children: dict[str, list[str]] = {}
    for path in known_folders:
        if path != walk.relpath(scope):
            children.setdefault(path.rpartition("/")[0], []).append(path)
    items: list[tuple[Item, int | None]] = []
    gone: list[int] = []
    put: list[tuple] = []
    dropped: list[str] = []
    stack = [walk.relpath(scope)]
    visited = set()
    while stack:
        path = stack.pop()
        visited.add(path)
        if path not in changed:
            stack.extend(children.get(path, ()))
            continue
        disk = walk.disk(path)
        try:
            info = os.stat(disk)
            entries = sorted(os.scandir(disk), key=lambda e: e.name, reverse=True)
        except OSError:
            return None
        put.append((path, info.st_mtime_ns, info.st_ctime_ns, names_digest(e.name for e in entries)))
        here = {have.paths[k]: k for k in by_folder.get(path, ())}
        subfolders: list[str] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    return None
            except OSError:
                return None
            item = walk.entry(entry, subfolders)
            if walk.odd:
                return None
            if item is not None:
                items.append((item, here.pop(item[1], None)))
        gone.extend(here.values())
        listed = {walk.relpath(sub) for sub in subfolders}
        for child in children.get(path, ()):
            if child in listed:
                stack.append(child)
            else:
                _drop(child, children, by_folder, gone, dropped)
        for sub in subfolders:
            if walk.relpath(sub) not in known_folders:
                fresh = Walk(walk.root)
                found = list(fresh.files(sub))
                if fresh.odd:
                    return None
                items.extend((item, None) for item in found)
                put.extend(fresh.folders)
    return items, gone, put, dropped


def _drop(path: str, children: dict[str, list[str]], by_folder: dict[str, list[int]], gone: list[int], dropped: list[str]) -> None:
    """A folder no longer there, with everything below it."""
    stack = [path]
    while stack:
        folder = stack.pop()
        dropped.append(folder)
        gone.extend(by_folder.get(folder, ()))
        stack.extend(children.get(folder, ()))


def _decide(plan: Plan, have: Known, pending: list[tuple[int, Item, bool]]) -> None:
    """Files the index has, looked at again: unchanged (stamp equal, not racy), restamped (same size
    and bytes), or changed (parsed again)."""
    limit = have.limit
    to_hash: list[tuple[int, Item]] = []
    for k, item, differs in pending:
        old = have.stamps[k]
        if differs or have.kinds[k] == db.SKIPPED or item[2][0] != old[0] or over_limit(item[2][0]) or item[2] == GONE:
            plan.changed.append((have.ids[k], item))
        elif item[2] == old and old[1] < limit:
            continue
        else:
            to_hash.append((k, item))
    found = digests([item[0] for _, item in to_hash])
    for (k, item), now in zip(to_hash, found):
        if now != db.NO_DIGEST and now == have.digests[k]:
            if item[2] != have.stamps[k]:
                plan.restamped.append((have.ids[k], item[2]))
        else:
            plan.changed.append((have.ids[k], item))
