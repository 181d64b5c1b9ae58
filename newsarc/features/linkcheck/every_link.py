"""Every file's links, for the validate-links forms that need all of them: --reciprocal (each event's
Related targets), --dump (every link) and --external (every URL, with where it is written).

No index holds every link of every file (keeping them took 1.2 GB at 100k events), and
110k parsed events held at once take 940 MB. So each file is parsed on every core, a batch at a
time (cores.stream), and reduced where it was parsed to the few plain values the form asks for;
its event is let go there. The reader gets the batches in order as they come, and a slow reader
(--dump into a pipe) holds the parsers back instead of piling up their answers.

The files are those the glance found (linkfacts.scan, or the catalogue's link_facts), taken in
one fixed order, the one these forms have always printed in: events by date
(undated first), then path; then day pages in the order of the walk; then the parts of files
over the size limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsarc import cores
from newsarc.model import Event

if TYPE_CHECKING:
    from newsarc.archive import Archive
    from newsarc.features.linkcheck.checks import Sources

_BATCH = 256  # files a process parses before it sends their answers
_PARALLEL_FILES = 2000  # below this, forking costs more than it saves


def every_file(archive: Archive, src: Sources, reduce: Callable[[Event], Any], *, over_limit: bool = True) -> Iterator[tuple[str, Any]]:
    """(path, reduce(its event)) for every readable file of `src`, in `order`'s order for the whole
    scope (the order of `src.docs` for PATHS); then, with `over_limit`, for each part of the files
    over the size limit (over_limit.streamed). `reduce` must return plain values (marshal): it runs in
    the process that parsed the file, and gets skipped events too (a file gone since the glance)."""
    facts = _glanced(src)
    if facts is None:
        yield from ((doc.path, reduce(doc)) for doc in src.docs)
        unreadable = src.unreadable
    else:
        paths = facts.paths
        yield from parsed(archive.root, [paths[k] for k in order(facts)], reduce)
        unreadable = sorted(src.unreadable, key=lambda doc: walk_key(doc.path))
    if over_limit:
        from newsarc.features.linkcheck.over_limit import streamed

        yield from ((part.path, reduce(part)) for part in streamed(archive.root, unreadable))


def _glanced(src: Sources) -> Any:
    """The glance's (or the catalogue's) facts behind `src` when it is the whole scope; None for PATHS
    (their events are parsed already) and for sources made by hand."""
    columns = src.columns
    if not src.whole or columns is None or columns.index is None:
        return None
    return columns.index


def order(facts: Any) -> list[int]:
    """Positions of the files of `facts` (linkfacts.Facts or the catalogue's) in the forms' order:
    events by (date or the first day, path), then day pages as the walk meets them."""
    paths, pages = facts.paths, facts.pages
    events = [k for k in range(len(paths)) if not pages[k]]
    days = {k: _ordinal(facts.day(k)) for k in events}
    events.sort(key=lambda k: (days[k], paths[k]))
    return events + sorted((k for k in range(len(paths)) if pages[k]), key=lambda k: walk_key(paths[k]))


def _ordinal(day: Any) -> int:
    return day.toordinal() if day else 1  # undated: date.min's ordinal, as sort_key puts them first


def walk_key(path: str) -> tuple:
    """Where the walk (Archive._walk_folder) meets a file: a folder's files first, by name from last
    to first, then its folders by name, each walked whole. The catalogue's rows are not in that
    order once an update added files."""
    *folders, name = path.split("/")
    return (*((1, folder) for folder in folders), (0, _Descending(name)))


class _Descending(str):
    """A name that sorts after the names before it."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


def parsed(root: Path, paths: Sequence[str], reduce: Callable[[Event], Any]) -> Iterator[tuple[str, Any]]:
    """(path, reduce(its event)) for each of `paths` (relative to `root`), in order, parsed on every
    core a batch at a time."""
    from newsarc.reading.parser import read_event

    batches = -(-len(paths) // _BATCH)

    def batch(k: int) -> list:
        return [reduce(read_event(root / path, path)) for path in paths[k * _BATCH : (k + 1) * _BATCH]]

    processes = cores.workers() if len(paths) >= _PARALLEL_FILES else 1
    for k, answers in enumerate(cores.stream(batch, batches, processes)):
        yield from zip(paths[k * _BATCH : (k + 1) * _BATCH], answers)
