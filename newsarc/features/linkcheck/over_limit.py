"""Files over the size limit, read a part at a time for their links (parser.stream_links).

The checks (checks.py) judge the links of each part; --dump and --external (every_link.py)
list them. Apart from both, so that neither imports the other for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from newsarc.model import Event
from newsarc.reading.limits import max_file_size, over_limit
from newsarc.reading.parser import CannotStream, stream_links


def parts_over_limit(root: Path, path: str) -> Iterator[Event] | None:
    """A file over the size limit as events holding the links of one part each (parser.stream_links);
    None when the file is not over the limit. Raises OSError or CannotStream."""
    file = root / path
    if not over_limit(os.stat(file).st_size):
        return None
    return (Event(path=path, links=part) for part in stream_links(file, path, _part_size(max_file_size())))


def streamed(root: Path, unreadable: Iterable[Event]) -> Iterator[Event]:
    """The parts of the skipped files that are over the size limit (for --dump and --external);
    those that cannot be streamed are left out: the checker reports them."""
    for doc in unreadable:
        try:
            yield from parts_over_limit(root, doc.path) or ()
        except (OSError, CannotStream):
            continue


def _part_size(limit: int) -> int:
    """How much of a file over the size limit is parsed at a time: a quarter of the limit, at most 1 MB."""
    return max(4096, min(1 << 20, limit // 4))
