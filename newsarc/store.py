"""The index on disk, read in pieces: a command pays for what it uses, not for the archive.

Loading 100k parsed events costs seconds and a gigabyte, while most commands
need only a few columns of them (paths, dates, titles, topics, a text to
match). So the index is stored by column, in one file per (root, scope):

    8 bytes   little-endian size of the header
    header    marshal: (magic, time the scan began, {section: (offset, size[, crc32])})
    sections  small ones (each with a CRC-32, checked when read): paths,
              stamps, kinds, dates, titles, topics, link facts, the event
              order, the ids sorted by path, the folders read, scan notes,
              files with diagnostics, validate-links' verdicts, link counts,
              a digest of each file's bytes and the store's random id; then
              five blobs with an end offset per file: rows (the parsed record of each
              file without its body), texts (bodies), search (the default
              search fields as UTF-8, "\\n" after each file), outgoing
              (the files each file links to) and words (related's text)

A section is read (pread) and decoded on first use; one file's row or body
is decoded only when something asks for it (`LazyEvent`). Only the search
text, which RE2 scans whole, is memory-mapped.

Every file contributes one `Piece` to every section. When the store is
updated after an edit, the pieces of unchanged files are copied as bytes
from the old store (in the kernel), so an update parses the changed files
and decodes none of the others. A file whose stamp changed but whose bytes
did not (same size and `digest`: a fresh clone of the archive, a cache
restored in CI, `touch`) keeps its piece too: reading and hashing every file
costs about a second at 100k files, parsing them twenty or more.

Freshness (`Store.fresh`, with Archive._trust) is exact, with this
guarantee: the store is used as is only if every folder the scan read has
the mtime and ctime it had, every file has the size, mtime, ctime (ns) and
inode it had, and where an mtime is not older than the moment the scan
began minus `cache.RACY_SECONDS` (git's "racily clean" rule: an edit within
the filesystem's timestamp granularity keeps the stamp), the file still has
the bytes it was parsed from (its `digest`) and the folder the names the scan
listed. Folder mtimes catch files added, deleted and renamed; file stamps
catch edits in place, and the ctime (which cannot be set by hand) an edit
whose mtime was put back, or a chmod. Files that could not be read, and
symbolic links the scan skipped, are looked at again on every run. (Until
the racy rule compared bytes, a file edited just before a run made the next
run rebuild the index as well: two rewrites per edit.)
"""

from __future__ import annotations

import hashlib
import marshal
import mmap
import os
import sys
import tempfile
import time
import zlib
from bisect import bisect_left, bisect_right
from array import array
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from newsarc import __version__, cache, forks
from newsarc.model import Event

FORMAT = 13  # bump whenever a section's layout or the parser's output changes
_MAGIC = f"newsarc-store/{FORMAT}/{cache.FORMAT}/{__version__}/{sys.version_info[:2]}"
_HEAD = 8

EVENT, DAY_PAGE, SKIPPED = 0, 1, 2  # kinds of file
PARALLEL_STATS = 20000  # from this many files, the freshness check stats on every core
DIGEST_SIZE = 16
NO_DIGEST = bytes(DIGEST_SIZE)  # a skipped file: read again on every run, never reused


def digest(data: bytes) -> bytes:
    """What a file's bytes are, for reuse when its stamp changed but its content did not (a fresh
    clone, a cache restored in CI, `touch`): blake2b, 4.6 us for a 4 KB file."""
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def file_digests(paths: Sequence[str]) -> list[bytes]:
    """`digest` of each file's bytes; NO_DIGEST for one that cannot be read (it is parsed, and says why)."""
    found = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found.append(digest(handle.read()))
        except OSError:
            found.append(NO_DIGEST)
    return found


class Piece(NamedTuple):
    """What one file contributes to each section (bytes where the section is a blob)."""

    path: str
    stamp: cache.Stamp
    kind: int
    ordinal: int  # date.toordinal(), 0 without a date
    title: str
    topics: tuple[str, ...]
    outgoing: bytes  # "\0path\0path\0": the files its links (other than the date line) resolve to
    row: bytes
    text: bytes
    search: bytes
    noted: bool  # the file has diagnostics (found without decoding every row)
    words: bytes  # headline twice and body, normalised for related's text model (textindex.normalize)
    facts: tuple[int, int, str, bool]  # what validate-links needs to skip the file (archive.link_facts)
    digest: bytes  # of the bytes parsed (DIGEST_SIZE; NO_DIGEST for a skipped file)


class Store:
    """A store file, read section by section (pread; the search text memory-mapped); read-only."""

    def __init__(self, data, written: float, table: dict[str, tuple[int, int]]):
        self._data = data  # a _File
        self.path = None  # the file it was read from, if any
        self.written = written
        self._table = table
        self._cache: dict[str, object] = {}

    # -- reading ------------------------------------------------------------

    @classmethod
    def read(cls, path) -> Store | None:
        """The store in `path`; None when missing, corrupt, or written by another version."""
        try:
            handle = open(path, "rb")
        except OSError:
            return None
        try:
            data = _File(handle)
            store = cls.parse(data)
        except (OSError, ValueError, EOFError, TypeError):
            store = None
        if store is None:
            handle.close()
        else:
            store.path = path
        return store

    @classmethod
    def parse(cls, data) -> Store | None:
        try:
            size = int.from_bytes(data[:_HEAD], "little")
            head = marshal.loads(data[_HEAD : _HEAD + size])
        except (ValueError, EOFError, TypeError):
            return None
        if not isinstance(head, tuple) or len(head) != 3 or head[0] != _MAGIC:
            return None
        _, written, table = head
        end = max((entry[0] + entry[1] for entry in table.values()), default=0)
        if end > len(data):  # cut short (a full disk, a copy in progress)
            return None
        return cls(data, written, table)


    def _bytes(self, name: str) -> bytes:
        offset, length = self._table[name][:2]
        return self._data[offset : offset + length]

    def _damaged(self, section: str) -> Exception:
        """Remove the damaged file (if it is still the one read) so the next run rebuilds it."""
        from newsarc.errors import IndexDamaged

        if self.path is not None:
            try:
                if os.stat(self.path).st_ino == os.fstat(self._data.handle.fileno()).st_ino:
                    os.unlink(self.path)
            except OSError:
                pass
        return IndexDamaged(f"the index cache was damaged (its {section} do not read back) and has been removed; run the command again")

    def _section(self, name: str, decode):
        try:
            return self._cache[name]
        except KeyError:
            pass
        data = self._bytes(name)
        entry = self._table[name]
        if len(entry) > 2 and zlib.crc32(data) != entry[2]:
            raise self._damaged(name)
        with cache.no_gc():
            try:
                found = self._cache[name] = decode(data)
            except (EOFError, ValueError, TypeError) as exc:
                raise self._damaged(name) from exc
        return found

    def _array(self, name: str, code: str) -> array:
        def decode(raw: bytes) -> array:
            found = array(code)
            found.frombytes(raw)
            return found

        return self._section(name, decode)

    @property
    def paths(self) -> list[str]:
        return self._section("paths", marshal.loads)

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def kinds(self) -> bytes:
        return self._section("kinds", bytes)

    @property
    def dates(self) -> array:
        return self._array("dates", "i")

    def day(self, i: int):
        """File `i`'s date (None without one); one date object per day, shared."""
        ordinal = self.dates[i]
        if not ordinal:
            return None
        days = self._cache.setdefault("days", {})
        found = days.get(ordinal)  # type: ignore[union-attr]
        if found is None:
            found = days[ordinal] = _date(ordinal)  # type: ignore[index]
        return found

    @property
    def stamps(self) -> array:
        return self._array("stamps", "q")

    @property
    def titles(self) -> list[str]:
        return self._section("titles", marshal.loads)

    @property
    def topics(self) -> list[tuple[str, ...]]:
        return self._section("topics", marshal.loads)

    @property
    def id(self) -> bytes:
        """16 random bytes drawn when this store was written (memo.py: answers kept for it)."""
        return self._section("id", bytes)

    @property
    def links_ok(self) -> bytes:
        """Per file, 1 when validate-links has nothing to find in it (Writer._links_ok)."""
        return self._section("links-ok", bytes)

    @property
    def link_counts(self) -> array:
        """Per file, its links other than http(s) and its http(s) links (two ints)."""
        return self._array("link-counts", "i")

    @property
    def facts(self) -> list[tuple[int, int, str, bool]]:
        """Per file, what validate-links needs to skip it (archive.link_facts)."""
        return self._section("facts", marshal.loads)

    def listed(self, i: int) -> list[str]:
        """The files a day page links to (for events: the files they link to, date line aside)."""
        offset, ends = self._table["outgoing"][0], self._array("outgoing-ends", "q")
        data = self._data.mapped()[offset + (ends[i - 1] if i else 0) : offset + ends[i]]
        return data.decode("utf-8", "surrogateescape").split("\0")[1:-1] if data else []

    def linking_to(self, path: str) -> list[int]:
        """Ids of the files with a link that resolves to `path`: one find in the mapped file per hit,
        no row decoded (reading the 70 MB section at 100k cost 40 ms of show's time)."""
        mapped, (offset, length) = self._data.mapped(), self._table["outgoing"][:2]
        ends = self._array("outgoing-ends", "q")
        needle = b"\0" + path.encode("utf-8", "surrogateescape") + b"\0"
        found, pos = [], mapped.find(needle, offset, offset + length)
        while pos >= 0:
            i = bisect_right(ends, pos - offset)
            found.append(i)
            pos = mapped.find(needle, offset + ends[i], offset + length)
        return found

    @property
    def order(self) -> array:
        """Ids of the events (not day pages, not skipped files) by date, then path."""
        return self._array("order", "i")

    def find(self, path: str) -> int | None:
        """The id of the file at `path` (skipped ones too), by bisection over the ids sorted by path:
        a few microseconds, where `paths.index` compared 110k strings (5 ms) and a dict costs 76 ms."""
        paths, by_path = self.paths, self._array("by-path", "i")
        k = bisect_left(by_path, path, key=paths.__getitem__)
        return by_path[k] if k < len(by_path) and paths[by_path[k]] == path else None

    @property
    def dirs(self) -> list[tuple]:
        """(folder, mtime_ns, ctime_ns, names_digest) of each folder the scan read (no digest: unreadable)."""
        return self._section("dirs", marshal.loads)

    @property
    def notes(self) -> list[tuple]:
        """Diagnostics of the scan itself (symlinks not followed, folders not readable)."""
        return self._section("notes", marshal.loads)

    @property
    def noted(self) -> array:
        """Ids of the files with diagnostics."""
        return self._array("noted", "i")

    def _blob(self, name: str, i: int) -> bytes:
        ends = self._array(name + "-ends", "q")
        offset = self._table[name][0]
        start = ends[i - 1] if i else 0
        return self._data[offset + start : offset + ends[i]]

    def row(self, i: int) -> tuple:
        return self._decode("rows", i)

    def text(self, i: int) -> tuple[str, str]:
        return self._decode("texts", i)

    def _decode(self, name: str, i: int):
        try:
            return marshal.loads(self._blob(name, i))
        except (EOFError, ValueError, TypeError) as exc:
            raise self._damaged(name) from exc

    def ends(self, key: str) -> array:
        return self._array(key + "-ends", "q")

    def fileno(self) -> int:
        """The store file's descriptor (a store is always a file: the cache, or an unnamed temporary one)."""
        return self._data.handle.fileno()

    def section_offset(self, key: str) -> int:
        return self._table[key][0]

    def words(self, ids: Iterable[int]) -> list[memoryview]:
        """The normalised text of each file `ids` names: views into the mapped file (reading
        the 200 MB section at 100k events cost 0.2 s; related touches each page once)."""
        offset, length = self._table["words"][:2]
        view = memoryview(self._data.mapped())[offset : offset + length]
        ends = self._array("words-ends", "q")
        return [view[ends[i - 1] if i else 0 : ends[i]] for i in ids]

    def search_blob(self) -> tuple[memoryview, list[int]]:
        """The default search fields of every file, and where each starts (plus the end).

        A view into the mapped file, not a copy: RE2 reads it in place (a copy
        of 200 MB cost 0.12 s and its size in memory)."""
        ends = self._array("search-ends", "q")
        offset, length = self._table["search"][:2]
        return memoryview(self._data.mapped())[offset : offset + length], [0, *ends]

    def stamp(self, i: int) -> cache.Stamp:
        stamps = self.stamps
        return (stamps[4 * i], stamps[4 * i + 1], stamps[4 * i + 2], stamps[4 * i + 3])

    @property
    def digests(self) -> bytes:
        """DIGEST_SIZE bytes per file: the `digest` of the bytes its piece was parsed from."""
        return self._section("digests", bytes)

    def digest(self, i: int) -> bytes:
        return self.digests[DIGEST_SIZE * i : DIGEST_SIZE * (i + 1)]

    def known(self) -> dict[str, int]:
        """path -> id of every file read (not skipped): a piece to reuse if the file's bytes are the same."""
        kinds = self.kinds
        return {path: i for i, path in enumerate(self.paths) if kinds[i] != SKIPPED}

    def young(self) -> int:
        """How many files have an mtime the racy rule cannot trust (each costs a read and a hash per run)."""
        mtimes, limit = self.stamps[1::4], self._limit()
        if not mtimes or max(mtimes) < limit:
            return 0
        return sum(1 for mtime in mtimes if mtime >= limit)

    def aged(self) -> bool:
        """Whether a scan started now would trust every file's mtime (its young files have aged)."""
        mtimes = self.stamps[1::4]
        return not mtimes or max(mtimes) < int((time.time() - cache.RACY_SECONDS) * 1e9)

    def reusable(self) -> dict[str, int]:
        """path -> id of the files whose pieces may be copied when their stamp still matches."""
        limit, stamps = self._limit(), self.stamps
        kinds = self.kinds
        return {path: i for i, path in enumerate(self.paths) if kinds[i] != SKIPPED and stamps[4 * i + 1] < limit}

    def _limit(self) -> int:
        return int((self.written - cache.RACY_SECONDS) * 1e9)

    # -- freshness ----------------------------------------------------------

    def fresh(self, root: str) -> bool:
        """Whether the store still describes the files (the guarantee is in the module docstring)."""
        return self.start_check(root, background=False).ok()

    def start_check(self, root: str, *, background: bool = True) -> Check:
        """The freshness check, in children that stat while this process goes on (`Check.ok()` waits).

        With background=False this process takes the first part itself. A
        command that starts the check, answers, then asks `ok()` before it
        prints, hides most of the check's 0.2 s behind its own work."""
        prefix = root.rstrip(os.sep) + os.sep
        kinds, paths, stamps, folders, limit = self.kinds, self.paths, self.stamps, self.dirs, self._limit()
        digests = self.digests
        ids = range(len(kinds)) if SKIPPED not in kinds else [i for i, k in enumerate(kinds) if k != SKIPPED]
        count = forks.workers() if len(ids) >= PARALLEL_STATS else 1
        parts: list = [None, *(ids[k::count] for k in range(count))]  # None: the folders

        def check(part) -> bool:
            return _folders_same(folders, limit) if part is None else _same(prefix, paths, stamps, part, limit, digests)

        if count == 1:
            return Check(forks.Done([check(part) for part in parts]))
        return Check(forks.start(check, parts) if background else forks.Done(forks.fan_out(check, parts)))

    def skipped(self) -> list[str]:
        return [path for path, kind in zip(self.paths, self.kinds) if kind == SKIPPED]


class _File:
    """A store file read with pread: a row costs one system call and maps no pages.

    (Memory-mapping it all made RSS grow by the kernel's fault-around, 64 KB a
    row: 1.1 GB to print 7,600 events.) Only the search text, scanned whole,
    is mapped."""

    def __init__(self, handle):
        self.handle = handle
        self.size = os.fstat(handle.fileno()).st_size
        self._mapped = None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, span: slice) -> bytes:
        start, stop = span.start or 0, min(span.stop, self.size)
        return _pread(self.handle.fileno(), max(stop - start, 0), start)

    def mapped(self) -> mmap.mmap:
        if self._mapped is None:
            self._mapped = mmap.mmap(self.handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._mapped


class Check:
    """A freshness check under way (Store.start_check)."""

    def __init__(self, pending: forks.Pending):
        self.pending = pending
        self._ok: bool | None = None

    def ok(self) -> bool:
        if self._ok is None:
            self._ok = all(self.pending.results())
        return self._ok


def _folders_same(folders: list[tuple], limit: int) -> bool:
    """A folder's mtime changes when a file in it is added, deleted or renamed; its ctime, when it is chmod-ed.

    A folder changed within RACY_SECONDS of the scan could change again within
    the same timestamp tick unseen: its listing is compared with the one the scan read."""
    stat = os.stat
    for folder, mtime, ctime, *listing in folders:
        try:
            info = stat(folder)
        except OSError:
            return False
        if info.st_mtime_ns != mtime or info.st_ctime_ns != ctime:
            return False
        if mtime >= limit and (not listing or _listing(folder) != listing[0]):
            return False
    return True


def names_digest(names: Iterable[str]) -> bytes:
    """What a folder holds, by name: compared for folders the racy rule cannot vouch for."""
    return digest("\0".join(sorted(names)).encode("utf-8", "surrogateescape"))


def _listing(folder: str) -> bytes | None:
    try:
        return names_digest(os.listdir(folder))
    except OSError:
        return None


def _same(prefix: str, paths: Sequence[str], stamps: array, ids: Iterable[int], limit: int, digests: bytes) -> bool:
    """Size, mtime, ctime and inode unchanged; where the mtime is racy (younger than the scan allows
    trusting), the bytes too: a young file costs a read and a hash per run, not a rebuild of the index."""
    stat = os.stat
    for i in ids:
        try:
            info = stat(prefix + paths[i])
        except OSError:
            return False
        j = 4 * i
        mtime = info.st_mtime_ns
        if (
            mtime != stamps[j + 1]
            or info.st_ctime_ns != stamps[j + 2]
            or info.st_size != stamps[j]
            or info.st_ino != stamps[j + 3]
        ):
            return False
        if mtime >= limit and file_digests([prefix + paths[i]])[0] != digests[DIGEST_SIZE * i : DIGEST_SIZE * (i + 1)]:
            return False
    return True


# -- building -------------------------------------------------------------------

BLOBS = (("rows", "row"), ("texts", "text"), ("search", "search"), ("outgoing", "outgoing"), ("words", "words"))


class Writer:
    """Builds a store piece by piece, in scan order, without holding the pieces.

    Each blob section is written once, into the store file, from where its
    stretches are: runs of unchanged files straight from the old store file,
    parsed pieces from a scratch file they were written to as they came. The
    copies run in the kernel (os.copy_file_range), so a store of 100k files is
    built holding only its small columns in memory, and updating it after an
    edit copies the old bytes once.
    """

    def __init__(self, folder=None):
        self.parts = {key: _part(folder) for key, _ in BLOBS}
        self.part_sizes = dict.fromkeys(self.parts, 0)
        self.stretches: dict[str, list[list]] = {key: [] for key in self.parts}  # [fd, offset, length]
        self.ends = {key: array("q") for key, _ in BLOBS}
        self.sizes = dict.fromkeys(self.parts, 0)
        self.paths: list[str] = []
        self.stamps = array("q")
        self.kinds = bytearray()
        self.dates = array("i")
        self.titles: list[str] = []
        self.topics: list[tuple[str, ...]] = []
        self.facts: list[tuple[int, int, str, bool]] = []
        self.noted = array("i")
        self.digests = bytearray()

    def _stretch(self, key: str, fd: int, offset: int, length: int) -> None:
        """Bytes of section `key`, next in order, are `length` bytes of `fd` from `offset`."""
        stretches = self.stretches[key]
        if stretches and stretches[-1][0] == fd and stretches[-1][1] + stretches[-1][2] == offset:
            stretches[-1][2] += length
        elif length:
            stretches.append([fd, offset, length])

    def add(self, piece: Piece) -> None:
        i = len(self.paths)
        self.paths.append(piece.path)
        self.stamps.extend(piece.stamp)
        self.kinds.append(piece.kind)
        self.dates.append(piece.ordinal)
        self.titles.append(piece.title)
        self.topics.append(piece.topics)
        self.facts.append(piece.facts)
        if piece.noted:
            self.noted.append(i)
        self.digests += piece.digest if len(piece.digest) == DIGEST_SIZE else NO_DIGEST
        for key, name in BLOBS:
            data = getattr(piece, name)
            part = self.parts[key]
            part.write(data)
            self._stretch(key, part.fileno(), self.part_sizes[key], len(data))
            self.part_sizes[key] += len(data)
            self.sizes[key] += len(data)
            self.ends[key].append(self.sizes[key])

    def copy(self, old: Store, start: int, stop: int, stamps: Iterable[int] | None = None) -> None:
        """Files start..stop-1 of `old`, unchanged: their columns now, their blob bytes when the file is written.

        `stamps` (4 ints per file) replace the old ones: a file whose stamp changed
        but whose bytes did not (`digest`) keeps its piece under its new stamp."""
        base = len(self.paths)
        self.paths.extend(old.paths[start:stop])
        self.stamps.extend(old.stamps[4 * start : 4 * stop] if stamps is None else stamps)
        self.digests += old.digests[DIGEST_SIZE * start : DIGEST_SIZE * stop]
        self.kinds.extend(old.kinds[start:stop])
        self.dates.extend(old.dates[start:stop])
        self.titles.extend(old.titles[start:stop])
        self.topics.extend(old.topics[start:stop])
        self.facts.extend(old.facts[start:stop])
        self.noted.extend(base + i - start for i in old.noted if start <= i < stop)
        fd = old.fileno()
        for key, _ in BLOBS:
            ends = old.ends(key)
            first = ends[start - 1] if start else 0
            last = ends[stop - 1] if stop else 0
            self._stretch(key, fd, old.section_offset(key) + first, last - first)
            shift = self.sizes[key] - first
            self.ends[key].extend(end + shift for end in ends[start:stop])
            self.sizes[key] += last - first

    def finish(self, path, folders: list[tuple[str, int]], notes: list[tuple], scanned: float) -> Store:
        """The store, written atomically to `path` when given (and read back from it), else to an unnamed temporary file.

        `scanned` is when the scan began: a file's mtime must be older than
        that, not than the time of writing, or a file edited while the scan
        ran could look clean."""
        events = [i for i, kind in enumerate(self.kinds) if kind == EVENT]
        dates, paths = self.dates, self.paths
        by_path = sorted(range(len(paths)), key=paths.__getitem__)
        events.sort(key=lambda i: (dates[i] or 1, paths[i]))  # date.min is ordinal 1
        small: dict[str, bytes] = {
            "paths": marshal.dumps(self.paths),
            "stamps": self.stamps.tobytes(),
            "kinds": bytes(self.kinds),
            "dates": self.dates.tobytes(),
            "titles": marshal.dumps(self.titles),
            "topics": marshal.dumps(self.topics),
            "facts": marshal.dumps(self.facts),
            "order": array("i", events).tobytes(),
            "by-path": array("i", by_path).tobytes(),
            "dirs": marshal.dumps(folders),
            "notes": marshal.dumps(notes),
            "noted": self.noted.tobytes(),
            "digests": bytes(self.digests),
            "links-ok": self._links_ok(),
            "link-counts": array("i", (n for count, http, _, _ in self.facts for n in (count - http, http))).tobytes(),
            "id": os.urandom(16),  # this store and no other: what memo.py files answers under
        }
        for key, _ in BLOBS:
            small[key + "-ends"] = self.ends[key].tobytes()
        head = _header(small, self.sizes, scanned)
        try:
            return self._store(path, head, small)
        finally:
            for part in self.parts.values():
                part.close()  # the scratch files go now, not when the writer is collected

    def _store(self, path, head: bytes, small: dict[str, bytes]) -> Store:
        if path is not None:
            try:
                self._write(path, head, small)
                found = Store.read(path)
                if found is not None:
                    return found
            except (OSError, ValueError):
                pass  # a cache that cannot be written costs the next run a parse, nothing more
        handle = tempfile.TemporaryFile()  # no cache (or none writable): an unnamed file, gone at exit
        self._copy_into(handle, head, small)
        found = Store.parse(_File(handle))
        if found is None:
            raise AssertionError("a store just built does not read back")
        return found

    def _copy_into(self, handle, head: bytes, small: dict[str, bytes]) -> None:
        handle.write(head)
        for data in small.values():
            handle.write(data)
        handle.flush()
        for part in self.parts.values():
            part.flush()
        for key, _ in BLOBS:
            for fd, offset, length in self.stretches[key]:
                _copy_range(fd, offset, length, handle.fileno())

    def _links_ok(self) -> bytes:
        """Per file, 1 when validate-links need not read it: archive.link_facts calls it quiet and
        every target it writes (http aside) is "/" + the path of a file of this store, which is
        links.Site's `plain` rule. Worked out for every file at every build: adding or deleting
        one file can change it for others."""
        plain = {"/" + p for p in self.paths if "%" not in p and "?" not in p and "#" not in p}
        return bytes(
            1 if quiet and (not written or plain.issuperset(written.split("\0"))) else 0
            for _, _, written, quiet in self.facts
        )

    def _write(self, path, head: bytes, small: dict[str, bytes]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                self._copy_into(handle, head, small)
                os.fsync(handle.fileno())  # on disk before it is named: a crash leaves the old store or this one
            os.replace(tmp, path)  # readers see the old store or the new one, never half of one
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


_KERNEL_COPY = hasattr(os, "copy_file_range")


def _pread(fd: int, length: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, length, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows: no pread; the store is written from one thread
    return os.read(fd, length)


def _copy_range(source: int, offset: int, length: int, target: int) -> None:
    """Append `length` bytes of `source` from `offset` to `target`: in the kernel where it can be."""
    global _KERNEL_COPY
    while length > 0:
        done = 0
        if _KERNEL_COPY:
            try:
                done = os.copy_file_range(source, target, length, offset)
            except OSError:
                _KERNEL_COPY = False  # another filesystem, or a kernel without it: copy by hand
        if done <= 0:
            data = memoryview(_pread(source, min(length, 1 << 20), offset))
            if not data:
                raise OSError(f"store source ended {length} bytes early")
            done = len(data)
            while data:
                data = data[os.write(target, data) :]
        offset += done
        length -= done


def _part(folder):
    """A scratch file beside the store (same disk, not /tmp, which may be memory); a temporary file without a cache."""
    if folder is None:
        return tempfile.TemporaryFile()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryFile(dir=folder)
    except OSError:
        return tempfile.TemporaryFile()


def _header(small: dict[str, bytes], blob_sizes: dict[str, int], written: float) -> bytes:
    """Length, header and padding: the small sections follow it, then the blobs, in that order.

    Each small section carries a CRC-32, checked when it is read (about 1 ms a
    MB): a store whose blocks were lost in a crash is rebuilt, not believed.
    The blobs are read a row at a time, where a CRC cannot be checked; a row
    that does not decode says the store is damaged (`Damaged`)."""
    sizes = [(name, len(data), zlib.crc32(data)) for name, data in small.items()]
    sizes += [(key, blob_sizes[key], None) for key, _ in BLOBS]
    relative, offset = {}, 0
    for name, size, crc in sizes:
        relative[name] = (offset, size) if crc is None else (offset, size, crc)
        offset += size
    # Offsets count from the end of the header, whose size depends on them: leave room, then pad.
    base = _HEAD + len(marshal.dumps((_MAGIC, written, relative))) + 64
    table = {name: (base + entry[0], *entry[1:]) for name, entry in relative.items()}
    head = marshal.dumps((_MAGIC, written, table))
    if _HEAD + len(head) > base:
        raise AssertionError("store header outgrew its room")
    return len(head).to_bytes(_HEAD, "little") + head + b"\0" * (base - _HEAD - len(head))


# -- events read on demand ----------------------------------------------------------

_LIGHT = ("path", "date", "title", "topics", "is_day_page", "skipped")
_COLUMNS = ("date", "title", "topics")  # light fields read from a column on first use
_HEAVY = tuple(name for name in Event.__slots__ if name not in _LIGHT)


class LazyEvent(Event):
    """An Event made from the store: its path and kind at once, date, title and topics from
    their columns on first use, and the rest decoded from its row on first use.

    100k of these cost what 100k small objects cost; `search -l` reads no
    column but the paths, and a command that reads the links or body of ten
    events decodes ten rows. `with_text` says whether a body is wanted at all
    (without it, body and body_raw are "", as the archive promises when opened
    with text=False)."""

    __slots__ = ("_store", "_id", "_with_text")

    def __getattr__(self, name: str):
        # Called only for a slot never set: a column or a heavy field, before its first use.
        store = self._store
        if name in _COLUMNS:
            i = self._id
            value = store.day(i) if name == "date" else store.titles[i] if name == "title" else list(store.topics[i])
            setattr(self, name, value)
            return value
        if name in _HEAVY:
            self._fill()
            return getattr(self, name)
        raise AttributeError(name)

    def _fill(self) -> None:
        store, i = self._store, self._id
        full = cache.decode(store.row(i))
        for name in _HEAVY:
            setattr(self, name, getattr(full, name))
        self.body, self.body_raw = store.text(i) if self._with_text else ("", "")

    def full_text(self) -> tuple[str, str]:
        """(body, body_raw) from the store, even when the archive was opened without text."""
        return self._store.text(self._id)


def _date(ordinal: int):
    import datetime as dt

    return dt.date.fromordinal(ordinal)


class EventView(Sequence):
    """Events of a store by id, each made when first asked for: a search that matches 80
    events of 100k makes 80 (a list of all of them costs 0.2 s at that size)."""

    def __init__(self, store: Store, ids: Sequence[int], with_text: bool):
        self.store, self.ids, self.with_text = store, ids, with_text
        self._made: dict[int, LazyEvent] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def pick(self, positions: Sequence[int]) -> list[LazyEvent]:
        """The events at these positions, made in one go."""
        missing = [k for k in positions if k not in self._made]
        for k, event in zip(missing, lazy_events(self.store, [self.ids[k] for k in missing], self.with_text)):
            self._made[k] = event
        return [self._made[k] for k in positions]

    def subset(self, positions: Sequence[int]) -> EventView:
        """The events at these positions, as a view of their own (none made yet)."""
        ids = self.ids
        return EventView(self.store, [ids[k] for k in positions], self.with_text)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return EventView(self.store, self.ids[k], self.with_text)
        event = self._made.get(k)
        if event is None:
            event = self._made[k] = lazy_events(self.store, (self.ids[k],), self.with_text)[0]
        return event


def event_at(store: Store, i: int, with_text: bool) -> LazyEvent:
    """One event from its row alone (a lookup need not read the title and topic columns, 16 MB at 100k)."""
    event = LazyEvent.__new__(LazyEvent)
    full = cache.decode(store.row(i))
    for name in Event.__slots__:
        if name not in ("body", "body_raw"):
            setattr(event, name, getattr(full, name))
    event._store, event._id, event._with_text = store, i, with_text
    return event


def lazy_events(store: Store, ids: Iterable[int], with_text: bool) -> list[LazyEvent]:
    """Events for the files `ids`: a path and a kind each (under 1 us), the rest on first use."""
    paths, kinds = store.paths, store.kinds
    new = LazyEvent.__new__
    found = []
    for i in ids:
        event = new(LazyEvent)
        event.path = paths[i]
        kind = kinds[i]
        event.is_day_page = kind == DAY_PAGE
        event.skipped = kind == SKIPPED
        event._store, event._id, event._with_text = store, i, with_text
        found.append(event)
    return found
