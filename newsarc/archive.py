"""The archive: where it is, which files it has, and the in-memory index.

An archive is a site root holding `news/YYYY/MM/D/*.md`. Users point at the
root, at `news/`, at a folder inside it or at a folder above it; `find_root`
works out which folder makes `/news/...` links resolve. The index is built
from a scan of the folder the user named (the scope), so pointing at
`news/2017` reads 2017 only while links still resolve against the root.

The index itself is a store (store.py), kept in the cache dir and brought up
to date by parsing only what changed. `load()` makes every event from its
columns (LazyEvents, decoded on first use), while `get`, `find`, `exists`
and `backlinks` answer from the store without load(): a command that shows
one event never pays for 100k of them.
"""

from __future__ import annotations

import datetime as dt
import gc
import marshal
import os
import posixpath
import re
import sys
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import attrgetter
from pathlib import Path
from urllib.parse import unquote

from newsarc.index import cache, answers, store
from newsarc.reading import dates
from newsarc import cores, settings
from newsarc.reading.dates import DateSpan
from newsarc.reading.event_text import DEFAULT_FIELDS, event_text
from newsarc.reading.topic_names import group_names, with_topics
from newsarc.reading.limits import max_file_size, over_limit
from newsarc.errors import AmbiguousEvent, ArchiveNotFound, EventNotFound, IndexDamaged
from newsarc.model import DATE, Diagnostic, Event, slug_of
from newsarc.index.store import EventView, LazyEvent, Piece, Store, lazy_events

NEWS = "news"
_SCHEMES = ("http:", "https:", "mailto:", "ftp:", "tel:", "data:", "javascript:")
_SEARCH_DEPTH = 3  # how far below the given folder to look for a site root
_TOPICS_MEMO = "topics-1"  # bump when topic_names.group_names' answer changes for the same index
WALK_PIECES = 64  # walk_pieces: folders left to walk apart (on other cores) by default
BACKLINK_SCANS = 200  # backlink lookups that scan the store before its links are read into a map (see _store_backlinks)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a link points, resolved against the site root."""

    path: str  # posix, relative to the root; "" for external or outside
    fragment: str = ""
    external: bool = False
    outside: bool = False  # climbs above the site root


def find_root(start: Path) -> Path:
    """The site root: the folder whose `news/` makes `/news/...` links resolve.

    No `news/` at, above or just below `start` is an error, not an archive: reading
    whatever lies below (run from `/` or `~`) took minutes, mixed unrelated folders
    into the answer and wrote gigabytes of index."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if folder.name == NEWS:
            return folder.parent
    if (start / NEWS).is_dir():
        return start
    found = _roots_below(start)
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(str(f) for f in found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise ArchiveNotFound(f"'{start}' holds {len(found)} archives ({names}); pass one with --archive")
    raise ArchiveNotFound(
        f"no archive at '{start}': found no news/ folder there, above it or up to {_SEARCH_DEPTH} levels below;"
        " pass --archive PATH or set NEWSARC_ARCHIVE"
    )


def _roots_below(start: Path) -> list[Path]:
    """Site roots a few levels below `start`, for users who point above the archive."""
    level, found = [start], []
    for _ in range(_SEARCH_DEPTH):
        below: list[Path] = []
        for folder in level:
            try:
                children = [Path(e.path) for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")]
            except OSError:
                continue
            found.extend(c for c in children if (c / NEWS).is_dir())
            below.extend(children)
        if found:
            return sorted(found)
        level = below
    return found


def resolve_link(source: str, target: str) -> Target:
    """Resolve a link written in `source` (relative to root) the way a site would."""
    target = target.strip()
    lowered = target.lower()
    if lowered.startswith(_SCHEMES) or lowered.startswith("//") or "@" in target and _EMAIL.fullmatch(target):
        return Target("", external=True)
    path, _, fragment = target.partition("#")
    path = unquote(path.split("?", 1)[0])
    if not path:
        return Target(source, fragment)  # "#heading" names a heading in the same file
    if path.startswith("/"):
        joined = path.lstrip("/")
    else:
        joined = posixpath.join(posixpath.dirname(source), path)
    normal = posixpath.normpath(joined)
    if normal == ".." or normal.startswith("../"):
        return Target("", fragment, outside=True)
    return Target("" if normal == "." else normal, fragment)


# Any URL scheme (http:, mailto:, file:, ...): not a file in the archive. Two
# characters at least, so a Windows drive letter is not taken for one.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")
# A site-absolute link with nothing to decode or normalise: it names `link[1:]` exactly.
PLAIN_ABSOLUTE = re.compile(r"/[A-Za-z0-9_\-/]+(?:\.[A-Za-z0-9]+)?")
# An email autolink (<someone@example.com>) reaches us without its mailto: scheme.
# File names such as logo@2x.png are not addresses.
_EMAIL = re.compile(r"[^\s/@<>()]+@[^\s/@<>()]+\.(?!(?:md|png|jpe?g|gif|svg|webp|html?|pdf)$)[^\s/@<>().]+", re.I)


def resolve_written(source: str, written: str) -> Target | None:
    """resolve_link, with a fast path for plain site-absolute links; None when external."""
    if written[:1] == "/":
        if PLAIN_ABSOLUTE.fullmatch(written) and "//" not in written and "/." not in written and written[-1] != "/":
            return Target(written[1:])
    elif _SCHEME.match(written):
        return None
    if written.lstrip().startswith("//"):
        return None
    target = resolve_link(source, written)
    return None if target.external else target


def day_spellings(path: str) -> list[str]:
    """The same path under the other day-folder spelling (`/04/3/` <-> `/04/03/`)."""
    parts = path.split("/")
    for i in range(len(parts) - 3):
        year, month, day = parts[i : i + 3]
        if len(year) == 4 and year.isdigit() and month.isdigit() and day.isdigit() and 1 <= len(day) <= 2:
            other = day.lstrip("0") or "0" if len(day) == 2 and day.startswith("0") else day.zfill(2)
            if other != day:
                return ["/".join(parts[:i] + [year, month, other] + parts[i + 3 :])]
            return []
    return []


class Archive:
    """The index of one archive. Build with `Archive.open(...)`, then `load()`."""

    def __init__(
        self, root: Path, scope: Path, cache_dir: Path | None = None, use_cache: bool = True, text: bool = True
    ):
        self.root = root
        self.scope = scope
        # Without text, events carry no body (body == body_raw == ""): commands
        # that never show or match bodies load a fraction of the cache.
        self.has_text = text
        self.cache_dir = cache_dir
        self._prefix = str(root).rstrip(os.sep) + os.sep
        self.use_cache = use_cache and settings.current().use_cache
        self.events: list[Event] = []
        self.day_pages: dict[str, Event] = {}
        self.unreadable: list[Event] = []  # skipped files; only their diagnostics matter
        self.scan_diagnostics: list[Diagnostic] = []
        self._by_path: dict[str, Event] = {}
        self._store: Store | None = None
        self.speculate = False  # check freshness in the background; see confirm()
        self._pending = None  # that check, while it runs: (the store checked, the check)
        self._stale: tuple[Store, store.Changes] | None = None  # a failed check's findings, for the update
        self._id_of: dict[str, int] | None = None
        self._lookups = 0
        self._made: dict[int, Event] = {}  # events made for lookups before (or without) load()
        self._backlinks: dict[str, list[Event]] | None = None
        self._backlink_scans = 0  # backlinks looked up in the store one at a time (_store_backlinks)
        self._linked_from: tuple[Store, dict[str, list[int]]] | None = None
        self._topics: dict[str, list[Event]] | None = None
        self.loaded = False
        self.stats = {"parsed": 0, "cached": 0}  # what the last load did, for --debug and tests
        # What keeping the index up to date cost: freshness checks started (each stats every file),
        # folders read (a walk of everything reads them all; an update after an edit, none).
        self.upkeep = {"checks": 0, "folders read": 0}
        # Told (files parsed, files to parse) while a load parses; the CLI draws a bar from it.
        self.progress: Callable[[int, int], None] | None = None
        # Told what is wrong with the cache itself (not the archive), once per message: the CLI prints it.
        self.notice: Callable[[str], None] | None = None
        self._said: set[str] = set()

    # -- opening ------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        root: str | Path | None = None,
        *,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        text: bool = True,
    ) -> Archive:
        """Locate an archive without reading it. Raises ArchiveNotFound."""
        scope = Path(path or settings.current().archive or ".").expanduser()
        if not scope.exists():
            raise ArchiveNotFound(f"archive folder '{scope}' does not exist; pass --archive PATH or set NEWSARC_ARCHIVE")
        if not scope.is_dir():
            raise ArchiveNotFound(f"'{scope}' is a file, not an archive folder; pass the folder that holds news/")
        scope = scope.resolve()
        if root is not None:
            site = Path(root).expanduser().resolve()
            if not site.is_dir():
                raise ArchiveNotFound(f"--root '{root}' is not a folder; pass the folder that holds news/")
        else:
            site = find_root(scope)
        if site != scope and site not in scope.parents:
            scope = site  # the user pointed above the archive
        return cls(site, scope, Path(cache_dir).expanduser() if cache_dir else None, use_cache, text)

    def relpath(self, file: Path | str) -> str:
        text = str(file)
        prefix = self._prefix
        if text.startswith(prefix):  # the common case, 20x cheaper than os.path.relpath
            rest = text[len(prefix) :]
            return rest if os.sep == "/" else rest.replace(os.sep, "/")
        return Path(os.path.relpath(file, self.root)).as_posix()

    # -- scanning -----------------------------------------------------------

    def markdown_files(self) -> Iterator[Path]:
        """Every `.md` file below the scope, without following links out of the root."""
        return (Path(entry.path) for entry in self._walk())

    def _walk(
        self, folders: list[tuple] | None = None, start: Path | None = None, seen: set[tuple[int, int]] | None = None
    ) -> Iterator[os.DirEntry]:
        """Files in scan order below `start` (the scope); `folders` gets (folder, mtime_ns, ctime_ns,
        names_digest) of every folder read; folders in `seen` (device, inode) are not read again."""
        seen = set() if seen is None else seen
        stack: list[str] = [str(start or self.scope)]
        while stack:
            yield from self._walk_folder(stack.pop(), seen, stack, folders)

    def _entry(self, entry: os.DirEntry, stack: list[str]) -> Iterator[os.DirEntry]:
        """Plain strings on this path: a Path per entry cost 1 s of a 100k-file scan."""
        try:
            if entry.is_symlink() and (problem := self._symlink_problem(Path(entry.path))):
                self._note(Path(entry.path), problem)
                return
            if entry.is_dir():
                stack.append(entry.path)
            elif entry.name.endswith(".md"):
                if entry.is_file():
                    yield entry
                else:  # a FIFO, socket or device: reading it could block forever
                    self._note(Path(entry.path), "not a regular file; skipped")
        except OSError as exc:
            self._note(Path(entry.path), f"cannot read: {exc.strerror or exc}")

    def _symlink_problem(self, path: Path) -> str:
        """Why a symbolic link is not followed; "" when it stays inside the root."""
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            return "symbolic link to a missing file; skipped"
        except (OSError, RuntimeError):  # ELOOP (RuntimeError before Python 3.13)
            return "symbolic link loop; not followed"
        if real == self.root or self.root in real.parents:
            return ""
        return "symbolic link to outside the archive root; not followed"

    def _inside(self, path: Path) -> bool:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return False
        return real == self.root or self.root in real.parents

    def _note(self, path: Path, message: str) -> None:
        self.scan_diagnostics.append(Diagnostic(self.relpath(path), 0, message, "warning"))

    # -- loading ------------------------------------------------------------

    def load(self) -> Archive:
        """Every event of the scope, from the store: columns now, the rest of each event on first use."""
        if self.loaded:
            return self
        index = self.index()
        with cache.no_gc():
            self.events = lazy_events(index, index.order, self.has_text)
            self._by_path = {e.path: e for e in self.events}
            pages = index.of_kind(store.DAY_PAGE)
            self.day_pages = {e.path: e for e in lazy_events(index, pages, self.has_text)}
        self._backlinks = self._topics = None
        # The index lives until the process ends and holds no cycles: freezing it
        # stops every later collection from walking millions of objects.
        gc.freeze()
        self.loaded = True
        return self

    def index(self) -> Store:
        """The store of this scope, brought up to date (store.py says what "fresh" guarantees)."""
        if self._store is None:
            self._store = self._open_store()
        return self._store

    def _open_store(self) -> Store:
        file = old = None
        if self.use_cache:
            file = self._cache_path()
            if self._stale is None:
                try:
                    old = Store.read(file)
                except store.NotRegularFile as problem:
                    self._say(problem.message)
                    file = None  # as with --no-cache: answered from an index in memory
                try:
                    if old is not None and self._trust(old):
                        self.stats["cached"] = len(old) - len(self.unreadable)
                        self.stats["parsed"] = len(self.unreadable)
                        return old
                except IndexDamaged:
                    old, self._stale = None, None  # rebuilt below, silently
            else:
                old = self._stale[0]

        scanned = time.time()
        self.scan_diagnostics, folders = [], []
        writer = store.Writer(file.parent if file is not None else None, old)
        plan = self._changed_plan(old, self._stale[1]) if self._stale is not None else None
        self._stale = None
        if plan is None:
            self.scan_diagnostics = []  # what the attempt noted, the walk notes again
            plan = self._walk_plan(old, folders)
        else:
            plan, folders, notes, scanned = plan
            self.scan_diagnostics = [Diagnostic(*note) for note in notes]
        self._write_pieces(writer, old, plan)
        del plan  # every file the walk found, 55 MB at 100k: gone before finish() lays out the columns
        notes = [(d.path, d.line, d.message, d.severity) for d in self.scan_diagnostics]
        made = writer.finish(file, folders, notes, scanned)
        del writer
        if self.stats["parsed"] >= PARALLEL_MIN_FILES:
            _give_back_memory()  # a build's worth of freed memory; an update frees little
        if file is not None:
            cache.prune(file.parent, file)  # only when an index is written: a warm run pays nothing
        skipped = made.of_kind(store.SKIPPED)
        self.unreadable = list(lazy_events(made, skipped, False))
        return made

    def _trust(self, old: Store) -> bool:
        """The store describes the files as they are (store.py says what that guarantees).

        With `speculate`, the stat of every file goes on in the background and
        the store is used meanwhile: the caller must `confirm()` before it
        tells anyone what it found. A check that fails leaves what it found
        in `_stale`, for the update that follows."""
        self._stale = None
        if _worth_renewing(old) or _read_over_limit(old):
            return False
        check = old.start_check(str(self.root), background=self.speculate)
        self.upkeep["checks"] += 1
        if not self._still_unreadable(old):
            return False
        notes = [Diagnostic(*note) for note in old.notes]
        if not self._links_still_skipped(notes):
            return False
        if self.speculate:
            self._pending = (old, check)
            old.watch(check)  # an answer from it stops once the check finds it stale
        elif not check.ok():
            self._stale = (old, check.changes())
            return False
        self.scan_diagnostics = notes
        return True

    def confirm(self) -> bool:
        """After a speculative start: was the store fresh? If not, the archive is reset, so the
        caller asks again and gets answers from an index brought up to date (from what the
        check found: the tree is not walked again, nor every file stat-ed a second time)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending[0].watch(None)
        if pending is None or pending[1].ok():
            return True
        progress, upkeep, notice, said = self.progress, self.upkeep, self.notice, self._said
        self.__init__(self.root, self.scope, self.cache_dir, self.use_cache, self.has_text)  # type: ignore[misc]
        self.progress, self.upkeep, self.notice, self._said = progress, upkeep, notice, said
        self._stale = (pending[0], pending[1].changes())
        return False

    def _links_still_skipped(self, notes: list[Diagnostic]) -> bool:
        """A symbolic link the scan skipped (its target missing, or out of the root) is looked at again:
        its target can appear or move where no folder the store watches changes."""
        for note in notes:
            if note.message.startswith("symbolic link"):
                if self._symlink_problem(self.root / note.path) != note.message:
                    return False
        return True

    def _still_unreadable(self, old: Store) -> bool:
        """Unreadable files are read again every time: a fixed permission changes no mtime."""
        self.unreadable = []
        for relpath in old.skipped():
            doc = read_event(self.root / relpath, relpath)
            if not doc.skipped:
                return False
            self.unreadable.append(doc)
        return True

    def _walk_plan(self, old: Store | None, folders: list[tuple]) -> list[tuple]:
        """What `_write_pieces` does, from a walk of the whole scope: `folders` gets every folder read
        as (folder, mtime_ns, ctime_ns, names digest or None where unreadable, files found in it)."""
        seen: list[tuple[str, str, cache.Stamp]] = []
        counts: list[int] = []
        for entry in self._walk(folders):
            try:
                stamp = cache.stamp(entry.stat())
            except OSError:
                stamp = (-1, -1, -1, -1)  # vanished or unreadable: the parser says why
            seen.append((entry.path, self.relpath(entry.path), stamp))
            counts.extend([0] * (len(folders) - len(counts)))
            counts[len(folders) - 1] += 1  # a folder's files come right after it is read
        counts.extend([0] * (len(folders) - len(counts)))
        self.upkeep["folders read"] += len(folders)
        folders[:] = [(*entry[:3], entry[3] if len(entry) > 3 else None, n) for entry, n in zip(folders, counts)]
        return _steps(seen, *_reuse_plan(seen, old))

    def _changed_plan(self, old: Store, changes: store.Changes) -> tuple | None:
        """What `_write_pieces` does, from what a failed check found; None when only a walk of everything can tell.

        Folders whose stamp did not change hold the files the store has, in its
        order: only the changed folders are listed again and only new folders
        walked, and only files whose stamp changed (and skipped ones, read every
        time) are looked at. The scan order is the walk's, so the store equals
        the one a walk would make. Returns (steps, folders, notes, scan time)."""
        kinds, dirs = old.kinds, old.dirs
        starts = list(accumulate((d[4] for d in dirs), initial=0))  # folder j holds files starts[j]..starts[j+1]-1
        if starts[-1] != len(kinds):
            return None
        changed = {i: (stamp, differs) for i, stamp, differs in changes.files}
        if any(stamp is None and bisect_right(starts, i) - 1 not in changes.folders for i, (stamp, _) in changed.items()):
            return None  # gone, but its folder did not change: a symlink's target, a permission
        if store.SKIPPED in kinds:
            prefix, paths = self._prefix, old.paths
            for i in (i for i, kind in enumerate(kinds) if kind == store.SKIPPED):
                try:
                    changed[i] = (cache.stamp(os.stat(prefix + paths[i])), True)
                except OSError:
                    changed[i] = ((-1, -1, -1, -1), True)
        if not changes.folders:
            return self._decide(old, [(0, len(kinds))], changed), dirs, old.notes, changes.began
        if old.notes:
            return None  # symlinks skipped, loops, unreadable folders: the walk's rules, not ours
        found = self._rewalk(old, starts, set(changes.folders))
        if found is None:
            return None
        folders, order = found
        return self._decide(old, order, changed), folders, [], changes.began

    def _rewalk(self, old: Store, starts: list[int], changed: set[int]) -> tuple[list[tuple], list] | None:
        """The walk's folders and files in its order, reading only the `changed` folders and new ones.

        Returns (folders, order): order holds (start, stop) ranges of the old
        store's files and (path, relpath, stamp, old id or None) for files of
        folders read again. None when something there is out of the ordinary
        (a symbolic link, a folder that cannot be read, anything the walk notes)."""
        dirs, paths = old.dirs, old.paths
        at = {entry[0]: j for j, entry in enumerate(dirs)}
        children: list[list[int]] = [[] for _ in dirs]
        for j in range(1, len(dirs)):
            parent = at.get(dirs[j][0].rpartition(os.sep)[0])
            if parent is None:
                return None
            children[parent].append(j)
        folders: list[tuple] = []
        order: list = []
        tasks: list = [0]  # old folder ids, or the paths of new folders
        while tasks:
            task = tasks.pop()
            if isinstance(task, str):
                if not self._walk_new(task, folders, order):
                    return None
                continue
            if task not in changed:
                folders.append(dirs[task])
                if starts[task] < starts[task + 1]:
                    order.append((starts[task], starts[task + 1]))
                tasks.extend(reversed(children[task]))
                continue
            listed = self._relist(dirs[task][0])
            if listed is None:
                return None
            entry, files, subfolders = listed
            folders.append((*entry, len(files)))
            known = {paths[i]: i for i in range(starts[task], starts[task + 1])}
            for file in files:
                relpath = self.relpath(file.path)
                order.append((file.path, relpath, _stamp_of(file), known.get(relpath)))
            kept = {dirs[j][0]: j for j in children[task]}
            tasks.extend(kept.get(path, path) for path in reversed(subfolders))
        return folders, order

    def _relist(self, folder: str) -> tuple[tuple, list[os.DirEntry], list[str]] | None:
        """One folder read as `_walk` reads it: ((folder, mtime, ctime, names digest), its .md files in
        scan order, its subfolders in the order they are walked); None if it holds a symbolic
        link or anything the walk would note."""
        try:
            info = os.stat(folder)
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError:
            return None
        self.upkeep["folders read"] += 1
        files: list[os.DirEntry] = []
        stack: list[str] = []
        noted = len(self.scan_diagnostics)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_symlink():
                    return None
            except OSError:
                return None
            files.extend(self._entry(entry, stack))
        if len(self.scan_diagnostics) != noted:
            return None
        digest = store.names_digest(e.name for e in entries)
        return (folder, info.st_mtime_ns, info.st_ctime_ns, digest), files, stack[::-1]

    def _walk_new(self, folder: str, folders: list[tuple], order: list) -> bool:
        """A folder the store has not seen, walked as a whole scan walks it; False if it holds a
        symbolic link or anything the walk notes (the caller then walks everything)."""
        noted, first = len(self.scan_diagnostics), len(folders)
        walked: list[tuple] = []
        counts: list[int] = []
        for entry in self._walk(walked, start=Path(folder), seen=set()):
            if entry.is_symlink():
                return False
            order.append((entry.path, self.relpath(entry.path), _stamp_of(entry), None))
            counts.extend([0] * (len(walked) - len(counts)))
            counts[len(walked) - 1] += 1
        if len(self.scan_diagnostics) != noted or any(os.path.islink(entry[0]) for entry in walked):
            return False
        counts.extend([0] * (len(walked) - len(counts)))
        self.upkeep["folders read"] += len(walked)
        folders[first:] = [(*entry[:3], entry[3] if len(entry) > 3 else None, n) for entry, n in zip(walked, counts)]
        return True

    def _decide(self, old: Store, order: list, changed: dict[int, tuple]) -> list[tuple]:
        """`_write_pieces` steps for files in `order` (see _rewalk): ranges of old files are copied but
        for the `changed` ids in them ({id: (stamp, bytes known to differ)}); a file whose stamp
        changed is kept if its size and bytes did not (read and hashed), else parsed."""
        kinds, paths, stamps, limit = old.kinds, old.paths, old.stamps, old._limit()
        ids = sorted(changed)
        steps: list = []
        pending: list[tuple[int, tuple, int]] = []  # (position in steps, item, old id): read and hashed

        def look(item: tuple, i: int | None, differs: bool) -> None:
            if i is None or differs or kinds[i] == store.SKIPPED or stamps[4 * i] != item[2][0] or over_limit(item[2][0]):
                steps.append((None, item))
            elif old.stamp(i) == item[2] and stamps[4 * i + 1] < limit:
                steps.append((i, i + 1, None))
            else:
                pending.append((len(steps), item, i))
                steps.append((None, item))

        for part in order:
            if len(part) == 2:
                start, stop = part
                for i in ids[bisect_left(ids, start) : bisect_left(ids, stop)]:
                    if start < i:
                        steps.append((start, i, None))
                    stamp, differs = changed[i]
                    look((self._prefix + paths[i], paths[i], stamp), i, differs)
                    start = i + 1
                if start < stop:
                    steps.append((start, stop, None))
            else:
                path, relpath, stamp, i = part
                look((path, relpath, stamp), i, i is not None and i in changed and changed[i][1])
        same = _same_bytes(old, [item for _, item, _ in pending], [i for _, _, i in pending])
        for k, item, i in pending:
            if i in same:
                steps[k] = (i, i + 1, list(item[2]))
        return _merged(steps)

    def _write_pieces(self, writer: store.Writer, old: Store | None, steps: list[tuple]) -> None:
        """Every file's piece, in scan order: runs of unchanged files copied from `old`, the rest parsed.

        `steps` are (start, stop, stamps): files start..stop-1 of `old`, under
        new stamps (4 ints a file) or their own (None); or (None, item): parse
        the file item = (path, relpath, stamp)."""
        parsed = parse_pieces([step[1] for step in steps if step[0] is None], self.progress)
        for step in steps:
            if step[0] is None:
                writer.add(next(parsed))
                self.stats["parsed"] += 1
            else:
                writer.copy(old, *step)  # type: ignore[arg-type]
                self.stats["cached"] += step[1] - step[0]

    def _read(self, files: Iterable[Path]) -> Iterator[Event]:
        items = [(str(file), self.relpath(file)) for file in files]
        for doc in parse_files(items, self.progress):
            self.stats["parsed"] += 1
            yield doc if self.has_text else _without_text([doc])[0]

    def _add(self, documents: Iterable[Event]) -> None:
        for doc in documents:
            if doc.skipped:
                self.unreadable.append(doc)
            elif doc.is_day_page:
                self.day_pages[doc.path] = doc
            else:
                self.events.append(doc)
                self._by_path[doc.path] = doc
        self.events.sort(key=sort_key)
        self._backlinks = self._topics = None

    def day_folders(self, span: DateSpan | None = None) -> list[tuple[dt.date, Path]] | None:
        """Dated day folders under the scope (within `span`), or None when the layout is not dated.

        Reads only three levels of folders, and within `span` only the years and
        months it touches, which is what lets a one-day lookup skip the rest of
        a large archive.
        """
        news = self.root / NEWS
        if not news.is_dir() or not (self.scope == self.root or self.scope == news or news in self.scope.parents):
            return None
        if self.scope != self.root and len(self.scope.relative_to(news).parts) > 2:
            return None
        found = []
        for year in self._dated_subdirs(news):
            if not _may_hold(span, int(year.name), None):
                continue
            for month in self._dated_subdirs(year):
                if not _may_hold(span, int(year.name), int(month.name)):
                    continue
                for day in self._dated_subdirs(month):
                    date = dates.date_from_parts([year.name, month.name, day.name])
                    if date and (self.scope in (day, *day.parents)):
                        found.append((date, day))
        return sorted(found)

    def events_in(self, span: DateSpan, *, index: bool = True) -> Sequence[Event]:
        """Events whose date is in `span`, in day folders `span` covers.

        A short span reads only its day folders (a day costs a few files, not
        the index). A long one is picked from the index's columns when the
        index is at hand, or when the span holds most of the archive (parsing
        every file of 100k one by one took 31 s and 940 MB; the index, 0.3 s
        to check and its rows decoded as they are printed). Both give the
        same events: the index's are kept only if their day folder is in the span.
        `index=False` always reads the folders (and so fills `day_pages` with theirs)."""
        if not self.loaded:
            folders = self.day_folders(span)
            if folders is None:
                self.load()
            else:
                folders = [(day, folder) for day, folder in folders if day in span]
                if index and self._index_pays(len(folders)):
                    return self._view_in(span)
                self._add(self._read(f for _, folder in folders for f in self._day_files(folder)))
        return [e for e in self.events if e.date in span]

    def diagnostics_of(self, events: Sequence[Event]) -> list[Diagnostic]:
        """What reading these events found wrong. From the index's view, only the files it noted as
        having something are decoded (listing a year of 100k events would decode every row twice)."""
        store = self._store
        if store is None:
            return [d for event in events for d in event.diagnostics]
        noted = set(store.noted)
        if isinstance(events, EventView) and events.store is store:
            chosen = events.each(k for k, i in enumerate(events.ids) if i in noted)
            return [d for event in chosen for d in event.diagnostics]
        found = []
        for event in events:
            if not (isinstance(event, LazyEvent) and event._store is store and event._id not in noted):
                found.extend(event.diagnostics)
        return found

    def index_on_disk(self) -> bool:
        """An index of this scope was written before (it may be stale): completions use it only then."""
        return self.use_cache and self._cache_path().is_file()

    def _say(self, message: str) -> None:
        if message not in self._said and self.notice is not None:
            self._said.add(message)
            self.notice(message)

    def _cache_path(self) -> Path:
        return cache.cache_file(self.cache_dir or cache.default_dir(), self.root, self.scope)

    def _index_pays(self, folders: int) -> bool:
        """Whether `folders` day folders are better read from the index than one by one."""
        if self._store is not None:
            return True
        if folders < INDEX_FOLDERS:
            return False
        if self.use_cache and self._cache_path().exists():
            return True  # kept up to date, not built: a few changed files at most are parsed
        every = self.day_folders()
        return every is not None and folders * 2 >= len(every)  # most of the archive: build it, for later runs too

    def _view_in(self, span: DateSpan) -> EventView:
        """The index's events dated in `span` whose day folder (news/Y/M/D) is in it too, in order."""
        index = self.index()
        order, ordinals, paths = index.order, index.dates, index.paths
        low = span.start.toordinal() if span.start else 1
        high = span.end.toordinal() if span.end else dt.date.max.toordinal()
        days: dict[str, dt.date | None] = {}
        picked = []
        for i in order:
            if low <= ordinals[i] <= high:
                folder = paths[i].rpartition("/")[0]
                day = days.get(folder, False)
                if day is False:
                    day = days[folder] = folder_day(paths[i])
                if day is not None and day in span:
                    picked.append(i)
        return EventView(index, picked, self.has_text)

    def _listing(self, folder: Path) -> list[os.DirEntry]:
        try:
            return sorted((e for e in os.scandir(folder) if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            self._note(folder, f"cannot read folder: {exc.strerror or exc}")
            return []

    def _dated_subdirs(self, folder: Path) -> list[Path]:
        """Year, month or day folders, by the scan's rules: no symlink out of the root."""
        found: list[str] = []
        for entry in self._listing(folder):
            if entry.name.isdigit():
                list(self._entry(entry, found))
        return [Path(path) for path in found]

    def _day_files(self, folder: Path) -> list[Path]:
        """The .md files of one day folder and of the folders in it, walked as the whole-archive scan
        walks them (the folders above it count as read, as the scan reads them first), so a day
        lists what the scan finds there."""
        seen = set()
        for above in folder.parents:
            if above != self.root and self.root not in above.parents:
                break
            try:
                info = os.stat(above)
            except OSError:
                continue
            seen.add((info.st_dev, info.st_ino))
        return [Path(entry.path) for entry in self._walk(start=folder, seen=seen)]

    # -- lookups ------------------------------------------------------------

    def get(self, relpath: str) -> Event | None:
        if not self._lazy():
            return self._by_path.get(relpath)
        i = self._id(relpath)
        if i is None or self.index().kinds[i] != store.EVENT:
            return None
        event = self._made.get(i)
        if event is None:
            event = self._made[i] = store.event_at(self.index(), i, self.has_text)
        return event

    def _lazy(self) -> bool:
        """Not loaded and nothing read by other means: lookups go to the store, and load() is never paid."""
        return not self.loaded and not self._by_path

    def _id(self, relpath: str) -> int | None:
        """Lookups bisect the store's sorted paths (microseconds); very many pay once for a dict (76 ms at 100k)."""
        if self._id_of is None and self._lookups < 5000:
            self._lookups += 1
            index = self.index()
            i = index.find(relpath)
            return i if i is not None and index.kinds[i] != store.SKIPPED else None
        return self._ids().get(relpath)

    def _ids(self) -> dict[str, int]:
        """path -> store id of every event and day page."""
        if self._id_of is None:
            index = self.index()
            kinds = index.kinds
            self._id_of = {path: i for i, path in enumerate(index.paths) if kinds[i] != store.SKIPPED}
        return self._id_of

    def _is_day_page(self, relpath: str) -> bool:
        if not self._lazy():
            return relpath in self.day_pages
        i = self._id(relpath)
        return i is not None and self.index().kinds[i] == store.DAY_PAGE

    def event_paths(self) -> list[str]:
        """Every event's path, in date order, without decoding an event."""
        return self._event_paths()

    def _event_paths(self) -> list[str]:
        if not self._lazy():
            return [e.path for e in self.events]
        index = self.index()
        paths = index.paths
        return [paths[i] for i in index.order]

    def with_text(self, event: Event) -> Event:
        """`event` with its body: read again from its file when the index was loaded without text."""
        if self.has_text or event.skipped:
            return event
        if isinstance(event, LazyEvent):
            full = cache.decode(event._store.row(event._id))
            full.body, full.body_raw = event.full_text()
            return full
        if event.body:
            return event
        return read_event(self.root / event.path, event.path)

    def decoded(self, events: Iterable[Event]) -> Iterator[Event]:
        """Each event with every field, those from the store decoded one at a time and not kept:
        for one pass over all of them (a LazyEvent keeps what it decoded)."""
        for event in events:
            if isinstance(event, LazyEvent) and event._store is self._store:
                full = cache.decode(event._store.row(event._id))
                if self.has_text:
                    full.body, full.body_raw = event.full_text()
                yield full
            else:
                yield event

    def view(self) -> Sequence[Event]:
        """`events`, but made one at a time as they are read, when the archive is not loaded yet."""
        if self.loaded:
            return self.events
        index = self.index()
        return EventView(index, index.order, self.has_text)

    def every_file(self) -> Sequence[Event]:
        """Every event (in `events` order), then every day page: made one at a time as they are
        read. validate-links reads most of 100k files through columns and makes a thousand."""
        if self.loaded:
            return [*self.events, *self.day_pages.values()]
        index = self.index()
        return EventView(index, [*index.order, *index.of_kind(store.DAY_PAGE)], self.has_text)

    def index_ids(self, events: Sequence[Event]) -> Sequence[int] | None:
        """Where `events` sit in this archive's store; None unless every one came from it."""
        if isinstance(events, EventView) and events.store is self._store:
            return events.ids
        if self._store is None:
            return None
        ids = []
        for event in events:
            if not isinstance(event, LazyEvent) or event._store is not self._store:
                return None
            ids.append(event._id)
        return ids

    def quiet_links(self, docs: Sequence[Event]) -> tuple[list[bool], list[tuple[int, int]]] | None:
        """Per doc, whether validate-links has nothing to find in it, and its (internal, http) link
        counts, from the store (store.Writer._links_ok); None unless every doc came from it."""
        ids = self.index_ids(docs)
        if ids is None:
            return None
        index = self.index()
        ok, counts = index.links_ok, index.link_counts
        return [ok[i] == 1 for i in ids], [(counts[2 * i], counts[2 * i + 1]) for i in ids]

    def listed(self, day_page: Event) -> set[str] | None:
        """`day_page_targets` of a day page from the store (no row decoded); None when not there."""
        if isinstance(day_page, LazyEvent) and day_page._store is self._store and day_page.is_day_page:
            return set(day_page._store.listed(day_page._id))
        return None

    def words(self, events: Sequence[Event]) -> list[bytes] | None:
        """Each event's headline twice and body as reading/words.py normalizes them, from the store (None: not there)."""
        ids = self.index_ids(events)
        return None if ids is None else self.index().words(ids)

    def release_pages(self) -> None:
        """After reading many `words`: let the index's mapped pages go from this process's memory."""
        if self._store is not None:
            self._store.release_pages()

    def indexed(self, relpath: str) -> bool:
        """The index holds this file, read (an event or a day page): it exists, the disk need not be asked."""
        if self._lazy():
            return self._id(relpath) is not None
        return relpath in self._by_path or relpath in self.day_pages

    def exists(self, relpath: str) -> bool:
        return self.indexed(relpath) or self.on_disk(relpath)

    def on_disk(self, relpath: str) -> bool:
        """A file or folder at `relpath`, inside the root (a symbolic link may not lead out of it)."""
        return bool(relpath) and (self.root / relpath).exists() and self._inside(self.root / relpath)

    def find(self, ref: str) -> Event:
        """An event by file path, site link, slug or unique slug prefix."""
        for relpath in self.path_forms(ref):
            event = self.get(relpath)
            if event:
                return event
            if self._is_day_page(relpath):
                raise day_page_problem(ref)
        slug = slug_asked(ref)
        paths = [path for path in self._event_paths() if slug in path]  # a C-speed filter first: 100k paths
        slugs = [slug_of(path) for path in paths]
        exact = [p for p, s in zip(paths, slugs) if s == slug]
        return self.get(only_match(ref, exact or [p for p, s in zip(paths, slugs) if s.startswith(slug)]))  # type: ignore[return-value]

    def path_forms(self, ref: str) -> Iterator[str]:
        """The paths `ref` may name, as a file, a site link or a news/... path (not as a slug)."""
        ref = ref.strip()
        file = Path(ref).expanduser()
        if file.is_file():
            yield self.relpath(file.resolve())
        if ref.startswith("/"):
            target = resolve_link("", ref)
            if target.path:
                yield target.path
                yield from day_spellings(target.path)
        elif ref.startswith(NEWS + "/"):
            yield posixpath.normpath(ref)
            yield from day_spellings(posixpath.normpath(ref))

    def event_days(self) -> list[dt.date]:
        """Every day that has an event, in order."""
        self.load()
        return sorted({e.date for e in self.events if e.date})

    def on_this_day(self, month: int, day: int) -> list[Event]:
        self.load()
        return [e for e in self.events if e.date and e.date.month == month and e.date.day == day]

    def resolve(self, event: Event, target: str) -> Target:
        return resolve_link(event.path, target)

    def backlinks(self, event: Event) -> list[Event]:
        """Events whose links (Related, body, front matter) point at `event`."""
        if self._store is not None and (self.loaded or self._lazy()):
            return self._store_backlinks(event.path)
        if self._backlinks is None:
            index: dict[str, list[Event]] = defaultdict(list)
            for source in self.events:
                for path in link_targets(source):
                    index[path].append(source)
            self._backlinks = dict(index)
        return self._backlinks.get(event.path, [])

    def _store_backlinks(self, path: str) -> list[Event]:
        """From the store's outgoing links: no row decoded. Each lookup reads the whole column, so
        after BACKLINK_SCANS of them (related --depth walks thousands) the column is read once
        into a map, which keeps the cost of many lookups linear."""
        index = self.index()
        if self._linked_from is None or self._linked_from[0] is not index:
            if self._backlink_scans < BACKLINK_SCANS:
                self._backlink_scans += 1
                return self._events_of(index, index.linking_to(path))
            self._linked_from = (index, index.linked_from())
        return self._events_of(index, self._linked_from[1].get(path, ()))

    def _events_of(self, index: Store, ids: Iterable[int]) -> list[Event]:
        paths = index.paths
        found = [self.get(paths[i]) for i in ids]
        return sorted((e for e in found if e is not None), key=sort_key)

    def view_paths(self) -> list[str]:
        """The path of each event of `view()`, in its order: from the path column, no event made."""
        events = self.view()
        if isinstance(events, EventView):
            paths = self.index().paths
            return [paths[i] for i in events.ids]
        return [event.path for event in events]

    def topic_groups(self) -> dict[str, tuple[list[str], Sequence[int]]]:
        """topic_names.group_names over `view()`: folded topic -> (spellings, positions in `view()`).

        From the topic column, no event made; the answer depends on that column
        alone, so it is kept beside the index (answers.py) and read back (10 ms,
        where grouping 100k events' topics costs 0.27 s)."""
        events = self.view()
        if self.index_ids(events) is None:
            return group_names([event.topics for event in events])
        index = self.index()
        kept = answers.recall(index, _TOPICS_MEMO)
        if kept is not None:
            return {key: (ranked, array("i", positions)) for key, (ranked, positions) in kept.items()}
        groups = group_names(self.topic_names(events))  # type: ignore[arg-type]
        answers.keep(index, _TOPICS_MEMO, {key: (ranked, array("i", ks).tobytes()) for key, (ranked, ks) in groups.items()})
        return groups

    def topic_names(self, events: Sequence[Event]) -> Sequence[Sequence[str]] | None:
        """Each event's topics from the index's topic column (no event made or read); None unless
        every event came from this archive's store."""
        ids = self.index_ids(events)
        if ids is None:
            return None
        topics = self.index().topics
        return [topics[i] for i in ids]

    def topics(self) -> dict[str, list[Event]]:
        """Topic name -> events carrying it, in date order."""
        if self._topics is None:
            index: dict[str, list[Event]] = defaultdict(list)
            for event in self.events:
                for topic in event.topics:
                    index[topic].append(event)
            self._topics = dict(index)
        return self._topics

    def with_topic(self, topic: str) -> list[Event]:
        return with_topics(self.events, [topic])

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.scan_diagnostics)
        for doc in (*self.unreadable, *self.events, *self.day_pages.values()):
            found.extend(doc.diagnostics)
        return found

    def walk_unindexed(self, processes: int = 1) -> list[tuple[str, str]] | None:
        """Every `.md` file below the scope as (path, relpath), in scan order, what the walk skipped noted
        in `scan_diagnostics`; None when this process opened or loaded the store already. For a command
        that reads each file's bytes once (search.py, linkfacts.py): building an index first is a toll,
        and a store on disk is not read (it is on its way out: validate-links reads the catalogue or the files).

        `processes` > 1: the same answer, its pieces (`walk_pieces`) walked by that many processes
        (cores.pull), each taking the next piece when done with its last."""
        if self._store is not None or self.loaded or self._by_path:
            return None
        if processes > 1:
            return self._walk_in_pieces(processes)
        return self.walk_files()

    def walk_files(self) -> list[tuple[str, str]]:
        """Every `.md` file below the scope as (path, relpath), in scan order, in one walk, what it
        skipped noted in `scan_diagnostics` (whatever index there is: search reads the files)."""
        self.scan_diagnostics, self.unreadable = [], []
        return self._pairs(self._walk())

    def _walk_in_pieces(self, processes: int) -> list[tuple[str, str]] | None:
        walk = self.walk_pieces()
        if walk is None:
            return None
        pieces = walk.pieces
        if not any(folder is not None for folder, _, _ in pieces):  # walked here already, all of it
            self.scan_diagnostics = [note for _, _, notes in pieces for note in notes]
            return [item for _, files, _ in pieces for item in files]

        def piece(k: int) -> tuple[list, list, list, bool]:
            folder, files, notes = pieces[k]
            if folder is None:
                return [], [], [], False  # walked by walk_pieces, in this process: taken from `pieces`
            files, notes, keys, repeated = self.walk_piece(folder)
            return files, [(d.path, d.line, d.message, d.severity) for d in notes], keys, repeated

        walked = cores.pull(piece, len(pieces), processes)
        if not walk.exact((keys, repeated) for _, _, keys, repeated in walked):
            return self.walk_files()  # a folder reached twice: only the one walk in order is exact
        files: list[tuple[str, str]] = []
        notes: list[Diagnostic] = []
        for (folder, known, noted), (found, found_notes, _, _) in zip(pieces, walked):
            if folder is None:
                files.extend(known)
                notes.extend(noted)
            else:
                files.extend(found)
                notes.extend(Diagnostic(*d) for d in found_notes)
        self.scan_diagnostics = notes
        return files

    def walk_pieces(self, wanted: int | None = None) -> WalkPieces | None:
        """`walk_unindexed` cut into pieces that can be walked apart (on other cores): the folders near
        the scope read here, level by level, until `wanted` folders are left to walk; None when events
        are open or loaded (an index on disk is not asked about: search reads the files either way). Walking every piece with `walk_piece` and joining the answers in order gives
        walk_unindexed's files and scan_diagnostics, unless `WalkPieces.exact` says a folder was reached
        twice (a symbolic link or a bind mount): then only walk_unindexed's one walk is exact."""
        if self._store is not None or self.loaded or self._by_path:
            return None
        self.scan_diagnostics, self.unreadable = [], []
        wanted = WALK_PIECES if wanted is None else wanted
        seen = _Seen()
        pieces: list[WalkPiece] = [(str(self.scope), [], [])]
        while True:
            folders = sum(1 for piece in pieces if piece[0] is not None)
            if not folders or folders >= wanted or seen.repeated:
                break
            opened: list[WalkPiece] = []
            for piece in pieces:
                if piece[0] is None:
                    opened.append(piece)
                    continue
                files: list[tuple[str, str]] = []
                stack: list[str] = []
                notes = self._collect(lambda: files.extend(self._pairs(self._walk_folder(piece[0], seen, stack))))
                opened.append((None, files, notes))
                opened.extend((folder, [], []) for folder in reversed(stack))  # the order they are popped in
            pieces = opened
        return WalkPieces(pieces, list(seen), seen.repeated)

    def walk_piece(self, folder: str) -> tuple[list[tuple[str, str]], list[Diagnostic], list[tuple[int, int]], bool]:
        """One folder of `walk_pieces` walked as walk_unindexed walks it: (its files, what the walk
        noted, the (device, inode) of every folder read, whether one was reached twice)."""
        seen = _Seen()
        files: list[tuple[str, str]] = []
        notes = self._collect(lambda: files.extend(self._pairs(self._walk(start=folder, seen=seen))))  # type: ignore[arg-type]
        return files, notes, list(seen), seen.repeated

    def _pairs(self, entries: Iterable[os.DirEntry]) -> list[tuple[str, str]]:
        """(path, relpath) of each entry: `relpath`'s common case inline (0.05 s less at 100k files)."""
        prefix, cut, relpath = self._prefix, len(self._prefix), self.relpath
        if os.sep != "/":
            return [(path, relpath(path)) for path in map(_PATH, entries)]
        return [(path, path[cut:] if path.startswith(prefix) else relpath(path)) for path in map(_PATH, entries)]

    def _collect(self, work: Callable[[], None]) -> list[Diagnostic]:
        """What `work` notes, apart from scan_diagnostics."""
        saved, self.scan_diagnostics = self.scan_diagnostics, []
        try:
            work()
            return self.scan_diagnostics
        finally:
            self.scan_diagnostics = saved

    def _walk_folder(
        self, folder: str, seen: set[tuple[int, int]], stack: list[str], folders: list[tuple] | None = None
    ) -> Iterator[os.DirEntry]:
        """One step of `_walk`: the files of one folder, its folders pushed on `stack` (and its stamps
        on `folders`, as `_walk` says)."""
        try:
            info = os.stat(folder)
            key = (info.st_dev, info.st_ino)
            if key in seen:
                self._note(Path(folder), "symlink loop; folder read once")
                return
            seen.add(key)
            if folders is not None:
                folders.append((folder, info.st_mtime_ns, info.st_ctime_ns))
            entries = sorted(os.scandir(folder), key=_NAME, reverse=True)
            if folders is not None:  # what it held, for when its mtime is too young to trust
                folders[-1] += (store.names_digest(e.name for e in entries),)
        except OSError as exc:
            self._note(Path(folder), f"cannot read folder: {exc.strerror or exc}")
            return
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:  # the common case first: a Markdown file, not a link (what `_entry` yields with no more asked)
                plain = name.endswith(".md") and entry.is_file(follow_symlinks=False)
            except OSError:
                plain = False
            if plain:
                yield entry
            else:
                yield from self._entry(entry, stack)


_NAME = attrgetter("name")
_PATH = attrgetter("path")

# A piece of a walk: (a folder still to walk, or None; files already found; what their walk noted).
WalkPiece = tuple["str | None", list[tuple[str, str]], list[Diagnostic]]


class _Seen(set):
    """A walk's set of folders read, that remembers whether one was looked up again."""

    repeated = False

    def __contains__(self, key) -> bool:
        found = set.__contains__(self, key)
        self.repeated = self.repeated or found
        return found


@dataclass
class WalkPieces:
    """Archive.walk_pieces' answer: the pieces in scan order, the folders read to cut them, and
    whether one of those was reached twice (then walk_unindexed must walk instead)."""

    pieces: list[WalkPiece]
    keys: list[tuple[int, int]]
    repeated: bool

    def exact(self, walked: Iterable[tuple[list[tuple[int, int]], bool]]) -> bool:
        """Whether the pieces joined are walk_unindexed's walk: no folder was reached twice, here or
        in any piece (`walked`: each walked piece's folders and its own `repeated`)."""
        if self.repeated:
            return False
        seen = set(self.keys)
        count = len(self.keys)
        for keys, repeated in walked:
            if repeated:
                return False
            seen.update(keys)
            count += len(keys)
        return len(seen) == count


def wanted_slug(ref: str) -> str:
    """The slug an event reference names: its last part, without `.md`, lowercased."""
    return ref.strip().rstrip("/").rsplit("/", 1)[-1].removesuffix(".md").lower()


def slug_asked(ref: str) -> str:
    """`wanted_slug(ref)`, which must not be empty."""
    slug = wanted_slug(ref)
    if not slug:
        raise EventNotFound("empty event reference; give a path, a /news/... link or a slug")
    return slug


def only_match(ref: str, matches: list[str]) -> str:
    """The one path `ref`'s slug matched (exactly, else as a prefix); several or none say so."""
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousEvent(f"'{ref}' matches {len(matches)} events; give more of the slug or the full path", matches)
    raise EventNotFound(f"no event matches '{ref}'; give a file path, a /news/... link, or a slug (see newsarc search)")


def day_page_problem(ref: str) -> EventNotFound:
    day = ref.split('/news/')[-1].rsplit('/', 1)[0].replace('/', '-')
    return EventNotFound(f"'{ref}' is a day page, not an event; try: newsarc list-by-date {day}")


def folder_day(relpath: str) -> dt.date | None:
    """The day of the day folder (news/YYYY/MM/D) a file is in, at any depth below it; None outside one."""
    parts = relpath.split("/", 4)
    return dates.date_from_parts(parts[1:4]) if len(parts) > 4 and parts[0] == NEWS else None


def _may_hold(span: DateSpan | None, year: int, month: int | None) -> bool:
    """Whether a year (or month) folder can hold days of `span`."""
    if span is None:
        return True
    first = (year, month or 1)
    last = (year, month or 12)
    if span.start and last < (span.start.year, span.start.month):
        return False
    return not (span.end and first > (span.end.year, span.end.month))


def _without_text(docs: list[Event]) -> list[Event]:
    """Drop bodies the command will not read: they are most of the index's memory."""
    for doc in docs:
        doc.body = doc.body_raw = ""
    return docs


_PARALLEL_DIGESTS = 2000  # from this many files to hash, every core hashes
PARALLEL_MIN_FILES = 2000  # below this, starting worker processes costs more than it saves
INDEX_FOLDERS = 120  # from this many day folders (four months) a span is read from the index when there is one: about
# where they cost the same at 100k events (four months: 0.47 s from folders, 0.53 s from the index; a year 1.01 s vs 0.59 s)
_CHUNK = 500


def parse_files(items: list[tuple[str, str]], progress: Callable[[int, int], None] | None = None) -> Iterator[Event]:
    """Parse (path, relpath) pairs into Events, on every core when it pays."""
    return _parse(items, progress, _event_of, _event_chunk, _events_from)


def parse_pieces(
    items: list[tuple[str, str, cache.Stamp]], progress: Callable[[int, int], None] | None = None
) -> Iterator[Piece]:
    """Parse (path, relpath, stamp) triples into store pieces, on every core when it pays.

    The parent never builds an Event for a file a worker parsed: a cold index
    costs what parsing costs."""
    return _parse(items, progress, _piece_of_item, _piece_chunk, _pieces_from)


def _parse(items: list, progress, one: Callable, chunk_work: Callable[[list], bytes], unpack: Callable[[bytes], Iterable]):
    """`one` per item here below PARALLEL_MIN_FILES, else `chunk_work` per chunk in a fork pool, in order.

    Workers send back marshal bytes of plain tuples, which cross the process
    boundary far cheaper than pickled Events (measured: pickling Events made
    Pool(2) slower than one process)."""
    context = _fork_context()
    workers = min(os.cpu_count() or 1, 8)
    if context is None or workers < 2 or len(items) < PARALLEL_MIN_FILES:
        for count, item in enumerate(items, 1):
            result = one(item)
            if progress and (count % 500 == 0 or count == len(items)):
                progress(count, len(items))  # before the yield: zip() may never resume us
            yield result
        return
    chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    done = 0
    with context.Pool(workers, initializer=_ignore_interrupts) as pool:
        for blob in pool.imap(chunk_work, chunks):
            done += _CHUNK
            if progress:
                progress(min(done, len(items)), len(items))
            yield from unpack(blob)


def _event_of(item: tuple[str, str]) -> Event:
    return read_event(Path(item[0]), item[1])


def _event_chunk(chunk: list[tuple[str, str]]) -> bytes:
    return marshal.dumps([(cache.encode(doc), cache.encode_text(doc)) for doc in map(_event_of, chunk)])


def _events_from(blob: bytes) -> Iterator[Event]:
    for row, (body, body_raw) in marshal.loads(blob):
        doc = cache.decode(row)
        doc.body, doc.body_raw = body, body_raw
        yield doc


def _give_back_memory() -> None:
    """A build leaves a few hundred MB at 100k files freed but held by the C allocator; a command that
    forks afterwards (related's scan) would have it counted again in every child. glibc returns it
    to the system on request; elsewhere this does nothing."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # musl and other libcs have no malloc_trim
        pass


YOUNG_SHARE, YOUNG_MIN = 8, 1000  # a store whose young files are 1/8 of all (and 1,000) is renewed once they age


def _read_over_limit(old: Store) -> bool:
    """The index holds a file read whole that is over the size limit now (the limit was lowered):
    it is parsed again, to be skipped as the limit says (a look at the size column: milliseconds)."""
    limit = max_file_size()
    sizes = old.stamps[0::4]
    if not limit or max(sizes, default=0) <= limit:
        return False
    kinds = old.kinds
    return any(size > limit and kinds[i] != store.SKIPPED for i, size in enumerate(sizes))


def _worth_renewing(old: Store) -> bool:
    """Rewrite a store written while many files were young (a fresh clone, a restored CI cache, a
    `touch` of everything) once they have aged: its young files are checked by their bytes on
    every run (about 1 s for 100k files), a rewrite that reuses every piece costs a few seconds once."""
    young = old.young()
    return young >= YOUNG_MIN and young * YOUNG_SHARE >= len(old) and old.aged()


def _reuse_plan(seen: list[tuple[str, str, cache.Stamp]], old: Store | None) -> tuple[list[int | None], set[int]]:
    """Per file scanned: the id of its piece in `old` if that piece still describes it, else None (parse
    it); and the positions whose piece is kept under a new stamp.

    A piece still describes a file whose stamp is unchanged (and was not racy),
    or, failing that, whose size and bytes (`store.digest`) are: the files
    whose stamps all changed with their contents (a fresh clone, a cache
    restored in CI) are read and hashed, on every core, not parsed."""
    if old is None:
        return [None] * len(seen), set()
    reusable, known = old.reusable(), old.known()
    plan: list[int | None] = []
    recheck: list[int] = []  # positions in `seen` worth a digest: same path and size as a piece of `old`
    for k, (_, relpath, stamp) in enumerate(seen):
        i = reusable.get(relpath)
        if i is not None and old.stamp(i) == stamp and not over_limit(stamp[0]):
            plan.append(i)
            continue
        plan.append(None)
        i = known.get(relpath)
        if i is not None and old.stamps[4 * i] == stamp[0] and not over_limit(stamp[0]):
            recheck.append(k)
    same = _same_bytes(old, [seen[k] for k in recheck], [known[seen[k][1]] for k in recheck])
    restamped = set()
    for k in recheck:
        i = known[seen[k][1]]
        if i in same:
            plan[k] = i
            restamped.add(k)
    return plan, restamped


def _same_bytes(old: Store, items: list[tuple[str, str, cache.Stamp]], ids: list[int]) -> set[int]:
    """The ids among `ids` whose file (`items`, alike) still has the bytes its piece was parsed from."""
    if not items:
        return set()
    paths = [item[0] for item in items]
    parts = cores.split(paths, cores.workers() if len(paths) >= _PARALLEL_DIGESTS else 1)
    digests = [d for part in cores.fan_out(store.file_digests, parts) for d in part]
    return {i for i, found in zip(ids, digests) if found != store.NO_DIGEST and found == old.digest(i)}


def _stamp_of(entry: os.DirEntry) -> cache.Stamp:
    try:
        return cache.stamp(entry.stat())
    except OSError:
        return (-1, -1, -1, -1)  # vanished or unreadable: the parser says why


def _merged(steps: list[tuple]) -> list[tuple]:
    """Copies of old files that follow each other made one: under their own stamps, or all under new
    ones (after a `touch` of everything, one copy rather than one per file)."""
    found: list[tuple] = []
    for step in steps:
        last = found[-1] if found else (None,)
        if step[0] is None or last[0] is None or last[1] != step[0] or (last[2] is None) != (step[2] is None):
            found.append(step)
        elif step[2] is None:
            found[-1] = (last[0], step[1], None)
        else:
            last[2].extend(step[2])  # the stamps list is this step's own (made by _decide)
            found[-1] = (last[0], step[1], last[2])
    return found


def _steps(seen: list[tuple[str, str, cache.Stamp]], plan: list[int | None], restamped: set[int]) -> list[tuple]:
    """`_write_pieces` steps from a reuse plan: files that follow each other in both scans, with their
    old stamps, are copied in one go."""
    steps: list[tuple] = []
    k = 0
    while k < len(plan):
        i = plan[k]
        if i is None:
            steps.append((None, seen[k]))
            k += 1
            continue
        if k in restamped:
            steps.append((i, i + 1, list(seen[k][2])))
            k += 1
            continue
        run = 1
        while k + run < len(plan) and plan[k + run] == i + run and k + run not in restamped:
            run += 1
        steps.append((i, i + run, None))
        k += run
    return steps


def _piece_of_item(item: tuple[str, str, cache.Stamp]) -> Piece:
    from newsarc.reading.parser import parse_bytes, read_limited, skipped_event

    diagnostics: list[Diagnostic] = []
    data = read_limited(item[0], item[1], diagnostics)
    if data is None:  # unreadable or over the size limit: recorded as skipped, looked at again every run
        return piece_of(skipped_event(item[1], diagnostics), item[2], store.NO_DIGEST)
    return piece_of(parse_bytes(data, item[1]), item[2], store.digest(data))


def _piece_chunk(chunk: list[tuple[str, str, cache.Stamp]]) -> bytes:
    return marshal.dumps([tuple(_piece_of_item(item)) for item in chunk])


def _pieces_from(blob: bytes) -> Iterator[Piece]:
    return (Piece(*fields) for fields in marshal.loads(blob))


def piece_of(doc: Event, stamp: cache.Stamp, digest: bytes) -> Piece:
    """What one parsed file contributes to each column of the store."""
    kind = store.SKIPPED if doc.skipped else store.DAY_PAGE if doc.is_day_page else store.EVENT
    search = outgoing = words = b""
    if kind == store.DAY_PAGE:
        listed = day_page_targets(doc)
        if listed:
            outgoing = b"\0" + "\0".join(listed).encode("utf-8", "surrogateescape") + b"\0"
    if kind == store.EVENT:
        text = event_text(doc, DEFAULT_FIELDS)
        search = text.encode() + b"\n" if text else b""  # as Matcher joins texts
        from newsarc.reading.words import normalize

        words = normalize(f"{doc.title}\n{doc.title}\n{doc.body}")
        targets = link_targets(doc)
        if targets:
            outgoing = b"\0" + "\0".join(targets).encode("utf-8", "surrogateescape") + b"\0"
    return Piece(
        doc.path, stamp, kind, doc.date.toordinal() if doc.date else 0, doc.title, tuple(doc.topics), outgoing,
        marshal.dumps(cache.encode(doc)), marshal.dumps(cache.encode_text(doc)), search, bool(doc.diagnostics),
        words, link_facts(doc) if kind != store.SKIPPED else (0, 0, "", False),
        store.NO_DIGEST if kind == store.SKIPPED else digest, len(doc.sources),
    )  # fmt: skip


def link_targets(doc: Event) -> list[str]:
    """The files `doc` links to (its date line aside), each once, itself excluded: what backlinks count."""
    found: dict[str, None] = {}  # ordered like a list, found in O(1): a list made many links quadratic
    for link in doc.links:
        if link.role == DATE:
            continue
        target = resolve_link(doc.path, link.target)
        if target.path and target.path != doc.path:
            found[target.path] = None
    return list(found)


def day_page_targets(doc: Event) -> list[str]:
    """Every file a day page's links point at (what validate-links checks its folder's events against)."""
    found: dict[str, None] = {}  # as in link_targets
    for link in doc.links:
        target = resolve_written(doc.path, link.target)
        if target is not None and target.path and not target.outside:
            found[target.path] = None
    return list(found)


def link_facts(doc: Event) -> tuple[int, int, str, bool]:
    """What validate-links needs to know of a file to skip reading it again.

    (links, http(s) links, the other targets as written "\\0"-joined, quiet):
    a file is quiet when it has no diagnostics and its date line surely agrees
    with its folder; a quiet file whose written targets all name existing
    files exactly has nothing to report, which the checker can tell from these
    facts alone. "Surely" is conservative: anything unusual is not quiet.
    """
    written, http = [], 0
    for link in doc.links:
        target = link.target
        if target[:4] == "http" and target.startswith(("http://", "https://")):
            http += 1
        else:
            written.append(target)
    quiet = not doc.diagnostics and (doc.is_day_page or _dates_agree(doc))
    return (len(doc.links), http, "\0".join(written), quiet)


def _dates_agree(doc: Event) -> bool:
    """The date line is a date, names the file's folder day, and links to that day's page; a front
    matter date names the same day (links.Checker.check_dates would find nothing to say)."""
    folder_day = dates.date_from_parts(doc.path.rpartition("/")[0].split("/"))
    line = next((link for link in doc.links if link.role == DATE), None)
    day = None
    if line is not None:
        day = dates.parse_day(line.text)
        if day is None or (folder_day is not None and (day != folder_day or not _links_to_day(doc, line, folder_day))):
            return False
    if "date" in doc.meta:
        reference = folder_day or day
        return reference is None or dates.coerce_day(doc.meta["date"]) == reference
    return True


def _links_to_day(doc: Event, line, folder_day) -> bool:
    """The date line's link names no day, or the folder's."""
    target = resolve_written(doc.path, line.target)
    path = target.path if target is not None and not target.outside else ""
    linked = dates.date_from_parts(path.rpartition("/")[0].split("/")) if path else None
    return linked is None or linked == folder_day


def read_event(file: Path, relpath: str) -> Event:
    """parser.read_event, imported on first use: a warm command parses nothing and skips its import."""
    from newsarc.reading.parser import read_event as read

    return read(file, relpath)


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the group: only the parent answers it (exit 130,
    then the pool is terminated); a worker dying mid-task printed a traceback and
    could leave the pool waiting forever."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _fork_context():
    """Fork shares the loaded modules with workers for free; elsewhere, stay serial."""
    import multiprocessing

    if settings.current().workers == 1:
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def sort_key(event: Event) -> tuple[dt.date, str]:
    return (event.date or dt.date.min, event.path)
