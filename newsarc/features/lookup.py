"""The two everyday lookups: one event in full, and the events of a period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsarc.archive import Archive, Target, day_spellings, folder_day, wanted_slug
from newsarc.reading.dates import DateSpan
from newsarc.reading.topic_names import with_topics
from newsarc.errors import EventNotFound
from newsarc.model import Diagnostic, Event, Related, slug_of


@dataclass(slots=True)
class RelatedTarget:
    """A Related entry with what it points at: the event, or why it is missing."""

    entry: Related
    target: Target
    event: Event | None
    exists: bool
    other_spelling: str | None = None  # the file exists under the other day spelling


@dataclass(slots=True)
class EventDetail:
    event: Event
    related: list[RelatedTarget] = field(default_factory=list)
    backlinks: list[Event] = field(default_factory=list)


def find(archive: Archive, ref: str) -> Event:
    """`Archive.find`, with the closest slugs offered when nothing matches (as validate-links
    offers them for a broken link): 150-character slugs are mistyped, not typed."""
    try:
        return archive.find(ref)
    except EventNotFound as exc:
        if exc.candidates:
            raise
        wanted = wanted_slug(ref)
        unread = [d for doc in archive.unreadable if slug_of(doc.path).lower() == wanted for d in doc.diagnostics]
        if unread:  # the event is there, but could not be read (over the size limit, binary, ...)
            raise EventNotFound(f"'{ref}' is {unread[0].path}, which was not read (the reason is on the line above)") from None
        from newsarc.features.suggest import close_slugs  # imports the parser: only when a lookup failed

        paths = archive.event_paths()
        close = close_slugs(wanted, paths, [slug_of(path) for path in paths]) if wanted else []
        if not close:
            raise
        raise EventNotFound(f"no event matches '{ref}'; did you mean one of these?", close) from None


def detail(archive: Archive, event: Event) -> EventDetail:
    """Everything `show` displays: targets checked, backlinks counted."""
    related = []
    for entry in event.related:
        target = archive.resolve(event, entry.target)
        exists = bool(target.path) and archive.exists(target.path)
        other = None
        if not exists and target.path:
            other = next((p for p in day_spellings(target.path) if archive.exists(p)), None)
        related.append(RelatedTarget(entry, target, archive.get(target.path), exists, other))
    return EventDetail(event, related, archive.backlinks(event))


@dataclass(slots=True)
class Listing:
    events: Sequence[Event]
    span: DateSpan | None
    nearest: list[dt.date] = field(default_factory=list)  # when nothing matched


def listing(
    archive: Archive,
    span: DateSpan | None = None,
    *,
    on_this_day: tuple[int, int] | None = None,
    topics: list[str] | None = None,
    reverse: bool = False,
    limit: int | None = None,
) -> Listing:
    """Events in a span (or on a calendar day every year), filtered and ordered."""
    if on_this_day:
        events = archive.on_this_day(*on_this_day)
    else:
        events = archive.events_in(span or DateSpan(None, None))
    if topics:
        events = with_topics(events, topics)
    if reverse:
        events = events[::-1]
    if limit is not None:
        events = events[: max(limit, 0)]
    result = Listing(events, span)
    if not events and span is not None and not on_this_day:
        result.nearest = nearest_dates(archive, span)
    return result


def within(diagnostics: Sequence[Diagnostic], span: DateSpan | None) -> list[Diagnostic]:
    """Those about files in `span`'s day folders, or in no day folder: a listing read from the index
    reports what reading its day folders would, not every unreadable file of the archive."""
    if span is None:
        return list(diagnostics)
    return [d for d in diagnostics if (day := folder_day(d.path)) is None or day in span]


def nearest_dates(archive: Archive, span: DateSpan) -> list[dt.date]:
    """The closest days before and after `span` that have events."""
    folders = archive.day_folders()
    if folders:
        days = sorted({day for day, folder in folders if _has_events(folder)})
    else:
        days = archive.event_days()
    before = [d for d in days if span.start and d < span.start]
    after = [d for d in days if span.end and d > span.end]
    return ([before[-1]] if before else []) + ([after[0]] if after else [])


def _has_events(folder) -> bool:
    try:
        return any(p.suffix == ".md" and p.name != "index.md" for p in folder.iterdir())
    except OSError:
        return False
