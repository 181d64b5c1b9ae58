"""The searchable text of an event for `search`: its fields, decoded or cut from the raw file.

`event_text`/`event_fields` give the searchable text of an event (decoded
fields or the raw file) with the file line of every text line.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from newsarc.model import Event

FIELDS = ("title", "body", "sources", "related", "topics")
DEFAULT_FIELDS = ("title", "body", "topics")
FILE = "file"  # the one field of `--raw --in all`: the whole file as written

_SECTION_NAMES = {"source": "sources", "sources": "sources", "related": "related"}


@dataclass(slots=True)
class Field:
    """One searchable field: its text and the file line of each of its lines."""

    name: str
    text: str
    first: int = 1  # file line of the first text line
    map: list[int] | None = None  # file line per text line, when not consecutive

    def line_number(self, index: int) -> int:
        if self.map is not None:
            return self.map[index] if index < len(self.map) else (self.map[-1] if self.map else self.first)
        return self.first + index


def read_raw(root: Path, event: Event) -> str:
    """The file as ripgrep reads it: BOM dropped, UTF-16 transcoded, bad bytes replaced.

    One final line break ends the last line rather than starting an empty one.
    """
    return read_raw_bytes(root, event.path).decode()


def read_raw_bytes(root: Path | str, relpath: str) -> bytes:
    """`read_raw` as UTF-8 bytes, without decoding a file that is valid UTF-8 already.

    `search --raw --in all` matches these bytes as they are: decoding 100k
    files to str and encoding them again cost a third of the search."""
    try:
        with open(os.path.join(root, relpath), "rb", buffering=0) as file:  # no Path objects: 100k files
            data = file.readall()
    except OSError:
        return b""
    return raw_of(data)


def raw_of(data: bytes) -> bytes:
    """A file's bytes as `read_raw_bytes` gives them (BOM dropped, UTF-16 transcoded, bad bytes
    replaced, one final line break dropped), for a caller that has read the file already."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", "replace").encode()
    elif not data.isascii():
        try:
            data.decode()
        except UnicodeDecodeError:
            data = data.decode("utf-8", "replace").encode()
    return data[:-1] if data.endswith(b"\n") else data


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def decoded_text(event: Event, name: str) -> str:
    """A decoded field as matched: entities decoded, one line per item."""
    if name == "title":
        return event.title
    if name == "body":
        return event.body
    if name == "sources":
        return "\n".join(_one_line(f"{s.publisher} {s.url}") for s in event.sources)
    if name == "related":
        return "\n".join(_one_line(f"{r.title} {', '.join(r.topics)}".strip()) for r in event.related)
    if name == "topics":
        return "\n".join(event.topics)  # the parser folds whitespace in topic names
    raise ValueError(f"unknown field {name!r}")


def event_text(event: Event, names: Sequence[str], raw: str | None = None) -> str:
    """Everything `names` covers as one text (lines never join across fields).

    This runs once per event on every search, so it builds no Field objects.
    """
    if raw is not None:
        return "\n".join(f.text for f in _raw_fields(event, names, raw) if f.text)
    if len(names) == 1:
        return decoded_text(event, names[0])
    return "\n".join([text for text in (decoded_text(event, n) for n in names) if text])


def event_fields(event: Event, names: Sequence[str], raw: str | None = None) -> list[Field]:
    """The fields to search with the file line of each text line: decoded, or cut from the raw text."""
    if raw is not None:
        return _raw_fields(event, names, raw)
    return [_decoded_lines(event, name, decoded_text(event, name)) for name in names]


def title_line(event: Event) -> int:
    """The headline's line: the `# ` heading with the title's text, else the first one."""
    first = 0
    for heading in event.headings:
        if heading.level == 1:
            if heading.text == event.title:
                return heading.line
            first = first or heading.line
    return first


def _decoded_lines(event: Event, name: str, text: str) -> Field:
    """Where each decoded line sits in the file (the first line of a paragraph or item)."""
    if name == "title":
        return Field(name, text, title_line(event) or 1)
    if name == "body":
        return Field(name, text, event.body_line or 1, _body_lines(event, text))
    if name == "sources":
        return Field(name, text, 1, [s.line or 1 for s in event.sources])
    if name == "related":
        return Field(name, text, 1, [r.line or 1 for r in event.related])
    where = {}
    for entry in event.related:
        for topic in entry.topics:
            where.setdefault(topic, entry.line)
    return Field(name, text, 1, [where.get(t) or 1 for t in event.topics])


def _body_lines(event: Event, text: str) -> list[int]:
    """File line of each body line: paragraphs are matched with the raw paragraphs in order.

    A decoded paragraph is one line (soft breaks become spaces), so its
    matches report the paragraph's first file line; hard breaks add lines.
    """
    import re

    raw_starts, line = [], event.body_line or 1
    for piece in re.split(r"(\n[ \t]*\r?\n\s*)", event.body_raw):
        if piece and not piece.isspace():
            raw_starts.append(line)
        line += piece.count("\n")
    result = []
    for k, paragraph in enumerate(text.split("\n\n")):
        start = raw_starts[k] if k < len(raw_starts) else (raw_starts[-1] if raw_starts else event.body_line or 1)
        if k:
            result.append(start - 1)  # the blank line between paragraphs
        result.extend(start + j for j in range(paragraph.count("\n") + 1))
    return result


def _raw_fields(event: Event, names: Sequence[str], raw: str) -> list[Field]:
    """With --raw, a field is the part of the file where it is written."""
    if set(FIELDS) <= set(names):
        return [Field(FILE, raw, 1)]
    lines = raw.split("\n")
    sections = _raw_sections(event, len(lines))
    fields = []
    for name in names:
        ranges = sections.get(name, ())
        if len(ranges) == 1:
            first, stop = ranges[0]
            fields.append(Field(name, "\n".join(lines[first - 1 : stop - 1]), first))
        else:
            numbers = [n for first, stop in ranges for n in range(first, stop)]
            fields.append(Field(name, "\n".join(lines[n - 1] for n in numbers), 1, numbers))
    return fields


def _raw_sections(event: Event, count: int) -> dict[str, list[tuple[int, int]]]:
    """Line ranges [first, stop) of the title line, the body, the Source and Related sections."""
    heads = sorted(h.line for h in event.headings)

    def until(line: int) -> int:
        return next((h for h in heads if h > line), count + 1)

    title = title_line(event)
    found: dict[str, list[tuple[int, int]]] = {"title": [(title, title + 1)] if title else []}
    if event.body_line:
        found["body"] = [(event.body_line, until(event.body_line))]
    for heading in event.headings:
        name = _SECTION_NAMES.get(heading.text.rstrip(":").strip().lower())
        if name and name not in found:
            found[name] = [(heading.line + 1, until(heading.line))]
    front = [(1, title)] if event.meta and title > 1 else []
    found["topics"] = front + found.get("related", [])  # topic names are written in these places
    return found
