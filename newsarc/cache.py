"""Where the index cache lives, and a parsed file as plain tuples (the store's rows).

The store itself (its layout, and when it is trusted) is `newsarc.store`.
Rows are marshal dumps of plain tuples: a C-speed format, far faster to load
than pickled dataclasses, and unlike pickle it cannot run code.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
from pathlib import Path
from typing import Any

from newsarc.model import Diagnostic, Event, Heading, Link, Related, Source

FORMAT = 6  # bump whenever the parser's output or the row layout changes
RACY_SECONDS = 2.0

# size, mtime_ns, ctime_ns, inode. The ctime cannot be set by hand: an edit whose
# mtime is put back, or a chmod, still changes it.
Stamp = tuple[int, int, int, int]


def default_dir() -> Path:
    configured = os.environ.get("NEWSARC_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsarc"))


def cache_file(cache_dir: Path, root: Path, scope: Path) -> Path:
    """One index per (root, scope): the key is a hash, the folder stays outside the archive."""
    key = hashlib.sha1(f"{root}\0{scope}".encode()).hexdigest()[:20]
    return cache_dir / "index" / f"{key}.store"


def stamp(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


class no_gc:
    """Millions of fresh tuples make the cyclic GC run over and over: halves load time."""

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()


# -- records <-> plain tuples ------------------------------------------------


def encode_text(event: Event) -> tuple[str, str]:
    return (event.body, event.body_raw)


def encode(event: Event) -> tuple:
    """Everything but the body text (see encode_text)."""
    return (
        event.path,
        event.date.toordinal() if event.date else 0,
        event.date_source,
        event.title,
        "",
        "",
        event.body_line,
        tuple((s.publisher, s.url, s.line, s.column) for s in event.sources),
        event.cover,
        tuple((r.title, r.target, tuple(r.topics), r.line, r.column) for r in event.related),
        tuple(event.topics),
        tuple(
            (k.target, k.text, k.line, k.column, k.role, k.start, k.end, k.dest_start, k.dest_end, k.label)
            for k in event.links
        ),
        tuple((h.level, h.text, h.anchor, h.line) for h in event.headings),
        event.sections,
        _plain(event.meta),
        tuple((d.path, d.line, d.message, d.severity) for d in event.diagnostics),
        event.is_day_page,
        event.skipped,
    )


def decode(row: tuple) -> Event:
    (path, ordinal, date_source, title, body, body_raw, body_line, sources, cover, related, topics, links,
     headings, sections, meta, diagnostics, is_day_page, skipped) = row  # fmt: skip
    return Event(
        path=path,
        date=dt.date.fromordinal(ordinal) if ordinal else None,
        date_source=date_source,
        title=title,
        body=body,
        body_raw=body_raw,
        body_line=body_line,
        sources=[Source(*s) for s in sources],
        cover=cover,
        related=[Related(t, g, list(tp), ln, c) for t, g, tp, ln, c in related],
        topics=list(topics),
        links=[Link(*k) for k in links],
        headings=[Heading(*h) for h in headings],
        sections=dict(sections),
        meta=_unplain(meta),
        diagnostics=[Diagnostic(*d) for d in diagnostics],
        is_day_page=is_day_page,
        skipped=skipped,
    )


_DATE, _DATETIME = "\0date", "\0datetime"


def _plain(value: Any) -> Any:
    """Front matter as marshal-able values: YAML dates become tagged tuples."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return (_DATETIME, value.isoformat())
    if isinstance(value, dt.date):
        return (_DATE, value.isoformat())
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _unplain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    if isinstance(value, tuple) and len(value) == 2 and value[0] in (_DATE, _DATETIME):
        kind = dt.datetime if value[0] == _DATETIME else dt.date
        return kind.fromisoformat(value[1])
    return value
