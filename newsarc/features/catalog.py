"""The events of an archive as the SQLite index catalogues them: dates, titles, topics, slugs, links.

What `show`, `list-by-date`, `topics`, `timeline`, `related`, `stats`, `search`'s
filters and (when it is on disk) `validate-links` answer from (bench/SQLITE.md,
sections 5, 10 and 11). This module registers the events group (the index knows
no feature) and reads the links group's; a command through the catalogue builds
only these tables and the groups it asks for besides (`related`'s text, `stats`'
counts, a ranked search's lengths), never bodies. `show` reads its one event
again from its file.

`Catalog` offers what the features ask of an archive (`find`, `get`, `exists`,
`events_in`, `on_this_day`, `backlinks`, `view`, `topic_groups`,
`link_facts`...), each a query; the walk and the day folders are the
archive's (archive.py). A short period is still read from its day folders,
with no index at all: a day costs a few files, not a build.
"""

from __future__ import annotations

import datetime as dt
import marshal
import sqlite3
from array import array
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from newsarc.archive import Archive, day_page_problem, folder_day, only_match, resolve_link, slug_asked
from newsarc.index import build, db
from newsarc.model import Diagnostic, Event, slug_of
from newsarc.reading.dates import DateSpan
from newsarc.reading.topic_names import group_names


def _event_rows(event) -> dict[str, list[tuple]]:
    date = event.date
    return {
        "events": [(
            date.toordinal() if date else 0, date.month * 100 + date.day if date else 0, event.title, slug_of(event.path),
            marshal.dumps(list(event.topics)), len(event.sources), int(bool(event.diagnostics)),
        )],
        "topics": [(name,) for name in dict.fromkeys(event.topics)],
    }


EVENTS = db.register(db.Group(
    name="events", version=2,
    tables=(
        "CREATE TABLE events(id INTEGER PRIMARY KEY, day INTEGER NOT NULL, md INTEGER NOT NULL, title TEXT NOT NULL,"
        " slug TEXT NOT NULL, topics BLOB NOT NULL, sources INTEGER NOT NULL, noted INTEGER NOT NULL)",
        "CREATE TABLE topics(id INTEGER NOT NULL, name TEXT NOT NULL)",
    ),
    inserts={"events": "INSERT INTO events VALUES(?,?,?,?,?,?,?,?)", "topics": "INSERT INTO topics VALUES(?,?)"},
    rows=_event_rows,
    needs=frozenset({"kind", "date", "title", "path", "sources", "diagnostics", "topics"}),  # reading/glance.py gives these
    indexes=(
        "CREATE INDEX events_day ON events(day)",
        "CREATE INDEX events_md ON events(md)",
        "CREATE INDEX events_slug ON events(slug)",
        "CREATE INDEX topics_name ON topics(name, id)",
        "CREATE INDEX topics_id ON topics(id)",
    ),
    kinds=(db.EVENT,),
))

from newsarc.features.linkcheck import link_tables  # noqa: E402  (registers the links group, which backlinks read)

GROUPS = ("events",)  # what every command through the catalogue needs; `show`, `related` and validate-links add LINKS
LINKS = link_tables.LINKS.name  # backlinks, related's links, validate-links' facts
_EVENT = "SELECT f.path, e.day, e.title, e.topics, e.sources, e.noted FROM events e JOIN files f ON f.id = e.id"
_ORDER = " ORDER BY max(e.day, 1), f.path"  # Archive's event order: by date (none: first), then path
_BY_ID = "SELECT e.id, f.path, e.day, e.title, e.topics, e.sources, e.noted FROM events e JOIN files f ON f.id = e.id"
_BATCH = 500  # events made by one query
_FIRST = 4  # ... and by the first
_DAYS: dict[int, dt.date] = {}  # ordinal -> date: the events of a day share one
MOSTLY_CHANGED = 0.5  # link_facts: from this share of files whose stamps changed, validate-links glances instead
INDEX_FOLDERS = 120  # from this many day folders (four months) a span is read from the index: about where reading
# the folders and asking the index cost the same at 100k events
_TOPICS = "topics-1"  # the answer kept for topic_groups (db.keep); bump when group_names answers otherwise


class Listed(Event):
    """An event as the catalogue holds it: path, date, title, topics and how many sources. The rest
    (body, links, sources, Related entries...) is read from its file on first use, as a whole."""

    __slots__ = ("_sources", "noted", "_root")

    @property
    def source_count(self) -> int:
        return self._sources

    def __getattr__(self, name: str):
        # Called only for a slot never set: one of the fields read from the file.
        if name in _FROM_FILE:
            from newsarc.reading.parser import read_event

            full = read_event(self._root / self.path, self.path)
            for field_name in _FROM_FILE:
                setattr(self, field_name, getattr(full, field_name))
            return getattr(self, name)
        raise AttributeError(name)


_KEPT = ("path", "date", "title", "topics", "is_day_page", "skipped")
_FROM_FILE = tuple(name for name in Event.__dataclass_fields__ if name not in _KEPT)


def _listed(row: tuple, root: Path) -> Listed:
    path, day, title, topics, sources, noted = row
    date = _DAYS.get(day)
    if date is None and day:
        date = _DAYS[day] = dt.date.fromordinal(day)
    event = Listed.__new__(Listed)
    event.path, event.date, event.title, event.topics = db.real_path(path), date, title, marshal.loads(topics)
    event.is_day_page = event.skipped = False
    event._sources, event.noted, event._root = sources, noted, root
    return event


class Events(Sequence):
    """Events of the catalogue by id, in the order given, each made when first asked for: `topics`
    makes two per topic (its first and last dates), `timeline` one topic's."""

    def __init__(self, conn: sqlite3.Connection, ids: Sequence[int], positions: Sequence[int] | None = None, root: Path = Path()):
        """The events `ids[k]` for k in `positions` (all of them without): a subset is a view, not a copy
        (`topics` takes one per topic, 300k positions at 100k events, and reads two of each)."""
        self.conn, self._ids, self._positions, self.root = conn, ids, positions, root

    @property
    def ids(self) -> Sequence[int]:
        if self._positions is not None:
            self._ids, self._positions = [self._ids[k] for k in self._positions], None
        return self._ids

    def _id(self, k: int) -> int:
        return self._ids[k] if self._positions is None else self._ids[self._positions[k]]

    def __len__(self) -> int:
        return len(self._ids if self._positions is None else self._positions)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return list(self._made(self.ids[k]))
        return next(self._made([self._id(k)]))

    def __iter__(self) -> Iterator[Listed]:
        return self._made(self.ids)

    def paths(self) -> list[str]:
        """The events' paths, in order, with no event made (search reads their files)."""
        ids = self.ids
        if len(ids) > _BATCH:
            by_id = dict(self.conn.execute("SELECT id, path FROM files"))
        else:
            by_id = dict(self.conn.execute(f"SELECT id, path FROM files WHERE id IN ({','.join('?' * len(ids))})", tuple(ids)))
        return [db.real_path(by_id[i]) for i in ids]

    def subset(self, positions: Sequence[int]) -> Events:
        if self._positions is None:
            return Events(self.conn, self._ids, positions, self.root)
        return Events(self.conn, self.ids, None, self.root).subset(positions)

    def _made(self, ids: Sequence[int]) -> Iterator[Listed]:
        """The events of `ids`, a few first and then _BATCH a query: a reader that stops at the first
        dated event (Topic.first, for each of thousands of topics) makes a few, not _BATCH."""
        start, size = 0, _FIRST
        while start < len(ids):
            chunk = ids[start: start + size]
            rows = self.conn.execute(_BY_ID + f" WHERE e.id IN ({','.join('?' * len(chunk))})", tuple(chunk)).fetchall()
            by_id = {row[0]: row[1:] for row in rows}
            for i in chunk:
                yield _listed(by_id[i], self.root)
            start, size = start + size, _BATCH


class Catalog:
    """An archive whose lookups are queries of its SQLite index (the events and links groups).

    The index is opened on the first question that needs it, speculatively
    when the caller said so (cli/options.settled): the answer is given while
    the freshness check runs, and `confirm()` says whether it stands."""

    def __init__(self, archive: Archive, *, cache_dir: Path | None = None, use_cache: bool = True, more: Sequence[str] = ()):
        """`more`: groups to hold besides the catalogue's own (related's text statistics)."""
        self.archive = archive
        self.groups = (*GROUPS, *more)
        self.root, self.scope = archive.root, archive.scope
        self.cache_dir, self.use_cache = cache_dir, use_cache
        self._speculate = False
        self.progress: Callable[[int, int], None] | None = None
        self.notice: Callable[[str], None] | None = None
        self._index: build.Index | None = None
        self._unreadable: list[Event] | None = None
        self._grouped: tuple[Sequence[int], dict] | None = None

    def __getattr__(self, name: str):
        """What the catalogue does not answer, the archive does: the walk (search and validate-links read
        the files themselves) and the day folders."""
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.archive, name)

    @property
    def speculate(self) -> bool:
        return self._speculate

    @speculate.setter
    def speculate(self, value: bool) -> None:
        """Answers are given while the freshness check runs (`confirm()` says whether they stand)."""
        self._speculate = value

    # -- the index ----------------------------------------------------------

    @property
    def database(self) -> build.Index:
        if self._index is None:
            told = self.progress
            progress = None if told is None else lambda stage, done, total: told(done, total) if stage == "parse" else None
            self._index = build.open_fresh(self.root, self.scope, self.groups, cache_dir=self.cache_dir, use_cache=self.use_cache,
                                           progress=progress, speculate=self.speculate)
            for message in self._index.notices:
                if self.notice is not None:
                    self.notice(message)
        return self._index

    def holding(self, name: str) -> build.Index:
        """The database with group `name` too, built now if it lacks it: a lookup that reads a group's
        tables asks for it first (a command names the groups it uses when it opens the catalogue)."""
        if name not in self.groups:
            self.groups = (*self.groups, name)
            if self._index is not None:
                build.ensure(self._index.conn, self._index.root, (name,))
        return self.database

    def _query(self, sql: str, *args) -> list[tuple]:
        return self.database.conn.execute(sql, args).fetchall()

    def query(self, sql: str, *args) -> list[tuple]:
        """Rows of the index (a feature reading its own group's tables: stats' counts)."""
        return self._query(sql, *args)

    @property
    def opened(self) -> bool:
        """The index is open: what was asked so far came from it, not from the day folders read."""
        return self._index is not None

    def confirm(self) -> bool:
        """Whether what was answered from the index stands (the check found it fresh); when not, the
        index is up to date now and the caller asks again."""
        if self._index is None:
            return True
        fresh = self._index.confirm()
        if not fresh:
            self._unreadable = self._grouped = None
        return fresh

    def on_disk(self) -> bool:
        """A catalogue of this scope was written before (it may be stale: bringing it up to date costs
        what changed; building it, every file)."""
        return self.use_cache and build.on_disk(self.root, self.scope, self.groups, cache_dir=self.cache_dir)

    def _pays(self, folders: int) -> bool:
        """Whether `folders` day folders are better read from the index than one by one."""
        if self._index is not None:
            return True
        if folders < INDEX_FOLDERS:
            return False
        if self.on_disk():
            return True
        every = self.archive.day_folders()
        return every is not None and folders * 2 >= len(every)

    # -- what the archive tells ---------------------------------------------

    def relpath(self, file: Path | str) -> str:
        return self.archive.relpath(file)

    def day_folders(self, span: DateSpan | None = None) -> list[tuple[dt.date, Path]] | None:
        return self.archive.day_folders(span)

    @property
    def unreadable(self) -> list[Event]:
        """Files skipped (unreadable, binary, too large), each with why: the index's when it was
        opened, else those of the day folders read."""
        if self._index is None:
            return self.archive.unreadable
        if self._unreadable is None:
            by_path: dict[str, list[Diagnostic]] = {}
            for note in self._index.unreadable():
                by_path.setdefault(note[0], []).append(Diagnostic(*note))
            self._unreadable = [Event(path=path, diagnostics=found, skipped=True) for path, found in by_path.items()]
        return self._unreadable

    @unreadable.setter
    def unreadable(self, found: list[Event]) -> None:
        """What a search that read the files itself found skipped (features/search/files.py)."""
        self.archive.unreadable = found

    @property
    def scan_diagnostics(self) -> list[Diagnostic]:
        if self._index is None:
            return self.archive.scan_diagnostics
        return [Diagnostic(*note) for note in self._index.notes()]

    @scan_diagnostics.setter
    def scan_diagnostics(self, found: list[Diagnostic]) -> None:
        self.archive.scan_diagnostics = found

    def diagnostics_of(self, events: Sequence[Event]) -> list[Diagnostic]:
        """What reading these events found wrong: a catalogued event noted as having something is read again."""
        found: list[Diagnostic] = []
        for event in events:
            if not isinstance(event, Listed):
                found.extend(event.diagnostics)
            elif event.noted:
                found.extend(self.with_text(event).diagnostics)
        return found

    # -- lookups ------------------------------------------------------------

    def events_in(self, span: DateSpan, *, index: bool = True) -> Sequence[Event]:
        """Events dated in `span` whose day folder is in it too (as Archive.events_in)."""
        folders = self.archive.day_folders(span)
        if folders is not None:
            folders = [(day, folder) for day, folder in folders if day in span]
            if not index or not self._pays(len(folders)):
                return self.archive.events_in(span, index=False)
        low = span.start.toordinal() if span.start else 1
        high = span.end.toordinal() if span.end else dt.date.max.toordinal()
        events = (_listed(row, self.root) for row in self._query(_EVENT + " WHERE e.day BETWEEN ? AND ?" + _ORDER, low, high))
        if folders is None:  # not a dated layout: every event dated in the span
            return [e for e in events if e.date in span]
        days: dict[str, dt.date | None] = {}
        picked = []
        for event in events:
            folder = event.path.rpartition("/")[0]
            day = days[folder] if folder in days else days.setdefault(folder, folder_day(event.path))
            if day is not None and day in span:
                picked.append(event)
        return picked

    def on_this_day(self, month: int, day: int) -> list[Event]:
        return [_listed(row, self.root) for row in self._query(_EVENT + " WHERE e.md = ?" + _ORDER, month * 100 + day)]

    def event_days(self) -> list[dt.date]:
        """Every day that has an event, in order."""
        return [dt.date.fromordinal(day) for (day,) in self._query("SELECT DISTINCT day FROM events WHERE day > 0 ORDER BY day")]

    def event_paths(self) -> list[str]:
        """Every event's path, in date order."""
        return [db.real_path(path) for (path,) in self._query("SELECT f.path FROM events e JOIN files f ON f.id = e.id" + _ORDER)]

    def view(self) -> Events:
        """Every event, in order (date, then path), each made when read."""
        return Events(self.database.conn, self._topics()[0], None, self.root)

    def view_paths(self) -> list[str]:
        return self.event_paths()

    def topic_groups(self) -> dict[str, tuple[list[str], Sequence[int]]]:
        """topic_names.group_names over `view()`: folded topic -> (spellings, positions in `view()`)."""
        return self._topics()[1]

    def _topics(self) -> tuple[Sequence[int], dict[str, tuple[list[str], Sequence[int]]]]:
        """The event order and the topic groups over it, worked out once per index generation and kept
        in it (grouping 100k events' topics costs about 0.3 s; reading them back, a few ms)."""
        if self._grouped is None:
            conn = self.database.conn
            conn.execute("BEGIN")
            try:
                kept = db.recall(conn, _TOPICS)
                generation = int(db.meta(conn, "generation") or 0)
                rows = None if kept else conn.execute("SELECT e.id, e.topics FROM events e JOIN files f ON f.id = e.id" + _ORDER).fetchall()
            finally:
                conn.execute("COMMIT")
            if kept:
                order, groups = marshal.loads(kept)
                self._grouped = (array("q", order), {key: (ranked, array("i", at)) for key, (ranked, at) in groups.items()})
            else:
                order = array("q", [row[0] for row in rows])
                grouped = group_names(marshal.loads(row[1]) for row in rows)
                value = (order.tobytes(), {key: (ranked, array("i", at).tobytes()) for key, (ranked, at) in grouped.items()})
                db.keep(conn, _TOPICS, marshal.dumps(value), generation)
                self._grouped = (order, grouped)
        return self._grouped

    @property
    def day_pages(self) -> _DayPages:
        return _DayPages(self)

    def get(self, relpath: str) -> Listed | None:
        found = self._query(_EVENT + " WHERE f.path = ?", db.stored_path(relpath))
        return _listed(found[0], self.root) if found else None

    def _kind(self, relpath: str) -> int | None:
        found = self._query("SELECT kind FROM files WHERE path = ?", db.stored_path(relpath))
        return found[0][0] if found else None

    def indexed(self, relpath: str) -> bool:
        """The index holds this file, read (an event or a day page)."""
        return self._kind(relpath) in (db.EVENT, db.DAY_PAGE)

    def exists(self, relpath: str) -> bool:
        return self.indexed(relpath) or self.archive.on_disk(relpath)

    def find(self, ref: str) -> Event:
        """An event by file path, site link, slug or unique slug prefix (as Archive.find)."""
        for relpath in self.archive.path_forms(ref):
            event = self.get(relpath)
            if event:
                return event
            if self._kind(relpath) == db.DAY_PAGE:
                raise day_page_problem(ref)
        slug = db.stored_path(slug_asked(ref))
        matches = self._slugs("e.slug = ?", slug) or self._slugs("e.slug >= ? AND e.slug < ?", slug, slug[:-1] + chr(ord(slug[-1]) + 1))
        return self.get(only_match(ref, matches))  # type: ignore[return-value]

    def _slugs(self, where: str, *args) -> list[str]:
        rows = self._query("SELECT f.path FROM events e JOIN files f ON f.id = e.id WHERE " + where + _ORDER, *args)
        return [db.real_path(path) for (path,) in rows]

    def resolve(self, event: Event, target: str):
        return resolve_link(event.path, target)

    def backlinks(self, event: Event) -> list[Event]:
        """Events whose links (Related, body, front matter) point at `event`, in date order."""
        self.holding(LINKS)
        rows = self._query(
            _EVENT + " JOIN links l ON l.id = e.id WHERE l.target = (SELECT id FROM files WHERE path = ?) AND l.role & ?" + _ORDER,
            db.stored_path(event.path), link_tables.BACKLINK)
        return [_listed(row, self.root) for row in rows]

    def with_text(self, event: Event) -> Event:
        """`event` with every field: a catalogued one is read again from its file."""
        if not isinstance(event, Listed):
            return event
        from newsarc.reading.parser import read_event

        return read_event(self.root / event.path, event.path)

    def link_facts(self):
        """validate-links' columns of every readable file, from the catalogue's tables: (docs, unreadable,
        facts) as linkfacts.scan gets them by a glance at every file, the files it must read parsed
        (those whose links or date line the links group could not vouch for: link_tables._link_rows).
        None unless the catalogue is on disk (validate-links builds no index), or when most of the files
        it lists changed stamps since (a fresh clone, a restored CI cache): bringing it up to date would
        read and hash every file, which costs more than the glance."""
        from newsarc.features.linkcheck.facts import Docs
        from newsarc.reading.parser import read_event

        if self._index is None:
            self.groups = tuple(dict.fromkeys((*self.groups, LINKS)))
            if not self.on_disk():
                return None
            if build.changed_share(self.root, self.scope, cache_dir=self.cache_dir) > MOSTLY_CHANGED:
                return None  # a fresh clone, a restored cache: bringing the index up to date costs more than a glance
        conn = self.holding(LINKS).conn
        conn.execute("BEGIN")
        try:
            generation = int(db.meta(conn, "generation") or 0)
            rows = conn.execute("SELECT path, kind, id FROM files WHERE kind != ?", (db.SKIPPED,)).fetchall()  # findings are sorted at the end
            loud = {fid for (fid,) in conn.execute(
                "SELECT id FROM link_facts WHERE NOT quiet OR odd UNION SELECT id FROM links_missing WHERE role & ?",
                (link_tables.PLAIN,))}
            internal, http = conn.execute("SELECT total(links - http), total(http) FROM link_facts").fetchone()
            for links, outside in conn.execute(f"SELECT links - http, http FROM link_facts WHERE id IN ({','.join('?' * len(loud))})",
                                               tuple(loud)) if loud else ():
                internal, http = internal - links, http - outside
        finally:
            conn.execute("COMMIT")
        paths = [path for path, _, _ in rows]
        if any("\0" in path for path in paths):
            paths = list(map(db.real_path, paths))
        ids = [fid for _, _, fid in rows]
        made = {k: read_event(self.root / paths[k], paths[k]) for k, fid in enumerate(ids) if fid in loud}
        facts = _LinkFacts(conn, generation, paths, [kind == db.DAY_PAGE for _, kind, _ in rows], ids, made, int(internal), int(http))
        return Docs(self.root, facts), list(self.unreadable), facts

    def close(self) -> None:
        if self._index is not None:
            self._index.close()



class _DayPages:
    """`path in catalog.day_pages`: whether the index holds a day page there."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def __contains__(self, relpath: object) -> bool:
        return isinstance(relpath, str) and self.catalog._kind(relpath) == db.DAY_PAGE


def _recall(conn: sqlite3.Connection, name: str):
    kept = db.recall(conn, name)
    return None if kept is None else marshal.loads(kept)


class _LinkFacts:
    """linkfacts.Facts' columns from the catalogue, by position (the files table's order). A warm validate-links reads
    only paths, kinds and the files it must read: headlines, dates and day pages' lists are read here
    only when check_folders works its answer out again (it is kept in the index once worked out)."""

    stored = False

    def __init__(self, conn: sqlite3.Connection, generation: int, paths: list[str], pages: list[bool], ids: list[int],
                 loud: dict, internal: int, http: int):
        self.conn, self.generation = conn, generation
        self.paths, self.pages, self.ids, self.loud = paths, pages, ids, loud
        self.internal, self.http = internal, http
        self._titles: list[str] | None = None
        self._days: list[int] | None = None
        self._lists: dict[int, tuple[str, ...]] | None = None
        self.memo = (lambda name: _recall(conn, name)), (lambda name, value: db.keep(conn, name, marshal.dumps(value), generation))

    def quiet(self) -> tuple[list[int], int, int]:
        return sorted(self.loud), self.internal, self.http

    @property
    def titles(self) -> list[str]:
        """Headlines (a day page's: none), from the events table."""
        if self._titles is None:
            self._titles = self._column("title", "")
        return self._titles

    def day(self, k: int) -> dt.date | None:
        if self._days is None:
            self._days = self._column("day", 0)
        day = self._days[k]
        return dt.date.fromordinal(day) if day else None

    def _column(self, name: str, none) -> list:
        """One column of the events table by position, each read apart: validate-links --reciprocal
        orders the files by date and never asks for their headlines (110k of them, 20 MB at 100k)."""
        found = dict(self.conn.execute(f"SELECT id, {name} FROM events"))
        return [found.get(fid, none) for fid in self.ids]

    def listed(self, k: int) -> tuple[str, ...]:
        if self._lists is None:
            lists = {fid: blob for fid, blob in self.conn.execute("SELECT id, listed FROM link_facts WHERE listed IS NOT NULL")}
            self._lists = {k: tuple(map(db.real_path, marshal.loads(lists[fid]))) for k, fid in enumerate(self.ids) if fid in lists}
        return self._lists.get(k, ())
