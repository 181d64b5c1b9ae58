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
time differs. tests/features/test_linkfacts.py compares both on every file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Iterable, Sequence
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
_SAFE = bytes(b for b in range(256) if b not in _UNSAFE)
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
_HEADING = re.compile(r"\n#{1,6}(?:[ ][^\n]*)?(?=\n|\Z)")  # an ATX heading line, with the newline before it
_ITEMS = re.compile(r"(?:\n(?:(?:[-+]|\d{1,9}[.)]) [^\n]*\]\([^\n]*)?)*\n?")  # blank lines and linked items
_MARKUP = re.compile(r"[\[\]_&]")
_SECTIONS = ("source", "sources", "related")
_QUIET, _LOUD = 1, 0


class Facts:
    """The columns links.Columns reads of an index, made by a glance at every file.

    Position k is the k-th readable file; `loud` maps the positions the
    checker must read to their parsed event (the others are never parsed)."""

    stored = False  # nothing here is kept on disk: no memo of check_folders either

    def __init__(self, paths: list[str], rows: list[tuple], loud: dict[int, Event]):
        """`rows`: each file's glance row; a loud file's row comes from its event (`loud_row`)."""
        self.paths = paths
        self.pages = [row[0] for row in rows]
        self.titles = [row[1] for row in rows]
        days: dict[int, dt.date | None] = {0: None}  # a few thousand days for 100k files
        self.days = [days[row[2]] if row[2] in days else days.setdefault(row[2], dt.date.fromordinal(row[2])) for row in rows]
        self.links_ok = bytearray(_QUIET for _ in rows)
        self.link_counts = [count for row in rows for count in row[3:5]]  # (internal, http) per file, flat
        self.lists = {k: row[5] for k, row in enumerate(rows) if row[0]}  # day page -> the files it links to
        self.loud = loud
        for k in loud:
            self.links_ok[k] = _LOUD

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


def scan(archive: Archive, files: list[tuple[str, str]]) -> tuple[Docs, list[Event], Facts]:
    """Every file (path, relpath) of the archive's scope (Archive.walk_unindexed), glanced at on
    every core: (readable docs, unreadable, facts)."""
    known = plain_links(rel for _, rel in files)
    count = cores.workers() if len(files) >= _PARALLEL_FILES else 1

    limit = max_file_size()

    def part(items: Sequence[tuple[str, str]]) -> list:
        dated: dict = {}
        return [_glance_file(path, rel, known, dated, limit) for path, rel in items]

    with no_gc():  # 110k rows and their strings, none in a cycle: the workers fork with collection off too
        rows = [row for found in cores.fan_out(part, cores.split(files, count)) for row in found]
    from newsarc.reading.parser import read_event

    paths, kept, loud, unreadable = [], [], {}, []
    for (path, rel), row in zip(files, rows):
        if row is None:
            event = read_event(Path(path), rel)
            if event.skipped:
                unreadable.append(event)
                continue
            loud[len(kept)] = event
            row = loud_row(event)
        paths.append(rel)
        kept.append(row)
    facts = Facts(paths, kept, loud)
    return Docs(archive.root, facts), unreadable, facts


def _glance_file(path: str, rel: str, known: set[str], dated: dict, limit: int) -> tuple | None:
    """A quiet file's row (glance, or parsed_row when the glance cannot say); None when the checker must read it."""
    try:
        fd = os.open(path, _READ)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or 0 < limit < info.st_size:
            return None
        data = os.read(fd, info.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > info.st_size:
        return None  # growing while we read: the parser reads it as it is then
    row = glance(data, rel, known, dated)
    if row is None:
        from newsarc.reading.parser import parse_bytes

        row = parsed_row(parse_bytes(data, rel), known)
    return row


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
    archive, with no '%', '?' or '#' to decode or cut (store._plain's rule too)."""
    return {"/" + path for path in paths if "%" not in path and "?" not in path and "#" not in path}


def glance(data: bytes, rel: str, known: set[str], dated: dict | None = None) -> tuple | None:
    """(day page, headline, day ordinal, internal links, http links, files listed) of a quiet file;
    None when the full parser must read it: anything unusual, or anything to report. `known`:
    plain_links() of every file of the archive.

    `dated` keeps the verdict on each folder's date line across calls (the
    events of a day share it)."""
    if not data or data[:3] in (b"---", b"\xef\xbb\xbf") or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    odd = data.translate(None, _SAFE)
    if odd and (odd.strip(b"!") or b"![" in data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    links = _LINK.findall(text)
    if text.count("]") != len(links) and ("]:" in text or text.count("](") != len(links)):
        # Every "](" must start a plain inline link's destination (not a title, a nested bracket,
        # a link across lines), and "]:" may end a reference definition, which makes `[label]` a
        # link. When each "]" is some link's, neither can be there: one count says so.
        return None
    page = rel.endswith("/index.md") or rel == "index.md"
    head = _head(text, page)
    if head is None:
        return None
    title, date_link, after = head
    if not (_PAGE if page else _EVENT).match(text, after):
        if _ODD_LINE.search("\n" + text) or not _sections_linked(text, after):
            return None
    http = 0
    for target in links:
        if target not in known:
            if target[:4] != "http" or not target.startswith(("http://", "https://")):
                return None
            http += 1
    day = _day(rel, page, date_link, {} if dated is None else dated)
    if day is None:
        return None
    listed = tuple(dict.fromkeys(t[1:] for t in links if t[:1] == "/")) if page else ()  # as day_page_targets
    return (page, title, day, len(links) - http, http, listed)


def _head(text: str, page: bool) -> tuple[str, tuple[str, str] | None, int] | None:
    """(headline, date line (text, target), where the text after the headline starts) when the
    file opens as the parser's fast path reads it: an optional `### [date](link)` line, then
    `# headline`. A day page's headline is not checked (nor kept); an event's must read the same
    to both parsers."""
    match = _HEAD.match(text)
    if match is None:
        return None
    title = ""
    if not page:
        line = match.group(3)
        if _MARKUP.search(line) or line.rstrip().endswith(("#", "}")):
            return None
        title = " ".join(line.split())
        if not title:
            return None
    date_line = (match.group(1).strip(), match.group(2)) if match.group(2) is not None else None
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
