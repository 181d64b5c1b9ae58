"""Answers worked out from an index, kept beside it for as long as that index is the one in use.

Some answers depend on the index alone (validate-links' day-page, padding
and duplicate checks read only its columns) and cost a tenth of a second
or more at 100k events to work out again on every run. Their inputs change
only when the index is rewritten, and every store gets a random id when it
is written (`Store.id`), so an answer filed under that id is exact for as
long as the store is: the freshness check that vouches for the store vouches
for the memo. A memo of another store, of another version of newsarc, a
damaged or unreadable one, is simply not used; a cache folder that cannot be
written costs the next run the work, nothing more. Nor is anything but a
regular file at a memo's name (a FIFO blocked every command): it is neither
read nor replaced, and costs each run the work.

A memo is one file beside the store, `<store file>.<name>.memo`, written
atomically; cache.prune removes memos whose store is gone.
"""

from __future__ import annotations

import marshal
import os
import stat
import tempfile
import zlib
from typing import Any

from newsarc import __version__
from newsarc.index.store import NotRegularFile, Store, open_regular

_MAGIC = f"newsarc-memo/1/{__version__}"


def recall(store: Store, name: str) -> Any | None:
    """What `keep` filed under `name` for this very store; None when there is none."""
    path = _path(store, name)
    if path is None:
        return None
    try:
        with open_regular(path) as handle:  # a FIFO there blocked every command
            data = handle.read()
        magic, store_id, crc, payload = marshal.loads(data)
        if magic != _MAGIC or store_id != store.id or zlib.crc32(payload) != crc:
            return None
        return marshal.loads(payload)
    except (OSError, NotRegularFile, ValueError, EOFError, TypeError):
        return None


def keep(store: Store, name: str, value: Any) -> None:
    """File `value` (plain values: marshal) for this store, replacing any older memo of that name."""
    path = _path(store, name)
    if path is None or not _ours(path):
        return
    payload = marshal.dumps(value)
    data = marshal.dumps((_MAGIC, store.id, zlib.crc32(payload), payload))
    folder = os.path.dirname(path)
    try:
        fd, scratch = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(scratch, path)
    except OSError:
        try:
            os.unlink(scratch)
        except OSError:
            pass


def _ours(path: str) -> bool:
    """Nothing there, or a regular file: something else (a FIFO, a folder) is not newsarc's to replace."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _path(store: Store, name: str) -> str | None:
    """None for a store with no file (no cache): it lives for one run, nothing is worth keeping."""
    if store.path is None or not name.replace("-", "").isalnum():
        return None
    return f"{store.path}.{name}.memo"
