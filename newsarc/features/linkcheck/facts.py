"""What validate-links needs of every file, read straight from disk: no index, no full parse.

A first validate-links (a CI job without a restored cache, `--no-cache`)
must not pay for an index it will not use. Most files of an archive have
nothing to report: every link they write is "/" + the path of a file of the
archive, or http(s); their date line names their folder's day. For such a
file the checks need only its headline, its date and its link counts (and a
day page the files it lists), which a glance at its text gives.

`glance` is deliberately narrow, like the parser's fast path: it reads a file only when
no CommonMark rule could make the links it sees differ from the links the
full parser finds (no code, HTML, escapes, images, reference definitions,
indented or setext lines, and every `](` the start of a plain inline link).
Anything else, and every file the glance cannot call quiet, is read by the
full parser, so the findings are exactly those of the index's path; only the
time differs. tests/features/linkcheck/test_facts.py compares both on every file.

Every core works (`scan`): the walk in pieces (Archive.walk_unindexed), then
the files in chunks, each process taking the next chunk when done with its
last (cores.pull). The glance needs every file's path before it can judge a
link, so the walk comes first. Most files are in the usual layout, which
`_usual_links` reads in fewer passes than the general way.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import stat
from collections.abc import Iterable, Sequence
from itertools import compress, filterfalse
from pathlib import Path
from typing import TYPE_CHECKING

from newsarc import cores
from newsarc.index.cache import no_gc
from newsarc.reading.limits import max_file_size
from newsarc.model import DATE, Event, Link

if TYPE_CHECKING:
    from newsarc.archive import Archive

# Bytes after which CommonMark may read links differently from the pattern below: code, HTML
# and autolinks, escapes, emphasis with `*`, tildes, tabs and control characters (NUL, CR: such
# files have diagnostics or other line ends; the parser reads them), and `!` for images.
# translate() deletes every other byte: what is left says whether any is there.
_UNSAFE = b"`\\<>*~!" + bytes(range(32)).replace(b"\n", b"") + b"\x7f"
_PLAIN = bytes(b for b in range(256) if b not in _UNSAFE + b"[]")  # translate() keeps the brackets too: they are counted
# Line starts that change what a link is (indented code) or what the headings are (setext
# underlines, a heading inside a list item); matched after a "\n" put before the text.
_ODD_LINE = re.compile(r"\n(?: |[=-]+ *(?:\n|\Z)|(?:[-+]|\d{1,9}[.)]) +#)")
_LINK = re.compile(r"\[[^\[\]\n]*\]\(([^\s()<>&]*)\)")  # an inline link: its destination
# Blank lines, an optional date line and blank lines, then the headline.
_HEAD = re.compile(r"\n*(?:### \[([^\[\]\n&_]*)\]\(([^\s()<>&]*)\)\n\n*)?# ([^\n]*)")
# What follows the headline in the usual layouts: no heading in the body, a Source and a Related
# list (each item linked); on a day page, no heading at all. Their lines never start with a space,
# `=`, `-` or `+`, and only items with a digit: no _ODD_LINE can be there, and no _sections_linked
# is needed.
_LINE = r"[^#\n \-=+0-9][^\n]*"
_LINKED_ITEM = r"\d{1,9}[.)] \[[^\n]*\]\([^\n]*"
_EVENT = re.compile(
    rf"\n(?:{_LINE}\n|\n)*### Source:\n(?:{_LINKED_ITEM}\n|\n)*(?:### Related:\n(?:{_LINKED_ITEM}\n|\n)*)?\Z"
)
_PAGE = re.compile(rf"(?:\n(?:{_LINKED_ITEM}|{_LINE})|\n)*\Z")
# The usual layout, found faster (_usual_links): where the body ends ("### Source:", or a line
# _EVENT refuses there: then the text is not in this layout), and each line after
# "### Source:" (of a day page, after its headline): a linked item (its destination, up to the first
# ")"), a blank line or "### Related:".
_BODY_END = re.compile(r"\n(?:### Source:\n|[# \-=+0-9])")
_SOURCE_LINE = len("\n### Source:\n")
_USUAL_ITEM = r"[0-9]{1,9}[.)] \[[^\n]*\]\(([^)]+)\)[^\n]*"
_EVENT_TAIL = re.compile(rf"\n(?:{_USUAL_ITEM}|### Related:(?=\n)|(?=\n|\Z))")
_PAGE_TAIL = re.compile(rf"\n(?:{_USUAL_ITEM}|(?=\n|\Z))")
_HEADING = re.compile(r"\n#{1,6}(?:[ ][^\n]*)?(?=\n|\Z)")  # an ATX heading line, with the newline before it
_ITEMS = re.compile(r"(?:\n(?:(?:[-+]|\d{1,9}[.)]) [^\n]*\]\([^\n]*)?)*\n?")  # blank lines and linked items
_MARKUP = re.compile(r"[\[\]_&]")
_PARSER_FIRST = (b"---", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # front matter, byte order marks: the parser reads those
_HTTP = ("http://", "https://")
_SECTIONS = ("source", "sources", "related")


class Facts:
    """The columns links.Columns reads of an index, made by a glance at every file.

    Position k is the k-th readable file; `loud` maps the positions the
    checker must read to their parsed event (the others are never parsed)."""

    memo = None  # where check_folders' answer is kept: (recall, keep) when the catalogue made these (catalog.py)

    def __init__(self, paths: list[str], columns: list[list], loud: dict[int, Event]):
        """`columns`: the glance rows' fields, a list each (`_ROW_FIELDS`); a loud file's come from its
        event (`loud_row`)."""
        self.paths = paths
        self.pages, self.titles, ordinals, internal, http, listed = columns
        days: dict[int, dt.date | None] = {day: dt.date.fromordinal(day) for day in set(ordinals) if day}  # a few thousand
        days[0] = None
        self.days = list(map(days.__getitem__, ordinals))
        self.lists = dict(zip(compress(range(len(paths)), self.pages), compress(listed, self.pages)))  # day page -> the files it links to
        self.loud = loud
        self.internal, self.http = sum(internal), sum(http)  # a loud file's row counts none

    def quiet(self) -> tuple[list[int], int, int]:
        """links.Columns.quiet: the positions of the files the checker reads, and the (internal, http)
        links of the others."""
        return sorted(self.loud), self.internal, self.http

    def day(self, k: int) -> dt.date | None:
        return self.days[k]

    def listed(self, k: int) -> tuple[str, ...]:
        return self.lists.get(k, ())


def loud_row(event: Event) -> tuple:
    """A row for a file the checker reads itself: its columns, no link counts (it counts them)."""
    from newsarc.archive import day_page_targets

    listed = tuple(day_page_targets(event)) if event.is_day_page else ()
    return (event.is_day_page, event.title, event.date.toordinal() if event.date else 0, 0, 0, listed)


class Docs(Sequence[Event]):
    """The readable files as events, parsed when asked for (the checker asks for the loud ones, and
    for the targets of #fragment links)."""

    def __init__(self, root: Path, facts: Facts):
        self.root, self.facts = root, facts

    def __len__(self) -> int:
        return len(self.facts.paths)

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        event = self.facts.loud.get(k)
        if event is None:
            from newsarc.reading.parser import read_event

            path = self.facts.paths[k]
            event = read_event(self.root / path, path)
        return event


def scan(archive: Archive) -> tuple[Docs, list[Event], Facts] | None:
    """Every file of the archive's scope, walked (Archive.walk_unindexed, in pieces on every core) and
    glanced at on every core: (readable docs, unreadable, facts); None when the archive's events were
    read already (walk_unindexed says when)."""
    with no_gc():  # 110k paths, rows and their strings, none in a cycle: the workers fork with collection off too
        return _scan(archive)


def _scan(archive: Archive) -> tuple[Docs, list[Event], Facts] | None:
    processes = cores.workers()
    files = archive.walk_unindexed(processes)
    if files is None:
        return None
    known = plain_links(rel for _, rel in files)
    if len(files) < _PARALLEL_FILES:
        processes = 1
    limit = max_file_size()
    dated: dict = {}  # each process's own (a child's copy is filled there): the events of a day share it
    chunks = -(-len(files) // _CHUNK)

    def chunk(k: int) -> tuple[list, list]:
        """The glance rows of the files in chunk k as columns (`_ROW_FIELDS`), and (position in the
        chunk, event pickled) of each file the checker reads (its row a placeholder): marshal takes
        plain values only, and the event must come out as the parser made it (front matter and all)."""
        rows, events = [], []
        for i, (path, rel) in enumerate(files[k * _CHUNK : (k + 1) * _CHUNK]):
            row, event = _look(path, rel, known, dated, limit)
            if row is None:
                events.append((i, pickle.dumps(event, pickle.HIGHEST_PROTOCOL)))
                row = _NO_ROW
            rows.append(row)
        return list(zip(*rows)), events

    parts = cores.pull(chunk, chunks, processes)
    columns: list[list] = [[] for _ in range(_ROW_FIELDS)]
    special: dict[int, Event] = {}
    for values, events in parts:
        for i, event in events:
            special[len(columns[0]) + i] = pickle.loads(event)
        for column, part in zip(columns, values):
            column.extend(part)
    paths = [rel for _, rel in files]
    loud, unreadable = {}, []
    if any(event.skipped for event in special.values()):  # unreadable files have no place in the columns
        gone = {i for i, event in special.items() if event.skipped}
        unreadable = [special[i] for i in sorted(gone)]
        kept = [i for i in range(len(paths)) if i not in gone]
        paths = [paths[i] for i in kept]
        columns = [[column[i] for i in kept] for column in columns]
        special = {k: special[i] for k, i in enumerate(kept) if i in special}
    for k in sorted(special):
        loud[k] = event = special[k]
        for column, value in zip(columns, loud_row(event)):
            column[k] = value
    facts = Facts(paths, columns, loud)
    return Docs(archive.root, facts), unreadable, facts


def _look(path: str, rel: str, known: set[str], dated: dict, limit: int) -> tuple[tuple | None, Event | None]:
    """(a quiet file's row, None), or (None, the event the checker reads: the file parsed, or skipped
    as the parser skips it)."""
    data = _read(path, limit)
    if data is None:  # the parser's rules say why
        from newsarc.reading.parser import read_event

        return None, read_event(Path(path), rel)
    row = glance(data, rel, known, dated)
    if row is not None:
        return row, None
    from newsarc.reading.parser import parse_bytes

    event = parse_bytes(data, rel)
    row = parsed_row(event, known)
    return (row, None) if row is not None else (None, event)


def _read(path: str, limit: int) -> bytes | None:
    """A file's bytes; None when it cannot be opened or read, is not a regular file or is over the size
    limit. One read for most files: no fstat, no buffered reader (0.1 s less CPU at 100k files)."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return None
    try:
        data = os.read(fd, _FIRST_READ)
        if len(data) == _FIRST_READ:  # a large file: read as its size says
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or 0 < limit < info.st_size:
                return None
            data += os.read(fd, max(1, info.st_size + 1 - len(data)))
            if len(data) > info.st_size:
                return None  # changing while we read: the parser reads it as it is then
    except OSError:
        return None
    finally:
        os.close(fd)
    return None if 0 < limit < len(data) else data


def parsed_row(event: Event, known: set[str]) -> tuple | None:
    """The row of a file the parser read, when it is quiet (archive.link_facts) and every link it
    writes is plain; None when the checker must read it."""
    from newsarc.archive import day_page_targets, link_facts

    if event.skipped:
        return None
    count, http, written, quiet = link_facts(event)
    if not quiet or written and not all(target in known for target in written.split("\0")):
        return None
    listed = tuple(day_page_targets(event)) if event.is_day_page else ()
    title = "" if event.is_day_page else event.title
    return (event.is_day_page, title, event.date.toordinal() if event.date else 0, count - http, http, listed)


def plain_links(paths: Iterable[str]) -> set[str]:
    """The links written exactly as links.Site.plain wants them: "/" + the path of a file of the
    archive, with no '%', '?' or '#' to decode or cut."""
    return {"/" + path for path in paths if "%" not in path and "?" not in path and "#" not in path}


def glance(data: bytes, rel: str, known: set[str], dated: dict | None = None) -> tuple | None:
    """(day page, headline, day ordinal, internal links, http links, files listed) of a quiet file;
    None when the full parser must read it: anything unusual, or anything to report. `known`:
    plain_links() of every file of the archive.

    `dated` keeps the verdict on each folder's date line across calls (the
    events of a day share it)."""
    if not data or data.startswith(_PARSER_FIRST):
        return None
    odd = data.translate(None, _PLAIN)  # the unsafe bytes and the brackets
    closed = odd.count(b"]")
    if len(odd) != closed + odd.count(b"["):
        unsafe = odd.translate(None, b"[]")
        if unsafe.strip(b"!") or b"![" in data:
            return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    page = rel.endswith("/index.md") or rel == "index.md"
    head = _head(text, page)
    if head is None:
        return None
    title, date_link, after = head
    links = _usual_links(text, page, date_link, after, closed)
    if links is None:
        links = _LINK.findall(text)
        if closed != len(links) and ("]:" in text or text.count("](") != len(links)):
            # Every "](" must start a plain inline link's destination (not a title, a nested bracket,
            # a link across lines), and "]:" may end a reference definition, which makes `[label]` a
            # link. When each "]" is some link's, neither can be there: one count says so.
            return None
        if not (_PAGE if page else _EVENT).match(text, after):
            if _ODD_LINE.search("\n" + text) or not _sections_linked(text, after):
                return None
    outside = list(filterfalse(known.__contains__, links))
    for target in outside:
        if not target.startswith(_HTTP):
            return None
    http = len(outside)
    day = _day(rel, page, date_link, {} if dated is None else dated)
    if day is None:
        return None
    listed = tuple(dict.fromkeys(t[1:] for t in links if t[:1] == "/")) if page else ()  # as day_page_targets
    return (page, title, day, len(links) - http, http, listed)


def _usual_links(text: str, page: bool, date_link: tuple[str, str] | None, after: int, brackets: int) -> list[str] | None:
    """The destinations _LINK.findall finds, in the usual layout (what _EVENT or _PAGE matches, with
    every link on a list item of its own), found in fewer passes over the text; None when the text
    is not in that layout exactly (`glance` then looks the slow way).

    An event: after the headline, body lines none of which _BODY_END finds, "### Source:", then only
    blank lines, linked items and one "### Related:"; a day page: only blank lines and linked items.
    Each line is one match of _EVENT_TAIL (_PAGE_TAIL) when as many matches as line breaks are found
    (a destination across lines leaves one unmatched; each alternative takes its whole line).
    `brackets`: how many "]" the text holds; when that is the date line's and one per item, no other
    "]" is anywhere: no link can close in the body or after an item's link, and _LINK finds each
    item's link (a "[" with no "]" before it only moves where its text starts, for CommonMark too).
    Its destination is _LINK's when it holds no space, "(", "&" (nor "<", ">" or a control
    character: the glance refuses those) and only ASCII (no other kind of space)."""
    if page:
        start = after
        items = _PAGE_TAIL.findall(text, start)
    else:
        body_end = _BODY_END.search(text, after)  # "### Source:", or a line _EVENT refuses before it
        if body_end is None or body_end.end() - body_end.start() != _SOURCE_LINE or text[-1] != "\n":
            return None
        start = body_end.end() - 1  # the line break after "### Source:"
        items = _EVENT_TAIL.findall(text, start)
        related = text.find("\n###", start)
        if related >= 0 and text.find("\n###", related + 4) >= 0:
            return None
    if len(items) != text.count("\n", start):
        return None
    links = list(filter(None, items))  # the blank lines and "### Related:" match with no destination
    if date_link is not None:
        links.insert(0, date_link[1])
    if len(links) != brackets:
        return None
    joined = "".join(links)
    if not joined.isascii() or " " in joined or "(" in joined or "&" in joined:
        return None
    return links


def _head(text: str, page: bool) -> tuple[str, tuple[str, str] | None, int] | None:
    """(headline, date line (text, target), where the text after the headline starts) when the
    file opens as the parser's fast path reads it: an optional `### [date](link)` line, then
    `# headline`. A day page's headline is not checked (nor kept); an event's must read the same
    to both parsers."""
    match = _HEAD.match(text)
    if match is None:
        return None
    date_text, date_target, line = match.groups()
    title = ""
    if not page:
        if _MARKUP.search(line) or line.rstrip().endswith(("#", "}")):
            return None
        title = " ".join(line.split())
        if not title:
            return None
    date_line = (date_text.strip(), date_target) if date_target is not None else None
    return title, date_line, match.end()


def _sections_linked(text: str, start: int) -> bool:
    """Every item of a Source or Related section holds a link (the parser reports one without);
    headings whose name could be read differently send the file to the parser."""
    headings = _headings(text, start)
    for n, (begin, end) in enumerate(headings):
        content = text[begin:end]
        if _MARKUP.search(content):
            return False
        name = content.strip("# ").rstrip(":").strip().lower()
        if name not in _SECTIONS:
            if "source" in name or "related" in name:
                return False
            continue
        stop = headings[n + 1][0] if n + 1 < len(headings) else len(text)
        match = _ITEMS.match(text, end, stop)
        if match is None or match.end() != stop:
            return False
    return True


def _headings(text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) of each ATX heading line after `start`."""
    return [(m.start() + 1, m.end()) for m in _HEADING.finditer(text, start)]


def _day(rel: str, page: bool, date_line: tuple[str, str] | None, dated: dict) -> int | None:
    """The day ordinal the parser settles on (0: none) when nothing about the dates is to report;
    None otherwise."""
    folder = rel.rpartition("/")[0]
    key = (folder, page, date_line)
    if key not in dated:
        from newsarc.archive import _dates_agree
        from newsarc.reading.parser import _settle_date

        links = [Link(date_line[1], date_line[0], 0, 5, DATE)] if date_line else []
        event = Event(path=rel, is_day_page=page, links=links)
        _settle_date(event, date_line[0] if date_line else None, 1)
        quiet = not event.diagnostics and (page or _dates_agree(event))
        dated[key] = (event.date.toordinal() if event.date else 0) if quiet else None
    return dated[key]


_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)  # a FIFO put there never blocks us
_PARALLEL_FILES = 2000  # below this, forking costs more than it saves
_ROW_FIELDS = 6  # of a glance row: (day page, headline, day ordinal, internal links, http links, files listed)
_NO_ROW = (False, "", 0, 0, 0, ())  # the place of a file the checker reads (loud_row fills it)
_CHUNK = 128  # files a process glances at before taking the next chunk (cores.pull)
_FIRST_READ = 1 << 16  # most files are read whole by one read of this size
