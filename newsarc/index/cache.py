"""Where the index cache lives, what `prune` clears from it, and a parsed event as plain tuples.

The index itself (its schema, and when it is trusted) is `db`, `freshness` and
`build`. An event crosses from a parsing worker to its parent (archive.parse_files)
as marshal bytes of plain tuples: a C-speed format, far faster than pickled
dataclasses, and unlike pickle it cannot run code.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import re
import time
from pathlib import Path
from typing import Any

from newsarc import settings
from newsarc.model import Diagnostic, Event, Heading, Link, Related, Source

STORE_UNUSED_DAYS = 30  # prune: an index nobody has read or written for this long goes
SCRATCH_HOURS = 24  # prune: a temporary file this old belonged to a writer that crashed


def default_dir() -> Path:
    """The settings' cache folder (--cache-dir or NEWSARC_CACHE_DIR), else the user cache folder."""
    configured = settings.current().cache_dir
    if configured:
        return configured
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("newsarc"))


# The names newsarc writes, or wrote, in the index folder (a key is db.key_of's 20 hex digits).
# Before the SQLite index, an index was a store of our own: <key>.store, its memos and blob files
# beside it. No version reads them now; they go as an unused index does, after STORE_UNUSED_DAYS,
# in case an older newsarc installed beside this one still uses them.
_STORE = r"[0-9a-f]{20}\.store"
_MEMO = r"([0-9a-f]{20}\.store)\.[a-z0-9-]+\.memo"  # an answer kept beside its store
_OLD = r"[0-9a-f]{20}(\.[a-z]+)?\.marshal"  # before the store: one file per (root, scope) and section
_SCRATCH = r"(\.tmp-|tmp)[a-z0-9_]{8}"  # mkstemp(prefix=".tmp-") of a write; TemporaryFile where it has a name
_BLOBS = r"([0-9a-f]{20})\.[0-9a-f]{16}\.blobs"  # a store's blob file
# The SQLite index (newsarc/index/db.py): <key>.<tag>.<generation>.db, SQLite's -wal, -shm and -journal
# beside it, and <name>.tmp (with its own) while a build from nothing writes it.
_DB = r"([0-9a-f]{20})\.([0-9a-f]{8})\.([0-9a-f]{20})\.db"
_DB_SIDE = _DB + r"(-wal|-shm|-journal)"
_DB_SCRATCH = _DB + r"\.tmp(-wal|-shm|-journal)?"


def prune(directory: Path, keep: Path, *, now: float | None = None) -> list[Path]:
    """Remove what newsarc left in the index folder and no longer needs; return what went.

    Every (root, scope) ever opened leaves an index behind, and older versions
    left stores and .marshal files no version reads: without this the folder only grows.
    Best effort: a file that cannot be removed is skipped, nothing raises, so
    pruning can never break the command that called it. Only files named as
    newsarc names them, never `keep`, and never through a symbolic link."""
    now = time.time() if now is None else now
    try:
        with os.scandir(directory) as listing:
            entries = list(listing)
    except OSError:
        return []
    keep_at, kept = os.path.normcase(os.path.abspath(keep)), _stat(keep)
    names = {entry.name for entry in entries}
    kept_db = re.fullmatch(_DB, os.path.basename(keep))
    present = set(names)  # as removals go (a database sorts before SQLite's files beside it)
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        max_age = _max_age(entry.name, names, kept_db, present)
        if max_age is None or os.path.normcase(os.path.abspath(entry.path)) == keep_at:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            info = entry.stat(follow_symlinks=False)
            if kept is not None and os.path.samestat(info, kept):
                continue  # `keep` under another spelling of its path (a symlinked folder)
            if max_age and now - max(info.st_mtime, info.st_atime) < max_age:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        present.discard(entry.name)
        removed.append(Path(entry.path))
    return removed


def _max_age(name: str, names: set[str], kept_db: re.Match | None = None, present: set[str] | None = None) -> float | None:
    """Seconds unused after which a file of this name may go; None: not newsarc's, or not prune's,
    never touched. (`names`: the folder's other files; a memo goes with its store, a blob file
    after it, SQLite's files beside a database with it; `kept_db`: the name of the database kept,
    whose older generations go now and whose other versions (tags) after a day unused.)"""
    database = re.fullmatch(_DB, name)
    if database:
        if kept_db is not None and database.group(1) == kept_db.group(1):
            if database.group(2) != kept_db.group(2):
                return SCRATCH_HOURS * 3600.0  # another newsarc's index of the same folder
            if database.group(3) < kept_db.group(3):
                return 0.0  # an older generation: a process still reading it keeps its open files
            return None  # a newer one, another writer's: the next run opens it
        return STORE_UNUSED_DAYS * 86400.0
    side = re.fullmatch(_DB_SIDE, name)
    if side:  # SQLite's, while its database is there (removing a -wal loses the commits in it)
        return None if name[: -len(side.group(4))] in (names if present is None else present) else 0.0
    if re.fullmatch(_DB_SCRATCH, name):
        return SCRATCH_HOURS * 3600.0  # the builder removes its own; one killed mid-build left this
    if re.fullmatch(_OLD, name):
        return 0.0
    memo = re.fullmatch(_MEMO, name)
    if memo:
        return STORE_UNUSED_DAYS * 86400.0 if memo.group(1) in names else 0.0
    if re.fullmatch(_STORE, name):
        return STORE_UNUSED_DAYS * 86400.0
    if re.fullmatch(_SCRATCH, name):
        return SCRATCH_HOURS * 3600.0
    blobs = re.fullmatch(_BLOBS, name)
    if blobs:  # while its store is there, that store's own writers remove it
        return None if blobs.group(1) + ".store" in names else SCRATCH_HOURS * 3600.0
    return None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


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
        tuple((h.level, h.text, h.anchor, h.line, h.id) for h in event.headings),
        event.sections,
        _plain(event.meta),
        tuple((d.path, d.line, d.message, d.severity) for d in event.diagnostics),
        event.is_day_page,
        event.skipped,
        tuple(event.anchors),
    )


def decode(row: tuple) -> Event:
    (path, ordinal, date_source, title, body, body_raw, body_line, sources, cover, related, topics, links,
     headings, sections, meta, diagnostics, is_day_page, skipped, anchors) = row  # fmt: skip
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
        anchors=list(anchors),
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
