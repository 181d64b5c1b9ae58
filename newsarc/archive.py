"""The archive: where it is, which files it has, and its events read from them.

An archive is a site root holding `news/YYYY/MM/D/*.md`. Users point at the
root, at `news/`, at a folder inside it or at a folder above it; `find_root`
works out which folder makes `/news/...` links resolve. The walk covers the
folder the user named (the scope), so pointing at `news/2017` reads 2017 only
while links still resolve against the root.

`Archive` keeps no index: it walks the files (`walk_unindexed`, in pieces on
every core), reads a span's day folders, or parses every file (`load()`, on
every core). The commands ask a `features.catalog.Catalog` over it, which
answers lookups from the SQLite index (newsarc/index/) and comes here for the
walk and the day folders; a library caller may use an Archive alone.
"""

from __future__ import annotations

import datetime as dt
import gc
import marshal
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from urllib.parse import unquote

from newsarc.index import cache
from newsarc.reading import dates
from newsarc import cores, settings
from newsarc.reading.dates import DateSpan
from newsarc.reading.topic_names import group_names, with_topics
from newsarc.errors import AmbiguousEvent, ArchiveNotFound, EventNotFound
from newsarc.model import DATE, Diagnostic, Event, slug_of

NEWS = "news"
_SCHEMES = ("http:", "https:", "mailto:", "ftp:", "tel:", "data:", "javascript:")
_SEARCH_DEPTH = 3  # how far below the given folder to look for a site root
WALK_PIECES = 64  # walk_pieces: folders left to walk apart (on other cores) by default


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
    """The files of one archive scope and their events. Locate with `Archive.open(...)`; `load()` reads them all."""

    def __init__(
        self, root: Path, scope: Path, cache_dir: Path | None = None, use_cache: bool = True, text: bool = True
    ):
        """`cache_dir` and `use_cache`: where a catalogue over this archive keeps its index (Archive keeps none)."""
        self.root = root
        self.scope = scope
        # Without text, events carry no body (body == body_raw == ""): what a
        # command never shows or matches is not kept in memory.
        self.has_text = text
        self.cache_dir = cache_dir
        self._prefix = str(root).rstrip(os.sep) + os.sep
        self.use_cache = use_cache and settings.current().use_cache
        self.events: list[Event] = []
        self.day_pages: dict[str, Event] = {}
        self.unreadable: list[Event] = []  # skipped files; only their diagnostics matter
        self.scan_diagnostics: list[Diagnostic] = []
        self._by_path: dict[str, Event] = {}
        self._backlinks: dict[str, list[Event]] | None = None
        self._topics: dict[str, list[Event]] | None = None
        self.loaded = False
        self.parsed = 0  # files parsed so far (tests: a span reads its day folders alone)
        # Told (files parsed, files to parse) while a load parses; the CLI draws a bar from it.
        self.progress: Callable[[int, int], None] | None = None

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

    def _walk(self, start: Path | str | None = None, seen: set[tuple[int, int]] | None = None) -> Iterator[os.DirEntry]:
        """Files in scan order below `start` (the scope); folders in `seen` (device, inode) are not read again."""
        seen = set() if seen is None else seen
        stack: list[str] = [str(start or self.scope)]
        while stack:
            yield from self._walk_folder(stack.pop(), seen, stack)

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
        """Every file of the scope walked and parsed, on every core: all events in memory at once, for
        a library caller that wants them so. The commands ask a catalogue instead (features/catalog.py),
        whose index parses only what changed since it was last brought up to date."""
        if self.loaded:
            return self
        self.events, self.day_pages, self._by_path = [], {}, {}
        processes = cores.workers()
        files = self._walk_in_pieces(processes) if processes > 1 else self.walk_files()
        if files is None:
            files = self.walk_files()
        with cache.no_gc():
            self._add(self._parsed(files))
        # What was read lives until the process ends and holds no cycles: freezing it
        # stops every later collection from walking millions of objects.
        gc.freeze()
        self.loaded = True
        return self

    def _read(self, files: Iterable[Path]) -> Iterator[Event]:
        return self._parsed([(str(file), self.relpath(file)) for file in files])

    def _parsed(self, items: list[tuple[str, str]]) -> Iterator[Event]:
        for doc in parse_files(items, self.progress):
            self.parsed += 1
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

        Only the day folders the span covers are read (a day costs a few files);
        in an archive that is not laid out by day, every file is (`load()`). A
        catalogue picks a long span from its index instead (features/catalog.py).
        `index` is the catalogue's question; an Archive always reads the folders
        (and so fills `day_pages` with theirs)."""
        if not self.loaded:
            folders = self.day_folders(span)
            if folders is None:
                self.load()
            else:
                folders = [(day, folder) for day, folder in folders if day in span]
                self._add(self._read(f for _, folder in folders for f in self._day_files(folder)))
        return [e for e in self.events if e.date in span]

    def diagnostics_of(self, events: Sequence[Event]) -> list[Diagnostic]:
        """What reading these events found wrong."""
        return [d for event in events for d in event.diagnostics]

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

    # Lookups answer from every file of the scope: they load() it first (`exists` asks the disk instead).

    def get(self, relpath: str) -> Event | None:
        return self.load()._by_path.get(relpath)

    def event_paths(self) -> list[str]:
        """Every event's path, in date order."""
        return [e.path for e in self.load().events]

    def with_text(self, event: Event) -> Event:
        """`event` with its body: read again from its file when the archive was read without text."""
        if self.has_text or event.skipped or event.body:
            return event
        return read_event(self.root / event.path, event.path)

    def view(self) -> Sequence[Event]:
        """Every event, in order (date, then path)."""
        return self.load().events

    def every_file(self) -> Sequence[Event]:
        """Every event (in `events` order), then every day page."""
        self.load()
        return [*self.events, *self.day_pages.values()]

    def indexed(self, relpath: str) -> bool:
        """This file was read (an event or a day page) by `load()` or with a span's day folders: it
        exists, the disk need not be asked (`exists` asks it about the others)."""
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
            if relpath in self.day_pages:
                raise day_page_problem(ref)
        slug = slug_asked(ref)
        paths = [path for path in self.event_paths() if slug in path]  # a C-speed filter first: 100k paths
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
        self.load()
        if self._backlinks is None:
            index: dict[str, list[Event]] = defaultdict(list)
            for source in self.events:
                for path in link_targets(source):
                    index[path].append(source)
            self._backlinks = dict(index)
        return self._backlinks.get(event.path, [])

    def view_paths(self) -> list[str]:
        """The path of each event of `view()`, in its order."""
        return self.event_paths()

    def topic_groups(self) -> dict[str, tuple[list[str], Sequence[int]]]:
        """topic_names.group_names over `view()`: folded topic -> (spellings, positions in `view()`)."""
        return group_names([event.topics for event in self.view()])

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
        in `scan_diagnostics`; None when events were read already (`load()`, a span's day folders): the
        caller takes those. For a command that reads each file's bytes once (search.py, linkcheck/facts.py):
        building an index first is a toll.

        `processes` > 1: the same answer, its pieces (`walk_pieces`) walked by that many processes
        (cores.pull), each taking the next piece when done with its last."""
        if self.loaded or self._by_path:
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
        were read already (as walk_unindexed). Walking every piece with `walk_piece` and joining the
        answers in order gives walk_unindexed's files and scan_diagnostics, unless `WalkPieces.exact`
        says a folder was reached twice (a symbolic link or a bind mount): then only walk_unindexed's
        one walk is exact."""
        if self.loaded or self._by_path:
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

    def _walk_folder(self, folder: str, seen: set[tuple[int, int]], stack: list[str]) -> Iterator[os.DirEntry]:
        """One step of `_walk`: the files of one folder, its folders pushed on `stack`."""
        try:
            info = os.stat(folder)
            key = (info.st_dev, info.st_ino)
            if key in seen:
                self._note(Path(folder), "symlink loop; folder read once")
                return
            seen.add(key)
            entries = sorted(os.scandir(folder), key=_NAME, reverse=True)
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


PARALLEL_MIN_FILES = 2000  # below this, starting worker processes costs more than it saves
_CHUNK = 500


def parse_files(items: list[tuple[str, str]], progress: Callable[[int, int], None] | None = None) -> Iterator[Event]:
    """Parse (path, relpath) pairs into Events, in order: here below PARALLEL_MIN_FILES, else a chunk
    at a time in a fork pool on every core.

    Workers send back marshal bytes of plain tuples, which cross the process
    boundary far cheaper than pickled Events (measured: pickling Events made
    Pool(2) slower than one process)."""
    context = _fork_context()
    workers = min(os.cpu_count() or 1, 8)
    if context is None or workers < 2 or len(items) < PARALLEL_MIN_FILES:
        for count, item in enumerate(items, 1):
            result = _event_of(item)
            if progress and (count % 500 == 0 or count == len(items)):
                progress(count, len(items))  # before the yield: zip() may never resume us
            yield result
        return
    chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    done = 0
    held = cores.hold_interrupts()  # while the pool forks its workers
    try:
        pool = context.Pool(workers, initializer=cores.ignore_interrupts)
    finally:
        cores.let_interrupts_in(held)
    with pool:
        for blob in pool.imap(_event_chunk, chunks):
            done += _CHUNK
            if progress:
                progress(min(done, len(items)), len(items))
            yield from _events_from(blob)


def _event_of(item: tuple[str, str]) -> Event:
    return read_event(Path(item[0]), item[1])


def _event_chunk(chunk: list[tuple[str, str]]) -> bytes:
    return marshal.dumps([(cache.encode(doc), cache.encode_text(doc)) for doc in map(_event_of, chunk)])


def _events_from(blob: bytes) -> Iterator[Event]:
    for row, (body, body_raw) in marshal.loads(blob):
        doc = cache.decode(row)
        doc.body, doc.body_raw = body, body_raw
        yield doc















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
