"""`search`: grep-style patterns matched over events, one line at a time.

Three layers, each usable without the next:

* Patterns (`newsarc.features.search.patterns`): `compile_patterns` turns ripgrep-style
  flags into RE2 programs, compiled once; RE2 runs in linear time, so no
  pattern can hang a search.
* Matching (`newsarc.features.search.patterns`) is a pure function over text: `Matcher`
  knows nothing of where the texts came from, so a cached text blob can feed it.
* Events: `event_text`/`event_fields` (`newsarc.reading.event_text`) give the searchable
  text of an event (decoded fields or the raw file) with the file line of
  every text line, and `search()` (here) runs a `Query` over an archive:
  filter, select, rank (BM25), and collect matching lines with context.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from newsarc import cores
from newsarc.archive import Archive
from newsarc.features.search import files as filesearch
from newsarc.features.search.patterns import LineMatch, Matcher
from newsarc.index import db
from newsarc.model import Event, pick
from newsarc.reading.dates import DateSpan
from newsarc.reading.event_text import DEFAULT_FIELDS, Field, event_fields, event_text, read_raw
from newsarc.reading.topic_names import fold, with_topics

SORTS = ("date", "path", "relevance")
PARALLEL_FILES = 2000  # from this many files to parse, every core parses


def _length_rows(event) -> dict[str, list[tuple]]:
    return {"search_lengths": [(len(event_text(event, DEFAULT_FIELDS)),)]}


# `--sort relevance` weighs each match by its event's length against every event's (BM25): the
# lengths of the default fields' text, kept in the index so that a ranked search parses only
# the events that match. Built by a ranked search alone.
LENGTHS = db.register(db.Group(
    name="search_lengths", version=1,
    tables=("CREATE TABLE search_lengths(id INTEGER PRIMARY KEY, chars INTEGER NOT NULL)",),
    inserts={"search_lengths": "INSERT INTO search_lengths VALUES(?,?)"},
    rows=_length_rows,
    kinds=(db.EVENT,),
))


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
    """The events the filters leave, in archive order (date, path): from the catalogue, none made yet."""
    if span:
        events = archive.events_in(span)
        return with_topics(events, topics) if topics else events
    events = archive.view()
    return _with_topics(archive, events, topics) if topics else events


def _with_topics(archive: Archive, events, topics: Sequence[str]) -> Sequence[Event]:
    """`--topic` over every event: the positions of the topics' kept groups (a topic's key is its
    folded name: with_topics' rule), no event made."""
    wanted = {fold(t) for t in topics}
    if "" in wanted:  # a name of punctuation alone: its events are grouped under the name itself
        return with_topics(events, topics)
    groups = archive.topic_groups()
    return events.subset(sorted({k for key in wanted if key in groups for k in groups[key][1]}))


def search(archive: Archive, query: Query) -> Result:
    """Run `query` over the archive: filter, select, rank, then collect lines.

    The files themselves are read (bytes first, only candidates parsed) and no
    index is built for it: with no filter the walk finds them; with a date or
    topic filter the catalogue says which they are."""
    unindexed = filesearch.search(archive, query)
    if unindexed is not None:
        found, searched = unindexed
        if query.max_count == 0:
            return Result([], searched, 0)
        return _answer(archive, found, iter(range(len(found))), query, [], searched)
    events = candidates(archive, query.span, query.topics)
    if query.max_count == 0 and not query.invert:
        return Result([], len(events), 0)  # ripgrep's -m 0: stop before the first match
    paths = _paths(events)
    if query.sort == "path":
        order = sorted(range(len(paths)), key=paths.__getitem__)
        events, paths = pick(events, order), [paths[k] for k in order]
    lengths: list[int] = []
    measured = None  # the chosen events' term frequencies and lengths, for relevance
    if query.sort == "relevance" and not query.invert:
        lengths = _lengths(archive, paths, query) or []
        counted = filesearch.among(archive, paths, query, counting=True) if lengths else None
        chosen = None if counted is None else [k for k, _ in counted]
        measured = None if counted is None else [(tf, lengths[k]) for k, tf in counted]
    else:
        chosen = filesearch.among(archive, paths, query)
    if chosen is None:
        lengths = []
        chosen = _parsed(archive, paths, query, lengths)
    return _answer(archive, events, iter(chosen), query, lengths, len(events), paths, measured)


def _answer(
    archive: Archive, events: Sequence[Event], chosen: Iterator[int], query: Query, lengths: list[int], searched: int,
    paths: Sequence[str] | None = None, measured: list[tuple[list[int], int]] | None = None,
) -> Result:
    """The chosen positions of `events` (in order) cut to --limit, ranked, and their lines collected as read.
    `measured`: each chosen event's term frequencies and length, when the matching gave them."""
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
        paths = paths if paths is not None else _paths(events)
        if measured is None:
            measured = _measure(archive, [paths[k] for k in picked], query)
        picked, scores = _rank(picked, measured, query, len(events), sum(lengths) / max(len(lengths), 1))
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
    """The events at these positions, made as they are read: the catalogue's view makes them a batch
    at a time (model.pick); another sequence (the files a search read) makes each on access, and
    none is kept."""
    return iter(pick(events, positions)) if hasattr(events, "subset") else (events[k] for k in positions)


def _paths(events: Sequence[Event]) -> list[str]:
    """The events' paths in order; the catalogue's view gives them with no event made."""
    paths = getattr(events, "paths", None)
    return paths() if callable(paths) else [event.path for event in events]


def _lengths(archive, paths: Sequence[str], query: Query) -> list[int] | None:
    """Each event's searched text length in characters (BM25's document length), from the catalogue's
    lengths group when the query searches the default fields decoded; None otherwise."""
    if query.raw or tuple(query.fields) != DEFAULT_FIELDS or LENGTHS.name not in getattr(archive, "groups", ()):
        return None
    chars = dict(archive.database.conn.execute("SELECT f.path, s.chars FROM search_lengths s JOIN files f ON f.id = s.id"))
    found = [chars.get(db.stored_path(path)) for path in paths]
    return None if None in found else found  # type: ignore[return-value]


def _parsed(archive: Archive, paths: Sequence[str], query: Query, lengths: list[int]) -> list[int]:
    """Positions of the events whose searched text matches, each file parsed (on every core for many):
    what filesearch cannot answer (decoded sources or related; relevance with no lengths kept);
    `lengths` gets every text's length."""
    root = archive.root

    def part(bounds: range) -> tuple[list[int], list[int]]:
        sizes: list[int] = []

        def texts() -> Iterator[str]:
            for k in bounds:
                text = _text_of(root, paths[k], query)
                sizes.append(len(text))
                yield text

        return [bounds[k] for k in query.matcher.select(texts(), query.require_all)], sizes

    count = cores.workers() if len(paths) >= PARALLEL_FILES else 1
    hits: list[int] = []
    for found, sizes in cores.fan_out(part, cores.split(range(len(paths)), count)):
        hits += found
        lengths += sizes
    return hits


def _text_of(root: Path, relpath: str, query: Query) -> str:
    """What the query searches of one file: default fields cut by filesearch where it can, else parsed."""
    from newsarc.reading.parser import read_event

    if not query.raw and set(query.fields) <= set(DEFAULT_FIELDS):
        return filesearch.fields_text(os.path.join(root, relpath), relpath, query.fields)
    event = read_event(root / relpath, relpath)
    return event_text(event, query.fields, read_raw(root, event) if query.raw else None)


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


def _measure(archive: Archive, paths: list[str], query: Query) -> list[tuple[list[int], int]]:
    """Each file's term frequencies (each pattern's matches in the searched fields) and text length
    in characters, read and let go one at a time (on every core for many): 50k matching events held
    at once took 600 MB."""
    root = archive.root

    def part(bounds: range) -> list[tuple[list[int], int]]:
        texts = (_text_of(root, paths[k], query) for k in bounds)
        return [(query.matcher.counts(text), len(text)) for text in texts]

    count = cores.workers() if len(paths) >= PARALLEL_FILES else 1
    return [item for found in cores.fan_out(part, cores.split(range(len(paths)), count)) for item in found]


def _rank(picked: list[int], measured: list[tuple[list[int], int]], query: Query, total: int, average: float) -> tuple[list[int], list[float]]:
    """The picked positions ordered by BM25 with each pattern as a term, at most `query.limit` of
    them, and their scores. Document length is counted in characters (the ratio to the average is
    what BM25 uses, and characters cost nothing to count)."""
    width = len(query.matcher.patterns)
    df = [sum(1 for c, _ in measured if c[p]) for p in range(width)]
    scores = [bm25(tf, df, total, length, average) for tf, length in measured]
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
