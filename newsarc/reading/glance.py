"""A glance at a file in the archive's usual layout: the few fields an index group needs, no full parse.

Building the index's `events` and `links` groups needs of each file only its
kind, date, headline, sources, topics, links as written (target, text and
role) and whether the parser would report anything. For a file in the
archive's usual layout (the sample event: a date line, a headline, prose,
a numbered Source list and a Related list of `[text](link) _Context: ..._`
items; a day page: a headline and numbered linked items), `glance` reads
those fields with a few regular expressions and one pass over the lines
after the prose, where the full parse (parser.parse_bytes) spends most of its
time on the prose's paragraphs, every link's byte span and the headings.

It returns an `Event` holding exactly the fields of `GIVES`, equal to the
full parse's, or None for anything it is not sure of (front matter, a
byte order mark other than UTF-8's, NUL bytes, invalid UTF-8, a lone CR,
any line that CommonMark could read as something other than prose, a
heading or an item of the layout, any markup in a headline or an item, a
date the parser would report on...): the caller parses that file fully.
Nothing the parser would report is ever glanced at: a glanced event has no
diagnostics, and its `diagnostics` are exact.

The prose itself is not read, only checked to hold no link, image, HTML,
heading or block that could swallow the lines after it: no `[`, `]` or `<`,
and no line that opens with indentation, `#`, `=`, `-`, `+`, `*`, `>`, a
fence character or a list marker. tests/reading/test_glance.py compares the
glance with the full parse on the examples, generated and hostile archives,
and on mutated files.
"""

from __future__ import annotations

import html.entities
import re

from newsarc.model import BODY, COVER, DATE, RELATED, SOURCE, Event, Link, Source
from newsarc.reading.fastpath import _UNSAFE
from newsarc.reading.topic_names import split_topics

# What a glanced Event holds, as the full parse would make it. "links": each link's target, text and
# role (not where it is written: line, column and byte spans are 0); "kind": is_day_page and skipped;
# "meta" and "diagnostics": empty, exactly (a file with either is never glanced at).
GIVES = frozenset({"path", "kind", "date", "date_source", "title", "sources", "cover", "topics", "links", "meta",
                   "diagnostics"})
KIND = frozenset({"path", "kind"})  # what a bare look at the bytes tells (no text read)

# An item's link text and context hold no markup that could change them, and none of the characters
# fastpath._UNSAFE refuses (whose handling differs between CommonMark and str.strip); a destination is
# written plainly: no space, parenthesis, entity, escape or control character.
_NOT_PLAIN = r"`*\\<>\t\v\f\r\x00-\x08\x0e-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff~"
_LINK_TEXT = rf"[^\[\]_!\n{_NOT_PLAIN}]*"
_DEST = r"[^\s()<>\\&\[\]`\x00-\x1f\x7f]+"
# Blank lines, an optional date line `### [text](link)` and blank lines, then the headline `# ...`.
_HEAD = re.compile(rf"(?: *\n)*(?:### \[({_LINK_TEXT})\]\(({_DEST})\)\n(?: *\n)*)?# ([^\n]*)(?:\n|\Z)")
# Each line after the prose, one match each (with its line break): a numbered item of one link, with
# its context in a Related list (label, target, " _Context: ..._", topics); a section of the layout; a
# blank line (no group); anything else (the last group: the file is not glanced at).
_ROW = re.compile(rf"(?:[0-9]{{1,9}}\. \[({_LINK_TEXT})\]\(({_DEST})\)( _Contexts?:([^_!&\[\]\n{_NOT_PLAIN}]*)_)?"
                  r"|(### Source:|### Related:)|([^\n]+?))? *(?:\n|\Z)")
_TITLE_MARKUP = re.compile(r"[\[\]_]")  # a link, an image or emphasis in the headline
# A prose line that CommonMark could read as something other than a paragraph line or a blank one:
# indented, a heading, a setext underline or thematic break, a list item, a block quote, a fence.
_ODD_START = frozenset(" \t#=-+*>`~")
_LIST_MARKER = re.compile(r"[0-9]{1,9}[.)](?:[ \t]|\Z)")
_SECTIONS = {"### Source:": SOURCE, "### Related:": RELATED}
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HTML5 = html.entities.html5


def glance(data: bytes, relpath: str, needs: frozenset[str] = GIVES) -> Event | None:
    """The fields `needs` (a subset of GIVES) of the file `relpath` whose bytes are `data`, as the full
    parse reads them; None when the file is not plainly in the usual layout (parse it fully)."""
    is_day_page = relpath.rsplit("/", 1)[-1] == "index.md"
    if needs <= KIND:
        return Event(path=relpath, is_day_page=is_day_page, skipped=_skipped(data))
    if data.startswith(b"\xef\xbb\xbf"):  # the parser drops a UTF-8 byte order mark, saying nothing
        data = data[3:]
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")  # CommonMark's line ending too; a lone CR ends a line as well
        if b"\r" in data:
            return None
    if data.startswith((b"---", b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return None  # front matter, UTF-16, NUL bytes: the parser's
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return _read(text, relpath, is_day_page)


def _skipped(data: bytes) -> bool:
    """parser.decode's rule for a file it does not read at all: invalid UTF-16, or binary."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-16")
        except UnicodeDecodeError:
            return True
        return False
    if b"\x00" not in data:
        return False
    from newsarc.reading.parser import _binary

    return _binary(data)


def _read(text: str, relpath: str, is_day_page: bool) -> Event | None:
    head = _HEAD.match(text)
    if head is None:
        return None
    title_end = head.end()
    if _UNSAFE.search(text, 0, title_end):
        return None
    date_text, date_target, line = head.groups()
    if _TITLE_MARKUP.search(line) or line.rstrip().endswith(("#", "}")):
        return None
    title = _decoded(line)
    if title is None:
        return None
    title = " ".join(title.split())
    if not title:
        return None
    links: list[Link] = []
    if date_target is not None:
        date_text = _decoded(date_text)
        if date_text is None:
            return None
        date_text = date_text.strip()
        links.append(Link(date_target, date_text, 0, 0, DATE))
    event = Event(path=relpath, title=title, is_day_page=is_day_page, links=links)
    if is_day_page:
        tail = title_end  # a day page: linked items and blank lines only
    else:  # the prose ends at the first line that opens with "#": a section of the layout, or not glanced at
        tail = text.find("\n#", title_end - 1) + 1 or len(text)
        if not _plain_prose(text[title_end:tail]):
            return None
    if tail < len(text) and not _tail(text[tail:], event, is_day_page):
        return None
    return event if _dated(event, date_text) else None


def _plain_prose(prose: str) -> bool:
    """No link, image, reference definition, autolink or HTML (no `[`, `]` or `<`), and no line that
    could be anything but paragraph text or blank: nothing in it is a link or a heading, and nothing
    swallows the lines after it."""
    if "[" in prose or "]" in prose or "<" in prose:
        return False
    for line in prose.split("\n"):
        if not line:
            continue
        first = line[0]
        if first in _ODD_START:
            if first in " \t" and not line.strip(" \t"):
                continue  # a blank line
            return False
        if "0" <= first <= "9" and _LIST_MARKER.match(line):
            return False
    return True


def _tail(text: str, event: Event, is_day_page: bool) -> bool:
    """The lines after the prose: "### Source:" and "### Related:" (once each, an event's), numbered
    items of one link each, blank lines (`_ROW`). False when any line is something else."""
    section = BODY if is_day_page else ""  # "": before any section (an event's prose ended at one)
    seen = set()
    links, topics = event.links, event.topics
    topics_seen: set[str] = set()
    for label, target, context, names, heading, other in _ROW.findall(text):
        if not target:
            if other or heading and (is_day_page or _SECTIONS[heading] in seen):
                return False
            if heading:
                section = _SECTIONS[heading]
                seen.add(section)
            continue  # a blank line
        if "&" in label:
            label = _decoded(label)
            if label is None:
                return False
        label = label.strip()
        if section == SOURCE and not context:
            if label.lower() == "cover image":
                links.append(Link(target, label, 0, 0, COVER))
                if event.cover is None:
                    event.cover = target
            else:
                links.append(Link(target, label, 0, 0, SOURCE))
                event.sources.append(Source(label, target, 0, 0))
        elif section == RELATED:
            links.append(Link(target, label, 0, 0, RELATED))
            if names:
                found = _TOPICS.get(names)
                if found is None:
                    if len(_TOPICS) > 100_000:
                        _TOPICS.clear()
                    found = _TOPICS[names] = split_topics(names.strip())
                for topic in found:
                    if topic not in topics_seen:
                        topics_seen.add(topic)
                        topics.append(topic)
        elif section == BODY and not context:  # a day page's item: a link in its text
            links.append(Link(target, label, 0, 0, BODY))
        else:
            return False  # before any section, or a context where none is read
    return True


_TOPICS: dict[str, list[str]] = {}  # a context's topics: the same few thousand contexts recur (never changed in place)
_DATED: dict[tuple[str, bool, str | None], tuple | None] = {}  # the events of a folder share their verdict


def _dated(event: Event, date_text: str | None) -> bool:
    """The parser's date (parser._settle_date) when it says nothing about it; False when it would."""
    folder = event.path.rpartition("/")[0]
    key = (folder, event.is_day_page, date_text)
    found = _DATED.get(key, False)
    if found is False:
        from newsarc.reading.parser import _settle_date

        probe = Event(path=event.path, is_day_page=event.is_day_page)
        _settle_date(probe, date_text, 1)
        found = None if probe.diagnostics else (probe.date, probe.date_source)
        if len(_DATED) > 100_000:
            _DATED.clear()
        _DATED[key] = found
    if found is None:
        return False
    event.date, event.date_source = found
    return True


def _decoded(text: str) -> str | None:
    """HTML entities decoded as CommonMark decodes them: a named one of HTML5's list with its ";", a
    numeric one; any other "&" stays. None for what the parser's fast path would read otherwise
    (a name html.unescape decodes in part, "&ampx;"; a code point CommonMark replaces)."""
    if "&" not in text:
        return text
    out = _ENTITY.sub(_entity, text)
    return None if "\0" in out else out


def _entity(match: re.Match) -> str:
    name = match.group(0)
    if name[1] == "#":
        code = int(name[3:-1], 16) if name[2] in "xX" else int(name[2:-1])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\0"  # U+FFFD for CommonMark; the fast path leaves such a file to the parser
        value = html.unescape(name)
        return value if value == chr(code) else "\0"  # &#128;: HTML's cp1252 for html.unescape, U+0080 for CommonMark
    value = _HTML5.get(name[1:])
    if value is None:
        return name if html.unescape(name) == name else "\0"
    return value
