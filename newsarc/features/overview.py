"""The archive at a glance: its topics and one topic's story line (its statistics: features/stats.py).

Topic names are typed by people who do not remember `Burkinabé` or `d'état`,
so every comparison here goes through `fold`, and spellings that fold alike
(`Syrian army`, `Syrian Army`) are one topic. Names are never split on commas.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from newsarc.archive import Archive, sort_key
from newsarc.reading.topic_names import compact, fold, group_names  # noqa: F401  (fold is part of this module's API)
from newsarc.reading.dates import DateSpan
from newsarc.errors import AmbiguousTopic, NewsarcError, TopicNotFound
from newsarc.model import Event, pick

SORTS = ("count", "name", "first", "last")
DEFAULT_GAP = 30  # days: about a month without news is worth marking
NEAREST = 5  # names suggested when nothing matches
CLOSE = 0.8  # difflib ratio that counts as a typo of the same word or name
LIKE = 0.5  # how alike each word must be when the whole name is close
TIE = 0.05  # close matches this near the best one are as likely meant
SUGGEST = 0.5  # similarity (or share of words) worth suggesting when nothing matches

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
    """Topics of topic_names.group_names' groups. Over the catalogue's view a topic's events are made only
    when asked for: `topics` makes two per topic (its first and last dates), `timeline` one topic's."""
    return {key: Topic(ranked[0], key, pick(events, positions), ranked) for key, (ranked, positions) in groups.items()}


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
