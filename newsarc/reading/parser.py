"""Turn one event file (or day page) into an `Event`, never raising.

The Markdown is read by pyromark (pulldown-cmark): a real CommonMark parser
finds every link form (inline, angle brackets, reference style, images) and
skips code spans, fenced code and HTML comments, which hand-written regexes
get wrong; `href`, `src` and `srcset` in raw HTML are read too (html_links.py), as lychee does. One
pass over its events builds the whole record, so a file is parsed once.
"""

from __future__ import annotations

import html
import os
import re
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyromark

from newsarc.reading import dates, html_links, fastpath
from newsarc.reading.limits import SIZE_VARIABLE, human_size, max_file_size, over_limit
from newsarc.model import (
    BODY,
    COVER,
    DATE,
    FRONT_MATTER,
    IMAGE,
    RELATED,
    SOURCE,
    Diagnostic,
    Event,
    Heading,
    Link,
    Related,
    Source,
    anchor,
)
from newsarc.reading.topic_names import split_topics

# python-frontmatter's own boundary rule: a line of three dashes.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)
_LEVELS = {"H1": 1, "H2": 2, "H3": 3, "H4": 4, "H5": 5, "H6": 6}
_SECTIONS = {"source": "sources", "sources": "sources", "related": "related"}
_MAX_FRONT_MATTER = 64 * 1024  # bigger blocks are not metadata; refusing them bounds alias bombs
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]+:")  # archive.resolve_written's rule: a link out of the archive

DAY_PAGE = "index.md"
def too_big(relpath: str, size: int, limit: int) -> Diagnostic:
    shown = f"{size / (1 << 20):.1f} MB"
    return Diagnostic(
        relpath, 0, f"file is {shown}, over the {human_size(limit)} limit; its content is skipped (set {SIZE_VARIABLE} to read it)"
    )


def read_limited(file: Path | str, relpath: str, diagnostics: list[Diagnostic]) -> bytes | None:
    """A file's bytes; None, with the reason in `diagnostics`, when it cannot be read or is over the size limit."""
    try:
        with open(file, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if over_limit(size):
                diagnostics.append(too_big(relpath, size, max_file_size()))
                return None
            return handle.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        diagnostics.append(Diagnostic(relpath, 0, f"cannot read file: {reason}; skipped", "error"))
        return None


def read_event(file: Path, relpath: str) -> Event | None:
    """Read and parse a file; a skipped Event (with the reason in `diagnostics`) when unreadable."""
    diagnostics: list[Diagnostic] = []
    data = read_limited(file, relpath, diagnostics)
    if data is None:
        return skipped_event(relpath, diagnostics)
    return parse_bytes(data, relpath)


def skipped_event(relpath: str, diagnostics: list[Diagnostic]) -> Event:
    """A file not read as an event: only its path and why (`diagnostics`) are meaningful."""
    return Event(path=relpath, diagnostics=diagnostics, skipped=True)


def decode(data: bytes, relpath: str, diagnostics: list[Diagnostic]) -> str | None:
    """Bytes to text the way a lenient reader should: BOMs, UTF-16, bad bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            diagnostics.append(Diagnostic(relpath, 0, "UTF-16 byte order mark but invalid UTF-16; skipped", "error"))
            return None
        diagnostics.append(Diagnostic(relpath, 0, "file is UTF-16; read it, but save it as UTF-8"))
        return text
    if b"\x00" in data:
        if _binary(data):
            diagnostics.append(Diagnostic(relpath, 0, "binary file (contains NUL bytes); skipped", "error"))
            return None
        data = _without_nul(data, relpath, diagnostics)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        diagnostics.append(
            Diagnostic(
                relpath,
                line,
                f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); undecodable bytes shown as \ufffd",
                "error",
            )
        )
        return data.decode("utf-8", "replace")


def _binary(data: bytes) -> bool:
    """NUL bytes in what is not UTF-8 text, or more than one byte in a hundred (UTF-16 or -32
    without a byte order mark): not a text file with a stray NUL, whose links can still be read."""
    if data.count(b"\x00") * 100 > len(data):
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _without_nul(data: bytes, relpath: str, diagnostics: list[Diagnostic]) -> bytes:
    """CommonMark's rule: U+0000 is read as U+FFFD (byte offsets after it move by two, as after
    invalid UTF-8; --fix refuses such a file)."""
    line = data.count(b"\n", 0, data.index(b"\x00")) + 1
    count = data.count(b"\x00")
    diagnostics.append(Diagnostic(relpath, line, f"text contains NUL bytes ({count}); read as U+FFFD", "error"))
    return data.replace(b"\x00", "\ufffd".encode())


def parse_bytes(data: bytes, relpath: str) -> Event:
    diagnostics: list[Diagnostic] = []
    text = decode(data, relpath, diagnostics)
    if text is None:
        return skipped_event(relpath, diagnostics)
    event = parse_text(text, relpath)
    event.diagnostics[:0] = diagnostics
    return event


def parse_text(text: str, relpath: str, *, quick: bool = True) -> Event:
    """Parse decoded text. Positions are relative to `text.encode()`.

    `quick=False` skips the canonical-layout fast path (fastpath.py), which
    tests use as the reference the fast path must agree with."""
    event = Event(path=relpath, is_day_page=relpath.rsplit("/", 1)[-1] == DAY_PAGE)
    if not text.strip():
        # No date from its folder either: an empty file is no event, and a dated one was
        # listed by list-by-date and timeline with a blank headline.
        event.diagnostics.append(Diagnostic(relpath, 0, "empty file"))
        return event
    raw = text.encode()
    lines = _LineIndex(raw)
    offset, block = _read_front_matter(text, event, lines)
    markdown = raw[offset:].decode() if offset else text
    found = None
    if quick and not event.is_day_page:
        found = fastpath.parse(event, markdown, offset, lines.position(offset)[0])
    if found is None:
        walker = _Walker(event, raw, offset, lines)
        walker.run(markdown)
        found = (walker.date_text, walker.date_line)
    _apply_front_matter(event, block, lines)
    _settle_date(event, *found)
    if not event.title and not event.is_day_page:
        event.diagnostics.append(Diagnostic(relpath, 0, "no headline ('# ...' line)"))
    return event


class CannotStream(Exception):
    """Why a file over the size limit could not have its links read a part at a time."""


_FRONT_MATTER_BYTES = re.compile(rb"\A---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)


def stream_links(file: Path | str, relpath: str, chunk: int = 1 << 20) -> Iterator[list[Link]]:
    """The links of a file too big to parse whole, a list per part of about `chunk` bytes.

    Parts are cut at blank lines (else at line ends), which no CommonMark link
    spans, and the front matter stays in the first part; so each part parses
    as it would inside the file, and memory stays a few times `chunk`. Reference
    definitions are gathered by a first pass, and each part gets those of other
    parts it names (after its text: nothing in it moves). What is lost: a code
    block with blank lines cut in two (its second half is read as text), and a
    `[label]: url` line inside a paragraph is taken for a definition. Links carry
    no destination span: --fix leaves such a file alone.
    Raises OSError, or CannotStream for a file that is not UTF-8 text."""
    with open(file, "rb") as handle:
        head = handle.read(4)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise CannotStream("UTF-16 file over the size limit")
        skip = 3 if head.startswith(b"\xef\xbb\xbf") else 0  # positions count from after a BOM, as parse_bytes'
        handle.seek(skip)
        definitions = _definitions(handle, chunk)
        handle.seek(skip)
        first = True
        for offset, line, data in _parts(handle, chunk):
            if b"\x00" in data and _binary(data):
                raise CannotStream("binary file (contains NUL bytes)")
            data += _borrowed(data, definitions)
            text = data.replace(b"\x00", "\ufffd".encode()).decode("utf-8", "replace")
            yield _part_links(text, relpath, first, offset, line)
            first = False


_DEFINITION = re.compile(rb"^ {0,3}\[([^\]\n]{1,999})\]:[^\n]*", re.M)
_BRACKETED = re.compile(rb"\[([^\]\n]{1,999})\]")
_MAX_DEFINITIONS = 100_000  # kept in memory for the second pass; more are not looked for in other parts


def _label(raw: bytes) -> str:
    """CommonMark's label matching: case folded, runs of whitespace as one space."""
    return " ".join(raw.decode("utf-8", "replace").casefold().split())


def _definitions(handle, chunk: int) -> dict[str, bytes]:
    """label -> the line that defines it (the first), over the whole file, a part at a time."""
    found: dict[str, bytes] = {}
    for _, _, data in _parts(handle, chunk):
        for match in _DEFINITION.finditer(data):
            key = _label(match.group(1))
            if key and key not in found and len(found) < _MAX_DEFINITIONS:
                found[key] = match.group(0)
    return found


def _borrowed(data: bytes, definitions: dict[str, bytes]) -> bytes:
    """The definitions of other parts that this part names, as lines to put after it."""
    if not definitions:
        return b""
    own = {_label(match.group(1)) for match in _DEFINITION.finditer(data)}
    wanted: dict[str, bytes] = {}
    for match in _BRACKETED.finditer(data):
        key = _label(match.group(1))
        if key in definitions and key not in own:
            wanted.setdefault(key, definitions[key])
    return b"\n\n" + b"\n".join(wanted.values()) + b"\n" if wanted else b""


def _parts(handle, chunk: int) -> Iterator[tuple[int, int, bytes]]:
    """(byte offset, first line, bytes) of each part of a file, cut by `_cut`."""
    pending, offset, line, least = b"", 0, 1, 0
    while True:
        block = handle.read(chunk)
        data = pending + block if pending else block
        if not block:
            if data:
                yield offset, line, data
            return
        if offset == 0 and data.startswith(b"---"):
            match = _FRONT_MATTER_BYTES.match(data[: _MAX_FRONT_MATTER + 1024])
            least = match.end() if match else 0
        cut = _cut(data, chunk, least - offset)
        if cut == 0:
            pending = data
            continue
        part, pending = data[:cut], data[cut:]
        yield offset, line, part
        offset += cut
        line += part.count(b"\n")


def _cut(data: bytes, chunk: int, least: int) -> int:
    """Where to end a part: after the last blank line, else the last line end, but never inside a
    fenced code block (before its opening line instead); 0 to read on. A line or a code block
    longer than four parts is cut anyway, a line where a UTF-8 character starts (what spans the
    cut is lost)."""
    cut = _line_cut(data, least)
    if cut:
        fence = _open_fence(data, cut)
        if fence < 0:
            return cut
        if fence > max(least, 0):
            return fence
    if len(data) < 4 * chunk:
        return 0
    if cut:
        return cut
    cut = len(data) - 1
    while cut > 1 and data[cut] & 0xC0 == 0x80:  # a continuation byte: the character starts earlier
        cut -= 1
    return cut


def _line_cut(data: bytes, least: int) -> int:
    blank = max(data.rfind(b"\n\n"), data.rfind(b"\n\r\n"))
    if blank >= least and blank > 0:
        return blank + 1
    end = data.rfind(b"\n")
    return end + 1 if end >= least and end >= 0 else 0


_FENCE = re.compile(rb"^ {0,3}(`{3,}|~{3,})([^\n]*)", re.M)


def _open_fence(data: bytes, cut: int) -> int:
    """Where the fenced code block open at `cut` starts (its opening line); -1 when none is.
    CommonMark's rules for top-level fences: a closing fence is the same character, at least as
    long, with nothing after it; a backtick fence's info string has no backtick."""
    start, opener = -1, b""
    for match in _FENCE.finditer(data, 0, cut):
        marks, rest = match.group(1), match.group(2)
        if not opener:
            if marks[:1] == b"`" and b"`" in rest:
                continue
            start, opener = match.start(), marks
        elif marks[:1] == opener[:1] and len(marks) >= len(opener) and not rest.strip():
            start, opener = -1, b""
    return start


def _part_links(text: str, relpath: str, first: bool, offset: int, line: int) -> list[Link]:
    """One part's links, placed in the whole file: the first part is parsed as a file (its front
    matter too), the others as Markdown only."""
    if first:
        links = parse_text(text, relpath).links
    else:
        event = Event(path=relpath)
        raw = text.encode()
        walker = _Walker(event, raw, 0, _LineIndex(raw))
        walker.run(text)
        links = event.links
    for link in links:
        if link.line:
            link.line += line - 1
        link.start += offset
        link.end += offset
        link.dest_start = link.dest_end = -1
    return links


class _LineIndex:
    """Byte offset -> (line, column) in O(log n); columns count characters."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.starts = [0]
        self._last = (0, 0, 0)  # (line, offset, characters before it on that line) of the last call
        find = raw.find
        i = find(b"\n")
        while i != -1:
            self.starts.append(i + 1)
            i = find(b"\n", i + 1)

    def position(self, offset: int) -> tuple[int, int]:
        """Counting from where the last call on the same line stopped when it stopped before
        `offset` (links come in order): 160k links on one line no longer re-count its prefix each."""
        line = bisect_right(self.starts, offset)
        start, column = self.starts[line - 1], 0
        last = self._last
        if last[0] == line and last[1] <= offset:
            start, column = last[1], last[2]
        chunk = self.raw[start:offset]
        column += len(chunk) if chunk.isascii() else len(chunk.decode("utf-8", "replace"))
        self._last = (line, offset, column)
        return line, column + 1


def _read_front_matter(text: str, event: Event, lines: _LineIndex) -> tuple[int, str]:
    """Parse a leading YAML block into `event.meta`; return the body's byte offset, and
    the block when `meta` came from it (to find where its values are written)."""
    if not text.startswith("---"):
        return 0, ""
    match = _FRONT_MATTER.match(text)
    if not match:
        event.diagnostics.append(Diagnostic(event.path, 1, "front matter starts with '---' but never ends; read as Markdown"))
        return 0, ""
    block = match.group(1) or ""
    end = len(match.group(0).encode())
    if len(block) > _MAX_FRONT_MATTER:
        event.diagnostics.append(Diagnostic(event.path, 1, "front matter larger than 64 KiB; ignored"))
        return end, ""
    meta = _load_yaml(block, event)
    problem = _oversized(meta) if meta is not None else ""
    if problem:
        event.diagnostics.append(Diagnostic(event.path, 2, f"front matter {problem}; ignored"))
        return end, ""
    if isinstance(meta, dict):
        event.meta.update({str(k): v for k, v in meta.items()})
        return end, block
    if meta is not None:
        kind = type(meta).__name__
        event.diagnostics.append(Diagnostic(event.path, 2, f"front matter is a {kind}, not a mapping of keys; ignored"))
    return end, ""


def _oversized(value: Any, budget: int = 10_000, deepest: int = 50) -> str:
    """Why a front matter value is refused; "" when it is fine.

    YAML aliases share nodes, so a tiny block can expand exponentially when
    walked (the "billion laughs"); count values as a walk would visit them.
    Depth is bounded too: YAML allows 1,000 levels, and 500 nested lists
    overflowed the stack of every recursive consumer (JSON output, the cache).
    """
    stack, seen = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > budget:
            return "expands to over 10,000 values (YAML aliases?)"
        if depth > deepest:
            return f"nests more than {deepest} levels deep"
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item.keys())
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend((v, depth + 1) for v in item)
    return ""


def _load_yaml(block: str, event: Event) -> Any:
    import yaml
    from frontmatter.default_handlers import YAMLHandler  # safe loader

    try:
        return YAMLHandler().load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for the '---' line, +1 for 1-based
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        event.diagnostics.append(Diagnostic(event.path, line, f"front matter is not valid YAML ({problem}); ignored"))
    except RecursionError:
        event.diagnostics.append(Diagnostic(event.path, 1, "front matter nests too deeply; ignored"))
    except (ValueError, OverflowError, TypeError) as exc:  # valid YAML, but a value Python cannot hold: date: 2019-02-30
        line = _unreadable_value_line(block)
        event.diagnostics.append(Diagnostic(event.path, line, f"front matter has a value that cannot be read ({exc}); ignored"))
    return None


def _unreadable_value_line(block: str) -> int:
    """The file line of the first top-level value that cannot be built (1 when it cannot be told)."""
    import yaml
    from frontmatter.default_handlers import SafeLoader

    try:
        loader = SafeLoader(block)
        root = loader.get_single_node()
        for _, value in root.value if isinstance(root, yaml.MappingNode) else ():
            try:
                loader.construct_object(value, deep=True)
            except (ValueError, OverflowError, TypeError):
                return value.start_mark.line + 2  # +1 for the '---' line, +1 for 1-based
    except (yaml.YAMLError, RecursionError):
        pass
    return 1


class _Walker:
    """One pass over pyromark's events, filling the Event as sections go by."""

    def __init__(self, event: Event, raw: bytes, offset: int, lines: _LineIndex):
        self.event = event
        self.raw = raw
        self.offset = offset  # byte offset of the Markdown after front matter
        self.lines = lines
        self.section = "head"
        self.section_name = ""
        self.topics_seen: set[str] = set()  # event.topics as a set: 100k distinct topics made a list's `in` quadratic
        self.heading: list[str] | None = None  # text of the heading being read
        self.heading_links: list[Link] = []
        self.link: dict[str, Any] | None = None  # link being read
        self.images: list[dict[str, Any]] = []  # images being read (alt text may hold another)
        self.html_start = -1  # where the HTML block being read began
        self.item: dict[str, Any] | None = None  # list item being read
        self.paragraphs: list[str] = []
        self.block: list[str] | None = None
        self.joined = 0  # pieces of `block` before this index are joined runs (see _text)
        self.body_start = -1
        self.body_end = -1
        self.definitions: dict[str, Any] | None = None
        self.date_text: str | None = None
        self.date_line = 0

    def run(self, markdown: str) -> None:
        # The hottest loop of a cold index: text events, the most common, skip the span arithmetic.
        offset, text = self.offset, self._text
        for ev, span in pyromark.events_with_range(markdown):
            if type(ev) is str:
                self._bare(ev, span["start"] + offset)
                continue
            value = ev.get("Text")
            if value is not None:
                text(value)
            elif (value := ev.get("Start")) is not None:
                self._start(value, span["start"] + offset, span["end"] + offset)
            elif (value := ev.get("End")) is not None:
                self._end(value, span["start"] + offset, span["end"] + offset)
            elif (value := ev.get("Code")) is not None:
                text(value)
            elif "InlineHtml" in ev:
                self._html(span["start"] + offset, span["end"] + offset)
        self._finish_body()

    # -- event handlers -------------------------------------------------

    def _bare(self, ev: str, start: int) -> None:
        if ev in ("SoftBreak", "HardBreak"):
            self._text(" " if ev == "SoftBreak" else "\n")
        elif ev == "Rule" and self.section == "body":
            self._mark_body(start, start)

    def _text(self, value: str) -> None:
        if self.images:
            self.images[-1]["text"].append(value)
        if self.link is not None:
            self.link["text"].append(value)
        if self.heading is not None:
            self.heading.append(value)
        elif self.item is not None:
            self.item["text"].append(value) if self.link is None else None
        elif (block := self.block) is not None:
            block.append(value)
            if len(block) - self.joined >= 4096:
                # Text events are not merged: in pathological emphasis (`*a *a ...`) each `*` is a piece of its own.
                block[self.joined :] = ["".join(block[self.joined :])]
                self.joined += 1

    def _start(self, value: Any, start: int, end: int) -> None:
        tag = value if isinstance(value, str) else next(iter(value))
        if tag == "Heading":
            self._finish_body()
            self.heading = []
            self.heading_links = []
        elif tag == "Link":
            attrs = value["Link"]
            self.link = {"attrs": attrs, "start": start, "end": end, "text": []}
        elif tag == "Image":
            self.images.append({"attrs": value["Image"], "start": start, "end": end, "text": []})
        elif tag == "HtmlBlock":
            self.html_start = start
        elif tag == "Item":
            self.item = {"text": [], "links": [], "start": start}
        elif tag in ("Paragraph", "BlockQuote") and self.heading is None and self.item is None:
            if self.block is None:
                self.block = []
                self.joined = 0
            self._mark_body(start, end)
        elif tag == "CodeBlock":
            self._mark_body(start, end)

    def _end(self, value: Any, start: int, end: int) -> None:
        tag = value if isinstance(value, str) else next(iter(value))
        if tag == "Link" and self.link is not None:
            self._close_link()
        elif tag == "Heading" and self.heading is not None:
            self._close_heading(_LEVELS.get(value["Heading"], 3), start)
        elif tag == "Item" and self.item is not None:
            self._close_item()
        elif tag == "Image" and self.images:
            self._close_image(self.images.pop())
        elif tag == "HtmlBlock" and self.html_start >= 0:
            self._html(self.html_start, end)
            self.html_start = -1
        elif tag in ("Paragraph", "BlockQuote") and self.block is not None and self.item is None:
            if tag == "Paragraph" or self.block:
                text = "".join(self.block).strip()
                if text:
                    self.paragraphs.append(text)
                self.block = None
            self._mark_body(start, end)

    # -- pieces -----------------------------------------------------------

    def _close_link(self) -> None:
        link = self._written_link(self.link, BODY)
        self.link = None
        if self.heading is not None:
            self.heading_links.append(link)
        elif self.item is not None:
            self.item["links"].append(link)
            self.item["after"] = len(self.item["text"])
        self.event.links.append(link)

    def _close_image(self, info: dict[str, Any]) -> None:
        """An image is a link to check, never a source, related item or date line: it joins the file's
        links only (its alt text stays in the text around it, as before)."""
        self.event.links.append(self._written_link(info, IMAGE))

    def _written_link(self, info: dict[str, Any], role: str) -> Link:
        """The Link of a Markdown link or image pyromark has closed (`info`: its attrs, span and text)."""
        attrs = info["attrs"]
        line, column = self.lines.position(info["start"])
        link = Link(
            target=attrs.get("dest_url", ""),
            text="".join(info["text"]).strip(),
            line=line,
            column=column,
            role=role,
            start=info["start"],
            end=info["end"],
            label=attrs.get("id") or "",
        )
        self._locate_destination(link, attrs.get("link_type", ""))
        return link

    def _html(self, start: int, end: int) -> None:
        """The href and src values of raw HTML (lychee checks them too), placed where their value is written."""
        raw = self.raw[start:end]
        if b"=" not in raw:
            return
        chunk = raw.decode("utf-8", "replace")
        plain = chunk.isascii()

        def at(k: int) -> int:  # a character offset in the chunk as a byte offset in the file
            return start + (k if plain else len(chunk[:k].encode()))

        links, anchors = html_links.scan(chunk)
        self.event.anchors.extend(anchors)
        for found in links:
            value_start = at(found.value_start)
            line, column = self.lines.position(value_start)
            link = Link(
                target=found.target,
                text="",
                line=line,
                column=column,
                role=BODY if found.attribute == "href" else IMAGE,
                start=at(found.tag_start),
                end=at(found.tag_end),
            )
            if found.verbatim:
                link.dest_start, link.dest_end = value_start, at(found.value_end)
            self.event.links.append(link)

    def _locate_destination(self, link: Link, link_type: str) -> None:
        if link.label and link_type.startswith(("Reference", "Collapsed", "Shortcut")):
            if self.definitions is None:
                text = self.raw[self.offset :].decode("utf-8", "replace")
                self.definitions = {k.casefold(): v for k, v in pyromark.reference_definitions(text).items()}
            definition = self.definitions.get(link.label.casefold())
            if definition:
                span = definition["span"]
                head = self.raw.find(b"]:", span["start"] + self.offset) + 2
                link.dest_start, link.dest_end = _destination(self.raw, head, span["end"] + self.offset)
            return
        if link_type == "Inline":
            close = self.raw.rfind(b"](", link.start, link.end)
            if close != -1:
                link.dest_start, link.dest_end = _destination(self.raw, close + 2, link.end)

    def _close_heading(self, level: int, start: int) -> None:
        text, given = heading_id(" ".join("".join(self.heading).split()))
        links = self.heading_links
        self.heading = None
        line, _ = self.lines.position(start)
        event = self.event
        event.headings.append(Heading(level, text, anchor(text), line, given))
        name = text.rstrip(":").strip().lower()
        if self.section == "head" and links and self.date_text is None and level >= 2:
            self.date_text = links[0].text or text
            self.date_line = line
            links[0].role = DATE
            return
        if level == 1 and not event.title and self.section in ("head", "body"):
            event.title = text
            self.section = "body"
            return
        if name in _SECTIONS:
            self.section = _SECTIONS[name]
        else:
            self.section = "other"
            self.section_name = text.rstrip(":").strip()
            if self.event.title or level > 1:
                event.sections.setdefault(self.section_name, "")

    def _close_item(self) -> None:
        item = self.item
        self.item = None
        links: list[Link] = item["links"]
        line, column = self.lines.position(item["start"])
        if self.section == "sources":
            self._source_item(links, line)
        elif self.section == "related":
            self._related_item(links, item, line)
        elif self.section == "other" and self.section_name in self.event.sections:
            self._append_section("- " + "".join(item["text"]).strip())

    def _source_item(self, links: list[Link], line: int) -> None:
        if not links:
            self.event.diagnostics.append(Diagnostic(self.event.path, line, "source item without a link"))
            return
        link = links[0]
        if link.text.strip().lower() == "cover image":
            link.role = COVER
            if self.event.cover is None:
                self.event.cover = link.target
        else:
            link.role = SOURCE
            self.event.sources.append(Source(link.text, link.target, link.line, link.column))

    def _related_item(self, links: list[Link], item: dict[str, Any], line: int) -> None:
        if not links:
            self.event.diagnostics.append(Diagnostic(self.event.path, line, "related item without a link"))
            return
        link = links[0]
        link.role = RELATED
        after = "".join(item["text"][item.get("after", 0) :])
        topics = split_topics(_context(after))
        self.event.related.append(Related(link.text, link.target, topics, link.line, link.column))
        for topic in topics:
            if topic not in self.topics_seen:
                self.topics_seen.add(topic)
                self.event.topics.append(topic)

    def _mark_body(self, start: int, end: int) -> None:
        if self.section == "head" and not self.event.title:
            self.section = "body"  # a file without headline: its text is the body
        if self.section == "body":
            if self.body_start < 0:
                self.body_start = start
            self.body_end = max(self.body_end, end)

    def _append_section(self, text: str) -> None:
        sections = self.event.sections
        sections[self.section_name] = (sections[self.section_name] + "\n" + text).strip()

    def _finish_body(self) -> None:
        if self.section == "other" and self.paragraphs and self.section_name in self.event.sections:
            self._append_section("\n\n".join(self.paragraphs))
            self.paragraphs = []
            return
        if self.section != "body" or not self.paragraphs and self.body_start < 0:
            self.paragraphs = []
            return
        event = self.event
        if self.paragraphs:
            event.body = (event.body + "\n\n" if event.body else "") + "\n\n".join(self.paragraphs)
        if self.body_start >= 0:
            chunk = self.raw[self.body_start : self.body_end].decode("utf-8", "replace").strip()
            event.body_raw = (event.body_raw + "\n\n" if event.body_raw else "") + chunk
            if not event.body_line:
                event.body_line = self.lines.position(self.body_start)[0]
        self.paragraphs = []
        self.body_start = self.body_end = -1


# A link destination by CommonMark's rules: <...>, or a run without spaces
# whose parentheses balance (one level of nesting, as real URLs need).
_DESTINATION = re.compile(
    rb"[ \t\r\n]*(?:<((?:\\.|[^<>\\\n])*)>|((?:\\.|[^\s()\\]|\((?:\\.|[^\s()\\])*\))*))"
)


def _destination(raw: bytes, pos: int, limit: int) -> tuple[int, int]:
    """Byte span of a link destination as written."""
    match = _DESTINATION.match(raw, pos, limit)
    if not match:
        return -1, -1
    group = 1 if match.group(1) is not None else 2
    return match.start(group), match.end(group)


def _context(text: str) -> str:
    """The topic list of `_Context: A, B_` (emphasis already removed by the parser)."""
    text = text.strip().strip("_*").strip()
    head, colon, rest = text.partition(":")
    if colon and head.strip().lower() in ("context", "contexts"):
        return rest.strip().strip("_*")
    return ""


_ATTRIBUTE_BLOCK = re.compile(r"\s*\{([^{}]*)\}$")
_ATTRIBUTE_TOKEN = re.compile(r"#\S+|\.\S+|[^\s#.=]+(?:=\S*)?")


def heading_id(text: str) -> tuple[str, str]:
    """(text, id) of a heading that ends in an attribute block with an id, `Some heading {#custom-id}`
    (pandoc, kramdown, pulldown-cmark's heading attributes, which lychee reads): the id is a
    fragment target and the text is what precedes the block. Anything else is (text, "") as
    written: a headline ending in `{sic}` keeps it."""
    match = _ATTRIBUTE_BLOCK.search(text)
    if match is None:
        return text, ""
    tokens = match.group(1).split()
    if not tokens or not all(_ATTRIBUTE_TOKEN.fullmatch(token) for token in tokens):
        return text, ""
    ids = [token[1:] for token in tokens if token.startswith("#")]
    return (text[: match.start()].rstrip(), ids[-1]) if ids else (text, "")


def _apply_front_matter(event: Event, block: str, lines: _LineIndex) -> None:
    """Front matter supplements or overrides the body (FORMAT.md)."""
    meta = event.meta
    title = meta.get("title")
    if isinstance(title, str) and title.strip():
        event.title = " ".join(html.unescape(title).split())  # written as in the body: Syria&#x27;s
    seen = set(event.topics)
    for key in ("tags", "contexts", "topics"):
        for topic in _as_list(meta.get(key)):
            if topic not in seen:
                seen.add(topic)
                event.topics.append(topic)
    if isinstance(meta.get("sources"), list):
        _front_matter_sources(event, meta["sources"], block, lines)
    for item in meta.get("related") or [] if isinstance(meta.get("related"), list) else []:
        target, title = _url_and_name(item)
        if target:
            title = " ".join(html.unescape(title).split()) if title else ""
            event.related.append(Related(title, target, [], 0, 0))
            event.links.append(Link(target, title or "", 0, 0, FRONT_MATTER))


def _front_matter_sources(event: Event, items: list, block: str, lines: _LineIndex) -> None:
    """`sources:` become sources at the place they are written, and those that are URLs
    also links (role source, first in the file's links, as the block is): `--external`
    then checks them as it checks the Source list, and reports them at that place."""
    nodes = _list_nodes(block, "sources", len(items))
    found: list[Link] = []
    for item, node in zip(items, nodes):
        url, name = _url_and_name(item)
        if not url:
            continue
        line, column, start, end = _place_in_front_matter(url, node, block, lines)
        event.sources.append(Source(name or url, url, line, column))
        if _SCHEME.match(url) or url.startswith("//"):
            found.append(Link(url, name, line, column, SOURCE, max(start, 0), max(end, 0), start, end))
    event.links[:0] = found


def _list_nodes(block: str, key: str, count: int) -> list[Any]:
    """The YAML nodes of the front matter list `key`, one per item (they know their
    line and column); Nones when the list is not written plainly under that key."""
    import yaml
    from frontmatter.default_handlers import SafeLoader  # the loader `_load_yaml` uses

    try:
        root = yaml.compose(block, Loader=SafeLoader) if block else None
    except (yaml.YAMLError, RecursionError):
        root = None
    found = None
    if isinstance(root, yaml.MappingNode):
        for name, value in root.value:  # the last of repeated keys wins, as when loading
            if isinstance(name, yaml.ScalarNode) and name.value == key:
                found = value.value if isinstance(value, yaml.SequenceNode) else None
    return found if found is not None and len(found) == count else [None] * count


def _place_in_front_matter(url: str, node: Any, block: str, lines: _LineIndex) -> tuple[int, int, int, int]:
    """Line, column and byte span of `url` as written in the front matter: inside its
    YAML node, else its first occurrence in the block; else the block's first line
    with no span (an escaped or folded YAML string is not the URL written verbatim)."""
    import yaml

    wanted, raw = url.encode(), lines.raw
    first, last = lines.starts[1], lines.starts[1] + len(block.encode())  # the block starts on line 2
    found = -1
    if isinstance(node, yaml.MappingNode):  # `- url: ...`: the value that is the URL
        node = next((v for _, v in node.value if isinstance(v, yaml.ScalarNode) and v.value.strip() == url), node)
    if node is not None:
        found = raw.find(wanted, _mark_byte(node.start_mark, lines, first), min(_mark_byte(node.end_mark, lines, last), last))
    if found < 0:
        found = raw.find(wanted, first, last)
    if found < 0:
        return 1, 1, -1, -1
    line, column = lines.position(found)
    return line, column, found, found + len(wanted)


def _mark_byte(mark: Any, lines: _LineIndex, default: int) -> int:
    """A YAML mark (line and column in characters, in the block) as a byte offset in the file."""
    index = mark.line + 1  # the block's line 0 is the file's line 2
    if index >= len(lines.starts):
        return default
    start = lines.starts[index]
    stop = lines.starts[index + 1] if index + 1 < len(lines.starts) else len(lines.raw)
    head = lines.raw[start:stop].decode("utf-8", "replace")[: mark.column]
    return start + len(head.encode())


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return split_topics(value)
    if isinstance(value, list):
        return [" ".join(str(v).split()) for v in value if v is not None and str(v).strip()]
    return []


def _url_and_name(item: Any) -> tuple[str, str]:
    if isinstance(item, str):
        return item.strip(), ""
    if isinstance(item, dict):
        url = item.get("url") or item.get("link") or item.get("path") or item.get("href") or ""
        name = item.get("title") or item.get("name") or item.get("publisher") or ""
        return str(url).strip(), str(name).strip()
    return "", ""


def _settle_date(event: Event, line_text: str | None, line_no: int) -> None:
    """Date line first, then front matter, then folder; disagreements are diagnostics."""
    candidates: list[tuple[str, Any, int]] = []
    if line_text is not None:
        day = dates.parse_day(line_text)
        if day is None:
            event.diagnostics.append(Diagnostic(event.path, line_no, f"date line '{line_text}' is not a valid date"))
        candidates.append(("line", day, line_no))
    if "date" in event.meta:
        day = dates.coerce_day(event.meta["date"])
        if day is None:
            event.diagnostics.append(Diagnostic(event.path, 1, f"front matter date '{event.meta['date']}' is not a valid date"))
        candidates.append(("front matter", day, 1))
    folder = dates.date_from_path(event.path)
    candidates.append(("folder", folder, 0))
    found = [(source, day, line) for source, day, line in candidates if day is not None]
    if not found:
        if not event.is_day_page and line_text is None:
            event.diagnostics.append(Diagnostic(event.path, 0, "no date: no date line, front matter date or dated folder"))
        return
    event.date_source, event.date, _ = found[0]
    for source, day, line in found[1:]:
        if day != event.date:
            event.diagnostics.append(
                Diagnostic(
                    event.path,
                    found[0][2] or line,
                    f"date mismatch: {event.date_source} says {event.date.isoformat()}, {source} says {day.isoformat()}",
                )
            )
