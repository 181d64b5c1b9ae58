"""The parser's fast path: files in the archive's own canonical layout.

Nearly every file of a real archive has exactly the shape of the sample
event: a date line, a headline, plain paragraphs, and numbered lists of
`[text](url)` items. For those, a line scanner builds the same `Event` as the
CommonMark walker in parser.py at a fraction of the cost (pyromark alone
spends 75 us a file just yielding events; this scan about 15 us).

It is deliberately narrow: any character or line shape that could make
CommonMark read the text differently (code, emphasis, HTML, escapes, nested
brackets, indentation, setext underlines, other lists or headings...) makes
it return False, and the full parser takes over. tests/reading/test_fastpath.py
checks that both paths agree on every file they can both read.
"""

from __future__ import annotations

import html
import re

from newsarc.model import COVER, DATE, RELATED, SOURCE, Heading, Link, Related, Source, anchor
from newsarc.reading.topic_names import split_topics

# Characters that never take the fast path anywhere in the Markdown: inline
# syntax (` * \ < > anywhere; _ [ ] in prose), tabs and unusual whitespace/control
# characters whose handling differs between CommonMark and str.split.
_UNSAFE = re.compile(r"[`*\\<>\t\v\f\r\x00-\x08\x0e-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff~]")
_LINK_TEXT = r"[^\[\]`*_\\<>!]*"
_DEST = r"[^\s()<>\\&\[\]`]+"
_DATE_LINE = re.compile(rf"### \[({_LINK_TEXT})\]\(({_DEST})\)$")
_ITEM = re.compile(rf"(\d{{1,9}})\. \[({_LINK_TEXT})\]\(({_DEST})\)(?: _(Contexts?:[^_*\[\]`\\<>!&]*)_)?$")
_SECTION = {"### Source:": "sources", "### Related:": "related"}
_INLINE = re.compile(r"[\[\]_]")  # a link, an image or emphasis in the headline: the full parser reads it
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_AMP = re.compile(r"&")
# A prose line that CommonMark could read as something other than paragraph text.
_BLOCK_START = re.compile(r"[ #=+\-|]|\d{1,9}[.)](?: |$)|_{3,}|\*{3,}")


def decode_entities(text: str) -> str | None:
    """Decode HTML entities as CommonMark does; None when an '&' is ambiguous."""
    if "&" not in text:
        return text
    if len(_AMP.findall(text)) != len(_ENTITY.findall(text)):
        return None  # a bare '&' or a legacy entity without ';': leave it to the full parser
    out = _ENTITY.sub(_entity, text)
    return None if "\0" in out else out


def _entity(match: re.Match) -> str:
    name = match.group(0)
    value = html.unescape(name)
    if value == name and not name.startswith("&#"):
        return name  # not an entity CommonMark knows: kept as written
    if name.startswith("&#"):
        code = int(name[3:-1], 16) if name[2] in "xX" else int(name[2:-1])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\0"  # CommonMark's U+FFFD rules: not worth copying, fall back
    return value


class _Lines:
    """Byte offsets of each line, for link spans identical to pyromark's."""

    def __init__(self, markdown: str, offset: int):
        self.lines = markdown.split("\n")
        self.starts = []
        position = offset
        for line in self.lines:
            self.starts.append(position)
            position += (len(line) if line.isascii() else len(line.encode())) + 1

    def byte(self, index: int, column: int) -> int:
        line = self.lines[index]
        head = line[:column]
        return self.starts[index] + (len(head) if head.isascii() else len(head.encode()))


def parse(event, markdown: str, offset: int, first_line: int) -> tuple[str | None, int] | None:
    """Fill `event` from canonical Markdown; return (date line text, its line), or
    None, having touched nothing, when the text is not canonical."""
    if _UNSAFE.search(markdown) or "&" in markdown and decode_entities(markdown) is None:
        return None
    result = _scan(_Lines(markdown, offset), first_line)
    if result is None:
        return None
    links, headings, title, paragraphs, body_span, sources, cover, related, topics, date = result
    event.links.extend(links)
    event.headings.extend(headings)
    event.title = title
    if paragraphs:
        event.body = "\n\n".join(paragraphs)
    if body_span[0] >= 0:  # prose that decodes to nothing ('&nbsp;') is still the body as written
        event.body_raw = markdown_slice(markdown, offset, body_span).strip()
        event.body_line = body_span[2]
    event.sources.extend(sources)
    event.cover = cover
    event.related.extend(related)
    event.topics.extend(topics)
    return date if date else (None, 0)


def markdown_slice(markdown: str, offset: int, span: tuple[int, int, int]) -> str:
    raw = markdown.encode()
    return raw[span[0] - offset : span[1] - offset].decode()


def _scan(lines: _Lines, first_line: int):
    """The canonical order: date line, headline, paragraphs, Source, Related."""
    rows = lines.lines
    n = len(rows)
    i = _skip_blank(rows, 0)
    links: list[Link] = []
    headings: list[Heading] = []
    date_text = None
    match = _DATE_LINE.match(rows[i]) if i < n else None
    if match:
        link = _link(lines, i, 4, match, 1, 2, DATE, first_line)
        if link is None:
            return None
        text = link.text  # entities decoded, as CommonMark reads the heading
        links.append(link)
        date_text = (text, i + first_line)
        heading = " ".join(text.split())
        headings.append(Heading(3, heading, anchor(heading), i + first_line))
        i = _skip_blank(rows, i + 1)
    if i >= n or not rows[i].startswith("# ") or rows[i].rstrip().endswith(("#", "}")) or _INLINE.search(rows[i]):
        return None
    title = decode_entities(rows[i][2:])
    title = " ".join(title.split()) if title else title  # after decoding: '&nbsp;' is whitespace too
    if not title:
        return None
    headings.append(Heading(1, title, anchor(title), i + first_line))
    i = _skip_blank(rows, i + 1)
    paragraphs, body_span, i = _paragraphs(lines, i, first_line)
    if paragraphs is None:
        return None
    sources: list[Source] = []
    related: list[Related] = []
    topics: list[str] = []
    cover = None
    seen: set[str] = set()
    topics_seen: set[str] = set()  # `topics` as a set: a list's `in` is quadratic in distinct topics
    while i < n:
        section = _SECTION.get(rows[i].rstrip(" "))
        if section is None or section in seen:
            return None
        seen.add(section)
        headings.append(Heading(3, rows[i][4:].strip(), anchor(rows[i][4:].strip()), i + first_line))
        i = _skip_blank(rows, i + 1)
        while i < n and rows[i][:1].isdigit():
            item = _ITEM.match(rows[i].rstrip(" "))
            if item is None:
                return None
            role = RELATED if section == "related" else SOURCE
            link = _link(lines, i, rows[i].index("["), item, 2, 3, role, first_line)
            if link is None:
                return None
            links.append(link)
            if section == "sources":
                if item.group(4):
                    return None
                if link.text.lower() == "cover image":
                    link.role = COVER
                    cover = cover or link.target
                else:
                    sources.append(Source(link.text, link.target, link.line, link.column))
            else:
                found = _topics(item.group(4))
                if found is None:
                    return None
                related.append(Related(link.text, link.target, found, link.line, link.column))
                for topic in found:
                    if topic not in topics_seen:
                        topics_seen.add(topic)
                        topics.append(topic)
            i = _skip_blank(rows, i + 1)
    return links, headings, title, paragraphs, body_span, sources, cover, related, topics, date_text


def _skip_blank(rows: list[str], i: int) -> int:
    while i < len(rows) and not rows[i].strip(" "):
        i += 1
    return i


def _paragraphs(lines: _Lines, i: int, first_line: int):
    """Plain prose up to the first section heading; None for anything fancier."""
    rows = lines.lines
    paragraphs: list[str] = []
    start = end = -1
    body_line = 0
    current: list[str] = []
    while i < len(rows) and not rows[i].startswith("### "):
        line = rows[i]
        if not line.strip(" "):
            if current:
                _paragraph(paragraphs, current)
                current = []
            i += 1
            continue
        if _BLOCK_START.match(line) or "[" in line or "]" in line or "_" in line or (line.endswith("  ") and not _last_of_paragraph(rows, i)):
            return None, None, i
        text = decode_entities(line.strip(" "))
        if text is None:
            return None, None, i
        if start < 0:
            start, body_line = lines.starts[i], i + first_line
        end = lines.starts[i] + len(line.encode()) + 1
        current.append(text)
        i += 1
    if current:
        _paragraph(paragraphs, current)
    return paragraphs, (start, end, body_line), i


def _paragraph(paragraphs: list[str], lines: list[str]) -> None:
    """Stripped like the full parser's paragraphs, so a decoded '&nbsp;' at either end goes."""
    text = " ".join(lines).strip()
    if text:
        paragraphs.append(text)


def _last_of_paragraph(rows: list[str], i: int) -> bool:
    return i + 1 >= len(rows) or not rows[i + 1].strip(" ")


def _link(lines: _Lines, index: int, column: int, match: re.Match, text_group: int, dest_group: int, role: str, first_line: int):
    text = decode_entities(match.group(text_group))
    if text is None:
        return None
    text = text.strip()  # after decoding, as the full parser does: '&nbsp;' decodes to a space str.strip drops
    line = lines.lines[index]
    end_column = match.end(dest_group) + 1
    return Link(
        target=match.group(dest_group),
        text=text,
        line=index + first_line,
        column=column + 1,
        role=role,
        start=lines.byte(index, column),
        end=lines.byte(index, end_column),
        dest_start=lines.byte(index, match.start(dest_group)),
        dest_end=lines.byte(index, match.end(dest_group)),
    ) if line[end_column - 1] == ")" else None


def _topics(context: str | None) -> list[str] | None:
    if not context:
        return []
    head, _, rest = context.partition(":")
    text = decode_entities(rest.strip())
    return None if text is None else split_topics(text)
