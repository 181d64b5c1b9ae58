"""The index on disk, read in pieces: a command pays for what it uses, not for the archive.

Loading 100k parsed events costs seconds and a gigabyte, while most commands
need only a few columns of them (paths, dates, titles, topics, a text to
match). So the index is stored by column, in two files per (root, scope)
in the cache's index folder:

<key>.store, the columns, replaced whole (atomically) by every update:
    8 bytes   little-endian size of the header
    header    marshal: (magic, time the scan began, {section: (offset, size, crc32)})
    sections  each with a CRC-32, checked when read: paths, stamps, kinds,
              dates, titles, topics, the event order, the ids sorted by
              path, the folders read, scan notes, files with diagnostics,
              validate-links' verdicts, link counts, quiet flags, a digest
              of each file's bytes, the store's random id, the blob file's
              name; per blob kind, where each file's bytes are in the blob
              file (start, end); per kind read whole, its map (Store.areas),
              with an xxh3 checksum of each stretch, checked before its
              first scan or first piece read (those bytes are matched in
              place, never decoded)

<key>.<random>.blobs, the blobs, only ever appended to: six kinds of bytes
    per file: rows (the parsed record without its body), texts (bodies),
    search (the default search fields as UTF-8, "\\n" after each file),
    outgoing (the files each file links to), words (related's text) and
    written (the link targets validate-links judges, as written). Every byte
    is under a checksum: a row or text piece starts with its own (8 bytes of
    xxh3, checked each time it is decoded), the other kinds are under their
    stretches' (Store.areas). A bit flipped in a title decoded cleanly, as
    another title: damage must be an error (IndexDamaged), never an answer.

A section is read (pread) and decoded on first use; one file's row or body
is decoded only when something asks for it (`LazyEvent`). The kinds read
whole (search by RE2, outgoing and written by a find) are scanned in the
memory-mapped blob file, stretch by stretch: a map of each stretch says
which file each piece belongs to, if any.

Every file contributes one `Piece`. When the store is updated after an
edit, unchanged files keep their pieces where they are in the blob file;
the parsed pieces are appended to it, and a new columns file names them:
an update costs what changed, not a copy of the whole index (1.2 GB at
100k files). Pieces no store uses any more are dead bytes; once they pass
a quarter of the blob file, the next update writes the store a blob file
of its own, afresh (Writer). A file whose stamp changed but whose bytes did
not (same size and `digest`: a fresh clone of the archive, a cache restored
in CI, `touch`) keeps its piece too: reading and hashing every file costs
about a second at 100k files, parsing them twenty or more.

Readers never see half a store: a columns file is written and flushed to
disk under a temporary name, then renamed over the old one, and names only
blob bytes already on disk. Writers take turns (a lock on the index folder)
to append and to rename; a blob file is removed only by the writer that
replaced it, under that lock, and a writer whose blob file was removed
keeps its store to itself. A reader that finds its store's blob file gone
(replaced meanwhile) reads the store now in place. A crash leaves the old
store, or the new one, plus at most some dead bytes.

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

A check that fails says what it found changed (`Changes`), and the update
starts from that instead of walking everything again: files in folders whose
stamps held are the ones the store has (Archive._changed_plan). The store it
writes records the moment the check began as its scan time, which only makes
more files young, never fewer.
"""

from __future__ import annotations

import hashlib
import marshal
import mmap
import os
import stat
import sys
import tempfile
import time
import zlib
from bisect import bisect_left, bisect_right, insort
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import xxhash

from newsarc import __version__, cores
from newsarc.index import cache
from newsarc.errors import IndexDamaged, NewsarcError
from newsarc.model import Event

FORMAT = 24  # bump whenever a section's layout or the parser's output changes
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
    words: bytes  # headline twice and body, normalised for related's text model (reading/words.py)
    facts: tuple[int, int, str, bool]  # what validate-links needs to skip the file (archive.link_facts)
    digest: bytes  # of the bytes parsed (DIGEST_SIZE; NO_DIGEST for a skipped file)
    sources: int  # how many sources it cites: list-by-date's column, without decoding its row


class NotRegularFile(NewsarcError):
    """Something other than a regular file (a FIFO, a socket, a device, a folder) at one of the
    index's names. Opening a FIFO for reading blocks until a writer comes: every command hung.
    newsarc neither reads it nor removes it (it did not make it); the caller goes on without
    what it would have held."""

    def __init__(self, path: str):
        super().__init__(f"{path} is not a regular file; remove it (until then the index is built in memory on every run)")
        self.path = path


def open_regular(path) -> object:
    """`path` opened for reading in binary, provided it is a regular file (NotRegularFile if not);
    OSError as open() raises it. Never blocks: the file is opened non-blocking and looked at
    through its descriptor, so what is checked is what is read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(os.fspath(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class IndexStale(NewsarcError):
    """Raised by a store read ahead of its freshness check (`Store.watch`) once the check found it
    stale: an answer from it would be thrown away, so it stops. options.settled catches it (as any
    NewsarcError), finds the store stale, and answers again from it brought up to date."""


class Store:
    """A store: its columns file read section by section (pread), and its blob file (pread; the
    parts read whole memory-mapped); read-only."""

    def __init__(self, data, blobs, written: float, table: dict[str, tuple[int, int]]):
        self._data = data  # a _File: the columns
        self._blobs = blobs  # a _File: the blob file
        self.path = None  # the file it was read from, if any
        self.written = written
        self._table = table
        self._cache: dict[str, object] = {}
        self._checked: set[str] = set()  # SCANNED kinds whose bytes matched their checksums
        self._watched: Check | None = None  # the freshness check running while this store answers
        self._next_look = 0.0
        self._watcher = 0  # the process that watches it

    def watch(self, check: Check | None) -> None:
        """Answer ahead of `check` (None: no longer): rows, texts, listings, links and lookups read
        from the store raise IndexStale once the check has found it stale. They ask at most every
        20 ms and never wait: at 100k files, validate-links after an edit gave up about half a
        second of an answer that would have been thrown away."""
        self._watched, self._next_look, self._watcher = check, 0.0, os.getpid()

    def _current(self) -> None:
        check = self._watched
        if check is None:
            return
        now = time.monotonic()
        if now < self._next_look:
            return
        if os.getpid() != self._watcher:  # a forked worker: the check's pipes are its parent's to read
            self._next_look = float("inf")
            return
        if check.failed():
            raise IndexStale("the index changed while answering; answering again")
        self._next_look = float("inf") if check.pending.ready() else now + 0.02

    # -- reading ------------------------------------------------------------

    @classmethod
    def read(cls, path) -> Store | None:
        """The store in `path`; None when missing, corrupt, or written by another version;
        NotRegularFile when the store, or the blob file it names, is not a regular file.

        A store can be replaced (and its blob file removed) between opening it
        and opening its blob file: then the store now in place is read."""
        for _ in range(3):
            try:
                handle = open_regular(path)
            except OSError:
                return None
            store, gone = None, False
            try:
                store = cls._open(handle, os.path.dirname(path))
            except FileNotFoundError:
                gone = True
            except NotRegularFile:
                handle.close()
                raise
            except (OSError, ValueError, EOFError, TypeError):
                pass
            if store is not None:
                store.path = path
                return store
            handle.close()
            if not gone:
                return None
        return None

    @classmethod
    def _open(cls, handle, folder: str) -> Store | None:
        data = _File(handle)
        head = cls._head(data)
        if head is None or "blob-file" not in head[2]:
            return None
        offset, length, crc = head[2]["blob-file"]
        raw = data[offset : offset + length]
        if zlib.crc32(raw) != crc:
            return None
        name = marshal.loads(raw)[0]
        if not name or os.path.basename(name) != name:
            return None
        blobs = open_regular(os.path.join(folder, name))  # FileNotFoundError: replaced meanwhile
        found = None
        try:
            found = cls.parse(data, _File(blobs))
        finally:
            if found is None:
                blobs.close()
        return found

    @staticmethod
    def _head(data) -> tuple | None:
        try:
            size = int.from_bytes(data[:_HEAD], "little")
            head = marshal.loads(data[_HEAD : _HEAD + size])
        except (ValueError, EOFError, TypeError):
            return None
        if not isinstance(head, tuple) or len(head) != 3 or head[0] != _MAGIC:
            return None
        return head

    @classmethod
    def parse(cls, data, blobs) -> Store | None:
        """The store whose columns are `data` and blobs `blobs` (_Files); None if either is cut short."""
        head = cls._head(data)
        if head is None:
            return None
        _, written, table = head
        end = max((entry[0] + entry[1] for entry in table.values()), default=0)
        if end > len(data) or "blob-file" not in table:  # cut short (a full disk, a copy in progress)
            return None
        found = cls(data, blobs, written, table)
        try:
            if found.blob_file[1] > len(blobs):
                return None
        except IndexDamaged:
            return None
        return found

    def _bytes(self, name: str) -> bytes:
        offset, length = self._table[name][:2]
        return self._data[offset : offset + length]

    def raw(self, name: str) -> bytes:
        """Section `name` as stored, its checksum checked: copied as it is into a store written after this one."""
        data = self._bytes(name)
        if zlib.crc32(data) != self._table[name][2]:
            raise self._damaged(name)
        return data

    def _damaged(self, section: str) -> Exception:
        """Remove the damaged file (if it is still the one read) so the next run rebuilds it."""
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
        """16 random bytes drawn when this store was written (answers.py: answers kept for it)."""
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
    def source_counts(self) -> array:
        """Per file, how many sources it cites (what a listing shows of them)."""
        return self._array("sources", "i")

    @property
    def quiet(self) -> bytes:
        """Per file, 1 when archive.link_facts calls it quiet (no diagnostics, its date line surely right)."""
        return self._section("quiet", bytes)

    @property
    def blob_file(self) -> tuple[str, int, int, int]:
        """(name of the blob file beside the store, "" if unnamed; bytes this store needs of it; where
        the part written afresh ends and appended ones begin; how many of its bytes this store uses)."""
        return self._section("blob-file", marshal.loads)

    def at(self, kind: str) -> array:
        """Where each file's `kind` bytes are in the blob file: start and end, two ints per file."""
        return self._array(kind + "-at", "q")

    def areas(self, kind: str) -> list[tuple[int, int, array, array | None, int]]:
        """The stretches of the blob file holding `kind` bytes (SCANNED kinds), each as (start, end,
        where each piece begins relative to start and where the last ends, the id of each piece:
        -1 for bytes no file uses any more; None when piece r is file r; the checksum of its bytes)."""

        def decode(raw: bytes) -> list:
            found = []
            for start, end, bounds, ids, checksum in marshal.loads(raw):
                offsets = array("q")
                offsets.frombytes(bounds)
                if ids is not None:
                    owners = array("i")
                    owners.frombytes(ids)
                    ids = owners
                found.append((start, end, offsets, ids, checksum))
            return found

        return self._section(kind + "-map", decode)

    def _checked_areas(self, kind: str) -> list[tuple[int, int, array, array | None, int]]:
        """`areas(kind)`, each stretch's bytes checked against its checksum, once per store.

        These kinds are matched and searched in place, never decoded, so damage
        would not fail loudly as a damaged row does: zeroed search text found
        nothing, zeroed links made every backlink vanish, silently and on every
        run. xxh3 hashes the 210 MB of search text at 100k files in about 10 ms
        (CRC-32 took 58 ms)."""
        areas = self.areas(kind)
        if kind not in self._checked:
            view = memoryview(self._blobs.mapped())
            for start, end, _, _, checksum in areas:
                digest = _STRETCH_HASH()
                for at in range(start, end, _DIGEST_CHUNK):  # a chunk at a time, its pages let go after it:
                    stop = min(at + _DIGEST_CHUNK, end)  # hashing 200 MB at once held it all in memory
                    digest.update(view[at:stop])
                    self._blobs.release(at, stop - at)  # they stay in the page cache, not in this process
                if digest.intdigest() != checksum:
                    raise self._damaged(kind)
            self._checked.add(kind)
        return areas

    def written_targets(self, i: int) -> str:
        """File i's link targets other than http(s), as written, "\\0"-joined (archive.link_facts)."""
        data = self._blob("written", i)
        return data[1:-1].decode("utf-8", "surrogateescape") if data else ""

    def listed(self, i: int) -> list[str]:
        """The files a day page links to (for events: the files they link to, date line aside)."""
        self._current()
        data = self._blob("outgoing", i)
        return data.decode("utf-8", "surrogateescape").split("\0")[1:-1] if data else []

    def holding(self, kind: str, needle: bytes) -> list[int]:
        """Ids of the files whose `kind` bytes (a SCANNED kind) hold `needle`, in id order: one find per
        hit in the mapped blob file, nothing decoded."""
        self._current()
        mapped, found = self._blobs.mapped(), []
        for start, end, bounds, ids, _ in self._checked_areas(kind):
            pos = mapped.find(needle, start, end)
            while pos >= 0:
                r = bisect_right(bounds, pos - start) - 1
                i = r if ids is None else ids[r]
                if i >= 0:
                    found.append(i)
                pos = mapped.find(needle, start + bounds[r + 1], end)
        self._blobs.release()  # a find reads every page of the kind's stretches: 70 MB of links at 100k
        return sorted(found)

    def linking_to(self, path: str) -> list[int]:
        """Ids of the files with a link that resolves to `path`: one find in the mapped file per hit,
        no row decoded (reading the 70 MB section at 100k cost 40 ms of show's time)."""
        return self.holding("outgoing", b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")

    def linked_from(self) -> dict[str, list[int]]:
        """`linking_to` of every path at once (path -> ids, in id order), from one pass over the
        outgoing column: for callers asking about many paths, as each linking_to reads it whole."""
        found: dict[str, list[int]] = {}
        for i in range(len(self)):
            for path in self.listed(i):
                found.setdefault(path, []).append(i)
        return found

    @property
    def order(self) -> array:
        """Ids of the events (not day pages, not skipped files) by date, then path."""
        return self._array("order", "i")

    @property
    def by_path(self) -> array:
        """Every id, sorted by path."""
        return self._array("by-path", "i")

    def find(self, path: str) -> int | None:
        """The id of the file at `path` (skipped ones too), by bisection over the ids sorted by path:
        a few microseconds, where `paths.index` compared 110k strings (5 ms) and a dict costs 76 ms."""
        self._current()
        paths, by_path = self.paths, self.by_path
        k = bisect_left(by_path, path, key=paths.__getitem__)
        return by_path[k] if k < len(by_path) and paths[by_path[k]] == path else None

    @property
    def dirs(self) -> list[tuple]:
        """(folder, mtime_ns, ctime_ns, names digest or None where unreadable, how many files the scan
        found in it) of each folder the scan read, in the order it read them."""
        return self._section("dirs", marshal.loads)

    @property
    def notes(self) -> list[tuple]:
        """Diagnostics of the scan itself (symlinks not followed, folders not readable)."""
        return self._section("notes", marshal.loads)

    @property
    def noted(self) -> array:
        """Ids of the files with diagnostics."""
        return self._array("noted", "i")

    def _blob(self, kind: str, i: int) -> bytes:
        if kind in SCANNED:
            self._checked_areas(kind)  # one file's piece, vouched for by the checksum of its stretch
        at = self.at(kind)
        return self._blobs[at[2 * i] : at[2 * i + 1]]

    def row(self, i: int) -> tuple:
        return self._decode("rows", i)

    def text(self, i: int) -> tuple[str, str]:
        return self._decode("texts", i)

    def _decode(self, name: str, i: int):
        """A row or body, its checksum checked: a flipped bit in a title decoded cleanly (to another
        title), so a record that merely decodes is not yet a record that is right."""
        self._current()
        data = memoryview(self._blob(name, i))
        if len(data) < _SEAL or _seal(data[_SEAL:]) != data[:_SEAL]:
            raise self._damaged(name)
        try:
            return marshal.loads(data[_SEAL:])
        except (EOFError, ValueError, TypeError) as exc:
            raise self._damaged(name) from exc

    def blob_fileno(self) -> int:
        """The blob file's descriptor (a store's blobs are always a file: beside the store, or an unnamed temporary one)."""
        return self._blobs.handle.fileno()

    def words(self, ids: Iterable[int]) -> list[memoryview]:
        """The normalised text of each file `ids` names: views into the mapped file (reading
        the 200 MB section at 100k events cost 0.2 s; related touches each page once)."""
        self._current()
        self._checked_areas("words")
        view, at = memoryview(self._blobs.mapped()), self.at("words")
        return [view[at[2 * i] : at[2 * i + 1]] for i in ids]

    def release_pages(self) -> None:
        """Let go of the blob file's pages this process has read through `words` (see _File.release)."""
        self._blobs.release()

    def search_lengths(self, ids: Iterable[int]) -> list[int]:
        """The length in characters of each file's default search fields (its search text less the
        "\\n" after it): what search's relevance ranking needs of every event, without decoding them."""
        self._current()
        self._checked_areas("search")
        view, at, found = self._blobs.mapped(), self.at("search"), []
        for i in ids:
            data = view[at[2 * i] : at[2 * i + 1]]
            found.append(max(len(data) if data.isascii() else len(data.decode("utf-8", "surrogateescape")), 1) - 1)
        self._blobs.release()
        return found

    def search_text(self, i: int) -> bytes:
        """File i's default search fields as UTF-8, "\\n" after them ("" for day pages and skipped files)."""
        return self._blob("search", i)

    def search_hits(self, matcher, require_all: bool = False) -> set[int]:
        """Ids of the files whose default search fields `matcher` (patterns.Matcher) matches.

        Each stretch of the search text is scanned where it lies in the mapped
        blob file, not copied: RE2 reads it in place (a copy of 200 MB cost
        0.12 s and its size in memory)."""
        self._current()
        view, found = memoryview(self._blobs.mapped()), set()
        for start, end, bounds, ids, _ in self._checked_areas("search"):
            first, pieces = 0, len(bounds) - 1
            while first < pieces:  # about _DIGEST_CHUNK at a time, cut at a piece's edge (no match spans pieces),
                last = min(max(bisect_right(bounds, bounds[first] + _DIGEST_CHUNK, first + 1) - 1, first + 1), pieces)
                base = bounds[first]  # each stretch's pages let go after it: 200 MB at 100k files, read once
                offsets = [offset - base for offset in bounds[first : last + 1]]
                hits = matcher.hits(view[start + base : start + bounds[last]], offsets, require_all)
                found.update(first + r if ids is None else ids[first + r] for r in hits)
                self._blobs.release(start + base, bounds[last] - base)
                first = last
        found.discard(-1)
        return found

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
        prints, hides most of the check's 0.2 s behind its own work. A check
        that fails says what changed (`Check.changes()`): the update that
        follows need not walk the tree again to find out."""
        began = time.time()
        prefix = root.rstrip(os.sep) + os.sep
        kinds, paths, stamps, folders, limit = self.kinds, self.paths, self.stamps, self.dirs, self._limit()
        digests = self.digests
        ids = range(len(kinds)) if SKIPPED not in kinds else [i for i, k in enumerate(kinds) if k != SKIPPED]
        count = cores.workers() if len(ids) >= PARALLEL_STATS else 1
        parts: list = [None, *(ids[k::count] for k in range(count))]  # None: the folders

        def check(part) -> list:
            if part is None:
                return _folders_changed(folders, limit)
            return _files_changed(prefix, paths, stamps, part, limit, digests)

        if count == 1:
            return Check(cores.Done([check(part) for part in parts]), began)
        return Check(cores.start(check, parts) if background else cores.Done(cores.fan_out(check, parts)), began)

    def of_kind(self, kind: int) -> list[int]:
        """Ids of the files of one kind, by a search of the kinds column (a Python loop over 110k
        files cost 12 ms)."""
        kinds, found, at = self.kinds, [], -1
        wanted = bytes((kind,))
        while (at := kinds.find(wanted, at + 1)) >= 0:
            found.append(at)
        return found

    def skipped(self) -> list[str]:
        kinds = self.kinds
        return [path for path, kind in zip(self.paths, kinds) if kind == SKIPPED] if SKIPPED in kinds else []


class _File:
    """A store's columns or blob file, read with pread: a row costs one system call and maps no pages.

    (Memory-mapping it all made RSS grow by the kernel's fault-around, 64 KB a
    row: 1.1 GB to print 7,600 events.) Only the blob file is mapped, for the
    kinds scanned whole (search, outgoing, written) and related's words."""

    def __init__(self, handle):
        self.handle = handle
        self.size = os.fstat(handle.fileno()).st_size
        self._mapped = None

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, span: slice) -> bytes:
        start, stop = span.start or 0, min(span.stop, self.size)
        return _pread(self.handle.fileno(), max(stop - start, 0), start)

    def mapped(self) -> mmap.mmap | bytes:
        if self._mapped is None:
            self._mapped = mmap.mmap(self.handle.fileno(), 0, access=mmap.ACCESS_READ) if self.size else b""
        return self._mapped

    def release(self, start: int = 0, length: int | None = None) -> None:
        """Drop this process's hold on the mapped pages read so far, or on those of one stretch of the
        file (they stay in the page cache).

        Reading the mapping makes each page count in this process's memory:
        related's scan of 200 MB of text at 100k files held it all at once,
        in the parent and its children together (past 500 MB with the rest).
        Pages read again come back from the page cache, without a disk read."""
        if isinstance(self._mapped, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            if length is None:
                self._mapped.madvise(mmap.MADV_DONTNEED)
            else:
                begin = start - start % mmap.PAGESIZE
                self._mapped.madvise(mmap.MADV_DONTNEED, begin, start + length - begin)


class Changes(NamedTuple):
    """What a failed freshness check saw: enough to bring the store up to date without a second walk."""

    folders: list[int]  # positions in Store.dirs of the folders whose stamp or names changed (or that are gone)
    files: list[tuple]  # (id, new stamp or None where the stat failed, bytes known to differ), by id
    began: float  # when the check began: a scan time safe to record for a store made from what it saw


class Check:
    """A freshness check under way (Store.start_check)."""

    def __init__(self, pending: cores.Pending, began: float = 0.0):
        self.pending = pending
        self.began = began
        self._ok: bool | None = None

    def ok(self) -> bool:
        if self._ok is None:
            self._ok = not any(self.pending.results())
        return self._ok

    def failed(self) -> bool:
        """Whether the check is over and found the store stale (never waits)."""
        return self.pending.ready() and not self.ok()

    def changes(self) -> Changes:
        folders, *files = self.pending.results()
        return Changes(list(folders), sorted(found for part in files for found in part), self.began)


def _folders_changed(folders: list[tuple], limit: int) -> list[int]:
    """Positions of the folders that changed. A folder's mtime changes when a file in it is added,
    deleted or renamed; its ctime, when it is chmod-ed.

    A folder changed within RACY_SECONDS of the scan could change again within
    the same timestamp tick unseen: its listing is compared with the one the scan read."""
    stat, found = os.stat, []
    for k, (folder, mtime, ctime, listing, _) in enumerate(folders):
        try:
            info = stat(folder)
        except OSError:
            found.append(k)
            continue
        if info.st_mtime_ns != mtime or info.st_ctime_ns != ctime:
            found.append(k)
        elif mtime >= limit and (listing is None or _listing(folder) != listing):
            found.append(k)
    return found


def names_digest(names: Iterable[str]) -> bytes:
    """What a folder holds, by name: compared for folders the racy rule cannot vouch for."""
    return digest("\0".join(sorted(names)).encode("utf-8", "surrogateescape"))


def _listing(folder: str) -> bytes | None:
    try:
        return names_digest(os.listdir(folder))
    except OSError:
        return None


def _files_changed(prefix: str, paths: Sequence[str], stamps: array, ids: Iterable[int], limit: int, digests: bytes) -> list[tuple]:
    """(id, stamp, bytes known to differ) of each file whose size, mtime, ctime or inode changed, or,
    where the mtime is racy (younger than the scan allows trusting), whose bytes did: a young
    file costs a read and a hash per run, not a rebuild of the index. Nothing is found, and
    nothing is built, while every file is as it was."""
    stat, found = os.stat, []
    for i in ids:
        try:
            info = stat(prefix + paths[i])
        except OSError:
            found.append((i, None, True))
            continue
        j = 4 * i
        mtime = info.st_mtime_ns
        if (
            mtime != stamps[j + 1]
            or info.st_ctime_ns != stamps[j + 2]
            or info.st_size != stamps[j]
            or info.st_ino != stamps[j + 3]
        ):
            found.append((i, (info.st_size, mtime, info.st_ctime_ns, info.st_ino), False))
        elif mtime >= limit and file_digests([prefix + paths[i]])[0] != digests[DIGEST_SIZE * i : DIGEST_SIZE * (i + 1)]:
            found.append((i, (info.st_size, mtime, info.st_ctime_ns, info.st_ino), True))
    return found


# -- building -------------------------------------------------------------------

_ROW_TITLE, _ROW_TOPICS = 3, 10  # where cache.encode puts an event's title and topics in its row

# Blob kinds, in the order a blob file written afresh holds them, and the Piece field each comes from
# ("written": the link targets of archive.link_facts, "\0"-framed like outgoing).
BLOBS = (("rows", "row"), ("texts", "text"), ("search", "search"), ("outgoing", "outgoing"), ("words", "words"), ("written", None))
SCANNED = ("search", "outgoing", "written", "words")  # read whole (a regex, a find, related's model): each keeps a map of its areas
SEALED = ("rows", "texts")  # read one piece at a time: each piece starts with its own checksum (_seal)
COMPACT_SHARE, COMPACT_MIN = 4, 1 << 20  # a blob file whose dead bytes pass a quarter of it (and 1 MB) is written afresh
MAX_AREAS = 16  # past this many stretches of a SCANNED kind, the appended pieces are appended again as one
MOVE_SHARE = 16  # ... unless they are more than 1/16 of the live bytes: then the blob file is written afresh
INSORT_MAX = 256  # up to this many new files are put into the sorted columns one by one; more, and they are sorted again
SWEEP_SECONDS = 600  # a blob file of this store, not in use and untouched this long, is left over from a crash
_CHANGED_PATHS_MAX = 16  # up to this many paths added or gone, files linking to them are found by a find each


def _written_blob(written: str) -> bytes:
    return b"\0" + written.encode("utf-8", "surrogateescape") + b"\0" if written else b""


class _Blobs(NamedTuple):
    """Where a store's blob bytes went (Writer._append, Writer._afresh)."""

    handle: object  # the blob file, open for reading
    name: str  # its name beside the store; "" for an unnamed temporary file
    size: int  # bytes the store uses of it
    fresh_end: int  # where the part written afresh ends
    areas: dict[str, list[tuple]]  # SCANNED kind -> [(start, end, bounds, ids or None, checksum)]
    created: bool  # a new blob file (it replaces the old one), not the old one appended to
    live: int  # bytes of it the store uses (the rest is dead)


class Writer:
    """Builds a store: its columns, written whole into a new file, and its blobs.

    Blob bytes live in a blob file beside the store, which later stores share:
    after an edit, unchanged files keep their pieces where they are, and the
    parsed pieces are appended to the blob file in one write (`_append`): an
    update costs what changed, not the 1.2 GB a copy of every piece cost at
    100k files. Pieces no store uses any more are dead bytes; when they pass
    a quarter of the file, the store gets a blob file of its own, written
    afresh with the live pieces in file order (`_afresh`, which also writes
    the first store: every piece copied in the kernel from where it is).

    Parsed pieces wait in scratch files, one per kind, as they come, so a
    store of 100k files is built holding only its small columns in memory.
    """

    def __init__(self, folder=None, base: Store | None = None):
        self.folder = folder
        self.base = base  # the store `copy` copies from
        self.parts = {key: _part(folder) for key, _ in BLOBS}
        self.part_sizes = dict.fromkeys(self.parts, 0)
        self.segments: list[tuple] = []  # (first new id, base start, base stop) copied, or (new id, None, k) the k-th parsed
        self.size = 0
        self.stamps = array("q")
        self.kinds = bytearray()
        self.dates = array("i")
        self.digests = bytearray()
        self.quiet = bytearray()
        self.counts = array("i")
        self.sources = array("i")
        self.at = {key: array("q") for key, _ in BLOBS}  # parsed pieces: offsets in their part until finish()
        self.added: list[int] = []  # new ids of the parsed pieces, and their columns:
        self.paths: list[str] = []
        self.titles: list[str] = []
        self.topics: list[tuple[str, ...]] = []
        self.written: list[str] = []  # per parsed file of an update, its written targets ("" when not quiet)
        self._plain_added: set[str] = set()  # "/" + the plain path of each file added, in a build from nothing (_count_targets)
        self._missing = array("i")  # ... per parsed file, how many of its targets were not added yet (-1: not quiet)
        self._waiting: dict[str, list[int]] = {}  # ... a target not added yet -> the parsed files writing it
        self.noted: list[int] = []
        self._copied: array | None = None  # _new_of(), once worked out

    def add(self, piece: Piece) -> None:
        i = self.size
        self.size += 1
        self.segments.append((i, None, len(self.added)))
        self.added.append(i)
        self.paths.append(piece.path)
        self.titles.append(piece.title)
        self.topics.append(piece.topics)
        self.stamps.extend(piece.stamp)
        self.kinds.append(piece.kind)
        self.dates.append(piece.ordinal)
        self.digests += piece.digest if len(piece.digest) == DIGEST_SIZE else NO_DIGEST
        count, http, written, quiet = piece.facts
        self.quiet.append(1 if quiet else 0)
        self.counts.extend((count - http, http))
        self.sources.append(piece.sources)
        if self.base is None:
            self._count_targets(piece.path, written, quiet)
        else:
            self.written.append(written if quiet else "")  # a file that is not quiet fails whatever it writes
        if piece.noted:
            self.noted.append(i)
        for key, name in BLOBS:
            data = getattr(piece, name) if name else _written_blob(written)
            if key in SEALED:
                data = _seal(data) + data
            self.parts[key].write(data)
            start = self.part_sizes[key]
            self.part_sizes[key] = start + len(data)
            self.at[key].extend((start, start + len(data)))

    def _count_targets(self, path: str, written: str, quiet: bool) -> None:
        """In a build from nothing, what `_links_ok` needs of a parsed file's written targets.

        No file goes in such a build, so a target is good as soon as a file of
        that path is added: each file counts the targets it still waits for,
        and each target the files waiting for it (`_waiting`); nothing of the
        targets is kept once they are seen. (Keeping every file's targets
        until the end held 90 MB at 100k files.)"""
        k = len(self.added) - 1  # this file's position among the parsed ones
        if _plain(path):
            mine = "/" + path
            self._plain_added.add(mine)
            for waiting in self._waiting.pop(mine, ()):
                self._missing[waiting] -= 1
        missing = 0 if quiet else -1  # below 0: fails whatever it writes
        if quiet and written:
            known, waiting = self._plain_added, self._waiting
            for target in written.split("\0"):
                if target not in known:
                    waiting.setdefault(target, []).append(k)
                    missing += 1
        self._missing.append(missing)

    def copy(self, old: Store, start: int, stop: int, stamps: Iterable[int] | None = None) -> None:
        """Files start..stop-1 of `old` (the base store), unchanged: their columns and blob places now,
        their blob bytes only if a blob file is written afresh.

        `stamps` (4 ints per file) replace the old ones: a file whose stamp changed
        but whose bytes did not (`digest`) keeps its piece under its new stamp."""
        if old is not self.base:
            raise ValueError("a writer copies from its base store only")
        self.segments.append((self.size, start, stop))
        self.size += stop - start
        self.stamps.extend(old.stamps[4 * start : 4 * stop] if stamps is None else stamps)
        self.kinds += old.kinds[start:stop]
        self.dates.extend(old.dates[start:stop])
        self.digests += old.digests[DIGEST_SIZE * start : DIGEST_SIZE * stop]
        self.quiet += old.quiet[start:stop]
        self.counts.extend(old.link_counts[2 * start : 2 * stop])
        self.sources.extend(old.source_counts[start:stop])
        for key, _ in BLOBS:
            self.at[key].extend(old.at(key)[2 * start : 2 * stop])

    def finish(self, path, folders: list[tuple], notes: list[tuple], scanned: float) -> Store:
        """The store, written atomically to `path` when given, else to unnamed temporary files.

        `scanned` is when the scan began: a file's mtime must be older than
        that, not than the time of writing, or a file edited while the scan
        ran could look clean."""
        try:
            for part in self.parts.values():
                part.flush()
            blobs = self._blobs(path)
            small = self._columns(folders, notes, blobs)
            # laid out in `small`: let the columns go before the store is written and read back
            self.paths, self.written, self._plain_added, self._waiting = [], [], set(), {}
            return self._store(path, _header(small, scanned), small, blobs)
        finally:
            for part in self.parts.values():
                part.close()  # the scratch files go now, not when the writer is collected

    # -- blobs ----------------------------------------------------------------

    def _blobs(self, path) -> _Blobs:
        """Appended to the base store's blob file where that is safe and worth it, else written afresh."""
        base = self.base
        if path is not None and base is not None and base.blob_file[0] and _LOCKS:
            moved = self._to_move()
            if moved is not None:
                try:
                    return self._append(os.path.join(os.path.dirname(path), base.blob_file[0]), moved)
                except OSError:
                    pass  # gone (replaced by another process), or not writable: written afresh
        if path is not None:
            try:
                return self._afresh(os.path.dirname(path), Path(path).stem)
            except OSError:
                pass
        return self._afresh(None, None)

    def _to_move(self) -> list[tuple[int, int]] | None:
        """Copied files whose pieces are to be appended again, as (new id, base id); None when the
        blob file is better written afresh (too many dead bytes, or too much to move).

        Each update's pieces are one more area of each SCANNED kind, scanned
        on its own; past MAX_AREAS of them, the appended part is gathered into
        one again with this update's pieces."""
        base, moved = self.base, []
        if len(base.areas("search")) > MAX_AREAS:
            starts, fresh_end = base.at("rows"), base.blob_file[2]
            for new, start, stop in self.segments:
                if start is not None:
                    moved.extend((new + i - start, i) for i in range(start, stop) if starts[2 * i] >= fresh_end)
        moving = sum(self._length(key, base.at(key), i) for _, i in moved for key, _ in BLOBS)
        adding = sum(self.part_sizes.values())
        live = self._live()
        size = os.fstat(base.blob_fileno()).st_size + adding + moving
        dead = size - live
        if dead >= COMPACT_MIN and dead * COMPACT_SHARE > size or moving * MOVE_SHARE > live:
            return None
        return moved

    @staticmethod
    def _length(key: str, at: array, i: int) -> int:
        return at[2 * i + 1] - at[2 * i]

    def _live(self) -> int:
        """Bytes of blobs the new store uses: the base store's, less those of files gone or parsed
        again, plus the parsed pieces'."""
        base, gone = self.base, self._gone()
        if base is None or len(gone) > INSORT_MAX:
            return sum(sum(at[1::2]) - sum(at[0::2]) for at in self.at.values())
        dropped = sum(self._length(key, base.at(key), i) for i in gone for key, _ in BLOBS)
        return base.blob_file[3] - dropped + sum(self.part_sizes.values())

    def _gone(self) -> list[int]:
        """Base ids of the files not copied (gone, or parsed again), in order."""
        gone, covered = [], 0
        for start, stop in sorted((start, stop) for _, start, stop in self.segments if start is not None):
            gone.extend(range(covered, start))
            covered = max(covered, stop)
        gone.extend(range(covered, len(self.base)))
        return gone

    def _append(self, name: str, moved: list[tuple[int, int]]) -> _Blobs:
        """This update's pieces (and `moved` ones) appended to the base store's blob file, kind after
        kind, copied in the kernel from the scratch parts, then flushed to disk: a store that uses
        them is named only after they are there. Appends take turns (the folder's lock): each
        knows where its bytes went, and never writes where another store's are."""
        base = self.base
        fd = os.open(name, os.O_RDWR)
        handle = os.fdopen(fd, "rb")
        try:
            old = {key: base.at(key) for key, _ in BLOBS}
            with _lock(os.path.dirname(name)) as lock:
                if not lock.held:
                    raise OSError("no lock on the cache folder: appending is not safe")
                start = end = os.lseek(fd, 0, os.SEEK_END)
                places: dict[str, list[tuple[int, int, int]]] = {}
                for key, _ in BLOBS:
                    at = self.at[key]
                    places[key] = [(i, end + at[2 * i], at[2 * i + 1] - at[2 * i]) for i in self.added]
                    _copy_range(self.parts[key].fileno(), 0, self.part_sizes[key], fd)
                    end += self.part_sizes[key]
                    for new, i in moved:
                        length = old[key][2 * i + 1] - old[key][2 * i]
                        places[key].append((new, end, length))
                        _copy_range(base.blob_fileno(), old[key][2 * i], length, fd)
                        end += length
            if end > start:
                os.fsync(fd)
            areas: dict[str, list[tuple]] = {}
            new_of = self._new_of(moved)
            kept_ids = all(new == start for new, start, _ in self.segments if start is not None)
            dropped = [*self._gone(), *(i for _, i in moved)] if kept_ids else None
            for key, _ in BLOBS:
                at, area = self.at[key], places[key]
                for i, offset, length in area:
                    at[2 * i], at[2 * i + 1] = offset, offset + length
                if key in SCANNED:
                    areas[key] = _remapped(base.areas(key), new_of, dropped)
                    if area and area[-1][1] + area[-1][2] > area[0][1]:
                        first = area[0][1]
                        bounds = array("q", (offset - first for _, offset, _ in area))
                        bounds.append(area[-1][1] + area[-1][2] - first)
                        owners = array("i", (i for i, _, _ in area))
                        areas[key].append((first, first + bounds[-1], bounds, owners, _digest_of(handle, first, bounds[-1])))
            return _Blobs(handle, os.path.basename(name), end, base.blob_file[2], areas, False, self._live())
        except BaseException:
            handle.close()
            raise

    def _new_of(self, moved: list[tuple[int, int]] = ()) -> array:
        """Base id -> new id of each base file copied, -1 where parsed again or gone (or, for the
        blob places, `moved`)."""
        if not moved and self._copied is not None:
            return self._copied
        new_of = array("i", [-1]) * len(self.base)
        for new, start, stop in self.segments:
            if start is not None:
                new_of[start:stop] = array("i", range(new, new + stop - start))
        for _, i in moved:
            new_of[i] = -1
        if not moved:
            self._copied = new_of
        return new_of

    def _afresh(self, folder: str | None, key: str | None) -> _Blobs:
        """A new blob file with every piece, kind after kind, in file order: beside the store (a name of
        its own, so stores still using the old one go on reading it), or unnamed without a cache."""
        if folder is None:
            handle, name = tempfile.TemporaryFile(), ""
        else:
            name = f"{key}.{os.urandom(8).hex()}.blobs"
            handle = os.fdopen(os.open(os.path.join(folder, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600), "w+b")
        try:
            target, offset, areas = handle.fileno(), 0, {}
            for key_, _ in BLOBS:
                first = offset
                at, stretches = self.at[key_], []
                old = self.base.at(key_) if self.base is not None else None
                source_fd = self.base.blob_fileno() if self.base is not None else -1
                part_fd = self.parts[key_].fileno()
                if self.base is None:  # every piece parsed, in its part in file order
                    _stretch(stretches, part_fd, 0, self.part_sizes[key_])
                    self.at[key_] = at = array("q", (x + first for x in at))
                    offset += self.part_sizes[key_]
                for new, start, stop in self.segments if self.base is not None else ():
                    if start is None:
                        spans: Iterable = ((new, part_fd, at[2 * new], at[2 * new + 1]),)
                    else:
                        spans = ((new + i - start, source_fd, old[2 * i], old[2 * i + 1]) for i in range(start, stop))
                    for i, fd, begin, end in spans:
                        _stretch(stretches, fd, begin, end - begin)
                        at[2 * i], at[2 * i + 1] = offset, offset + end - begin
                        offset += end - begin
                for fd, begin, length in stretches:
                    _copy_range(fd, begin, length, target)
                if key_ in SCANNED:
                    bounds = array("q", (s - first for s in at[0::2]))
                    bounds.append(offset - first)
                    areas[key_] = [(first, offset, bounds, None, _digest_of(handle, first, offset - first))]
            if name:
                os.fsync(target)  # on disk before a store names it
            return _Blobs(handle, name, offset, offset, areas, True, offset)
        except BaseException:
            handle.close()
            if name:
                _unlink(os.path.join(folder, name))  # type: ignore[arg-type]
            raise

    # -- columns --------------------------------------------------------------

    def _columns(self, folders: list[tuple], notes: list[tuple], blobs: _Blobs) -> dict[str, bytes]:
        """Every small section. After an update that changed few files, the columns of the base store
        are taken as they are, or patched, rather than built and sorted again."""
        base, size = self.base, self.size
        same = base is not None and size == len(base) and all(new == start for new, start, _ in self.segments if start is not None)
        same = same and all(base.paths[i] == path for i, path in zip(self.added, self.paths))
        small: dict[str, bytes] = {}
        paths = base.paths if same else self._list("paths", self.paths)
        small["paths"] = base.raw("paths") if same else marshal.dumps(paths)
        rows = [base.row(i) for i in self.added] if same else []  # what the parsed files were: no column decoded
        for name, values, field in (("titles", self.titles, _ROW_TITLE), ("topics", self.topics, _ROW_TOPICS)):
            kept = same and all(row[field] == value for row, value in zip(rows, values))
            small[name] = base.raw(name) if kept else marshal.dumps(self._list(name, values))
        self.titles, self.topics = values, rows = [], []  # laid out: let go before the sorts below
        small["stamps"] = self.stamps.tobytes()
        small["kinds"] = bytes(self.kinds)
        small["dates"] = self.dates.tobytes()
        small["digests"] = bytes(self.digests)
        small["quiet"] = bytes(self.quiet)
        small["link-counts"] = self.counts.tobytes()
        small["sources"] = self.sources.tobytes()
        by_path = base.by_path if same else self._sorted("by_path", paths.__getitem__, None)
        small["by-path"] = base.raw("by-path") if same else array("i", by_path).tobytes()
        dates, kinds = self.dates, self.kinds
        events_same = same and all(base.kinds[i] == kinds[i] and base.dates[i] == dates[i] for i in self.added)
        if events_same:
            small["order"] = base.raw("order")
        else:
            order = self._sorted("order", lambda i: (dates[i] or 1, paths[i]), EVENT)  # date.min is ordinal 1
            small["order"] = array("i", order).tobytes()
        small["dirs"] = marshal.dumps(folders)
        small["notes"] = marshal.dumps(notes)
        small["noted"] = array("i", self._noted()).tobytes()
        small["links-ok"] = bytes(self._links_ok(paths, by_path, same))
        small["blob-file"] = marshal.dumps((blobs.name, blobs.size, blobs.fresh_end, blobs.live))
        small["id"] = os.urandom(16)  # this store and no other: what answers.py files answers under
        for key, _ in BLOBS:
            small[key + "-at"] = self.at[key].tobytes()
        for key in SCANNED:
            small[key + "-map"] = marshal.dumps(
                [(s, e, bounds.tobytes(), None if ids is None else ids.tobytes(), checksum) for s, e, bounds, ids, checksum in blobs.areas[key]]
            )
        return small

    def _list(self, name: str, values: list) -> list:
        """Column `name` of every file, in order: the base store's for copied files, `values` for parsed ones."""
        if len(self.added) == self.size:
            return values  # nothing copied: a first build
        found: list = []
        column = getattr(self.base, name)
        for _, start, stop in self.segments:
            if start is None:
                found.append(values[stop])
            else:
                found.extend(column[start:stop])
        return found

    def _sorted(self, name: str, key, kind: int | None) -> list[int]:
        """Ids (of files of `kind`, or all) sorted by `key`: the base store's column with the ids mapped
        and the parsed files put in, when few were parsed (copied files keep their keys, so the
        column stays sorted)."""
        base, kinds = self.base, self.kinds
        if base is None or len(self.added) > INSORT_MAX:
            return sorted((i for i in range(self.size) if kind is None or kinds[i] == kind), key=key)
        new_of = self._new_of()
        found = [new_of[i] for i in getattr(base, name) if new_of[i] >= 0]
        for i in self.added:
            if kind is None or kinds[i] == kind:
                insort(found, i, key=key)
        return found

    def _noted(self) -> list[int]:
        if self.base is None:
            return self.noted
        new_of = self._new_of()
        return sorted([new_of[i] for i in self.base.noted if new_of[i] >= 0] + self.noted)

    def _links_ok(self, paths: list[str], by_path: Sequence[int], same: bool) -> bytearray:
        """Per file, 1 when validate-links need not read it: archive.link_facts calls it quiet and
        every target it writes (http aside) is "/" + the path of a file of this store, which is
        links.Site's `plain` rule.

        A copied file's verdict stands unless a path it writes was added or
        went: the files that write one are found in the written targets'
        blob. Parsed files are judged afresh."""
        size, base = self.size, self.base
        ok = bytearray(size)
        if base is None:  # counted as the files were added (_count_targets)
            for i, missing in zip(self.added, self._missing):
                ok[i] = 1 if missing == 0 else 0
            return ok

        def has(target: str) -> bool:
            if target[:1] != "/" or not _plain(target[1:]):
                return False
            k = bisect_left(by_path, target[1:], key=paths.__getitem__)
            return k < len(by_path) and paths[by_path[k]] == target[1:]

        base_ok = base.links_ok
        for new, start, stop in self.segments:
            if start is not None:
                ok[new : new + stop - start] = base_ok[start:stop]
        if not same:
            new_of = self._new_of()
            quiet = base.quiet
            for i in self._writing_to(self._changed_paths()):
                if new_of[i] >= 0:
                    ok[new_of[i]] = _verdict(quiet[i], base.written_targets(i), has)
        for i, written in zip(self.added, self.written):
            ok[i] = _verdict(self.quiet[i], written, has)
        return ok

    def _changed_paths(self) -> set[str]:
        """Paths of the base store no file has any more, and paths it did not have: plain ones only."""
        old_paths = self.base.paths
        gone = {old_paths[i] for i in self._gone()}
        parsed = set(self.paths)
        return {p for p in gone ^ parsed if _plain(p)}

    def _writing_to(self, changed: set[str]) -> Iterable[int]:
        """Base ids of the files that write "/" + one of `changed` as a link target."""
        base = self.base
        if not changed:
            return []
        if len(changed) <= _CHANGED_PATHS_MAX:
            return sorted({i for p in changed for i in base.holding("written", _written_blob("/" + p))})
        targets = {"/" + p for p in changed}
        return [i for i in range(len(base)) if not targets.isdisjoint(base.written_targets(i).split("\0"))]

    # -- the store ------------------------------------------------------------

    def _store(self, path, head: bytes, small: dict[str, bytes], blobs: _Blobs) -> Store:
        if path is not None and blobs.name:
            try:
                return self._commit(path, head, small, blobs)
            except OSError:  # a cache that cannot be written costs the next run a parse, nothing more
                if blobs.created:
                    _unlink(os.path.join(os.path.dirname(path), blobs.name))  # no store will name it
        handle = tempfile.TemporaryFile()  # no cache (or none writable): an unnamed file, gone at exit
        _write_columns(handle, head, small)
        found = Store.parse(_File(handle), _File(blobs.handle))
        if found is None:
            raise AssertionError("a store just built does not read back")
        return found

    def _commit(self, path, head: bytes, small: dict[str, bytes], blobs: _Blobs) -> Store:
        """Name the store: written and flushed to disk under a temporary name, then renamed over the
        old one (readers see the old store or the new one, never half of one).

        Writers take turns (a lock on the folder) only for the rename: a writer
        whose blob file was replaced meanwhile by a new one, and removed, does
        not name its store (it is used, unnamed, by this process only)."""
        folder = os.path.dirname(path)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        handle = os.fdopen(fd, "w+b")
        try:
            _write_columns(handle, head, small)
            os.fsync(handle.fileno())  # on disk before it is named: a crash leaves the old store or this one
            found = Store.parse(_File(handle), _File(blobs.handle))
            if found is None:
                raise AssertionError("a store just built does not read back")
            with _lock(folder) as lock:
                mine = os.path.join(folder, blobs.name)
                if not _same_file(mine, blobs.handle.fileno()):
                    _unlink(tmp)  # the store is kept, unnamed: its files are open
                    return found
                replaced = _blob_name(path)
                os.replace(tmp, path)
                if blobs.created and replaced and replaced != blobs.name:
                    lock.sync()  # the rename on disk before the old blob file goes: a crash keeps a whole store
                    _unlink(os.path.join(folder, replaced))
                _sweep(folder, Path(path).stem, blobs.name)
            found.path = path
            return found
        except BaseException:
            _unlink(tmp)
            handle.close()
            raise


_STRETCH_HASH = xxhash.xxh3_64  # the checksum of a stretch of SCANNED blob bytes, written and checked
_SEAL = 8  # bytes of checksum before each piece of a SEALED kind


def _seal(data) -> bytes:
    """The checksum a SEALED piece starts with (xxh3, 8 bytes: about 0.1 us for a 2 KB row)."""
    return xxhash.xxh3_64_digest(data)


def stretch_digest(data) -> int:
    """The checksum of a stretch of SCANNED blob bytes (Store._checked_areas)."""
    return _STRETCH_HASH(data).intdigest()


def _digest_of(handle, start: int, length: int) -> int:
    """`stretch_digest` of bytes just written to the blob file, read back from it (they were copied
    there in the kernel, never through this process), a few MB at a time."""
    digest, fd, end = _STRETCH_HASH(), handle.fileno(), start + length
    while start < end:
        chunk = os.pread(fd, min(_DIGEST_CHUNK, end - start), start)
        if not chunk:
            raise OSError(f"blob file shorter than written (at {start} of {end})")
        digest.update(chunk)
        start += len(chunk)
    return digest.intdigest()


_DIGEST_CHUNK = 8 << 20


def _remapped(areas: list[tuple], new_of: array, dropped: list[int] | None = None) -> list[tuple]:
    """The base store's areas with each piece's base id made a new id (-1: no file uses it); areas
    no file uses any more are dropped.

    `dropped`, when given, says copied files kept their ids: only these
    (gone, parsed again or moved) change, found where they are (the usual
    update after an edit: no pass over every piece)."""
    found = []
    for start, end, bounds, ids, checksum in areas:
        if ids is None:
            owners = new_of[: len(bounds) - 1]
        elif dropped is not None:
            owners = array("i", ids)
            for i in dropped:
                try:
                    owners[owners.index(i)] = -1
                except ValueError:
                    pass  # not in this area
        else:
            owners = array("i", (new_of[i] if i >= 0 else -1 for i in ids))
        if owners.count(-1) < len(owners):
            found.append((start, end, bounds, owners, checksum))
    return found


def _verdict(quiet: int, written: str, has) -> int:
    return 1 if quiet and (not written or all(has(target) for target in written.split("\0"))) else 0


def _plain(path: str) -> bool:
    return "%" not in path and "?" not in path and "#" not in path


def _stretch(stretches: list[list], fd: int, offset: int, length: int) -> None:
    """Bytes that go next are `length` bytes of `fd` from `offset`: joined to the last stretch if they follow it."""
    if stretches and stretches[-1][0] == fd and stretches[-1][1] + stretches[-1][2] == offset:
        stretches[-1][2] += length
    elif length:
        stretches.append([fd, offset, length])


def _write_columns(handle, head: bytes, small: dict[str, bytes]) -> None:
    handle.write(head)
    for data in small.values():
        handle.write(data)
    handle.flush()


def _blob_name(path) -> str | None:
    """The blob file the store now at `path` uses (None: no store there, or none of ours). Whatever
    version of newsarc wrote that store, it is being replaced: its blob file is garbage."""
    try:
        with open_regular(path) as handle:
            data = _File(handle)
            size = int.from_bytes(data[:_HEAD], "little")
            table = marshal.loads(data[_HEAD : _HEAD + size])[2]
            offset, length = table["blob-file"][:2]
            name = marshal.loads(data[offset : offset + length])[0]
    except (OSError, NotRegularFile, ValueError, EOFError, TypeError, IndexError, KeyError):
        return None
    key = os.path.basename(path).rpartition(".")[0]
    ours = isinstance(name, str) and name.startswith(key + ".") and name.endswith(".blobs") and os.path.basename(name) == name
    return name if ours else None


def _same_file(path: str, fd: int) -> bool:
    try:
        named, held = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _sweep(folder: str, key: str, keep: str) -> None:
    """Remove blob files of this store left by writers that crashed (or lost a race): not `keep`, and
    untouched for SWEEP_SECONDS, so a writer still filling one is left alone."""
    limit = time.time() - SWEEP_SECONDS
    try:
        names = [n for n in os.listdir(folder) if n.startswith(key + ".") and n.endswith(".blobs") and n != keep]
    except OSError:
        return
    for name in names:
        try:
            info = os.lstat(os.path.join(folder, name))
            if stat.S_ISREG(info.st_mode) and info.st_mtime < limit:  # never what newsarc did not make
                os.unlink(os.path.join(folder, name))
        except OSError:
            pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


try:
    import fcntl

    _LOCKS = True
except ImportError:  # Windows: no appending; every store gets a blob file of its own
    _LOCKS = False


class _lock:
    """Writers of one cache folder take turns appending to blob files and naming stores (flock on the folder)."""

    def __init__(self, folder: str):
        self.folder = folder
        self.fd = -1
        self.held = False

    def __enter__(self):
        if _LOCKS:
            try:
                self.fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NONBLOCK", 0))
                fcntl.flock(self.fd, fcntl.LOCK_EX)
                self.held = True
            except OSError:
                pass  # a filesystem without locks: renames stay atomic, but nothing is appended (`held`)
        return self

    def sync(self) -> None:
        """The folder's entries (a rename) on disk."""
        if self.fd >= 0:
            try:
                os.fsync(self.fd)
            except OSError:
                pass

    def __exit__(self, *exc):
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock


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


def _header(small: dict[str, bytes], written: float) -> bytes:
    """Length, header and padding: the small sections follow it, in that order.

    Each section carries a CRC-32, checked when it is read (about 1 ms a MB):
    a store whose blocks were lost in a crash is rebuilt, not believed. The
    blobs carry checksums of their own (each row and text piece its xxh3, the
    other kinds one per stretch): damage there says the store is damaged
    (`IndexDamaged`)."""
    relative, offset = {}, 0
    for name, data in small.items():
        relative[name] = (offset, len(data), zlib.crc32(data))
        offset += len(data)
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

    @property
    def source_count(self) -> int:
        """From its column: listing 100k events decoded every row for this alone (3.0 s, 1.4 s without)."""
        return self._store.source_counts[self._id]


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

    def __iter__(self) -> Iterator[LazyEvent]:
        return self.each(range(len(self.ids)))  # a listing of 100k events holds one at a time

    def each(self, positions: Iterable[int]) -> Iterator[LazyEvent]:
        """The events at these positions one at a time, not kept here: a caller that lets each go
        once done holds one event at a time (`search` printing the lines of 100k events held
        every one of them, 2.2 GB, with `pick`)."""
        made, ids, store, with_text = self._made, self.ids, self.store, self.with_text
        for k in positions:
            event = made.get(k)
            yield event if event is not None else lazy_events(store, (ids[k],), with_text)[0]

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
