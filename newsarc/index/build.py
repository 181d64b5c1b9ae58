"""What changed -> rows: the index built from nothing, brought up to date, and given the groups asked for.

`open_fresh(root, scope, groups)` is what a command calls: it returns an
open index that describes the files as they are now (freshness.py's rules)
and holds the groups asked for, having built, updated or added what was
needed, and nothing else.

- No usable database: the whole scope is walked and parsed (on every core,
  parallel.py) into a scratch file with the journal off, which is then
  given its name (db.publish): readers see a whole index or none, and a
  crash (kill -9) leaves the old index and a scratch file that the next
  build removes (db.sweep_scratch).
- A database that is stale: freshness.plan says which files to parse again,
  and one WAL transaction applies it (readers go on meanwhile). Two writers
  queue on SQLite's lock; a writer whose check predates another's update
  (meta.generation moved) checks again instead of applying a stale plan.
- Groups missing (or of another version): built for every file the index
  holds, in one transaction.
- A database SQLite cannot read (damaged header or pages, cut short) goes and
  the index is built again: never a wrong answer, at worst one rebuild. One
  that is not ours to touch (a FIFO at its name, a cache folder that cannot
  be written) means a temporary database for this run, with a notice.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newsarc.index import cache
from newsarc import settings
from newsarc.index import db, freshness, parallel
from newsarc.index.freshness import Item, Note

CHUNK = 500  # files per task sent to a worker
PARALLEL_MIN_FILES = 2000  # below this, starting workers costs more than it saves
ATTEMPTS = 4  # damaged databases rebuilt, or checks made again after another writer's update, at most

Progress = Callable[[str, int, int], None]  # (stage, done, total): "parse" per chunk, "publish", "commit"


@dataclass
class Report:
    """What keeping the index up to date cost this run (for --debug, benchmarks and tests)."""

    built: bool = False  # from nothing
    parsed: int = 0  # files parsed
    restamped: int = 0  # files read and hashed, found the same under a new stamp
    gone: int = 0
    checks: int = 0  # freshness checks (each stats every file)
    folders_read: int = 0
    walked: bool = False  # the whole scope was walked
    groups_built: tuple[str, ...] = ()
    damaged: int = 0  # databases found unreadable and removed
    raced: int = 0  # plans dropped because another writer updated the index first


@dataclass
class Index:
    """An open index, fresh as of this run, holding the groups asked for."""

    conn: sqlite3.Connection
    path: str | None  # None: a temporary database (no cache, or the cache could not be used)
    root: str
    scope: str
    report: Report = field(default_factory=Report)
    notices: list[str] = field(default_factory=list)  # what is wrong with the cache itself, for the user
    _unreadable: list[Note] | None = None
    _checking: tuple[freshness.Checking, tuple[str, ...], Progress | None] | None = None  # a speculative open's check

    def confirm(self) -> bool:
        """After `open_fresh(speculate=True)`: was the index fresh? If not, it is brought up to date
        now (from what the check found: nothing is stat-ed twice) and the caller asks again."""
        pending, self._checking = self._checking, None
        if pending is None:
            return True
        checking, groups, progress = pending
        found = checking.found()
        if found.fresh:
            if found.young:
                _trust_aged(self.conn, found.generation, found.began)
            if self._unreadable is None:
                self._unreadable = _by_path(found.unreadable)
            return True
        self._unreadable = None
        _refresh(self.conn, self.root, self.scope, groups, self.report, progress, found)
        return False

    def notes(self) -> list[Note]:
        """What the scan noted (symbolic links skipped, folders that could not be read), in walk order."""
        rows = self.conn.execute("SELECT path, line, message, severity FROM notes ORDER BY rowid").fetchall()
        return [(db.real_path(path), *rest) for path, *rest in rows]

    def unreadable(self) -> list[Note]:
        """Why each skipped file is skipped, as of this run (they are read again every run: by the
        check, when this run made one while it answered, which read them again a moment ago)."""
        if self._unreadable is None and self._checking is not None:
            self._unreadable = _by_path(self._checking[0].unreadable())
        if self._unreadable is None:
            from newsarc.reading.parser import read_event

            found: list[Note] = []
            prefix = self.root.rstrip(os.sep) + os.sep
            for (path,) in self.conn.execute("SELECT path FROM files WHERE kind=? ORDER BY path", (db.SKIPPED,)).fetchall():
                path = db.real_path(path)
                event = read_event(prefix + path, path)
                found.extend((d.path, d.line, d.message, d.severity) for d in event.diagnostics)
            self._unreadable = found
        return self._unreadable

    def close(self) -> None:
        self.conn.close()


def _by_path(notes: list[Note]) -> list[Note]:
    """What the check read of the skipped files, in path order (stable: each file's in its order), the
    paths as on disk."""
    return [(db.real_path(path), *rest) for path, *rest in sorted(notes, key=lambda note: note[0])]


def open_fresh(root: str | os.PathLike, scope: str | os.PathLike | None = None, groups: Sequence[str] = (), *,
               cache_dir: str | os.PathLike | None = None, use_cache: bool | None = None,
               progress: Progress | None = None, speculate: bool = False) -> Index:
    """The index of `scope` (default: the root) under `root`, fresh, with `groups` built.

    With `speculate`, an index on disk that holds the groups is returned while
    its freshness check goes on in forked processes: answer from it, then ask
    `Index.confirm()` before telling anyone; when that says it was stale, the
    index has been brought up to date and the question is asked again. (The
    check costs about as much as a warm answer: run side by side, it is hidden.)"""
    root, scope = os.fspath(root), os.fspath(scope if scope is not None else root)
    groups = tuple(groups)
    for name in groups:
        if name not in db.GROUPS:
            raise KeyError(f"no group {name!r} is registered")
    current = settings.current()
    notices: list[str] = []
    if current.use_cache if use_cache is None else use_cache:
        try:
            return _on_disk(_folder(cache_dir), root, scope, groups, progress, notices, speculate)
        except db.Unusable as problem:
            notices.append(problem.message)
    conn = _scratch_connection("")
    index = Index(conn, None, root, scope, notices=notices)
    _build_into(conn, root, scope, groups, index.report, progress)
    return index


def on_disk(root: str | os.PathLike, scope: str | os.PathLike | None = None, groups: Sequence[str] = (), *,
            cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether an index of `scope` holding `groups` is on disk (it may be stale: keeping it up to date
    costs what changed, where building it costs every file)."""
    root, scope = os.fspath(root), os.fspath(scope if scope is not None else root)
    found = db.locate(_folder(cache_dir), db.key_of(root, scope)).newest
    if found is None:
        return False
    try:
        conn = sqlite3.connect(f"file:{found}?mode=ro", uri=True)
        try:
            return _holds(conn, tuple(groups))
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def changed_share(root: str | os.PathLike, scope: str | os.PathLike | None = None, *,
                  cache_dir: str | os.PathLike | None = None, sample: int = 64) -> float:
    """freshness.changed_share of the index on disk (1.0 when there is none): a command that needs no
    index asks it before opening one, since bringing an index up to date whose files nearly all
    changed stamps reads and hashes every file, which costs what reading them without it does."""
    root, scope = os.fspath(root), os.fspath(scope if scope is not None else root)
    found = db.locate(_folder(cache_dir), db.key_of(root, scope)).newest
    if found is None:
        return 1.0
    try:
        conn = sqlite3.connect(f"file:{found}?mode=ro", uri=True)
        try:
            return freshness.changed_share(conn, root, sample)
        finally:
            conn.close()
    except sqlite3.Error:
        return 1.0


def _folder(cache_dir: str | os.PathLike | None) -> str:
    return os.path.join(os.fspath(cache_dir) if cache_dir else os.fspath(cache.default_dir()), "index")


# -- on disk ------------------------------------------------------------------------------------


def _on_disk(folder: str, root: str, scope: str, groups: tuple[str, ...], progress: Progress | None,
             notices: list[str], speculate: bool = False) -> Index:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise db.Unusable(f"cannot use the cache folder {folder}: {exc.strerror or exc}; the index is built for this run only") from None
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise db.Unusable(f"cannot write the cache folder {folder}; the index is built for this run only")
    key = db.key_of(root, scope)
    report = Report()
    for _ in range(ATTEMPTS):
        found = db.locate(folder, key)
        for path in found.foreign:
            message = f"{path} is not a regular file; newsarc leaves it alone (remove it)"
            if message not in notices:
                notices.append(message)
        for path in found.older:
            db.remove(path)
        built = found.newest is None
        path = _build_new(folder, key, root, scope, groups, report, progress) if built else found.newest
        conn = None
        try:
            conn = db.connect(path)
            if not built and speculate and _holds(conn, groups):
                report.checks += 1
                return Index(conn, path, root, scope, report, notices, _checking=(freshness.start(conn, root), groups, progress))
            if not built:
                _refresh(conn, root, scope, groups, report, progress)
            return Index(conn, path, root, scope, report, notices)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            if not os.path.exists(path):  # a newer generation replaced it meanwhile (db.publish): open that
                report.raced += 1
                continue
            kind = _kind(exc)
            if kind == "damaged":
                report.damaged += 1
                db.remove(path)  # a database SQLite cannot read is never read again
                continue
            if kind == "unwritable":
                raise db.Unusable(f"cannot write the index in {folder}: {exc}; the index is built for this run only") from None
            raise
    raise db.Unusable(f"the index in {folder} kept changing or breaking; the index is built for this run only")


def _kind(exc: sqlite3.Error) -> str:
    """What an error from SQLite means here: the file is damaged, the cache cannot be written, or
    something else (raised as it is)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (10, 11, 26):  # IOERR (a short read), CORRUPT, NOTADB
        return "damaged"
    if primary == 1 and ("no such table" in str(exc) or "no such column" in str(exc)):
        return "damaged"  # a table of ours gone from a file that says it is ours
    if primary in (8, 13, 14):  # READONLY, FULL, CANTOPEN
        return "unwritable"
    if primary is None:  # Python 3.10: no error codes, only messages
        text = str(exc).lower()
        if any(words in text for words in ("malformed", "not a database", "disk i/o error", "no such table")):
            return "damaged"
        if any(words in text for words in ("readonly", "read-only", "disk is full", "unable to open")):
            return "unwritable"
    return "other"


def _build_new(folder: str, key: str, root: str, scope: str, groups: tuple[str, ...], report: Report,
               progress: Progress | None) -> str:
    """A new database of `key`, built whole in a scratch file and then named (see the module docstring)."""
    db.sweep_scratch(folder, key)
    scratch, fd = db.hold_scratch(folder, key)
    try:
        conn = _scratch_connection(scratch)
        try:
            _build_into(conn, root, scope, groups, report, progress)
            conn.execute("PRAGMA journal_mode=WAL")  # kept in the file: every later connection uses WAL
        finally:
            conn.close()
        if progress:
            progress("publish", 0, 1)
        path = db.publish(scratch, folder, key)
    except OSError as exc:
        raise db.Unusable(f"cannot write the index in {folder}: {exc.strerror or exc}; the index is built for this run only") from None
    finally:
        os.close(fd)
        db.remove(scratch)  # there only if something failed
    cache.prune(Path(folder), Path(path))
    return path


def _scratch_connection(path: str) -> sqlite3.Connection:
    """A connection for a build from nothing: nobody else reads the file until it is whole, so no
    journal and no syncs (a crash loses the scratch file, nothing else)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-32768")  # 32 MB
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def _build_into(conn: sqlite3.Connection, root: str, scope: str, groups: tuple[str, ...], report: Report,
                progress: Progress | None) -> None:
    db.create(conn, root, scope)
    plan = freshness.walk_plan(root, scope, None)
    report.built = report.walked = True
    report.folders_read += plan.folders_read
    ids = list(range(1, len(plan.added) + 1))
    _set_ids(conn, plan.added, ids)
    conn.execute("BEGIN")
    _record_scan(conn, plan)
    for name in groups:
        for ddl in db.GROUPS[name].tables:
            conn.execute(ddl)
    report.parsed += _parse_and_insert(conn, plan.added, ids, groups, True, progress)
    _finish_groups(conn, groups, new=groups)
    report.groups_built = groups
    _stamp(conn, plan.scanned)
    conn.execute("COMMIT")
    _give_back_memory(len(plan.added))


# -- bringing it up to date ---------------------------------------------------------------------


def _refresh(conn: sqlite3.Connection, root: str, scope: str, groups: tuple[str, ...], report: Report,
             progress: Progress | None, found: freshness.Found | None = None) -> None:
    """Check (unless `found` is a check's finding already) and apply what changed, until a check finds
    the index fresh or a plan applies; then build the groups missing."""
    for _ in range(ATTEMPTS):
        if found is None:
            found = freshness.check(conn, root)
            report.checks += 1
        if found.fresh:
            if found.young:
                _trust_aged(conn, found.generation, found.began)
            break
        plan = freshness.plan(conn, root, scope, found)
        report.folders_read += plan.folders_read
        report.walked = report.walked or plan.walked
        if apply(conn, plan, report, progress):
            break
        report.raced += 1
        found = None
    ensure(conn, root, groups, report, progress)


def _holds(conn: sqlite3.Connection, groups: tuple[str, ...]) -> bool:
    """Every group asked for is built, at the version this newsarc registers."""
    built = db.built_groups(conn)
    return all(built.get(name) == db.GROUPS[name].version for name in groups)


def _trust_aged(conn: sqlite3.Connection, generation: int, began: float) -> None:
    """The check vouched for young files by their bytes: record its start as the scan time, so those
    that have aged since are trusted by their stamps from now on (one read each per run, otherwise).
    Only if nobody wrote since the check read the index; never waits for a writer."""
    try:
        conn.execute("PRAGMA busy_timeout=0")
        with _immediate(conn):
            if int(db.meta(conn, "generation")) == generation and int(db.meta(conn, "scanned")) < int(began * 1e9):
                conn.execute("UPDATE meta SET value=? WHERE key='scanned'", (int(began * 1e9),))
    except sqlite3.OperationalError:
        pass  # busy, or a read-only cache: the young files are read again next run, nothing else
    finally:
        conn.execute(f"PRAGMA busy_timeout={db.BUSY_MS}")


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: BEGIN IMMEDIATE (the write lock now, not at the first write), COMMIT at
    the end unless the body already rolled back, ROLLBACK if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        if conn.in_transaction:
            conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def apply(conn: sqlite3.Connection, plan: freshness.Plan, report: Report | None = None,
          progress: Progress | None = None) -> bool:
    """Apply `plan` to the index and every group built, in one transaction; False (nothing done) when
    another writer updated the index after the check the plan comes from."""
    report = Report() if report is None else report
    with _immediate(conn):
        if int(db.meta(conn, "generation")) != plan.generation:
            conn.execute("ROLLBACK")
            return False
        groups = _updatable(conn)
        top = conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()[0]
        items = [item for _, item in plan.changed] + plan.added
        ids = [fid for fid, _ in plan.changed] + list(range(top + 1, top + 1 + len(plan.added)))
        _set_ids(conn, items, ids, drop=plan.gone)
        added = list(zip(ids[len(plan.changed):], (item[1] for item in plan.added)))
        for name in groups:  # a group whose rows name other files (links) hears of those added and gone
            hook = db.GROUPS[name].moved
            if hook is not None and (added or plan.gone):
                hook(conn, added, plan.gone)
        out = [fid for fid, _ in plan.changed] + plan.gone
        if out:
            _drop_rows(conn, groups, out)
            conn.executemany("DELETE FROM files WHERE id=?", [(i,) for i in out])
        conn.executemany("UPDATE files SET size=?, mtime_ns=?, ctime_ns=?, inode=? WHERE id=?",
                         [(*stamp, fid) for fid, stamp in plan.restamped])
        _record_scan(conn, plan)
        order = sorted(range(len(items)), key=ids.__getitem__)
        report.parsed += _parse_and_insert(conn, [items[k] for k in order], [ids[k] for k in order], groups, True, progress)
        for name in groups:
            if db.GROUPS[name].after is not None:
                db.GROUPS[name].after(conn)
        _stamp(conn, plan.scanned)
        if progress:
            progress("commit", 0, 1)
    report.restamped += len(plan.restamped)
    report.gone += len(plan.gone)
    if len(items) >= PARALLEL_MIN_FILES:
        _give_back_memory(len(items))
    return True


def ensure(conn: sqlite3.Connection, root: str, groups: Sequence[str], report: Report | None = None,
           progress: Progress | None = None) -> tuple[str, ...]:
    """Build the groups asked for that the index lacks (or holds in another version), for every file
    it holds: a command builds only what it uses. Returns the groups built (none when all are there)."""
    report = Report() if report is None else report
    wanted = tuple(groups)
    if _holds(conn, wanted):
        return ()
    with _immediate(conn):
        have = db.built_groups(conn)  # again, under the lock: another writer may have built them
        missing = tuple(name for name in wanted if have.get(name) != db.GROUPS[name].version)
        if not missing:
            conn.execute("ROLLBACK")
            return ()
        for name in missing:
            if name in have:
                names = conn.execute("SELECT tables FROM groups WHERE name=?", (name,)).fetchone()[0]
                for table in {*(names or "").split(), *db.GROUPS[name].table_names()}:
                    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                conn.execute("DELETE FROM groups WHERE name=?", (name,))
            for ddl in db.GROUPS[name].tables:
                conn.execute(ddl)
        rows = conn.execute("SELECT id, path, size, mtime_ns, ctime_ns, inode, digest FROM files WHERE kind != ?"
                            " ORDER BY id", (db.SKIPPED,)).fetchall()
        prefix = root.rstrip(os.sep) + os.sep
        items = [(prefix + db.real_path(path), path, (size, mtime, ctime, inode)) for _, path, size, mtime, ctime, inode, _ in rows]
        ids = [row[0] for row in rows]
        _set_ids(conn, [], [])
        known = {row[0]: row[6] for row in rows}
        report.parsed += _parse_and_insert(conn, items, ids, missing, False, progress, known)
        _finish_groups(conn, missing, new=missing)
        _bump(conn)
        if progress:
            progress("commit", 0, 1)
    report.groups_built += missing
    _give_back_memory(len(items))
    return missing


# -- pieces -------------------------------------------------------------------------------------


def _updatable(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The groups built that this process can bring up to date: those registered, or whose module a
    feature named (db.register_module), imported now. A group no feature of this process knows (or in
    another version) cannot be: its tables go (the groups table names them), and the next command
    that needs it builds it again. Never stale rows."""
    found = []
    for name, version, names in conn.execute("SELECT name, version, tables FROM groups").fetchall():
        known = db.group(name)
        if known is not None and known.version == version:
            found.append(name)
            continue
        for table in (names or "").split():
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        conn.execute("DELETE FROM groups WHERE name=?", (name,))
    return tuple(found)


def _record_scan(conn: sqlite3.Connection, plan: freshness.Plan) -> None:
    if plan.all_folders:
        conn.execute("DELETE FROM folders")
    else:
        conn.executemany("DELETE FROM folders WHERE path=?", [(path,) for path in plan.folders_gone])
    conn.executemany("INSERT OR REPLACE INTO folders VALUES(?,?,?,?)", plan.folders_put)
    if plan.notes is not None:
        conn.execute("DELETE FROM notes")
        conn.executemany("INSERT INTO notes VALUES(?,?,?,?)", plan.notes)


def _stamp(conn: sqlite3.Connection, scanned: float) -> None:
    conn.execute("UPDATE meta SET value=? WHERE key='scanned'", (int(scanned * 1e9),))
    _bump(conn)


def _bump(conn: sqlite3.Connection) -> None:
    """A new generation: the answers kept from the last one (db.keep) are forgotten with it."""
    conn.execute("UPDATE meta SET value=value+1 WHERE key='generation'")
    conn.execute("DELETE FROM answers")
    freshness.keep_stamps(conn)


def _set_ids(conn: sqlite3.Connection, items: Sequence[Item], ids: Sequence[int], drop: Sequence[int] = ()) -> None:
    """The path -> id map groups read (db.file_id), as it will be once these items are in."""
    db._IDS.clear()
    db._IDS.update(conn.execute("SELECT path, id FROM files"))
    if drop:
        gone = set(drop)
        for path in [p for p, i in db._IDS.items() if i in gone]:
            del db._IDS[path]
    db._IDS.update((item[1], fid) for item, fid in zip(items, ids))


def _drop_rows(conn: sqlite3.Connection, groups: Sequence[str], ids: list[int]) -> None:
    for name in groups:
        group = db.GROUPS[name]
        if group.drop is not None:
            group.drop(conn, ids)
        else:
            for table in group.table_names():
                conn.executemany(f"DELETE FROM {table} WHERE id=?", [(i,) for i in ids])


def _finish_groups(conn: sqlite3.Connection, groups: Sequence[str], new: Sequence[str]) -> None:
    conn.execute(f"DELETE FROM answers WHERE name NOT LIKE '{freshness.STAMPS}%'")  # a group built again may answer otherwise
    for name in groups:
        group = db.GROUPS[name]
        if name in new:
            for ddl in group.indexes:
                conn.execute(ddl)
        if group.after is not None:
            group.after(conn)
        conn.execute("INSERT OR REPLACE INTO groups VALUES(?, ?, ?)", (name, group.version, " ".join(group.table_names())))


def _parse_and_insert(conn: sqlite3.Connection, items: Sequence[Item], ids: Sequence[int], groups: tuple[str, ...],
                      with_files: bool, progress: Progress | None, known: dict[int, bytes] | None = None) -> int:
    """Parse `items` (on every core from PARALLEL_MIN_FILES on) and insert their rows: files rows too
    when `with_files`; otherwise, a file whose bytes are no longer those the index recorded gets a
    stamp no file has, so the next check parses it again (its group rows are from the newer bytes)."""
    inserts: dict[str, str] = {}
    for name in groups:
        inserts.update(db.GROUPS[name].inserts)
    tasks = ((ids[k: k + CHUNK], items[k: k + CHUNK], groups) for k in range(0, len(items), CHUNK))
    count = parallel.workers() if len(items) >= PARALLEL_MIN_FILES else 1
    done = 0
    for blob in parallel.ordered(_parse_chunk, tasks, count):
        files, tables = marshal.loads(blob)
        if with_files:
            conn.executemany("INSERT INTO files VALUES(?,?,?,?,?,?,?,?)", files)
        elif known is not None:
            moved = [(row[0],) for row in files if known.get(row[0]) != row[6]]
            conn.executemany("UPDATE files SET size=-1 WHERE id=?", moved)
        for table, rows in tables.items():
            conn.executemany(inserts[table], rows)
        done += len(files)
        if progress:
            progress("parse", done, len(items))
    return done


def _parse_chunk(task: tuple[Sequence[int], Sequence[Item], tuple[str, ...]]) -> bytes:
    """Rows of a chunk of files, as marshal bytes (cheap to send back from a worker)."""
    ids, items, groups = task
    files, tables = [], {}
    needs = _needs(groups)
    from newsarc.reading.limits import max_file_size

    limit = max_file_size()  # the settings once a chunk, not once a file (they read the environment)
    for file_id, item in zip(ids, items):
        file_row, rows = _parse_one(item, groups, needs, limit)
        files.append((file_id, *file_row))
        for by_table in rows.values():
            for table, table_rows in by_table.items():
                tables.setdefault(table, []).extend((file_id, *row) for row in table_rows)
    return marshal.dumps((files, tables))


def _needs(groups: tuple[str, ...]) -> frozenset[str] | None:
    """The Event fields the groups' rows read, when a glance gives them all (reading/glance.py); None
    when the file must be parsed."""
    from newsarc.reading import glance

    needs: set[str] = set(glance.KIND)
    for name in groups:
        wanted = db.GROUPS[name].needs
        if wanted is None:
            return None
        needs |= wanted
    return frozenset(needs) if needs <= glance.GIVES else None


def _parse_one(item: Item, groups: tuple[str, ...], needs: frozenset[str] | None = None,
               limit: int | None = None) -> tuple[tuple, dict[str, dict[str, list[tuple]]]]:
    """(files row without its id, {group: {table: rows}}) of one file: glanced at when `needs` (what the
    groups read) allows and the file is in the usual layout, otherwise parsed. `limit`: the size limit
    (max_file_size()), when the caller has it."""
    from newsarc.model import Diagnostic
    from newsarc.reading.parser import parse_bytes, read_limited, skipped_event

    path, relpath, stamp = item
    diagnostics: list[Diagnostic] = []
    data = _read(path, limit) if limit is not None else None
    if data is None:
        data = read_limited(path, relpath, diagnostics)  # and why it cannot be read, when it cannot
    if data is None:  # unreadable or over the size limit: recorded as skipped, read again every run
        event, found = skipped_event(relpath, diagnostics), db.NO_DIGEST
    else:
        event = None
        if needs is not None:
            from newsarc.reading.glance import glance

            event = glance(data, relpath, needs)
        if event is None:
            event = parse_bytes(data, relpath)
        found = db.digest(data)
    kind = db.SKIPPED if event.skipped else db.DAY_PAGE if event.is_day_page else db.EVENT
    if kind == db.SKIPPED:
        found = db.NO_DIGEST
    rows = {}
    for name in groups:
        group = db.GROUPS[name]
        if kind in group.kinds:
            rows[name] = group.rows(event)
    return (relpath, *stamp, found, kind), rows


_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read(path: str, limit: int) -> bytes | None:
    """A regular file's bytes when it is within `limit` (0: none) and reads without error; None
    otherwise (parser.read_limited then reads it, or says why it cannot). One open, fstat and read:
    no buffered reader."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or 0 < limit < info.st_size:
            return None
        data = os.read(fd, info.st_size + 1)
        return data if len(data) <= info.st_size else None  # grown since: read again the usual way
    except OSError:
        return None
    finally:
        os.close(fd)


def _give_back_memory(files: int) -> None:
    """A build leaves freed memory held by the C allocator; glibc returns it on request."""
    if files < PARALLEL_MIN_FILES:
        return
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError, TypeError):
            pass


def scan_items(root: str, scope: str | None = None) -> Iterator[Item]:
    """Every .md file of the scope as the index's walk finds it (for benchmarks and tests)."""
    return freshness.Walk(root).files(scope or root)
