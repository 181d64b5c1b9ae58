"""The records the parser produces and every feature reads.

Plain dataclasses with slots: an archive holds 100k+ of them, so they must be
small, and they must serialise to JSON without help from the CLI.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any

# Link roles: where in a file a link was written. Validation and rendering
# treat them differently (a source is external, a related link is internal).
DATE = "date"
SOURCE = "source"
COVER = "cover"
RELATED = "related"
BODY = "body"
IMAGE = "image"  # an embedded file: a Markdown image, or an HTML element's src
FRONT_MATTER = "front-matter"


@dataclass(slots=True)
class Diagnostic:
    """Something a reader could not understand, with where it was."""

    path: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    message: str
    severity: str = "warning"

    def __str__(self) -> str:
        return self.shown(self.path)

    def shown(self, path: str) -> str:
        """`path:line: message` with the path as given (the CLI's: relative to the current folder)."""
        where = f"{path}:{self.line}" if self.line else path
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "severity": self.severity, "message": self.message}


@dataclass(slots=True)
class Link:
    """One CommonMark link as written, with its position in the file.

    `start`/`end` span the whole link and `dest_start`/`dest_end` the
    destination as written (for reference links: inside the definition), as
    UTF-8 byte offsets into the decoded text without BOM; `--fix` edits there.
    """

    target: str
    text: str
    line: int
    column: int
    role: str = BODY
    start: int = 0
    end: int = 0
    dest_start: int = -1
    dest_end: int = -1
    label: str = ""  # reference label for reference-style links

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "text": self.text,
            "line": self.line,
            "column": self.column,
            "role": self.role,
        }


@dataclass(slots=True)
class Source:
    publisher: str
    url: str
    line: int
    column: int

    @property
    def domain(self) -> str:
        rest = self.url.split("://", 1)[-1]
        host = rest.split("/", 1)[0].split("@")[-1].split(":")[0].lower()
        return host[4:] if host.startswith("www.") else host

    def to_dict(self) -> dict[str, Any]:
        return {"publisher": self.publisher, "url": self.url, "domain": self.domain, "line": self.line}


@dataclass(slots=True)
class Related:
    """An entry of the Related list: another event, and the topics both share."""

    title: str
    target: str
    topics: list[str]
    line: int
    column: int

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "target": self.target, "topics": self.topics, "line": self.line}


@dataclass(slots=True)
class Heading:
    level: int
    text: str  # without an attribute block: `## Text {#custom-id}` is `Text`
    anchor: str
    line: int
    id: str = ""  # the `{#custom-id}` it was given, a #fragment target besides its anchor


@dataclass(slots=True)
class Event:
    """One event file. `path` is posix and relative to the site root."""

    path: str
    date: dt.date | None = None
    date_source: str = ""  # "line", "front matter" or "folder"
    title: str = ""
    body: str = ""  # entities decoded, paragraphs separated by a blank line
    body_raw: str = ""  # as written
    body_line: int = 0
    sources: list[Source] = field(default_factory=list)
    cover: str | None = None
    related: list[Related] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # id and name values in raw HTML: #fragment targets too
    sections: dict[str, str] = field(default_factory=dict)  # sections we do not know, kept
    meta: dict[str, Any] = field(default_factory=dict)  # front matter, unknown keys included
    diagnostics: list[Diagnostic] = field(default_factory=list)
    is_day_page: bool = False
    skipped: bool = False  # unreadable (binary, I/O error): only `diagnostics` is meaningful

    @property
    def source_count(self) -> int:
        """How many sources it cites (an event read from the index knows without decoding them)."""
        return len(self.sources)

    @property
    def slug(self) -> str:
        return slug_of(self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "date": self.date.isoformat() if self.date else None,
            "date_source": self.date_source,
            "title": self.title,
            "body": self.body,
            "sources": [s.to_dict() for s in self.sources],
            "cover": self.cover,
            "related": [r.to_dict() for r in self.related],
            "topics": self.topics,
            "sections": self.sections,
            "meta": jsonable(self.meta),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def slug_of(path: str) -> str:
    """An event's slug: its file name without `.md`."""
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.endswith(".md") else name


def jsonable(value: Any) -> Any:
    """Front matter may hold dates and other YAML types JSON lacks."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # YAML's .nan and .inf: JSON has no such numbers ("nan", "inf", "-inf")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def anchor(text: str) -> str:
    """GitHub's heading anchor: what `#fragment` links name."""
    kept = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return kept.replace(" ", "-")


def pick(events: Sequence[Event], positions: Sequence[int]) -> Sequence[Event]:
    """The events at `positions`, in that order. A view that can take a subset (the catalogue's
    Events) gives a view again, its events made together when read, not one query each; a list
    gives a list."""
    subset = getattr(events, "subset", None)
    return subset(positions) if subset is not None else [events[k] for k in positions]
