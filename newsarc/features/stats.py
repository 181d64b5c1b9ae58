"""`stats`: the archive's counts (events per year, month and day, topics, sources, broken links, diagnostics).

The per-file counts (each event's publishers and source domains, the
internal links it has checked, those that climb out of the root, the paths
its diagnostics name) are a group of the SQLite index, `counts`, written
from each file as it is read, so a warm `stats` reads no file. Whether a
link target exists must stay right across later edits, so a row holds its
targets, not a verdict: those the index holds as file ids (in a blob: they
are most of them, and an id is a few bytes), the others as paths in
`count_missing`; the group's `moved` hook turns the ids of files gone into
paths and the paths of files added into ids, as the links group does. A
target `count_missing` names is looked for on disk on every run (an image, a
folder, a file beside the scope).

Over the whole archive the sums are kept per index generation (db.keep),
all but that look on disk; with `--from/--to` the span's rows are read (or,
when the span's day folders were read instead of the index, those files
counted as they are). An `Archive` alone (no catalogue) is counted from
every file parsed: the library's path, and the tests' yardstick.
"""

from __future__ import annotations

import datetime as dt
import marshal
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsarc.archive import folder_day, resolve_link
from newsarc.features.catalog import Catalog
from newsarc.features.overview import _SORT_KEYS, all_topics, group_topics
from newsarc.index import db
from newsarc.model import BODY, DATE, FRONT_MATTER, IMAGE, RELATED, Event
from newsarc.reading.dates import DateSpan

DEFAULT_TOP = 10  # busiest days, topics, publishers and domains shown
DAY_PAGE_ROLE = "day-page"  # links written on day pages, counted apart
_CHECKED_ROLES = (DATE, RELATED, BODY, IMAGE, FRONT_MATTER)  # an event's internal links worth resolving
ROLES = (*_CHECKED_ROLES, DAY_PAGE_ROLE)  # a role as the group holds it: its place here (three bits)
_ROLE = {name: k for k, name in enumerate(ROLES)}
_KEPT = "stats-1"  # the whole archive's sums (db.keep); bump when file_counts answers otherwise


@dataclass(slots=True)
class Stats:
    span: DateSpan | None
    events: int = 0
    undated: int = 0
    first: dt.date | None = None
    last: dt.date | None = None
    days: int = 0  # days with at least one event
    per_year: list[tuple[int, int]] = field(default_factory=list)  # every year first..last, zeros kept
    per_month: list[tuple[str, int]] = field(default_factory=list)  # "YYYY-MM", every month first..last
    busiest_days: list[tuple[dt.date, int]] = field(default_factory=list)
    topics: int = 0
    top_topics: list[tuple[str, int]] = field(default_factory=list)
    sources: int = 0
    top_publishers: list[tuple[str, int]] = field(default_factory=list)
    top_domains: list[tuple[str, int]] = field(default_factory=list)
    links_checked: int = 0
    broken_links: int = 0
    broken_by_role: dict[str, int] = field(default_factory=dict)
    files_with_diagnostics: int = 0
    diagnostics: int = 0


# -- one file -----------------------------------------------------------------


def file_counts(event: Event, path: str | None = None) -> tuple[int, list[str], list[tuple[int, str]], list[str]]:
    """(internal links checked, [publisher, domain, ...] of its sources, (role, path) of each checked
    target that is not outside the root ("" for one that is: always broken), paths its diagnostics name).
    `path`: the event's path, when `event.path` is the index's form of it (db.stored_path).

    A cheap check (file existence only, no anchors, no other day-folder spelling) until the
    validate-links checker can be reused here. A day page's links all count, under `day-page`."""
    page, path = event.is_day_page, path or event.path
    sources = [] if page else [value for source in event.sources for value in (source.publisher, source.domain)]
    checked, targets = 0, []
    for link in event.links:
        if not page and link.role not in _CHECKED_ROLES:
            continue
        target = resolve_link(path, link.target)
        if target.external or (not target.path and not target.outside):
            continue
        checked += 1
        targets.append((_ROLE[DAY_PAGE_ROLE if page else link.role], "" if target.outside else target.path))
    return checked, sources, targets, sorted({d.path for d in event.diagnostics})


# -- the group ----------------------------------------------------------------


def _count_rows(event) -> dict[str, list[tuple]]:
    """A file's counts row, its targets the index holds as ids (id << 3 | role), the others in count_missing.
    The build gives the event its path as the index holds it: targets are resolved from the real one."""
    checked, sources, targets, noted = file_counts(event, db.real_path(event.path))
    found, missing = [], []
    for role, path in targets:
        if "\0" in path:
            path = ""  # a NUL the link wrote (%00): no file is named so, and stored_path's form would read otherwise
        fid = db.file_id(db.stored_path(path)) if path else None
        if fid is None:
            missing.append((db.stored_path(path), role))
        else:
            found.append(fid << 3 | role)
    date = event.date
    return {
        "counts": [(date.toordinal() if date else 0, checked, len(event.diagnostics), marshal.dumps(sources) if sources else None,
                    marshal.dumps(found) if found else None, marshal.dumps(noted) if noted else None)],
        "count_missing": missing,
    }


def _counts_moved(conn, added: list[tuple[int, str]], gone: list[int]) -> None:
    """Targets of files gone become paths looked for on disk; paths of files added become their ids."""
    if gone:
        lost = set(gone)
        paths = dict(conn.execute(f"SELECT id, path FROM files WHERE id IN ({','.join('?' * len(gone))})", tuple(gone)))
        for fid, blob in conn.execute("SELECT id, targets FROM counts WHERE targets IS NOT NULL").fetchall():
            targets = marshal.loads(blob)
            if lost.isdisjoint(value >> 3 for value in targets):
                continue
            kept = [value for value in targets if value >> 3 not in lost]
            conn.executemany("INSERT INTO count_missing VALUES(?,?,?)",
                             [(fid, paths[value >> 3], value & 7) for value in targets if value >> 3 in lost])
            conn.execute("UPDATE counts SET targets=? WHERE id=?", (marshal.dumps(kept) if kept else None, fid))
    for fid, path in added:
        rows = conn.execute("SELECT id, role FROM count_missing WHERE target = ?", (path,)).fetchall()
        if not rows:
            continue
        by_file: dict[int, list[int]] = {}
        for source, role in rows:
            by_file.setdefault(source, []).append(fid << 3 | role)
        for source, values in by_file.items():
            blob = conn.execute("SELECT targets FROM counts WHERE id=?", (source,)).fetchone()
            if blob is None:
                continue
            targets = marshal.loads(blob[0]) if blob[0] else []
            conn.execute("UPDATE counts SET targets=? WHERE id=?", (marshal.dumps(targets + values), source))
        conn.execute("DELETE FROM count_missing WHERE target = ?", (path,))


COUNTS = db.register(db.Group(
    name="counts", version=1,
    tables=(
        "CREATE TABLE counts(id INTEGER PRIMARY KEY, day INTEGER NOT NULL, checked INTEGER NOT NULL,"
        " diagnostics INTEGER NOT NULL, sources BLOB, targets BLOB, noted BLOB)",
        "CREATE TABLE count_missing(id INTEGER NOT NULL, target TEXT NOT NULL, role INTEGER NOT NULL)",
    ),
    inserts={"counts": "INSERT INTO counts VALUES(?,?,?,?,?,?,?)", "count_missing": "INSERT INTO count_missing VALUES(?,?,?)"},
    rows=_count_rows,
    needs=frozenset({"kind", "path", "date", "sources", "links", "diagnostics"}),  # reading/glance.py gives these
    indexes=(
        "CREATE INDEX counts_day ON counts(day)",
        "CREATE INDEX count_missing_target ON count_missing(target)",
        "CREATE INDEX count_missing_id ON count_missing(id)",
    ),
    moved=_counts_moved,
))


# -- the sums -----------------------------------------------------------------


class _Sums:
    """The counts of some files, added up; `missing`: (role, path) of the targets to look for."""

    def __init__(self) -> None:
        self.publishers: Counter = Counter()
        self.domains: Counter = Counter()
        self.checked = self.diagnostics = 0
        self.noted: set[str] = set()
        self.missing: list[tuple[int, str]] = []

    def add(self, checked: int, diagnostics: int, sources: list[str], noted: list[str]) -> None:
        self.checked += checked
        self.diagnostics += diagnostics
        if sources:
            self.publishers.update(sources[0::2])
            self.domains.update(sources[1::2])
        self.noted.update(noted)

    def value(self) -> tuple:
        return dict(self.publishers), dict(self.domains), self.checked, self.diagnostics, sorted(self.noted), self.missing

    @classmethod
    def of(cls, value: tuple) -> _Sums:
        sums = cls()
        publishers, domains, sums.checked, sums.diagnostics, noted, sums.missing = value
        sums.publishers, sums.domains, sums.noted = Counter(publishers), Counter(domains), set(noted)
        return sums


def _parsed_sums(events: Sequence[Event], exists) -> tuple[_Sums, Counter]:
    """The sums of parsed files (read one at a time), and the broken links by role (`exists` asked)."""
    sums, broken = _Sums(), Counter()
    for event in events:
        checked, sources, targets, noted = file_counts(event)
        sums.add(checked, len(event.diagnostics), sources, noted)
        for role, path in targets:
            if not path or not exists(path):
                broken[ROLES[role]] += 1
    return sums, broken


def _row_sums(rows, missing) -> _Sums:
    sums = _Sums()
    for checked, diagnostics, sources, noted in rows:
        sums.add(checked, diagnostics, marshal.loads(sources) if sources else (),
                 [db.real_path(path) for path in marshal.loads(noted)] if noted else ())
    sums.missing = [(role, db.real_path(path)) for role, path in missing]
    return sums


def _broken(sums: _Sums, exists) -> Counter:
    """Links out of the root, and those to targets the index does not hold that are not on disk either."""
    broken: Counter = Counter()
    for role, path in sums.missing:
        if not path or not exists(path):
            broken[ROLES[role]] += 1
    return broken


_ROW = "SELECT c.checked, c.diagnostics, c.sources, c.noted FROM counts c"


def _whole_sums(catalog) -> _Sums:
    """Every file's counts, summed once per index generation and kept in it."""
    conn = catalog.holding(COUNTS.name).conn
    conn.execute("BEGIN")
    try:
        kept = db.recall(conn, _KEPT)
        generation = int(db.meta(conn, "generation") or 0)
        if kept is None:
            sums = _row_sums(conn.execute(_ROW), conn.execute("SELECT role, target FROM count_missing").fetchall())
    finally:
        conn.execute("COMMIT")
    if kept is not None:
        return _Sums.of(marshal.loads(kept))
    db.keep(conn, _KEPT, marshal.dumps(sums.value()), generation)
    return sums


def _span_sums(catalog, events: Sequence[Event], span: DateSpan) -> _Sums:
    """The counts of `events` (from the index) and of the day pages dated in `span` whose day folder is in it."""
    low = span.start.toordinal() if span.start else 1
    high = span.end.toordinal() if span.end else dt.date.max.toordinal()
    wanted = {db.stored_path(event.path) for event in events}
    dated_layout = catalog.day_folders(span) is not None
    catalog.holding(COUNTS.name)
    ids, rows = [], []
    for fid, path, kind, *row in catalog.query(
            "SELECT c.id, f.path, f.kind, c.checked, c.diagnostics, c.sources, c.noted FROM counts c JOIN files f ON f.id = c.id"
            " WHERE c.day BETWEEN ? AND ?", low, high):
        if (path in wanted) if kind == db.EVENT else _page_in(path, span, dated_layout):
            ids.append(fid)
            rows.append(row)
    chosen = set(ids)
    missing = [(role, path) for fid, role, path in catalog.query("SELECT id, role, target FROM count_missing") if fid in chosen]
    return _row_sums(rows, missing)


def _page_in(path: str, span: DateSpan, dated_layout: bool) -> bool:
    """A day page dated in the span counts when its day folder is in it too (the folders read, as Archive's)."""
    return not dated_layout or folder_day(db.real_path(path)) in span


# -- stats --------------------------------------------------------------------


def stats(site, span: DateSpan | None = None, *, top: int = DEFAULT_TOP) -> Stats:
    """Counts over the events in `span` (all of them without one), from the catalogue (features/catalog.py)
    or, given an Archive, from its files decoded one by one."""
    catalogued = isinstance(site, Catalog)
    events: Sequence[Event] = ()
    if span is None:
        count, per_day, undated, topics = _whole_events(site, catalogued)
    else:
        events = site.events_in(span) if catalogued else site.events_in(span, index=False)
        per_day, undated = Counter(e.date for e in events if e.date), sum(1 for e in events if not e.date)
        count, topics = len(events), group_topics(events)
    result = Stats(span, events=count, undated=undated)
    _dates(result, per_day, top)
    result.topics = len(topics)
    result.top_topics = [(t.name, t.count) for t in sorted(topics.values(), key=_SORT_KEYS["count"])[:top]]
    sums, broken = _file_sums(site, catalogued, span, events)
    _add_files(result, sums, broken, top)
    unreadable = [u for u in site.unreadable if span is None or u.date in span]
    found = [d for doc in unreadable for d in doc.diagnostics] + (site.scan_diagnostics if span is None else [])
    result.diagnostics += len(found)
    result.files_with_diagnostics = len(sums.noted | {d.path for d in found})
    return result


def reported(diagnostics: list, site, span: DateSpan | None) -> list:
    """The problems `stats` names: over a span, those of its day folders, as reading them finds them (the
    Archive always read them), also when its events came from the catalogue, which knows every file."""
    if span is None or not isinstance(site, Catalog) or not site.opened or site.day_folders(span) is None:
        return diagnostics
    return [d for d in diagnostics if folder_day(d.path) in span]


def _whole_events(site, catalogued: bool) -> tuple[int, Counter, int, dict]:
    """(how many events, events per date, undated ones, topics) of the whole archive."""
    if catalogued:
        days = dict(site.query("SELECT day, count(*) FROM events GROUP BY day"))
        undated = days.pop(0, 0)
        per_day = Counter({dt.date.fromordinal(day): n for day, n in days.items()})
        return sum(per_day.values()) + undated, per_day, undated, all_topics(site)
    events = site.view()
    per_day, undated = Counter(e.date for e in events if e.date), sum(1 for e in events if not e.date)
    return len(events), per_day, undated, all_topics(site)


def _file_sums(site, catalogued: bool, span: DateSpan | None, events) -> tuple[_Sums, Counter]:
    """The files' counts and broken links: from the counts group, or the files read."""
    if catalogued and (span is None or site.opened):
        sums = _whole_sums(site) if span is None else _span_sums(site, events, span)
        return sums, _broken(sums, site.exists)
    archive = site.archive if catalogued else site
    if span is None:
        return _parsed_sums(archive.every_file(), archive.exists)
    pages = [p for p in archive.day_pages.values() if p.date in span]
    return _parsed_sums([*events, *pages], archive.exists)


def _add_files(result: Stats, sums: _Sums, broken: Counter, top: int) -> None:
    result.links_checked += sums.checked
    result.diagnostics += sums.diagnostics
    result.sources = sum(sums.publishers.values())
    result.top_publishers = _top(sums.publishers, top)
    result.top_domains = _top(sums.domains, top)
    result.broken_by_role = dict(sorted(broken.items()))
    result.broken_links = sum(broken.values())


def _dates(result: Stats, per_day: Counter, top: int) -> None:
    if not per_day:
        return
    days = sorted(per_day)
    result.first, result.last = days[0], days[-1]
    result.days = len(per_day)
    result.busiest_days = sorted(per_day.items(), key=lambda item: (-item[1], item[0]))[:top]
    years: Counter = Counter()
    months: Counter = Counter()
    for day, n in per_day.items():
        years[day.year] += n
        months[f"{day.year:04d}-{day.month:02d}"] += n
    result.per_year = [(y, years[y]) for y in range(days[0].year, days[-1].year + 1)]
    result.per_month = [(m, months[m]) for m in month_range(days[0], days[-1])]


def month_range(first: dt.date, last: dt.date) -> list[str]:
    """Every "YYYY-MM" from `first`'s month to `last`'s, so thin months show as zero."""
    start, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, end + 1)]


def _top(counts: Counter, n: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]
