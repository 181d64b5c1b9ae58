"""The archive: where it is, which files it has, and the in-memory index.

An archive is a site root holding `news/YYYY/MM/D/*.md`. Users point at the
root, at `news/`, at a folder inside it or at a folder above it; `find_root`
works out which folder makes `/news/...` links resolve. The index is built
from a scan of the folder the user named (the scope), so pointing at
`news/2017` reads 2017 only while links still resolve against the root.
"""

from __future__ import annotations

import datetime as dt
import gc
import marshal
import os
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from newsarc import cache, dates
from newsarc.dates import DateSpan
from newsarc.folding import with_topics
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
        self.use_cache = use_cache and not os.environ.get("NEWSARC_NO_CACHE")
        self.events: list[Event] = []
        self.day_pages: dict[str, Event] = {}
        self.unreadable: list[Event] = []  # skipped files; only their diagnostics matter
        self.scan_diagnostics: list[Diagnostic] = []
        self._by_path: dict[str, Event] = {}
        self._backlinks: dict[str, list[Event]] | None = None
        self._topics: dict[str, list[Event]] | None = None
        self.loaded = False
        self.stats = {"parsed": 0, "cached": 0}  # what the last load did, for --debug and tests
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

    def _walk(self) -> Iterator[os.DirEntry]:
        seen: set[tuple[int, int]] = set()
        stack: list[str] = [str(self.scope)]
        while stack:
            folder = stack.pop()
            try:
                info = os.stat(folder)
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    self._note(Path(folder), "symlink loop; folder read once")
                    continue
                seen.add(key)
                entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
            except OSError as exc:
                self._note(Path(folder), f"cannot read folder: {exc.strerror or exc}")
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                yield from self._entry(entry, stack)

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
        """Scan and parse the whole scope (the path every whole-archive command takes)."""
        if self.loaded:
            return self
        with cache.no_gc():
            if self.use_cache:
                self._add(self._read_cached())
            else:
                self._add(self._read(self.markdown_files()))
        # The index lives until the process ends and holds no cycles: freezing it
        # stops every later collection from walking millions of objects.
        gc.freeze()
        self.loaded = True
        return self

    def _read_cached(self) -> list[Event]:
        """Parse only what changed since the last run (see cache.py for the guarantee)."""
        folder = self.cache_dir or cache.default_dir()
        file = cache.cache_file(folder, self.root, self.scope)
        text_file = cache.cache_file(folder, self.root, self.scope, "text")
        old = cache.load(file)
        entries: list = []
        docs: list[Event] = []
        fresh: dict[str, tuple] = {}  # relpath -> text row, for files parsed now
        changed = self._refresh(old, entries, docs, fresh)
        if changed:
            cache.save(file, entries)
        if self.has_text or changed:
            self._merge_text(text_file, docs, entries, fresh)
        return docs if self.has_text else _without_text(docs)

    def _merge_text(self, text_file: Path, docs: list[Event], entries: list, fresh: dict[str, tuple]) -> None:
        """Fill bodies from the text section (parsing files it lacks) and keep it current."""
        texts = cache.load(text_file)
        stamps = {relpath: stamp for relpath, stamp, _ in entries}
        rows, stale = [], False
        for doc in docs:
            relpath = doc.path
            stamp = stamps.get(relpath)
            if stamp is None:
                continue  # unreadable or vanished: parsed in full, never cached
            row = fresh.get(relpath)
            if row is None:
                hit = texts.get(relpath)
                if hit is not None and hit[0] == stamp:
                    row = hit[1]
                else:  # the text section is older than the main one (another process wrote it)
                    row, stale = cache.encode_text(read_event(self.root / relpath, relpath)), True
            if self.has_text:
                doc.body, doc.body_raw = row
            rows.append((relpath, stamp, row))
        if fresh or stale or len(rows) != len(texts):
            cache.save(text_file, rows)

    def _refresh(self, old, entries: list, docs: list[Event], fresh: dict[str, tuple]) -> bool:
        """Reuse cached records whose stamp matches; parse the rest (in parallel when many).

        Returns whether the cache must be written. When it need not be, each
        cached row is dropped as soon as its Event is built, so the rows and
        the objects are never all in memory at once."""
        seen: list[tuple[str, str, cache.Stamp | None]] = []
        for entry in self._walk():
            try:
                stamp = cache.stamp(entry.stat())
            except OSError:
                stamp = None  # vanished or unreadable: the parser says why
            seen.append((entry.path, self.relpath(entry.path), stamp))
        hits = [s is not None and old.get(r, (None,))[0] == s for _, r, s in seen]
        changed = not all(hits) or len(seen) != len(old)
        misses: list[tuple[int, str, str, cache.Stamp | None]] = []
        for index, ((path, relpath, stamp), hit) in enumerate(zip(seen, hits)):
            if hit:
                row = old.pop(relpath)[1]
                docs.append(cache.decode(row))
                entries.append((relpath, stamp, row if changed else None))
                self.stats["cached"] += 1
            else:
                misses.append((index, path, relpath, stamp))
                docs.append(None)  # type: ignore[arg-type]  # filled below
        pairs = parse_files([(path, relpath) for _, path, relpath, _ in misses], self.progress)
        for (index, _, relpath, stamp), (doc, row) in zip(misses, pairs):
            docs[index] = doc
            self.stats["parsed"] += 1
            if stamp is not None and not doc.skipped:
                entries.append((relpath, stamp, row))
                fresh[relpath] = cache.encode_text(doc)
        return changed

    def _read(self, files: Iterable[Path]) -> Iterator[Event]:
        items = [(str(file), self.relpath(file)) for file in files]
        for doc, _ in parse_files(items, self.progress, encode=False):
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

    def events_in(self, span: DateSpan) -> list[Event]:
        """Events whose date is in `span`, reading only the day folders it covers."""
        if not self.loaded:
            folders = self.day_folders(span)
            if folders is None:
                self.load()
            else:
                files = (f for day, folder in folders if day in span for f in self._day_files(folder))
                self._add(self._read(files))
        return [e for e in self.events if e.date in span]

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
        """The .md files of one day folder, by the scan's rules (one bad entry costs only itself)."""
        ignored: list[str] = []
        return [Path(e.path) for entry in self._listing(folder) for e in self._entry(entry, ignored)]

    # -- lookups ------------------------------------------------------------

    def get(self, relpath: str) -> Event | None:
        return self._by_path.get(relpath)

    def with_text(self, event: Event) -> Event:
        """`event` with its body: read again from its file when the index was loaded without text."""
        if self.has_text or event.body or event.skipped:
            return event
        return read_event(self.root / event.path, event.path)

    def exists(self, relpath: str) -> bool:
        if relpath in self._by_path or relpath in self.day_pages:
            return True
        return bool(relpath) and (self.root / relpath).is_file() and self._inside(self.root / relpath)

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
        return with_topics(self.events, [topic])

    @property
    def diagnostics(self) -> list[Diagnostic]:
        found = list(self.scan_diagnostics)
        for doc in (*self.unreadable, *self.events, *self.day_pages.values()):
            found.extend(doc.diagnostics)
        return found


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


def parse_files(
    items: list[tuple[str, str]], progress: Callable[[int, int], None] | None = None, *, encode: bool = True
) -> Iterator[tuple[Event, tuple | None]]:
    """Parse (path, relpath) pairs into (Event, cache row), on every core when it pays.

    Workers send back marshal bytes of plain tuples, which cross the process
    boundary far cheaper than pickled Events (measured: pickling Events made
    Pool(2) slower than one process); the parent only rebuilds the objects.
    """
    context = _fork_context()
    workers = min(os.cpu_count() or 1, 8)
    if context is None or workers < 2 or len(items) < PARALLEL_MIN_FILES:
        for count, (path, relpath) in enumerate(items, 1):
            doc = read_event(Path(path), relpath)
            if progress and (count % 500 == 0 or count == len(items)):
                progress(count, len(items))  # before the yield: zip() may never resume us
            yield doc, cache.encode(doc) if encode else None
        return
    chunks = [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
    done = 0
    with context.Pool(workers, initializer=_ignore_interrupts) as pool:
        for blob in pool.imap(_parse_chunk, chunks):
            done += _CHUNK
            if progress:
                progress(min(done, len(items)), len(items))
            for row, (body, body_raw) in marshal.loads(blob):
                doc = cache.decode(row)
                doc.body, doc.body_raw = body, body_raw
                yield doc, row


def _ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the group: only the parent answers it (exit 130,
    then the pool is terminated); a worker dying mid-task printed a traceback and
    could leave the pool waiting forever."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _parse_chunk(chunk: list[tuple[str, str]]) -> bytes:
    docs = (read_event(Path(path), relpath) for path, relpath in chunk)
    return marshal.dumps([(cache.encode(doc), cache.encode_text(doc)) for doc in docs])


def _fork_context():
    """Fork shares the loaded modules with workers for free; elsewhere, stay serial."""
    import multiprocessing

    if os.environ.get("NEWSARC_WORKERS") == "1":
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def sort_key(event: Event) -> tuple[dt.date, str]:
    return (event.date or dt.date.min, event.path)
