"""The archive at a glance: its topics, one topic's story line, and its statistics.

Topic names are typed by people who do not remember `Burkinabé` or `d'état`,
so every comparison here goes through `fold`, and spellings that fold alike
(`Syrian army`, `Syrian Army`) are one topic. Names are never split on commas.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from newsarc import cores
from newsarc.index import answers
from newsarc.archive import Archive, sort_key
from newsarc.reading.topic_names import compact, fold, group_names  # noqa: F401  (fold is part of this module's API)
from newsarc.reading.dates import DateSpan
from newsarc.errors import AmbiguousTopic, NewsarcError, TopicNotFound
from newsarc.model import BODY, DATE, FRONT_MATTER, IMAGE, RELATED, Event

SORTS = ("count", "name", "first", "last")
DEFAULT_GAP = 30  # days: about a month without news is worth marking
DEFAULT_TOP = 10
NEAREST = 5  # names suggested when nothing matches
CLOSE = 0.8  # difflib ratio that counts as a typo of the same word or name
LIKE = 0.5  # how alike each word must be when the whole name is close
TIE = 0.05  # close matches this near the best one are as likely meant
SUGGEST = 0.5  # similarity (or share of words) worth suggesting when nothing matches
DAY_PAGE_ROLE = "day-page"  # links written on day pages, counted apart in stats
_CHECKED_ROLES = (DATE, RELATED, BODY, IMAGE, FRONT_MATTER)  # internal links worth resolving

# -- topics -------------------------------------------------------------------


@dataclass(slots=True)
class Topic:
    """Every spelling of one topic that folds alike, with its events in date order."""

    name: str  # the spelling most events use
    key: str  # folded name
    events: list[Event] = field(default_factory=list)
    spellings: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def first(self) -> dt.date | None:
        return next((e.date for e in self.events if e.date), None)

    @property
    def last(self) -> dt.date | None:
        return next((e.date for e in reversed(self.events) if e.date), None)

    @property
    def tokens(self) -> list[str]:
        return self.key.split()


def group_topics(events: Sequence[Event]) -> dict[str, Topic]:
    """Folded name -> Topic over `events` (which must be in date order)."""
    return _topics(group_names([event.topics for event in events]), events)


def _topics(groups: dict[str, tuple[list[str], Sequence[int]]], events: Sequence[Event]) -> dict[str, Topic]:
    """Topics of topic_names.group_names' groups. Over a store.EventView a topic's events are made only
    when asked for: `topics` makes two per topic (its first and last dates), `timeline` one topic's."""
    pick = getattr(events, "subset", None) or (lambda ks: [events[k] for k in ks])
    return {key: Topic(ranked[0], key, pick(positions), ranked) for key, (ranked, positions) in groups.items()}


def all_topics(archive: Archive) -> dict[str, Topic]:
    """group_topics over every event of the archive, from the index (Archive.topic_groups)."""
    return _topics(archive.topic_groups(), archive.view())


def topic_table(
    archive: Archive,
    query: str | None = None,
    *,
    sort: str = "count",
    span: DateSpan | None = None,
    limit: int | None = None,
) -> list[Topic]:
    """Topics (those whose name contains `query`, folded), in the order asked for."""
    if sort not in SORTS:
        raise NewsarcError(f"unknown sort '{sort}'; use one of: {', '.join(SORTS)}")
    topics = list((group_topics(archive.events_in(span)) if span else all_topics(archive)).values())
    if query is not None:
        topics = contains(topics, query)
    topics.sort(key=_SORT_KEYS[sort])
    return topics if limit is None else topics[: max(limit, 0)]


_FAR_PAST, _FAR_FUTURE = dt.date.min, dt.date.max
_SORT_KEYS = {
    "count": lambda t: (-t.count, t.key, t.name),
    "name": lambda t: (t.key, t.name),
    "first": lambda t: (t.first or _FAR_FUTURE, t.key),
    "last": lambda t: (-(t.last or _FAR_PAST).toordinal(), t.key),
}


def contains(topics: list[Topic], query: str) -> list[Topic]:
    """Topics whose folded name holds every word of `query` (as a word start) or its letters in a row."""
    wanted = fold(query)
    if not wanted:
        return [t for t in topics if query.strip().casefold() in t.name.casefold()]
    return [t for t in topics if _contains(wanted, t)]


def _contains(wanted: str, topic: Topic) -> bool:
    tokens = topic.tokens
    if all(any(t.startswith(w) for t in tokens) for w in wanted.split()):
        return True
    return compact(wanted) in compact(topic.key)


def _exact(wanted: str, topics: list[Topic]) -> list[Topic]:
    return [t for t in topics if wanted == t.key or compact(wanted) == compact(t.key)]


def _contained(wanted: str, topics: list[Topic]) -> list[Topic]:
    return [t for t in topics if _contains(wanted, t)]


def _close(wanted: str, topics: list[Topic]) -> list[Topic]:
    """A typo away as a whole, with every word at least like one of the name's; only
    the best (and any as good) count: `rusia` is Russia, `faroe isles` the Faroe Islands,
    `elections in guatamala` Guatemala, not Malawi, and `elections in japan` nothing."""
    scored = [(similarity(wanted, t.key, CLOSE), t) for t in _close_words(wanted, topics, LIKE)]
    best = max((score for score, _ in scored), default=0.0)
    return [t for score, t in scored if score >= CLOSE and score >= best - TIE]


def _close_words(wanted: str, topics: list[Topic], cutoff: float = CLOSE) -> list[Topic]:
    """Every word typed is a typo away from the start of a word of the name."""
    words = wanted.split()
    return [t for t in topics if all(any(_near_word(w, token, cutoff) for token in t.tokens) for w in words)]


def similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """difflib's ratio, skipping the full comparison when the cheap bounds fall short."""
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
        return 0.0
    return matcher.ratio()


@lru_cache(maxsize=65536)
def _near_word(word: str, token: str, cutoff: float = CLOSE) -> bool:
    """Cached: topic names share few distinct words, and each is tried once per word typed."""
    if token.startswith(word):
        return True
    return len(word) >= 4 and similarity(word, token[: len(word) + 1], cutoff) >= cutoff


def match_topic(topics: list[Topic], query: str) -> Topic:
    """The one topic `query` names: exact (folded), else contained, else a typo away.

    The first of those tiers that finds anything decides: one topic is the
    answer, several raise AmbiguousTopic (exit 2) listing them. Nothing at all
    raises TopicNotFound (exit 2) naming the nearest topics.
    """
    wanted = fold(query)
    if not wanted:
        exact = [t for t in topics if t.name.casefold() == query.strip().casefold()]
        if len(exact) == 1:
            return exact[0]
        raise TopicNotFound(f"'{query}' has no letters or digits to match a topic by; see: newsarc topics")
    for tier in (_exact, _contained, _close, _close_words):
        found = tier(wanted, topics)
        if len(found) == 1:
            return found[0]
        if found:
            found.sort(key=_SORT_KEYS["count"])
            raise AmbiguousTopic(
                f"'{query}' matches {len(found)} topics; give more of the name (one of these)",
                [t.name for t in found],
            )
    raise TopicNotFound(_not_found(query, nearest(topics, query)))


def nearest(topics: list[Topic], query: str, n: int = NEAREST) -> list[Topic]:
    """Topics most like `query` (whole-name similarity, or the share of words it nearly has), best first."""
    wanted = fold(query)
    words = wanted.split()
    scored = []
    for topic in topics:
        shared = sum(any(_near_word(w, t) for t in topic.tokens) for w in words) / len(words) if words else 0.0
        score = max(similarity(wanted, topic.key, SUGGEST), shared)
        if score >= SUGGEST:
            scored.append((-score, -topic.count, topic.key, topic))
    return [item[-1] for item in sorted(scored)[:n]]


def _not_found(query: str, close: list[Topic]) -> str:
    message = f"no topic matches '{query}'"
    if close:
        message += "; nearest: " + "; ".join(f"'{t.name}'" for t in close)
    return message + "; list them all with: newsarc topics"


# -- timeline -----------------------------------------------------------------


@dataclass(slots=True)
class Step:
    """One event on a story line, and how long the story was quiet before it."""

    event: Event
    gap_days: int | None  # days since the previous dated event; None for the first
    gap: bool  # quiet for longer than the threshold


@dataclass(slots=True)
class Timeline:
    topic: Topic
    steps: list[Step]
    gap: int
    span: DateSpan | None = None

    @property
    def gaps(self) -> int:
        return sum(s.gap for s in self.steps)


def timeline(archive: Archive, query: str, *, gap: int = DEFAULT_GAP, span: DateSpan | None = None) -> Timeline:
    """Every event of the topic `query` names, oldest first, with quiet spells marked."""
    if gap < 0:
        raise NewsarcError(f"--gap {gap} is negative; give a number of days, 0 or more")
    topic = match_topic(list(all_topics(archive).values()), query)
    events = [e for e in topic.events if span is None or e.date in span]
    return Timeline(topic, story_line(events, gap), gap, span)


def story_line(events: list[Event], gap: int) -> list[Step]:
    """Steps in date order (undated events last, never counted as a gap)."""
    steps, previous = [], None
    for event in sorted(events, key=lambda e: (e.date is None, sort_key(e))):
        days = (event.date - previous).days if event.date and previous else None
        steps.append(Step(event, days, days is not None and days > gap))
        previous = event.date or previous
    return steps


# -- stats --------------------------------------------------------------------


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


def stats(archive: Archive, span: DateSpan | None = None, *, top: int = DEFAULT_TOP) -> Stats:
    """Counts over the events in `span` (all of them without one).

    Over the whole archive, dates come from the index's date column, topics
    from all_topics, and the per-file counts (sources, links, diagnostics)
    from a memo of the index once worked out (answers.py): only the links whose
    target the index does not hold are looked for again on every run."""
    if span is None:
        events: Sequence[Event] = archive.view()
        day_pages = archive.every_file()[len(events) :]
        per_day, undated = _day_counts(archive, events)
        topics = all_topics(archive)
    else:
        events = archive.events_in(span, index=False)  # the span's day pages are read with its events
        day_pages = [p for p in archive.day_pages.values() if p.date in span]
        per_day, undated = Counter(e.date for e in events if e.date), sum(1 for e in events if not e.date)
        topics = group_topics(events)
    result = Stats(span, events=len(events), undated=undated)
    _dates(result, per_day, top)
    result.topics = len(topics)
    result.top_topics = [(t.name, t.count) for t in sorted(topics.values(), key=_SORT_KEYS["count"])[:top]]
    noted = _count_files(archive, result, events, day_pages, top, whole=span is None)
    unreadable = [u for u in archive.unreadable if span is None or u.date in span]
    found = [d for doc in unreadable for d in doc.diagnostics] + (archive.scan_diagnostics if span is None else [])
    result.diagnostics += len(found)
    result.files_with_diagnostics = len(noted | {d.path for d in found})
    return result


def _day_counts(archive: Archive, events: Sequence[Event]) -> tuple[Counter, int]:
    """Events per date, and how many have none: from the date column when the events came from the index."""
    ids = archive.index_ids(events)
    if ids is None:
        return Counter(e.date for e in events if e.date), sum(1 for e in events if not e.date)
    ordinals = Counter(map(archive.index().dates.__getitem__, ids))
    undated = ordinals.pop(0, 0)
    return Counter({dt.date.fromordinal(o): n for o, n in ordinals.items()}), undated


PARALLEL_FILES = 20000  # from this many files, stats decodes them on every core
_STATS_MEMO = "stats-files-1"  # bump when _count_part's answer changes for the same index


def _count_files(archive: Archive, result: Stats, events, day_pages, top: int, *, whole: bool) -> set[str]:
    """Sources, links and diagnostics of every file. Over the whole archive the counts depend on the
    index alone (3.5 s at 100k events to decode every row), bar whether the targets it does not
    hold exist: the counts are kept beside the index, those targets looked for on every run."""
    index = archive.index() if whole and archive.index_ids(events) is not None else None
    counts = answers.recall(index, _STATS_MEMO) if index is not None else None
    if counts is None:
        counts = _one_pass(archive, events, day_pages)
        if index is not None:
            answers.keep(index, _STATS_MEMO, counts)
    publishers, domains = Counter(counts["publishers"]), Counter(counts["domains"])
    broken = Counter(counts["broken"])
    for role, path in counts["unknown"]:
        if not path or not archive.exists(path):
            broken[role] += 1
    result.links_checked += counts["checked"]
    result.diagnostics += counts["diagnostics"]
    result.sources = sum(publishers.values())
    result.top_publishers = _top(publishers, top)
    result.top_domains = _top(domains, top)
    result.broken_by_role = dict(sorted(broken.items()))
    result.broken_links = sum(broken.values())
    return set(counts["noted"])


def _one_pass(archive: Archive, events: Sequence[Event], day_pages: Sequence[Event]) -> dict:
    """_count_part over every file, decoded one at a time, on every core for a large archive
    (each part counts its own; the counts are added).

    (Keeping 100k decoded events alive at once cost 940 MB; one at a time it is the index's columns.)"""
    documents = [(None, event) for event in events] + [(DAY_PAGE_ROLE, page) for page in day_pages]
    count = cores.workers() if len(documents) >= PARALLEL_FILES else 1
    parts = [(r.start, r.stop) for r in cores.split(range(len(documents)), count)]
    total: dict = {"publishers": Counter(), "domains": Counter(), "broken": Counter(), "noted": set(), "unknown": []}
    total.update(checked=0, diagnostics=0)
    for part in cores.fan_out(lambda bounds: _count_part(archive, documents[bounds[0] : bounds[1]]), parts):
        for key in ("publishers", "domains", "broken", "noted"):
            total[key].update(part[key])
        total["unknown"] += part["unknown"]
        total["checked"] += part["checked"]
        total["diagnostics"] += part["diagnostics"]
    for key in ("publishers", "domains", "broken"):
        total[key] = dict(total[key])
    total["noted"] = sorted(total["noted"])
    return total


def _count_part(archive: Archive, documents: list[tuple[str | None, Event]]) -> dict:
    """The counts of `_one_pass` for some of the files, as plain values (a forked child sends them back)."""
    publishers: Counter = Counter()
    domains: Counter = Counter()
    broken: Counter = Counter()
    unknown: list[tuple[str, str]] = []
    noted: set[str] = set()
    checked = diagnostics = 0
    roles = [role for role, _ in documents]
    for role, doc in zip(roles, archive.decoded(doc for _, doc in documents)):
        if role is None:
            for source in doc.sources:
                publishers[source.publisher] += 1
                domains[source.domain] += 1
        checked += _check_links(archive, doc, role, broken, unknown)
        if doc.diagnostics:
            diagnostics += len(doc.diagnostics)
            noted.update(d.path for d in doc.diagnostics)
    return {"publishers": dict(publishers), "domains": dict(domains), "broken": dict(broken), "noted": sorted(noted),
            "unknown": unknown, "checked": checked, "diagnostics": diagnostics}


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


def _check_links(archive: Archive, document: Event, role: str | None, broken: Counter, unknown: list) -> int:
    """Count `document`'s internal links whose file is missing into `broken` (by role); return how many
    were checked. Targets the index does not hold go to `unknown` as (role, path), to be looked for
    by the caller (they may exist on disk: an image, a file beside the scope).

    A cheap stand-in (file existence only, no anchors, no other day-folder
    spelling) until the validate-links checker can be reused here.
    """
    checked = 0
    for link in document.links:
        if role is None and link.role not in _CHECKED_ROLES:
            continue
        target = archive.resolve(document, link.target)
        if target.external or (not target.path and not target.outside):
            continue
        checked += 1
        if target.outside:
            broken[role or link.role] += 1
        elif not archive.indexed(target.path):
            unknown.append((role or link.role, target.path))
    return checked
