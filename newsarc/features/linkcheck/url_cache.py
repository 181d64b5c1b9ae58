"""The on-disk memory of external link checks.

A daily CI run over a large archive should request only what it has not
seen succeed lately. The cache lives outside the archive (in the index's
cache folder: --cache-dir, NEWSARC_CACHE_DIR or the user's cache folder), holds successes only (a failure is always re-checked, and
erases an older success), and is one JSON file written atomically so a killed
run never leaves half a file. A file that cannot be read, or was written by
another version, is ignored and rebuilt: a cache may be lost, never trusted
wrongly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsarc.errors import NewsarcError

VERSION = 1
FILE_NAME = "links.json"
DEFAULT_MAX_AGE = 86400.0  # one day, as lychee's --max-cache-age
KEEP = 7 * 86400.0  # entries older than this (or max_age, if longer) are dropped on save

_AGE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|d|day|days|w|week|weeks)?", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def default_path(cache_dir: str | Path | None = None) -> Path:
    """links.json beside the index: `cache_dir` (--cache-dir), else NEWSARC_CACHE_DIR, else the user cache dir."""
    from newsarc.index.cache import default_dir

    return (Path(cache_dir).expanduser() if cache_dir else default_dir()) / FILE_NAME


def parse_age(text: str) -> float:
    """Seconds from `1d`, `12h`, `1h30m`, `90s`, `2w` or a bare number of seconds."""
    rest = text.strip()
    if not rest:
        raise NewsarcError("--max-cache-age is empty; use e.g. 1d, 12h, 30m or 0")
    total, pos = 0.0, 0
    while pos < len(rest):
        match = _AGE_PART.match(rest, pos)
        if not match:
            raise NewsarcError(f"bad --max-cache-age '{text}'; use e.g. 1d, 12h, 1h30m, 90s or 0")
        number, unit = match.groups()
        total += float(number) * _UNIT[(unit or "s")[0].lower()]
        pos = match.end()
        while pos < len(rest) and rest[pos] in " ,":
            pos += 1
    return total


class LinkCache:
    """URL -> last successful result, with when it was checked.

    `problem` is a sentence for the user when the file was unusable or could
    not be written; the cache then simply works from empty.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        max_age: float = DEFAULT_MAX_AGE,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.path = Path(path).expanduser() if path else default_path()
        self.max_age = max_age
        self.clock = clock
        self.entries: dict[str, dict[str, Any]] = {}
        self.problem: str | None = None
        self.hits = 0
        self.stale = 0
        self._dirty = False

    @classmethod
    def load(cls, path: str | Path | None = None, max_age: float = DEFAULT_MAX_AGE, **kw: Any) -> LinkCache:
        cache = cls(path, max_age, **kw)
        cache._read()
        return cache

    def _read(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self._unusable(f"cannot read link cache '{self.path}': {exc.strerror or exc}")
            return
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            self._unusable(f"link cache '{self.path}' was corrupt; rebuilt")
            return
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("entries"), dict):
            self._unusable(f"link cache '{self.path}' is from another version; rebuilt")
            return
        self.entries = {url: e for url, e in data["entries"].items() if _valid(e)}

    def _unusable(self, message: str) -> None:
        self.problem = message
        self.entries = {}
        self._dirty = True  # rewrite it, even if this run adds nothing

    # -- the interface newsarc.features.linkcheck.external uses ----------------------------------

    def get(self, url: str) -> dict[str, Any] | None:
        """The stored result if it is younger than max_age, else None."""
        entry = self.entries.get(url)
        if entry is None:
            return None
        age = self.clock() - _timestamp(entry["checked_at"])
        if age > self.max_age or age < -3600:  # from the future: a clock was wrong
            self.stale += 1
            return None
        self.hits += 1
        return entry["result"]

    def put(self, url: str, result: dict[str, Any]) -> None:
        self.entries[url] = {"checked_at": _iso(self.clock()), "result": dict(result)}
        self._dirty = True

    def forget(self, url: str) -> None:
        if self.entries.pop(url, None) is not None:
            self._dirty = True

    # -- writing ----------------------------------------------------------------

    def save(self) -> bool:
        """Write atomically (temp file + os.replace). False, with `problem` set, on failure."""
        if not self._dirty:
            return True
        now, keep = self.clock(), max(self.max_age, KEEP)
        kept = {url: e for url, e in self.entries.items() if now - _timestamp(e["checked_at"]) <= keep}
        try:
            self._write({"version": VERSION, "entries": kept})
        except OSError as exc:
            self.problem = f"cannot write link cache '{self.path}': {exc.strerror or exc}"
            return False
        self.entries, self._dirty = kept, False
        return True

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise


def _valid(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("result"), dict):
        return False
    try:
        _timestamp(entry.get("checked_at"))
    except (TypeError, ValueError):
        return False
    return True


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _timestamp(text: Any) -> float:
    if not isinstance(text, str):
        raise TypeError("checked_at is not a string")
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("checked_at has no time zone")
    return when.timestamp()
