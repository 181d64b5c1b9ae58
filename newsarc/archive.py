"""The archive: where it is, which files it has, and the in-memory index.

An archive is a site root holding `news/YYYY/MM/D/*.md`. Users point at the
root, at `news/`, at a folder inside it or at a folder above it; `find_root`
works out which folder makes `/news/...` links resolve. The index is built
from a scan of the folder the user named (the scope), so pointing at
`news/2017` reads 2017 only while links still resolve against the root.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from newsarc import dates
from newsarc.dates import DateSpan
from newsarc.errors import AmbiguousEvent, ArchiveNotFound, EventNotFound
from newsarc.model import DATE, Diagnostic, Event
from newsarc.parser import DAY_PAGE, read_event

NEWS = "news"
_SCHEMES = ("http:", "https:", "mailto:", "ftp:", "tel:", "data:", "javascript:")
_SEARCH_DEPTH = 3  # how far below the given folder to look for a site root


@dataclass(frozen=True, slots=True)
class Target:
    """Where a link points, resolved against the site root."""

    path: str  # posix, relative to the root; "" for external or outside
    fragment: str = ""
    external: bool = False
    outside: bool = False  # climbs above the site root


def find_root(start: Path) -> Path:
    """The site root: the folder whose `news/` makes `/news/...` links resolve."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if folder.name == NEWS:
            return folder.parent
    if (start / NEWS).is_dir():
        return start
    found = _roots_below(start)
    return found[0] if len(found) == 1 else start


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
    if lowered.startswith(_SCHEMES) or lowered.startswith("//"):
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

    def __init__(self, root: Path, scope: Path):
        self.root = root
        self.scope = scope
        self.events: list[Event] = []
        self.day_pages: dict[str, Event] = {}
        self.unreadable: list[Event] = []  # skipped files; only their diagnostics matter
        self.scan_diagnostics: list[Diagnostic] = []
        self._by_path: dict[str, Event] = {}
        self._backlinks: dict[str, list[Event]] | None = None
        self._topics: dict[str, list[Event]] | None = None
        self.loaded = False

    # -- opening ------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, root: str | Path | None = None) -> Archive:
        """Locate an archive without reading it. Raises ArchiveNotFound."""
        scope = Path(path or os.environ.get("NEWSARC_ARCHIVE") or ".").expanduser()
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
        return cls(site, scope)

    def relpath(self, file: Path | str) -> str:
        return Path(os.path.relpath(file, self.root)).as_posix()

    # -- scanning -----------------------------------------------------------

    def markdown_files(self) -> Iterator[Path]:
        """Every `.md` file below the scope, without following links out of the root."""
        seen: set[tuple[int, int]] = set()
        stack = [self.scope]
        while stack:
            folder = stack.pop()
            try:
                info = folder.stat()
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    self._note(folder, "symlink loop; folder read once")
                    continue
                seen.add(key)
                entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
            except OSError as exc:
                self._note(folder, f"cannot read folder: {exc.strerror or exc}")
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                yield from self._entry(entry, stack)

    def _entry(self, entry: os.DirEntry, stack: list[Path]) -> Iterator[Path]:
        path = Path(entry.path)
        try:
            if entry.is_symlink() and not self._inside(path):
                self._note(path, "symbolic link to outside the archive root; not followed")
                return
            if entry.is_dir():
                stack.append(path)
            elif entry.name.endswith(".md") and entry.is_file():
                yield path
        except OSError as exc:
            self._note(path, f"cannot read: {exc.strerror or exc}")

    def _inside(self, path: Path) -> bool:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):
            return False
        return real == self.root or self.root in real.parents

    def _note(self, path: Path, message: str) -> None:
        self.scan_diagnostics.append(Diagnostic(self.relpath(path), 0, message, "warning"))

    # -- loading ------------------------------------------------------------

    def load(self, progress: Callable[[int], None] | None = None) -> Archive:
        """Scan and parse the whole scope (the path every whole-archive command takes)."""
        if self.loaded:
            return self
        self._add(self._read(self.markdown_files(), progress))
        self.loaded = True
        return self

    def _read(self, files: Iterable[Path], progress: Callable[[int], None] | None = None) -> Iterator[Event]:
        for count, file in enumerate(files, 1):
            yield read_event(file, self.relpath(file))
            if progress and count % 1000 == 0:
                progress(count)

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

    def day_folders(self) -> list[tuple[dt.date, Path]] | None:
        """Dated day folders under the scope, or None when the layout is not dated.

        Reads only three levels of folders (about 20 ms for 6,600 days), which
        is what lets a one-day lookup skip the rest of a large archive.
        """
        news = self.root / NEWS
        if not news.is_dir() or not (self.scope == self.root or self.scope == news or news in self.scope.parents):
            return None
        if self.scope != self.root and len(self.scope.relative_to(news).parts) > 2:
            return None
        found = []
        for year in _subdirs(news):
            for month in _subdirs(year):
                for day in _subdirs(month):
                    date = dates.date_from_parts([year.name, month.name, day.name])
                    if date and (self.scope in (day, *day.parents)):
                        found.append((date, day))
        return sorted(found)

    def events_in(self, span: DateSpan) -> list[Event]:
        """Events whose date is in `span`, reading only the day folders it covers."""
        if not self.loaded:
            folders = self.day_folders()
            if folders is None:
                self.load()
            else:
                files = (f for day, folder in folders if day in span for f in _md_files(folder))
                self._add(self._read(files))
        return [e for e in self.events if e.date in span]

    # -- lookups ------------------------------------------------------------

    def get(self, relpath: str) -> Event | None:
        return self._by_path.get(relpath)

    def exists(self, relpath: str) -> bool:
        if relpath in self._by_path or relpath in self.day_pages:
            return True
        return bool(relpath) and (self.root / relpath).is_file()

    def find(self, ref: str) -> Event:
        """An event by file path, site link, slug or unique slug prefix."""
        self.load()
        for relpath in self._path_forms(ref):
            event = self._by_path.get(relpath)
            if event:
                return event
            if relpath in self.day_pages:
                raise EventNotFound(f"'{ref}' is a day page, not an event; try: newsarc list-by-date {ref.split('/news/')[-1].rsplit('/', 1)[0].replace('/', '-')}")
        slug = ref.strip().rstrip("/").rsplit("/", 1)[-1].removesuffix(".md").lower()
        if not slug:
            raise EventNotFound("empty event reference; give a path, a /news/... link or a slug")
        exact = [e for e in self.events if e.slug == slug]
        matches = exact or [e for e in self.events if e.slug.startswith(slug)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousEvent(
                f"'{ref}' matches {len(matches)} events; give more of the slug or the full path",
                [e.path for e in matches],
            )
        raise EventNotFound(f"no event matches '{ref}'; give a file path, a /news/... link, or a slug (see newsarc search)")

    def _path_forms(self, ref: str) -> Iterator[str]:
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

    def on_this_day(self, month: int, day: int) -> list[Event]:
        self.load()
        return [e for e in self.events if e.date and e.date.month == month and e.date.day == day]

    def resolve(self, event: Event, target: str) -> Target:
        return resolve_link(event.path, target)

    def backlinks(self, event: Event) -> list[Event]:
        """Events whose links (Related, body, front matter) point at `event`."""
        if self._backlinks is None:
            index: dict[str, list[Event]] = defaultdict(list)
            for source in self.events:
                seen = set()
                for link in source.links:
                    if link.role == DATE:
                        continue
                    target = resolve_link(source.path, link.target)
                    if target.path and target.path != source.path and target.path not in seen:
                        seen.add(target.path)
                        index[target.path].append(source)
            self._backlinks = dict(index)
        return self._backlinks.get(event.path, [])

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
        wanted = topic.casefold()
        return [e for e in self.events if any(t.casefold() == wanted for t in e.topics)]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.scan_diagnostics)
        for doc in (*self.unreadable, *self.events, *self.day_pages.values()):
            found.extend(doc.diagnostics)
        return found


def sort_key(event: Event) -> tuple[dt.date, str]:
    return (event.date or dt.date.min, event.path)


def _subdirs(folder: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(folder) if e.is_dir() and e.name.isdigit())
    except OSError:
        return []


def _md_files(folder: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(folder) if e.name.endswith(".md") and e.is_file())
    except OSError:
        return []
