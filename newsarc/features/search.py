"""`search`: grep-style patterns matched over events, one line at a time.

Three layers, each usable without the next:

* Patterns (`newsarc.features.patterns`): `compile_patterns` turns ripgrep-style
  flags into RE2 programs, compiled once; RE2 runs in linear time, so no
  pattern can hang a search.
* Matching (`newsarc.features.patterns`) is a pure function over text: `Matcher`
  knows nothing of where the texts came from, so a cached text blob can feed it.
* Events: `event_text`/`event_fields` (`newsarc.reading.event_text`) give the searchable
  text of an event (decoded fields or the raw file) with the file line of
  every text line, and `search()` (here) runs a `Query` over an archive:
  filter, select, rank (BM25), and collect matching lines with context.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from newsarc.features import filesearch
from newsarc import cores
from newsarc.archive import Archive
from newsarc.reading.dates import DateSpan
from newsarc.reading.event_text import DEFAULT_FIELDS, FIELDS, Field, event_fields, event_text, read_raw, read_raw_bytes
from newsarc.reading.topic_names import with_topics
from newsarc.model import Event
from newsarc.features.patterns import LineMatch, Matcher
from newsarc.index.store import EventView

SORTS = ("date", "path", "relevance")
PARALLEL_FILES = 5000  # from this many files, --raw reads them on every core


@dataclass(slots=True)
class Query:
    """What `newsarc search` was asked, with the patterns already compiled."""

    matcher: Matcher
    fields: tuple[str, ...] = DEFAULT_FIELDS
    raw: bool = False
    require_all: bool = False
    invert: bool = False
    span: DateSpan | None = None
    topics: tuple[str, ...] = ()
    max_count: int | None = None  # matching lines per event
    before: int = 0
    after: int = 0
    sort: str = "date"
    limit: int | None = None
    details: bool = True  # False: only which events (for -l and -q)
    count_rest: bool = False  # with --limit, still count every match (costs a full scan)
    every_match: bool = True  # False: each line's first match only (grep lines show no more)
    span_window: int | None = None  # with every_match: only matches this many bytes after a line's first


@dataclass(slots=True)
class Line:
    """A line to show: a match (with char spans) or a context line."""

    field: str
    line: int  # file line, 1-based
    text: str
    spans: tuple[tuple[int, int], ...] = ()
    context: bool = False
    gap: bool = False  # lines were skipped before this one (grep's `--`)

    @property
    def column(self) -> int:
        return self.spans[0][0] + 1 if self.spans else 1


@dataclass(slots=True)
class Found:
    event: Event
    lines: list[Line] = field(default_factory=list)
    count: int = 0  # matching lines (at most max_count)
    score: float = 0.0


class Streamed(Sequence):
    """Found events made, and their lines collected, as they are read, not before: a renderer
    prints each and lets it go, so the first lines come at once and memory stays flat however
    many events match (`search the` over 100k events held them all: 2.2 GB, 22 s before the
    first line). Each reading starts again from the selection (the events are not kept)."""

    def __init__(self, count: int, items: Callable[[], Iterator[Found]]):
        self.count, self.items = count, items

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Found]:
        return self.items()

    def __getitem__(self, k):
        if isinstance(k, slice):
            return list(self)[k]
        return next(islice(self.items(), k if k >= 0 else k + self.count, None))


@dataclass(slots=True)
class Result:
    found: Sequence[Found]  # a list, or Streamed
    searched: int  # events the filters left to search
    selected: int | None  # events that matched before --limit (None: not counted)
    context: bool = False  # lines around the matches were asked for (grep's "--" between groups)


def candidates(archive: Archive, span: DateSpan | None, topics: Sequence[str]) -> Sequence[Event]:
    """The events the filters leave, in archive order (date, path)."""
    if not archive.has_text:
        raise RuntimeError("search needs the bodies: open the archive with text=True")
    events = archive.events_in(span) if span else archive.view()
    if topics:
        events = with_topics(events, topics)
    return events


def search(archive: Archive, query: Query) -> Result:
    """Run `query` over the archive: filter, select, rank, then collect lines.

    With no index at hand, a query that filesearch.py can answer reads the files
    themselves (bytes first, only candidates parsed) and builds no index."""
    if not archive.has_text:
        raise RuntimeError("search needs the bodies: open the archive with text=True")
    unindexed = filesearch.search(archive, query)
    if unindexed is not None:
        found, searched = unindexed
        if query.max_count == 0:
            return Result([], searched, 0)
        return _answer(archive, found, iter(range(len(found))), query, [], searched)
    events = candidates(archive, query.span, query.topics)
    if query.max_count == 0 and not query.invert:
        return Result([], len(events), 0)  # ripgrep's -m 0: stop before the first match
    if query.sort == "path":
        events = _by_path(events)
    lengths: list[int] = []
    chosen = _indexed(archive, events, query, lengths)
    if chosen is None:
        chosen = _raw_files(archive, events, query)
    if chosen is None:
        chosen = query.matcher.select(_texts(archive, events, query, lengths), query.require_all)
    return _answer(archive, events, chosen, query, lengths, len(events))


def _answer(
    archive: Archive, events: Sequence[Event], chosen: Iterator[int], query: Query, lengths: list[int], searched: int
) -> Result:
    """The chosen positions of `events` (in order) cut to --limit, ranked, and their lines collected as read."""
    if query.invert:
        hit = set(chosen)
        chosen = (i for i in range(len(events)) if i not in hit)
    ranked = query.sort == "relevance" and not query.invert
    if query.limit is not None and not ranked:
        picked = list(islice(chosen, query.limit))
        selected = len(picked) + sum(1 for _ in chosen) if query.count_rest else None
    else:
        picked = list(chosen)
        selected = len(picked)
    details = query.details and not query.invert
    context = bool(query.before or query.after)
    scores: list[float] | None = None
    if ranked:
        picked, scores = _rank(archive, events, picked, query, sum(lengths) / max(len(lengths), 1))
    items = Streamed(len(picked), lambda: _found(archive, events, picked, query if details else None, scores))
    return Result(items, searched, selected, context)


def _found(
    archive: Archive, events: Sequence[Event], picked: list[int], query: Query | None, scores: list[float] | None = None
) -> Iterator[Found]:
    """The picked events in order, each with its lines when `query` is given (see Streamed)."""
    for k, event in enumerate(_events_at(events, picked)):
        item = Found(event, score=scores[k] if scores else 0.0)
        if query is not None:
            _collect(archive, item, query)
        yield item


def _events_at(events: Sequence[Event], positions: Sequence[int]) -> Iterator[Event]:
    """The events at these positions; from a view, made one at a time and not kept."""
    return events.each(positions) if isinstance(events, EventView) else (events[i] for i in positions)


def _by_path(events: Sequence[Event]) -> Sequence[Event]:
    """The events in path order; a view stays a view (sorted by its paths column, no event made)."""
    if isinstance(events, EventView):
        paths, ids = events.store.paths, events.ids
        return events.subset(sorted(range(len(ids)), key=lambda k: paths[ids[k]]))
    return sorted(events, key=lambda e: e.path)


def _indexed(archive: Archive, events: Sequence[Event], query: Query, lengths: list[int] | None = None) -> Iterator[int] | None:
    """Matching events found in the index's search text (no event decoded); None when it cannot say.

    The index holds the default fields only, so other queries read the events
    themselves. For relevance, `lengths` gets each event's text length in
    characters, as `_texts` would (BM25's average needs every event's)."""
    if query.raw or tuple(query.fields) != DEFAULT_FIELDS:
        return None
    ids = archive.index_ids(events)
    if ids is None:
        return None
    index = archive.index()
    hits = index.search_hits(query.matcher, query.require_all)
    if query.sort == "relevance" and lengths is not None:
        lengths.extend(index.search_lengths(ids))
    return (k for k, i in enumerate(ids) if i in hits)


def _texts(archive: Archive, events: Sequence[Event], query: Query, lengths: list[int]) -> Iterator[str | bytes]:
    for event in events:
        raw = read_raw(archive.root, event) if query.raw else None
        text = event_text(event, query.fields, raw)
        lengths.append(len(text))
        yield text


def _raw_files(archive: Archive, events: Sequence[Event], query: Query) -> Iterator[int] | None:
    """`--raw` over an index's events, from the files as rg reads them (bytes, matched on every core,
    no event made); None when it does not apply.

    With `--in all` the files that match are the answer. On some fields only
    events whose whole file matches can match: a raw field is whole lines of
    its file and no match spans lines (patterns.py), so each match in a field
    is one in the file's same line, empty matches (`^$`, `x*`) too. Fields are
    then cut from those files alone: at 100k events `--raw -l 'Syrian Army'`
    cut the fields of every event (10 s) where 16k files match. A search cut
    short by --limit (its rest uncounted) stops early without the file pass,
    so it is left to the scan that goes event by event."""
    if not (query.raw and isinstance(events, EventView) and query.sort != "relevance"):
        return None
    if set(FIELDS) <= set(query.fields):
        return _file_matches(archive, events, query)
    if query.limit is not None and not query.count_rest:
        return None
    candidates = list(_file_matches(archive, events, query))
    texts = _texts(archive, events.subset(candidates), query, [])
    return (candidates[k] for k in query.matcher.select(texts, query.require_all))


def _file_matches(archive: Archive, events: EventView, query: Query) -> Iterator[int]:
    """Positions of the events whose file, read as bytes as rg reads it, matches: on every core."""
    paths, root, ids = events.store.paths, str(archive.root), events.ids
    positions = range(len(ids))

    def matching(part: range) -> list[int]:
        texts = (read_raw_bytes(root, paths[ids[k]]) for k in part)
        return [part[k] for k in query.matcher.select(texts, query.require_all)]

    count = cores.workers() if len(ids) >= PARALLEL_FILES else 1
    return (k for found in cores.fan_out(matching, cores.split(positions, count)) for k in found)


def _collect(archive: Archive, item: Found, query: Query) -> None:
    """The matching lines of one event (at most max_count), with their context."""
    raw = read_raw(archive.root, item.event) if query.raw else None
    budget = query.max_count
    for f in event_fields(item.event, query.fields, raw):
        if budget is not None and budget <= 0:
            break
        if not f.text:
            continue
        matches = query.matcher.lines(f.text, budget, query.every_match, query.span_window)
        if not matches:
            continue
        item.count += len(matches)
        if budget is not None:
            budget -= len(matches)
        item.lines.extend(_with_context(f, matches, query.before, query.after))


def _with_context(f: Field, matches: list[LineMatch], before: int, after: int) -> list[Line]:
    """Matching lines plus `before`/`after` neighbours, each line once, gaps marked."""
    if not before and not after:
        return [Line(f.name, f.line_number(m.index), m.text, m.spans) for m in matches]
    texts = f.text.split("\n")
    by_index = {m.index: m for m in matches}
    lines, previous = [], None
    for i in _context_indexes(sorted(by_index), before, after, len(texts)):
        m = by_index.get(i)
        line = Line(f.name, f.line_number(i), texts[i], m.spans if m else (), context=m is None)
        line.gap = previous is not None and i != previous + 1
        lines.append(line)
        previous = i
    return lines


def _context_indexes(hits: list[int], before: int, after: int, count: int) -> Iterator[int]:
    """Each line within `before`/`after` of a hit, in order, once: the merged windows, so the
    cost is the lines shown, whatever -C says (a range per match made -C 1000000000 hang)."""
    end = 0  # lines before this one are done
    for hit in hits:
        start = max(hit - before, end, 0)
        end = max(end, min(hit + after + 1, count))
        yield from range(start, end)


# BM25's usual constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75


def _rank(archive: Archive, events: Sequence[Event], picked: list[int], query: Query, average: float) -> tuple[list[int], list[float]]:
    """The picked positions ordered by BM25 with each pattern as a term (tf = its matches in the
    searched fields), at most `query.limit` of them, and their scores.

    Document length is counted in characters (the ratio to the average is
    what BM25 uses, and characters cost nothing to count). Each event is read
    for its counts and let go: 50k matching events held at once took 600 MB.
    """
    counts, lengths = [], []
    for event in _events_at(events, picked):
        raw = read_raw(archive.root, event) if query.raw else None
        text = event_text(event, query.fields, raw)
        counts.append(query.matcher.counts(text))
        lengths.append(len(text))
    width = len(query.matcher.patterns)
    df = [sum(1 for c in counts if c[p]) for p in range(width)]
    scores = [bm25(tf, df, len(events), length, average) for tf, length in zip(counts, lengths)]
    order = sorted(range(len(picked)), key=lambda k: -scores[k])[: query.limit]  # stable: ties stay in date order
    return [picked[k] for k in order], [scores[k] for k in order]


def bm25(tf: Sequence[int], df: Sequence[int], total: int, length: int, average: float) -> float:
    """Okapi BM25 of one document for terms with frequencies `tf` and document counts `df`."""
    norm = K1 * (1 - B + B * length / average) if average else K1
    score = 0.0
    for freq, docs in zip(tf, df):
        if freq:
            idf = math.log(1 + (total - docs + 0.5) / (docs + 0.5))
            score += idf * freq * (K1 + 1) / (freq + norm)
    return score
