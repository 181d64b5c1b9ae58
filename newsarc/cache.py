"""A persistent cache of parsed files, so a warm run does not parse again.

Each file's parsed record is kept with the file's size, mtime and inode;
a run stats every file and re-parses only those that changed, were added or
renamed. What this guarantees: a record is reused only when size, mtime (ns)
and inode are all unchanged and the mtime is older than the moment the cache
was written minus `RACY_SECONDS`. That last rule (git's "racily clean" rule)
catches an edit that keeps the size within the filesystem's timestamp
granularity: files that young are always parsed again.

The file is a marshal dump (a C-speed format for plain tuples; far faster to
load than pickled dataclasses, and unlike pickle it cannot run code) written
atomically; a corrupt file, or one from another version of newsarc or Python,
is ignored and rebuilt. Unreadable files are never cached: they are retried.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import marshal
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from newsarc import __version__
from newsarc.model import Diagnostic, Event, Heading, Link, Related, Source

FORMAT = 5  # bump whenever the parser's output or this layout changes
RACY_SECONDS = 2.0
_MAGIC = f"newsarc-index/{FORMAT}/{__version__}/{sys.version_info[:2]}"

Stamp = tuple[int, int, int]  # size, mtime_ns, inode


def default_dir() -> Path:
    configured = os.environ.get("NEWSARC_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsarc"))


def cache_file(cache_dir: Path, root: Path, scope: Path, section: str = "") -> Path:
    """One cache per (root, scope): the key is a hash, the folder stays outside the archive.

    Bodies live in a section of their own ("text"): most commands never read
    them, and they are most of the bytes."""
    key = hashlib.sha1(f"{root}\0{scope}".encode()).hexdigest()[:20]
    return cache_dir / "index" / f"{key}{'.' + section if section else ''}.marshal"


def stamp(info: os.stat_result) -> Stamp:
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def load(path: Path) -> dict[str, tuple[Stamp, Any]]:
    """relpath -> (stamp, encoded record); empty when missing, corrupt or foreign."""
    try:
        with open(path, "rb") as handle, no_gc():
            data = marshal.loads(handle.read())  # marshal.load(handle) reads in small chunks: 5x slower
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, tuple) or len(data) != 3 or data[0] != _MAGIC:
        return {}
    _, written, entries = data
    limit = int((written - RACY_SECONDS) * 1e9)
    return {rel: (st, rec) for rel, st, rec in entries if st[1] < limit}


def save(path: Path, entries: list[tuple[str, Stamp, Any]]) -> None:
    """Write atomically; a failure to write only costs the next run a parse."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump((_MAGIC, time.time(), entries), handle)
            os.replace(tmp, path)
        except BaseException:
            with _quiet():
                os.unlink(tmp)
            raise
    except (OSError, ValueError):
        pass


class no_gc:
    """Millions of fresh tuples make the cyclic GC run over and over: halves load time."""

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.enabled:
            gc.enable()


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


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
