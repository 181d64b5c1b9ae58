"""Links written as raw HTML inside Markdown: `<a href="...">`, `<img src="..." srcset="...">`,
and the fragment targets it names (`<a id="x"></a>`, `<a name="x">`).

CommonMark passes HTML through untouched, so pyromark hands it over as opaque
chunks; lychee reads the links in them, and validate-links must not miss what
it finds. The stdlib's HTMLParser finds the start tags (it knows comments,
CDATA and quoting, which a regex over the chunk would get wrong); each tag's
attributes are then tokenised once more to learn where a value is written,
for positions and for `--fix`.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

# Every `href` is a hyperlink; every `src` embeds a file (img, video, audio, source, iframe, script);
# `srcset` (img, source) lists files to embed, each with a width or density: "a.png 1x, b.png 2x".
ATTRIBUTES = ("href", "src", "srcset")
# One attribute of a start tag as HTMLParser tokenises it: name, then an optional quoted or bare value.
_ATTRIBUTE = re.compile(r"""[\s/]*([^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?""")
_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*")


class HtmlLink(NamedTuple):
    attribute: str  # "href", "src" or "srcset"
    target: str  # the value as a browser reads it: entities decoded, surrounding whitespace dropped
    tag_start: int  # character offsets into the chunk: the tag's '<' ...
    tag_end: int  # ... and just past its '>'
    value_start: int  # the value as written (inside its quotes)
    value_end: int
    verbatim: bool  # the value is written exactly as `target` (no entity, no padding): safe to rewrite


# Attributes that name an element as a #fragment target: `id` on any element, and `name`, which
# HTML 4 anchors (`<a name="x">`) and tools such as JavaDoc still write; lychee takes both.
TARGETS = ("id", "name")


def links_in(chunk: str) -> list[HtmlLink]:
    """The href and src values of every start tag in an HTML chunk, in order."""
    return scan(chunk)[0]


def scan(chunk: str) -> tuple[list[HtmlLink], list[str]]:
    """The links of every start tag in an HTML chunk, in order, and the fragment targets its
    elements name (TARGETS), in one parse."""
    finder = _Finder()
    try:
        finder.feed(chunk)
        finder.close()
    except (AssertionError, ValueError):  # very old Pythons raised on some malformed markup
        pass
    return finder.found, finder.targets


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[HtmlLink] = []
        self.targets: list[str] = []
        self._line_starts: list[int] | None = None

    def feed(self, data: str) -> None:
        starts, at = [0], data.find("\n")
        while at != -1:
            starts.append(at + 1)
            at = data.find("\n", at + 1)
        self._line_starts = starts
        super().feed(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.targets.extend(value for name, value in attrs if name in TARGETS and value)
        wanted = [(name, value) for name, value in attrs if name in ATTRIBUTES and value is not None]
        if not wanted:
            return
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        text = self.get_starttag_text() or ""
        written = _written_values(text)
        for name, value in wanted:
            span = written.pop(name, None)
            if span is None:
                continue
            raw, first, end = text[span[0] : span[1]], start + span[0], start + span[1]
            if name != "srcset":
                target = value.strip()
                self.found.append(HtmlLink(name, target, start, start + len(text), first, end, raw == target))
                continue
            for offset, target in candidates(value):  # each URL where it is written, when no entity moves it
                at = first + offset if raw == value else first
                self.found.append(HtmlLink(name, target, start, start + len(text), at, at + len(target), raw == value))

    handle_startendtag = handle_starttag


def candidates(srcset: str) -> list[tuple[int, str]]:
    """(offset, URL) of each image candidate of a srcset, by the HTML standard's reading: a URL is a
    run without white space (commas inside it belong to it, trailing ones end it), then optional
    descriptors up to the next comma."""
    found, i, n = [], 0, len(srcset)
    while i < n:
        while i < n and (srcset[i].isspace() or srcset[i] == ","):
            i += 1
        first = i
        while i < n and not srcset[i].isspace():
            i += 1
        url = srcset[first:i]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            while i < n and srcset[i] != ",":  # the descriptors: "2x", "640w"
                i += 1
        if url:
            found.append((first, url))
    return found


def _written_values(tag: str) -> dict[str, tuple[int, int]]:
    """Attribute name -> span of its value inside the start tag text (the first of repeated names,
    which is the one HTMLParser's list gives first and browsers use)."""
    head = _TAG_NAME.match(tag)
    position = head.end() if head else 1
    spans: dict[str, tuple[int, int]] = {}
    while position < len(tag):
        match = _ATTRIBUTE.match(tag, position)
        if match is None or match.end() == position:
            break
        name, value = match.group(1).lower(), match.group(3)
        if value is not None and name not in spans:
            start, end = match.start(3), match.end(3)
            if value[:1] in ("'", '"'):
                start, end = start + 1, end - 1
            spans[name] = (start, end)
        position = match.end()
    return spans
