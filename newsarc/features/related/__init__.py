"""`related`: what else to read with one event, and why.

Four sources of relatedness, each scored in [0, 1] and explained:

- links: the event's own Related entries (and body links to other events):
  "linked from here". Entries whose target is missing stay in the list,
  marked missing; they cannot share topics or text, so they score 1.
- backlinks: events whose links point at it: "links here".
- topics: events carrying its topics (from its `_Context:` tags and front
  matter), as the cosine of the two topic sets weighted by IDF, so a rare
  topic counts for more than "Syrian Civil War".
- text: BM25 similarity of headline and body (`newsarc.features.related.text_model`), relative
  to the event's own score; under TEXT_FLOOR it is noise and not counted.

The ranking adds the four scores (rounded to 2 places, as shown); ties go to
the older event, then to the path, so the order never depends on the run.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from newsarc.archive import Archive, day_spellings
from newsarc.reading.dates import DateSpan, date_from_path
from newsarc.reading.topic_names import topic_key
from newsarc.model import BODY, Event, pick
from newsarc.model import Related as RelatedEntry

LINKS, BACKLINKS, TOPICS, TEXT = "links", "backlinks", "topics", "text"
SOURCES = (LINKS, BACKLINKS, TOPICS, TEXT)
DEFAULT_LIMIT = 20
SHOWN_TOPICS = 3  # topics named in a reason; the rest are counted
SHOWN_TERMS = 3  # words named in a "similar:" reason
TEXT_FLOOR = 0.05  # text similarity below this (a common word or two in common) is not counted
RELATIVE_FLOOR = 0.1  # ranked: an event under this share of the best one's score is left out
COMMON_SHARE = 0.2  # ranked: a topic this share of the archive carries is no reason on its own
OUT, IN, BOTH = "out", "in", "both"  # how a tree node is linked with its parent


@dataclass(slots=True)
class Item:
    """One related event (or the missing target of a link), its scores and why."""

    path: str  # relative to the site root; for a missing target, where its link points
    title: str
    date: dt.date | None
    event: Event | None = None  # None for a missing target (or a file that is not a read event)
    scores: dict[str, float] = field(default_factory=dict)  # source -> [0, 1], only sources that found it
    topics: list[str] = field(default_factory=list)  # shared topics, rarest first
    terms: list[str] = field(default_factory=list)  # words that make the texts alike
    context: list[str] = field(default_factory=list)  # topics written on the Related entry
    target: str = ""  # the link as written, when this came from a link of the event
    missing: bool = False  # the link's target does not exist as written
    exists_as: str | None = None  # ... but the file exists under the other day spelling
    note: str = ""  # why the target is not an event: a day page, outside the folder read or the archive

    @property
    def score(self) -> float:
        return round(sum(self.scores.values()), 2)

    @property
    def reasons(self) -> list[str]:
        found = []
        if LINKS in self.scores:
            found.append("linked from here")
        if self.missing:
            found.append(f"missing; file is /{self.exists_as}" if self.exists_as else self.note or "missing target")
        elif self.note:
            found.append(self.note)
        if BACKLINKS in self.scores:
            found.append("links here")
        if self.topics:
            found.append("topics: " + _some(self.topics, SHOWN_TOPICS))
        elif self.context:
            found.append("context: " + _some(self.context, SHOWN_TOPICS))
        if self.terms:
            found.append("similar: " + ", ".join(self.terms))
        return found


def _some(names: list[str], shown: int) -> str:
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" +{more}" if more > 0 else "")


def order(item: Item) -> tuple[float, dt.date, str]:
    """Best first; ties to the older event, then the path."""
    return (-item.score, item.date or dt.date.min, item.path)


# -- (a) links from the event --------------------------------------------------


def outgoing(archive: Archive, event: Event) -> list[Item]:
    """The event's Related entries, missing targets included, then body links to other events.

    A link to the event itself is ignored; two links to one target make one item.
    """
    items: dict[str, Item] = {}
    for entry in event.related:
        item = _link_item(archive, event, entry)
        if item.path == event.path:
            continue
        kept = items.setdefault(item.path, item)
        kept.context.extend(t for t in entry.topics if t not in kept.context)
    for link in event.links:
        if link.role != BODY:
            continue
        found = archive.get(archive.resolve(event, link.target).path)
        if found is not None and found.path != event.path and found.path not in items:
            items[found.path] = Item(found.path, found.title, found.date, found, target=link.target)
    for item in items.values():
        item.scores[LINKS] = 1.0
    return list(items.values())


def _link_item(archive: Archive, event: Event, entry: RelatedEntry) -> Item:
    target = archive.resolve(event, entry.target)
    title = entry.title.strip()
    if not target.path:
        where = "outside the site root" if target.outside else "not a link into the archive"
        return Item(entry.target, title, None, target=entry.target, missing=True, note=where)
    found = archive.get(target.path)
    if found is not None:
        return Item(found.path, found.title or title, found.date, found, target=entry.target)
    date = date_from_path(target.path)
    if archive.exists(target.path):
        note = "a day page" if target.path in archive.day_pages else "not in the folder read"
        return Item(target.path, title, date, target=entry.target, note=note)
    other = next((p for p in day_spellings(target.path) if archive.exists(p)), None)
    found = archive.get(other) if other else None
    if found is not None:
        return Item(found.path, found.title or title, found.date, found, target=entry.target, missing=True, exists_as=other)
    return Item(target.path, title, date, target=entry.target, missing=True, exists_as=other)


# -- (b) links to the event ----------------------------------------------------

def linking_to(archive: Archive, event: Event) -> list[Event]:
    """Events linking to `event` (the index keeps each file's link targets: no link is decoded)."""
    return [e for e in archive.backlinks(event) if e.path != event.path]


# -- (c) shared topics ---------------------------------------------------------


class TopicModel:
    """Topics compared folded (case, accents, punctuation), each weighted by its IDF over the archive.

    Events are positions in `archive.view()`: only the events that share a
    topic with the one asked about are ever made."""

    def __init__(self, archive: Archive):
        self.events = archive.view()
        self.groups = archive.topic_groups()  # folded -> (spellings, positions): kept beside the index
        self.dates: dict[str, dt.date | None] = {}  # of the events scored, from the date column
        total = len(self.events)
        self.weight = {key: math.log(1.0 + total / max(len(members), 1)) for key, (_, members) in self.groups.items()}
        # Every spelling's folded name, from the groups (which list them all): folding thousands anew cost 0.1 s.
        self.key_of = {name: key for key, (spellings, _) in self.groups.items() for name in spellings}

    def members(self, key: str) -> Sequence[int]:
        """Positions of the events carrying the folded topic `key` under any spelling."""
        found = self.groups.get(key)
        return found[1] if found else []

    def keys(self, event: Event) -> dict[str, str]:
        """folded topic -> the event's own spelling."""
        found: dict[str, str] = {}
        key_of = self.key_of
        for name in event.topics:
            found.setdefault(key_of.get(name) or topic_key(name), name)
        return found

    def norm(self, event: Event) -> float:
        return math.sqrt(sum(self.weight.get(k, 0.0) ** 2 for k in self.keys(event)))

    def scores(self, event: Event) -> dict[str, tuple[float, list[str]]]:
        """path -> (cosine of the weighted topic sets, shared topics rarest first)."""
        own = self.keys(event)
        norm = self.norm(event)
        shared: dict[int, list[str]] = {}
        dots: dict[int, float] = {}
        for key in sorted(own, key=lambda k: (-self.weight.get(k, 0.0), k)):
            weight = self.weight.get(key, 0.0)
            for other in self.members(key):
                dots[other] = dots.get(other, 0.0) + weight * weight
                shared.setdefault(other, []).append(own[key])
        found = {}
        positions = list(dots)
        others = pick(self.events, positions)
        for position, other in zip(positions, others):
            dot = dots[position]
            if other.path == event.path:
                continue
            other_norm = self.norm(other)
            self.dates[other.path] = other.date
            found[other.path] = (min(1.0, dot / (norm * other_norm)) if norm and other_norm else 0.0, shared[position])
        return found


# -- (d) similar text ----------------------------------------------------------


class TextModel:
    """The archive's headlines and bodies in a BM25 index; a headline counts twice."""

    def __init__(self, archive: Archive):
        from newsarc.features.catalog import Catalog
        from newsarc.features.related.text_model import TextIndex

        self.position: dict[str, int] = {}  # path -> document, filled for the paths scored
        self.dates: dict[str, dt.date | None] = {}  # of the events scored, from the date column
        if isinstance(archive, Catalog):  # the statistics from the index's text group (related/text_stats.py)
            from newsarc.features.related import text_stats

            self.index = text_stats.open_words(archive.holding(text_stats.GROUP))
            self.statistics = self.index.statistics
            return
        self.statistics = None
        if not archive.has_text:
            raise RuntimeError("text similarity needs the bodies: open the archive with text=True")
        events = self.events = archive.view()
        self.paths = archive.view_paths()
        self.index = TextIndex(f"{e.title}\n{e.title}\n{e.body}" for e in events)

    def scores(self, event: Event) -> tuple[object, dict[str, float]]:
        if self.statistics is not None:
            doc = self.statistics.position(event.path)
        else:
            try:
                doc = self.paths.index(event.path)  # C speed; a dict of every path costs more than it saves
            except ValueError:
                doc = None
        if doc is None:
            return None, {}
        query = self.index.query(doc)
        kept = {other: score for other, score in self.index.scores(query).items() if score >= TEXT_FLOOR}
        if self.statistics is not None:
            made = self.statistics.events(kept)
            where = lambda other: made[other]  # noqa: E731
        else:
            where = lambda other: (self.paths[other], self.events[other].date)  # noqa: E731
        found = {}
        for other, score in kept.items():
            path, date = where(other)
            found[path] = score
            self.position[path] = other
            self.dates[path] = date
        return query, found

    def terms(self, query, event: Event, other: str) -> list[str]:
        """The words two texts share that weigh most, spelled as in the event's text."""
        words = self.index.contributions(query, self.position[other], SHOWN_TERMS)
        text = f"{event.title}\n{event.body}"
        return [_spelling(word, text) for word in words]


def _spelling(word: str, text: str) -> str:
    match = re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.IGNORECASE)
    return match.group(0) if match else word


# -- scoring -------------------------------------------------------------------


class Scorer:
    """Every source's scores for one event, computed once; items made on request."""

    def __init__(self, archive: Archive, event: Event, sources: Iterable[str] = SOURCES):
        self.archive = archive
        self.event = event
        self.sources = tuple(sources)
        self.links = {i.path: i for i in outgoing(archive, event)} if LINKS in self.sources else {}
        self.backlinks: set[str] = set()
        if BACKLINKS in self.sources:
            self.backlinks = {e.path for e in linking_to(archive, event)}
        topic_model = self.topic_model = TopicModel(archive) if TOPICS in self.sources else None
        self.topics = topic_model.scores(event) if topic_model else {}
        self.text_model = TextModel(archive) if TEXT in self.sources else None
        self.query, self.text = self.text_model.scores(event) if self.text_model else (None, {})
        self.dates = {**(topic_model.dates if topic_model else {}), **(self.text_model.dates if self.text_model else {})}

    def paths(self) -> set[str]:
        return set(self.links) | self.backlinks | set(self.topics) | set(self.text)

    def score(self, path: str) -> float:
        total = (1.0 if path in self.links else 0.0) + (1.0 if path in self.backlinks else 0.0)
        topic = self.topics.get(path)
        return round(total + (topic[0] if topic else 0.0) + self.text.get(path, 0.0), 2)

    def date(self, path: str) -> dt.date | None:
        if path in self.dates:  # a scored event: its row need not be decoded
            return self.dates[path]
        found = self.archive.get(path)
        if found is not None:
            return found.date
        link = self.links.get(path)
        return link.date if link else date_from_path(path)

    def item(self, path: str, fallback: Item | None = None) -> Item:
        """The item for `path` with every source's score and reason."""
        link = self.links.get(path)
        found = self.archive.get(path)
        if link is not None:
            item = link
        elif fallback is not None:
            item = fallback
            item.scores.clear()
        else:
            item = Item(path, found.title if found else "", found.date if found else date_from_path(path), found)
        if path in self.backlinks:
            item.scores[BACKLINKS] = 1.0
        topic = self.topics.get(path)
        if topic and topic[0] > 0:
            item.scores[TOPICS] = topic[0]
            item.topics = topic[1]
        if path in self.text:
            item.scores[TEXT] = self.text[path]
            item.terms = self.text_model.terms(self.query, self.event, path)
        return item


@dataclass(slots=True)
class Ranking:
    """The events to read with one event, and how many weaker ones the cut-off left out."""

    items: list[Item]
    weaker: int = 0  # left out: under `floor`, or only a topic a large share of the archive carries
    floor: float = 0.0


def related(
    archive: Archive,
    event: Event,
    *,
    by: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
    span: DateSpan | None = None,
) -> list[Item]:
    """The events to read with `event`, best first, from all sources or only `by`; no cut-off."""
    return ranked(archive, event, by=by, limit=limit, span=span, everything=True).items


def ranked(
    archive: Archive,
    event: Event,
    *,
    by: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
    span: DateSpan | None = None,
    everything: bool = False,
) -> Ranking:
    """`related`, stopping where the scores fall away unless `everything`.

    Below a tenth of the best score an event is noise beside the best ones (Harvey's
    own events score 0.42-3.13, an Olympic swimmer sharing only "United States" 0.16),
    and a topic that a large share of the archive carries says nothing on its own."""
    scorer = Scorer(archive, event, (by,) if by else SOURCES)
    keys = []
    for path in scorer.paths():
        date = scorer.date(path)
        if span is None or date in span:
            keys.append((-scorer.score(path), date or dt.date.min, path))
    floor, weaker = 0.0, 0
    if not everything and keys:
        floor = round(-min(keys)[0] * RELATIVE_FLOOR, 2)
        common = _common_topics(scorer)
        kept = [key for key in keys if -key[0] >= floor and not _only_common(scorer, key[2], common)]
        weaker, keys = len(keys) - len(kept), kept
    best = heapq.nsmallest(limit, keys) if limit is not None else sorted(keys)
    return Ranking([scorer.item(path) for _, _, path in best], weaker, floor)


def _common_topics(scorer: Scorer) -> set[str]:
    """Spellings (as the event writes them) of its topics carried by COMMON_SHARE of the archive."""
    model = scorer.topic_model
    if model is None or not scorer.topics:
        return set()
    total = len(model.events)
    return {name for key, name in model.keys(scorer.event).items() if len(model.members(key)) >= COMMON_SHARE * total}


def _only_common(scorer: Scorer, path: str, common: set[str]) -> bool:
    """Related through shared topics alone, every one of them common."""
    if path in scorer.links or path in scorer.backlinks or path in scorer.text:
        return False
    topic = scorer.topics.get(path)
    return bool(topic) and all(name in common for name in topic[1])


# -- following links -----------------------------------------------------------


@dataclass(slots=True)
class Node:
    """An event reached by following links; `direction` says how it links with its parent."""

    item: Item
    depth: int
    via: str | None = None  # the parent's path
    direction: str = ""  # OUT: the parent links to it; IN: it links to the parent; BOTH
    children: list[Node] = field(default_factory=list)
    more: int = 0  # on the root: events within the depth that the limit left out of the tree

    def walk(self):
        """Every node below this one, parents before children (a stack, not recursion: a chain
        of 2,000 links is 2,000 levels deep)."""
        stack = self.children[::-1]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def follow(
    archive: Archive,
    event: Event,
    depth: int,
    *,
    by: str | None = None,
    limit: int | None = None,
    span: DateSpan | None = None,
) -> Node:
    """The events reached in up to `depth` steps along links and backlinks (or only `by`).

    Breadth first, so every event appears once, at its shortest distance; a
    cycle (A -> B -> A) stops where it meets an event already shown. Missing
    targets are leaves. Scores and reasons are relative to `event`. The tree
    holds at most `limit` events; the walk goes on to count the others in
    `root.more` (unscored, out of the tree), so the user learns what was cut.
    """
    directions = (by,) if by in (LINKS, BACKLINKS) else (LINKS, BACKLINKS)
    scorer = Scorer(archive, event, (by,) if by else SOURCES)
    root = Node(Item(event.path, event.title, event.date, event), 0)
    seen, level, count = {event.path}, [root], 0
    for step in range(1, depth + 1):
        following = []
        for node in level:
            if node.item.event is None:
                continue
            for item, direction in neighbours(archive, node.item.event, directions):
                if item.path in seen or (span is not None and item.date not in span):
                    continue
                seen.add(item.path)
                if limit is not None and count >= limit:
                    root.more += 1
                    following.append(Node(item, step))
                    continue
                count += 1
                child = Node(scorer.item(item.path, item), step, node.item.path, direction)
                node.children.append(child)
                following.append(child)
        level = following
    return root


def neighbours(archive: Archive, event: Event, directions: Iterable[str]) -> list[tuple[Item, str]]:
    """Events the event links to and events linking to it, by date then path."""
    found: dict[str, tuple[Item, str]] = {}
    if LINKS in directions:
        for item in outgoing(archive, event):
            found[item.path] = (item, OUT)
    if BACKLINKS in directions:
        for other in archive.backlinks(event):
            if other.path in found:
                found[other.path] = (found[other.path][0], BOTH)
            elif other.path != event.path:
                found[other.path] = (Item(other.path, other.title, other.date, other), IN)
    return sorted(found.values(), key=lambda pair: (pair[0].date or dt.date.min, pair[0].path))


# -- the story line ------------------------------------------------------------


@dataclass(slots=True)
class Moment:
    item: Item
    this: bool = False  # the event the story is about


def timeline(event: Event, items: Iterable[Item]) -> list[Moment]:
    """The event and its related items as a story, oldest first; undated ones last."""
    moments = [Moment(Item(event.path, event.title, event.date, event), True)]
    moments += [Moment(item) for item in items if item.path != event.path]
    return sorted(moments, key=lambda m: (m.item.date is None, m.item.date or dt.date.min, m.item.path))
