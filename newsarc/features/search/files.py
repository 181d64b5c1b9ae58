"""`search` with no index at hand: the archive's files read as bytes on every core, matched bytes first.

A first search used to build the whole index before matching (about 25 s at
100k events where `rg -l` takes half a second). Here the files are walked
(`Archive.walk_pieces`) and read once, in parts on every core (cores.py),
and nothing is written:

* `--raw`: a raw field is whole lines of its file, so only files whose bytes
  match can match (search.py's `_raw_files`). With `--in all` those files are
  the answer; with some fields they are parsed and matched as today.
* Decoded fields (title, body, topics): every match of a pattern holds the
  literal runs of letters and digits the pattern requires (`required`). The
  decoded text of a file differs from its bytes only where the parser decodes
  an entity, removes markup or joins lines; a file is a candidate when its
  bytes hold a required run, or a part of one where markup could split it
  (`_needle`), or anything that could put two letters side by side that are
  not side by side in the file (`_unsure`). Candidates are matched exactly as
  the index's search text would be (their fields cut as the parser's fast path
  cuts them, or parsed), so the answer is the same.
* A candidate in the plain layout (`plain_layout`: the archive's own, maybe after
  front matter that YAML reads as written) is looked at where its searched
  fields are written: the bytes before its sections (date line, title, body,
  front matter) and the contexts of its Related items (its topics). One with no
  alternative's runs there is ruled out, neither cut nor parsed: most candidates
  for a common name ('Syrian Army') hold it only in the headlines of their
  Related links, which are not searched. The others have the fields that may
  match cut from their bytes (`plain_fields`); front matter is parsed.
* Other decoded fields (sources, related): the candidates are found the same
  way (the parser's rules that make decoded text differ from bytes are the
  same in every field) and parsed.
* The counts ("N events searched") need no parsing: an event is a file that is
  neither a day page (`index.md`) nor skipped (unreadable, over the size
  limit, binary), and those are told from the bytes.

A pattern without a required literal (`.`, `\\w+`) makes every file a
candidate. Date or topic filters, `-v` and `--sort relevance` go through
search.py, which takes the events from the catalogue and their files' matches
from `among`.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path

from newsarc import cores
from newsarc.reading.event_text import DEFAULT_FIELDS, FIELDS, event_text, raw_of
from newsarc.model import Diagnostic, Event
from newsarc.features.search.patterns import Matcher

PARALLEL_FILES = 2000  # from this many files (or any folder left to walk), every core walks and reads

# Where a file's decoded text can hold two letters (or digits) side by side that its bytes do not.
# Inline markup the parser removes (emphasis with `*`, code spans, raw HTML and autolinks, backslash
# escapes; a blockquote conservatively): a file holding any of these is always a candidate.
_MARKUP = (b"*", b"`", b"<", b">", b"\\")
# A required run split by markup in the file is cut right after a part of it, maybe after `_` (emphasis
# closes): that part is followed by `[` or `!` (a link or an image opens), or by `]` (a link's text
# closes) and the link's rest and anything but a space, or it ends its line and an indented line follows
# (a list item of several blocks has their texts joined without a space: its next block is indented).
# Entities are looked at apart (`_unsure`).
_LINE_END = r"(?:\r\n?|\n)"
_INDENTED = rf"[ \t]*{_LINE_END}(?:[ \t]*{_LINE_END})*[ \t]+[^ \t\r\n]"
_SPLIT = rf"_*(?:[\[!]|\](?:(?:\([^)]*\)|\[[^\]]*\])(?:\S|{_INDENTED})|[^\s(\[]|{_INDENTED})|{_INDENTED})"
_ENTITY = re.compile(rb"&#?[0-9A-Za-z]+;")
# Entities that decode to no letter or digit, whichever way they are read (checked by tests).
_SAFE_ENTITIES = ("amp", "quot", "#x27", "#39", "#34", "lt", "gt", "apos", "nbsp")
_DATE_LINE = re.compile(rb"(?:\xef\xbb\xbf)?### \[([0-9A-Za-z.,\-](?:[0-9A-Za-z ,.\-]{0,60}[0-9A-Za-z.,\-])?)\]\([^\s()<>\\&\[\]`]+\) *\r?\n")
_DAY_PAGE = "index.md"
_DAY_PAGE_END = "/" + _DAY_PAGE
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_OPEN = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_BUFFER = 4 << 20  # the reading buffer: matched when half full, so a file of up to 2 MB is read into it at once


def applies(query) -> bool:
    """Whether this module can answer `query` (search.Query) exactly without an index."""
    return not (query.span is not None or query.topics or query.invert or query.sort == "relevance")


def search(archive, query) -> tuple[Sequence[Event], int] | None:
    """(the matching events in the query's order, how many events were searched), from the files;
    None when there is an index to use, or this module cannot answer (see the module's docstring)."""
    if not applies(query):
        return None
    plan = _Plan(query)
    if not plan.usable:
        return None
    walk = archive.walk_pieces()
    if walk is None:
        return None
    pieces = walk.pieces
    folders = sum(1 for piece in pieces if piece[0] is not None)
    known = sum(len(piece[1]) for piece in pieces)
    count = cores.workers() if folders or known >= PARALLEL_FILES else 1
    # Every process walks and reads the next piece when done with its last (cores.pull).
    results = cores.pull(lambda k: plan.piece(archive, pieces[k]), len(pieces), count)
    if walk.exact((result[4], result[5]) for result in results):
        archive.scan_diagnostics = [Diagnostic(*d) for result in results for d in result[3]]
    else:  # a folder reached twice: only the one walk in order is exact
        files = archive.walk_files()
        parts = [part for part in cores.split(files, count) if part]
        results = cores.fan_out(lambda part: plan.piece(archive, (None, list(part), [])), parts) if parts else []
    from newsarc.reading.parser import skipped_event

    archive.unreadable = [skipped_event(relpath, [Diagnostic(*d) for d in notes]) for result in results for relpath, notes in result[1]]
    found = [item for result in results for item in result[2]]
    if query.sort == "path":
        found.sort(key=lambda item: item[1])
    else:
        found.sort(key=lambda item: (item[2] or 1, item[1]))  # the index's order: date.min is ordinal 1
    return FileEvents(found), sum(result[0] for result in results)


def among(archive, paths: Sequence[str], query, *, counting: bool = False) -> list | None:
    """Positions (in `paths`) of the events whose files match `query`: the events a date or topic
    filter left, read as `search` reads every file (bytes first, candidates parsed), on every core
    for many; None when this module cannot answer the query (see the module's docstring).

    `counting`: (position, each pattern's matches in the event) instead, from the text matched
    (BM25's term frequencies, with no second reading; not for --raw)."""
    plan = _Plan(query)
    if not plan.usable:
        return None
    plan.counting = counting and not query.raw
    root = str(archive.root)
    files = [(os.path.join(root, path), path) for path in paths]
    count = cores.workers() if len(files) >= PARALLEL_FILES else 1
    parts = [part for part in cores.split(files, count) if part]
    at = {path: k for k, path in enumerate(paths)}
    found = [item for result in cores.fan_out(plan.scan, parts) for item in result[2]] if parts else []
    if plan.counting:
        return sorted((at[item[1]], item[3]) for item in found)
    return sorted(at[item[1]] for item in found)


class FileEvents(Sequence):
    """The matching events, each made when read and not kept (search.Streamed reads them one at a
    time: a parsed event of each of 16k matches, kept, would be gigabytes)."""

    def __init__(self, items: list[tuple[str, str, int]]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [FileEvent.of(*item) for item in self.items[k]]
        return FileEvent.of(*self.items[k])


class FileEvent(Event):
    """A matching event: its path and date at once, the rest parsed from its file on first use
    (`search -l` prints the paths of 16k events and parses none of them again)."""

    __slots__ = ("_file",)

    @classmethod
    def of(cls, file: str, relpath: str, ordinal: int) -> FileEvent:
        event = cls.__new__(cls)
        event.path, event._file = relpath, file
        event.date = dt.date.fromordinal(ordinal) if ordinal else None
        event.is_day_page = event.skipped = False
        return event

    def __getattr__(self, name: str):
        # Called only for a slot never set: parse the file and fill every one of them.
        if name not in Event.__slots__:
            raise AttributeError(name)
        from newsarc.reading.parser import read_event

        full = read_event(Path(self._file), self.path)
        for slot in Event.__slots__:
            if slot not in ("path", "date", "is_day_page", "skipped"):
                setattr(self, slot, getattr(full, slot))
        return getattr(self, name)


class _Plan:
    """What each part of the files does: read, classify, match bytes, parse the candidates."""

    def __init__(self, query):
        self.query = query
        self.matcher: Matcher = query.matcher
        self.whole = query.raw and set(FIELDS) <= set(query.fields)  # --raw --in all: the bytes are the answer
        self.needles: list = []  # RE2 programs (see _needle), a file holding a match of one is a candidate
        self.usable = True
        self.every = False  # no literal to look for: every file is a candidate
        self.counting = False  # each match comes with its patterns' counts (`among`)
        self.cut = set(query.fields) <= set(DEFAULT_FIELDS)  # the fields can be cut from the bytes (else parsed)
        if not query.raw:
            tokens = required(self.matcher)
            if tokens is None:
                self.every = True
                return
            import re2

            options = re2.Options()
            options.log_errors = False
            options.never_capture = True
            options.case_sensitive = self.matcher.case_sensitive
            options.max_mem = 64 << 20
            if self.matcher.case_sensitive:
                self.needles = [re2.compile("|".join(_needle(t, re2) for t in tokens), options)._regexp]  # across lines
            else:  # one case-sensitive first character each: RE2 finds it with memchr, (?i) with none
                options.case_sensitive = True
                self.needles = [re2.compile(pattern, options)._regexp for pattern in _folded_needles(tokens, re2)]
                options.case_sensitive = False
            # A file the needle finds must also hold every other run of some alternative ('Syrian Army':
            # "Army" too), each found as the needle finds its own.
            alternatives = required_runs(self.matcher) or []
            self.alternatives = [[re2.compile(_needle(run, re2), options)._regexp for run in runs] for runs in alternatives]
            self.recheck = any(len(runs) > 1 for runs in alternatives)
            self._entities: dict[bytes, bool] = {}
            # In a file of the plain layout the runs are looked for where the searched fields are
            # written, as they are written (no markup there can split one).
            self._prose = bool({"title", "body"} & set(query.fields))
            self._topical = "topics" in query.fields
            self._plain_runs = [
                ([re2.compile(re2.escape(run), options)._regexp for run in runs], [re2.compile(_CONTEXT_HOLDS + re2.escape(run), options)._regexp for run in runs])
                for runs in alternatives
            ]
            options.case_sensitive = True
            self._other_entity = re2.compile(_other_entity(_SAFE_ENTITIES), options)._regexp
            self._layout = re2.compile(plain_layout(), options)._regexp

    # -- one piece, in any process ------------------------------------------

    def piece(self, archive, piece) -> tuple[int, list, list, list, list, bool]:
        """A piece of the walk (Archive.walk_pieces) walked and read: (events in it, [(relpath,
        diagnostics)] of skipped files, [(path, relpath, date ordinal)] of matching events, what its
        walk noted, the folders it read, whether one was reached twice). Plain values: they cross
        from a child through marshal."""
        folder, files, notes = piece
        keys: list = []
        repeated = False
        if folder is not None:
            files, notes, keys, repeated = archive.walk_piece(folder)
        events, skipped, matched = self.scan(files)
        return events, skipped, matched, [(d.path, d.line, d.message, d.severity) for d in notes], keys, repeated

    def scan(self, files: list[tuple[str, str]]) -> tuple[int, list, list]:
        """Read the files into one reused buffer (a few MB: the events' bytes, each followed by a line
        break as `_joined` lays them), matching it whenever it fills up."""
        from newsarc.reading.limits import max_file_size
        from newsarc.reading.parser import decode, read_limited

        limit = max_file_size()
        events, skipped, matched = 0, [], []
        buf, view = self._buffer()
        size = len(buf)
        pos = 0
        starts: list[int] = []
        sizes: list[int] = []
        names: list[tuple[str, str]] = []
        readv, close, flags = os.readv, os.close, _OPEN
        for path, relpath in files:
            n = -1
            try:
                fd = os.open(path, flags)
            except OSError:
                pass
            else:
                try:
                    n = readv(fd, [view[pos:]])
                    while 0 < n < size - pos and (more := readv(fd, [view[pos + n :]])):  # to the end of the file
                        n += more
                    if n >= size - pos:  # longer than the room left: read it apart
                        n = -1
                except OSError:
                    n = -1
                finally:
                    close(fd)
            data = None
            if n < 0 or 0 < limit < n or buf.find(0, pos, pos + n) >= 0 or buf.startswith(_UTF16, pos, pos + n):
                # read again by the parser's rules, which say why a file is skipped
                notes: list[Diagnostic] = []
                data = bytes(view[pos : pos + n]) if n >= 0 and not 0 < limit < n else _read(path, limit)
                if data is None:
                    data = read_limited(path, relpath, notes)
                if data is not None and (b"\x00" in data or data.startswith(_UTF16)):
                    if decode(data, relpath, notes) is None:
                        data = None
                if data is None:
                    skipped.append((relpath, [(d.path, d.line, d.message, d.severity) for d in notes]))
                    continue
            if relpath == _DAY_PAGE or relpath.endswith(_DAY_PAGE_END):
                continue
            events += 1
            if data is not None:  # read apart: copy it in
                n = len(data)
                if pos + n + 1 > size:
                    if starts:
                        matched.extend(self._batch(buf, pos, starts, sizes, names))
                    pos, starts, sizes, names = 0, [], [], []
                    if n + 1 > size:
                        buf, view = self._buffer(n + 1)
                        size = len(buf)
                buf[pos : pos + n] = data
            starts.append(pos)
            sizes.append(n)
            names.append((path, relpath))
            pos += n
            if n:
                buf[pos] = 10
                pos += 1
            if pos >= size >> 1:
                matched.extend(self._batch(buf, pos, starts, sizes, names))
                pos, starts, sizes, names = 0, [], [], []
        if starts:
            matched.extend(self._batch(buf, pos, starts, sizes, names))
        return events, skipped, matched

    def _buffer(self, least: int = 0) -> tuple[bytearray, memoryview]:
        """This process's reading buffer (made on first use, so after a fork), `least` bytes or more."""
        found = getattr(self, "_buf", None)
        if found is None or len(found[0]) < least:
            if found is not None:
                found[1].release()
            buf = bytearray(max(_BUFFER, least))
            found = self._buf = (buf, memoryview(buf))
        return found

    def select(self, files: list[tuple[str, bytes]]) -> list[int]:
        """Which of these (relpath, bytes) match, through the same batches as `scan` (for tests)."""
        buf, _ = self._buffer(sum(len(data) + 1 for _, data in files))
        starts, sizes, pos = [], [], 0
        for _, data in files:
            starts.append(pos)
            sizes.append(len(data))
            buf[pos : pos + len(data)] = data
            pos += len(data)
            if data:
                buf[pos] = 10
                pos += 1
        names = [(str(k), relpath) for k, (relpath, _) in enumerate(files)]
        return sorted(int(path) for path, _, _ in self._batch(buf, pos, starts, sizes, names))

    def _batch(self, buf: bytearray, end: int, starts: list[int], sizes: list[int], names: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
        """The matching events of one buffer: buf[:end] holds the events' bytes at `starts`."""
        query = self.query
        offsets = [*starts, end]
        if query.raw:
            datas = [bytes(buf[start : start + size]) for start, size in zip(starts, sizes)]
            texts = [raw_of(data) for data in datas]
            blob, offsets = _joined(texts)
            hits = sorted(self.matcher.hits(blob, offsets, query.require_all))
            if self.whole:
                return [(*names[i], _ordinal(names[i][1], datas[i])) for i in hits]
            return self._exact(names, hits, {i: datas[i] for i in hits}, texts)
        if self.every:  # their fields cut as `canonical` cuts them, or parsed
            return self._exact(names, list(range(len(starts))), {i: bytes(buf[starts[i] : starts[i] + sizes[i]]) for i in range(len(starts))}, None)
        found = set().union(*(_hits(needle, buf, offsets, end) for needle in self.needles))
        if self.recheck:
            found = {i for i in found if self._holds(buf, offsets[i], offsets[i + 1])}
        candidates: list[int] = []
        plain: dict[int, Canonical] = {}
        for i in sorted(found | self._unsure(buf, end, starts, sizes)):
            fields = self._plain(buf, starts[i], sizes[i], names[i][1]) if self.cut else None
            if fields is None:
                candidates.append(i)
            elif fields is not False:
                plain[i] = fields
        return self._exact(names, candidates, {i: bytes(buf[starts[i] : starts[i] + sizes[i]]) for i in candidates}, None, plain)

    def _plain(self, buf: bytearray, start: int, size: int, relpath: str) -> Canonical | bool | None:
        """A candidate in the plain layout (`plain_layout`): False when no field searched holds every
        run of some alternative (neither its title and body, the bytes before its sections, nor the
        contexts of its Related items, its topics), else its fields (`plain_fields`); None for any
        other file. Most candidates for a common name hold it only in the headlines of their Related
        links, which are not searched: they are ruled out here, neither cut nor parsed."""
        import re2

        if not size or relpath.rsplit("/", 1)[-1] == _DAY_PAGE:
            return None
        stop = start + size + 1  # the line break `scan` put after the file ends its last line
        markdown = start
        if buf.startswith(b"---", start, stop):
            front = _FRONT_MATTER.match(buf, start, stop)
            if front is None or not _real_dates(front.group()):
                return None
            markdown = front.end()
        if self._layout.Match(re2._re2.RE2.Anchor.ANCHOR_BOTH, buf, markdown, stop)[0][0] < 0:
            return None
        sections = buf.find(b"\n### Source:", markdown, stop)
        if sections < 0:
            sections = buf.find(b"\n### Related:", markdown, stop)
            if sections < 0:
                sections = stop
        anchor = re2._re2.RE2.Anchor.UNANCHORED
        if markdown > start:  # its title and tags are written in the front matter, before its sections
            for words, topics in self._plain_runs:
                if all(word.Match(anchor, buf, start, sections)[0][0] >= 0 for word in words) or (
                    sections < stop and all(topic.Match(anchor, buf, sections, stop)[0][0] >= 0 for topic in topics)
                ):
                    return None  # parsed
            return False
        # A match lies in one line of one field (never_nl), so the fields where no alternative can match
        # are left empty: the same events match.
        prose = topical = False
        for words, topics in self._plain_runs:
            prose = prose or self._prose and all(word.Match(anchor, buf, start, sections)[0][0] >= 0 for word in words)
            topical = topical or self._topical and sections < stop and all(topic.Match(anchor, buf, sections, stop)[0][0] >= 0 for topic in topics)
        return plain_fields(buf[start : start + size].decode(), prose, topical) if prose or topical else False

    def _holds(self, buf: bytearray, start: int, end: int) -> bool:
        """Whether buf[start:end] holds every run of some alternative (see `required_runs`)."""
        import re2

        anchor = re2._re2.RE2.Anchor.UNANCHORED
        return any(all(program.Match(anchor, buf, start, end)[0][0] >= 0 for program in runs) for runs in self.alternatives)

    def _unsure(self, buf: bytearray, end: int, starts: list[int], sizes: list[int]) -> set[int]:
        """Files kept whatever they hold: inline markup (`_MARKUP`), front matter (YAML values: a title,
        topics), UTF-16, entities that decode to a letter or digit."""
        found = {i for i, start in enumerate(starts) if buf.startswith(_UNSURE_START, start, start + sizes[i])}
        last = len(starts) - 1
        for char in _MARKUP:  # rare: found at memchr's speed, a file at a time
            at = buf.find(char, 0, end)
            while at >= 0:
                doc = bisect_right(starts, at) - 1
                found.add(doc)
                at = buf.find(char, starts[doc + 1], end) if doc < last else -1
        # Entities: most are of a few kinds known not to decode to a letter (&amp; &quot; &#x27;); a
        # file holding any other is looked at by name.
        for doc in _hits(self._other_entity, buf, [*starts, end], end) if buf.find(b"&", 0, end) >= 0 else ():
            data = bytes(buf[starts[doc] : starts[doc] + sizes[doc]])
            if any(self._risky(name) for name in set(_ENTITY.findall(data))):
                found.add(doc)
        return found

    def _risky(self, entity: bytes) -> bool:
        risky = self._entities.get(entity)
        if risky is None:
            risky = self._entities[entity] = _decodes_to_word(entity)
        return risky

    def _exact(self, names, positions: list[int], datas: dict[int, bytes], raws: list[bytes] | None, plain: dict[int, Canonical] | None = None) -> list[tuple[str, str, int]]:
        """The candidates matched as search.py matches events: the same text, the same matcher. A file
        in the plain layout comes with its fields (`plain`), one in the archive's canonical layout has
        its decoded fields cut by `canonical` (a few times cheaper than parsing), any other is parsed."""
        from newsarc.reading.parser import parse_bytes

        query = self.query
        texts, dated = [], []
        if plain:
            positions = sorted([*positions, *plain])
        for i in positions:
            found = plain.get(i) if plain else None
            if found is not None:
                texts.append(event_text(found, query.fields))
                dated.append(found)
                continue
            data, relpath = datas[i], names[i][1]
            found = canonical(data, relpath) if raws is None and self.cut else None
            if found is None:
                event = parse_bytes(data, relpath)
                raw = raws[i].decode() if raws is not None else None
                texts.append(event_text(event, query.fields, raw))
                dated.append(event.date.toordinal() if event.date else 0)
            else:
                texts.append(event_text(found, query.fields))
                dated.append(found)
        found = []
        for j in self.matcher.select(texts, query.require_all):
            path, relpath = names[positions[j]]
            day = dated[j]
            item = (path, relpath, day if isinstance(day, int) else day.ordinal(relpath))
            # A field left empty (`_plain`) holds no match: the counts are the whole text's.
            found.append((*item, self.matcher.counts(texts[j])) if self.counting else item)
        return found


class Canonical:
    """The decoded fields search reads of a file in the canonical layout (fastpath.py), and its date line."""

    __slots__ = ("title", "body", "topics", "date_text")

    def __init__(self, title: str, body: str, topics: list[str], date_text: str | None):
        self.title, self.body, self.topics, self.date_text = title, body, topics, date_text

    def ordinal(self, relpath: str) -> int:
        """The date the parser settles on (parser._settle_date): the date line's, else the folder's."""
        from newsarc.reading import dates

        day = (dates.parse_day(self.date_text) if self.date_text is not None else None) or dates.date_from_path(relpath)
        return day.toordinal() if day else 0


def fields_text(path: str, relpath: str, fields: Sequence[str]) -> str:
    """Some of the default fields of one event file as search matches them: cut by `canonical`, else
    parsed (what `_exact` does for a candidate, for one file)."""
    from newsarc.reading.limits import max_file_size
    from newsarc.reading.parser import read_event

    data = _read(path, max_file_size())
    found = canonical(data, relpath) if data is not None else None
    return event_text(found if found is not None else read_event(Path(path), relpath), fields)


def canonical(data: bytes, relpath: str) -> Canonical | None:
    """What the parser's fast path (fastpath.parse) makes of title, body and topics, cut without the
    rest of its work (links and their byte offsets, headings); None for any file it would not take,
    or that is not plain UTF-8 without front matter (parse those). tests/features/search/test_files.py checks
    that both agree on every file this takes."""
    from newsarc.reading import fastpath as q

    if relpath.rsplit("/", 1)[-1] == _DAY_PAGE or data.startswith((b"---", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        return None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    if not text.strip() or q._UNSAFE.search(text) or "&" in text and q.decode_entities(text) is None:
        return None
    rows = text.split("\n")
    n = len(rows)
    i = q._skip_blank(rows, 0)
    date_text = None
    match = q._DATE_LINE.match(rows[i]) if i < n else None
    if match:
        date_text = q.decode_entities(match.group(1))
        if date_text is None:
            return None
        date_text = date_text.strip()
        i = q._skip_blank(rows, i + 1)
    if i >= n or not rows[i].startswith("# ") or rows[i].rstrip().endswith(("#", "}")) or q._INLINE.search(rows[i]):
        return None
    title = q.decode_entities(rows[i][2:])
    title = " ".join(title.split()) if title else title
    if not title:
        return None
    i = q._skip_blank(rows, i + 1)
    paragraphs: list[str] = []
    current: list[str] = []
    while i < n and not rows[i].startswith("### "):
        line = rows[i]
        if not line.strip(" "):
            if current:
                q._paragraph(paragraphs, current)
                current = []
            i += 1
            continue
        if q._BLOCK_START.match(line) or "[" in line or "]" in line or "_" in line or (line.endswith("  ") and not q._last_of_paragraph(rows, i)):
            return None
        piece = q.decode_entities(line.strip(" "))
        if piece is None:
            return None
        current.append(piece)
        i += 1
    if current:
        q._paragraph(paragraphs, current)
    topics: list[str] = []
    seen: set[str] = set()
    topics_seen: set[str] = set()
    while i < n:
        section = q._SECTION.get(rows[i].rstrip(" "))
        if section is None or section in seen:
            return None
        seen.add(section)
        i = q._skip_blank(rows, i + 1)
        while i < n and rows[i][:1].isdigit():
            item = q._ITEM.match(rows[i].rstrip(" "))
            if item is None or q.decode_entities(item.group(2)) is None:
                return None
            if section == "sources":
                if item.group(4):
                    return None
            else:
                found = q._topics(item.group(4))
                if found is None:
                    return None
                for topic in found:
                    if topic not in topics_seen:
                        topics_seen.add(topic)
                        topics.append(topic)
            i = q._skip_blank(rows, i + 1)
    return Canonical(title, "\n\n".join(paragraphs), topics, date_text)


_UNSURE_START = (b"---", b"\xef\xbb\xbf---", b"\xff\xfe", b"\xfe\xff")

# -- the plain layout, told from the bytes --------------------------------------------------------

# Never in a plain file (an RE2 class's body): what fastpath._UNSAFE refuses (controls, tab, CR, `*\<>~`,
# the whitespace str.split reads that CommonMark does not, the BOM), `&` but in an entity of
# `_SAFE_ENTITIES`, and what is not UTF-8 (RE2 matches a class only on well-formed UTF-8 once the
# surrogates are out of it; tests/test_filesearch.py checks that on every short byte string).
_NOT_PLAIN = r"\x00-\x1f\x7f`*\\<>~&\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{d800}-\x{dfff}\x{feff}"
# A topic is written after "_Context:" or "_Contexts:" on its Related item, with no "_" before the
# closing one: a run found after such a mark with no "_" or line break between may be in a topic.
_CONTEXT_HOLDS = r"_Contexts?:[^_\n]*"


# Front matter whose every value is written as YAML reads it, but for entities of `_SAFE_ENTITIES`
# in the title (the parser unescapes it): a quoted title without escapes, a date, tags as one
# flow list of quoted names without escapes or plain names that YAML reads as strings (a letter
# first; no indicator, no "yes", "off" or "null", which are no strings). If YAML refuses it, the
# parser ignores it: the fields are then the Markdown's alone, written after it. A date YAML reads
# is a real one (`_real_dates`): the parser fails on "2019-02-30", and such a file must fail as before.
_YAML_WORDS = b"(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)"
_TAG = rb'(?:"[^"\\\n]*"|(?!' + _YAML_WORDS + rb' *[,\]])[A-Za-z][^,\[\]{}#:&*!|>%@"\'`\\\n]*)'
_FRONT_MATTER = re.compile(
    rb'---\n(?:(?:title: "(?:[^"\\&\n]|&(?:' + "|".join(_SAFE_ENTITIES).encode() + rb');)*"|date: [0-9]{4}-[0-9]{2}-[0-9]{2}|tags: \[(?:' + _TAG + rb'(?:, ' + _TAG + rb')*)?\])\n)*---\n'
)
_FRONT_MATTER_DATE = re.compile(rb"^date: ([0-9-]+)$", re.M)


def _real_dates(front: bytes) -> bool:
    """Whether every date of a front matter `_FRONT_MATTER` takes is one YAML reads without an error."""
    for day in _FRONT_MATTER_DATE.findall(front):
        try:
            dt.date.fromisoformat(day.decode())
        except ValueError:
            return False
    return True


_CONTEXTS = re.compile(r"\) _Contexts?:([^_\n]*)_")  # in a plain file: only where an item's topics are written


def plain_fields(text: str, prose: bool = True, topical: bool = True) -> Canonical:
    """`canonical`'s fields of a file `plain_layout` takes (the parser's, for one with "& " in a source),
    cut without checking again what the layout promises (tests/test_filesearch.py compares them);
    title and body left empty unless `prose`, topics unless `topical`. Entities are decoded before the
    lines are cut: none decodes to a line break or a space."""
    from newsarc.reading import fastpath as q
    from newsarc.reading.topic_names import split_topics

    end = text.find("\n### Source:")
    if end < 0:
        end = text.find("\n### Related:")
    head = text if end < 0 else text[:end]
    date_text = None
    title = ""
    paragraphs: list[str] = []
    if not prose:  # the date line alone: the first line that is not blank, if it is no headline
        first = head.lstrip(" \n").partition("\n")[0]
        if first.startswith("### "):
            date_text = _decoded(first[5 : first.index("](")]).strip()
    else:
        rows = _decoded(head).split("\n")
        i = q._skip_blank(rows, 0)
        if rows[i].startswith("### "):
            date_text = rows[i][5 : rows[i].index("](")].strip()
            i = q._skip_blank(rows, i + 1)
        title = " ".join(rows[i][2:].split())
        current: list[str] = []
        for line in rows[i + 1 :]:
            if not line.strip(" "):
                if current:
                    q._paragraph(paragraphs, current)
                    current = []
            else:
                current.append(line.strip(" "))
        if current:
            q._paragraph(paragraphs, current)
    topics: list[str] = []
    if end >= 0 and topical:
        seen: set[str] = set()
        for context in _CONTEXTS.findall(text, end):
            for topic in split_topics(context.strip()):
                if topic not in seen:
                    seen.add(topic)
                    topics.append(topic)
    return Canonical(title, "\n\n".join(paragraphs), topics, date_text)


def _decoded(text: str) -> str:
    """fastpath.decode_entities of a text whose every "&" opens an entity of `_SAFE_ENTITIES`
    ("&amp;" last: "&amp;quot;" is "&quot;")."""
    if "&" not in text:
        return text
    for entity, value in _SAFE_DECODED:
        text = text.replace(entity, value)
    return text


def plain_layout() -> str:
    """An RE2 regex for a whole file (with a line break after its last line) that `canonical` takes and
    whose searched fields are written, entities aside, as they are decoded: the archive's layout of a
    date line, a headline, plain paragraphs, a Source and a Related list of plain items, with only
    entities that decode to no letter or digit (`_SAFE_ENTITIES`).

    Narrower than `canonical`, never wider: each line is held to `canonical`'s rule for it (and
    quickparse's) or a stricter one, e.g. a paragraph line ends with one space at most, opens with a
    letter or a punctuation mark that starts no block, or with ASCII digits that do not make a list
    item. tests/test_filesearch.py checks on generated files that every file this takes `canonical`
    takes too, with the fields where this regex says they are."""

    def chars(also: str) -> str:
        return f"[^{_NOT_PLAIN}{also}]"

    entity = "&(?:" + "|".join(_SAFE_ENTITIES) + ");"
    blanks = r"(?: *\n)*"
    link_text = "(?:" + chars(r"\[\]_!\n") + "|" + entity + ")*"
    destination = chars(r" ()\[\]\n") + "+"
    date_line = r"### \[" + link_text + r"\]\(" + destination + r"\)\n"
    # a headline: no link, image or emphasis; a last character that is no space, "#" or "}"
    title = "# (?:" + chars(r"\[\]_\n") + "|" + entity + ")*" + chars(r" #}\[\]_\n") + r" *\n"
    # a paragraph line: not blank, no brackets or "_", at most one space at its end; it opens with no
    # space, "#", "=", "+", "-", "|" or other digit than ASCII, and its digits are no list marker
    any_char = "(?:" + chars(r"\[\]_\n") + "|" + entity + ")"
    not_space = "(?:" + chars(r" \[\]_\n") + "|" + entity + ")"
    rest = "(?:" + any_char + "*" + not_space + ")?"
    first = "(?:[!\"$%'(),./:;?@A-Za-z^{}]|\\p{L}|" + entity + ")"
    after_digits = "(?:[!\"$%'(,/:;?@A-Za-z^{|}#+=\\-]|" + entity + ")"
    line = "(?:" + first + rest + "|[0-9]+(?:[.)]" + not_space + rest + "|" + after_digits + rest + "| " + any_char + "*" + not_space + "|)) ?\\n"
    body = "(?:" + line + r"| *\n)*"
    item = r"[0-9]{1,9}\. \[" + link_text + r"\]\(" + destination + r"\)"
    # A source's name may hold "& " ("Mail & Guardian"): `canonical` leaves such a file to the parser,
    # which reads it as it reads "&amp; " (an "&" and a space start no entity) and searches no source.
    source = r"[0-9]{1,9}\. \[(?:" + chars(r"\[\]_!\n") + "|" + entity + r"|& )*\]\(" + destination + r"\)"
    sources = r"### Source: *\n" + blanks + "(?:" + source + r" *\n" + blanks + ")*"
    related = r"### Related: *\n" + blanks + "(?:" + item + "(?: _Contexts?:" + chars(r"_\[\]!\n") + "*_)?" + r" *\n" + blanks + ")*"
    return blanks + "(?:" + date_line + blanks + ")?" + title + body + "(?:" + sources + ")?(?:" + related + ")?"


def _needle(token: str, re2) -> str:
    """A regex that finds `token` in a file's bytes, or a part of it where markup could split it:
    `token`, or one of its proper prefixes followed by what starts a split (`_SPLIT`)."""
    prefixes = "|".join(re2.escape(token[:n]) for n in range(len(token) - 1, 0, -1))
    return f"{re2.escape(token)}|(?:{prefixes}){_SPLIT}" if prefixes else re2.escape(token)


# The characters RE2 matches to an ASCII letter when it ignores case, beyond its two cases (checked by tests).
_OTHER_CASES = {"s": "\u017f", "k": "\u212a"}


def _folded_needles(tokens: Sequence[str], re2) -> list[str]:
    """`_needle` of every token (ASCII letters and digits), ignoring case, as one regex per first
    character: that character as written, the rest in `(?i:...)`. They find together what one
    case-insensitive regex of them all finds in about 60% of its time ("syrian": "s", "S", "ſ";
    "army": "a", "A"): RE2 looks for a literal first byte with memchr, and for a folded one it has
    no such shortcut."""
    by_first: dict[str, list[str]] = {}
    for token in tokens:
        if len(token) > 1:
            tails = "|".join(re2.escape(token[1:n]) for n in range(len(token) - 1, 0, -1))  # "" last: the first alone
            tail = f"(?:{re2.escape(token[1:])}|(?:{tails}){_SPLIT})"
        else:
            tail = ""
        first = token[0].lower()
        for char in dict.fromkeys(first + first.upper() + _OTHER_CASES.get(first, "")):
            by_first.setdefault(char, []).append(tail)
    return [re2.escape(char) + "(?i:" + "|".join(tails) + ")" if any(tails) else re2.escape(char) for char, tails in by_first.items()]


def _read(path: str, limit: int) -> bytes | None:
    """A file's bytes (parser.read_limited's, without its buffered reader); None when unreadable or over the limit."""
    try:
        with open(path, "rb", buffering=0) as file:
            if 0 < limit < os.fstat(file.fileno()).st_size:
                return None
            return file.readall()
    except OSError:
        return None


def _hits(program, blob, offsets: list[int], end: int | None = None) -> set[int]:
    """Which texts of `blob` (laid out as `_joined` lays them, up to `end`) hold a match that starts in them."""
    import re2

    found, pos, last = set(), 0, len(offsets) - 1
    end = len(blob) if end is None else end
    anchor, match = re2._re2.RE2.Anchor.UNANCHORED, program.Match
    while pos <= end:
        start = match(anchor, blob, pos, end)[0][0]
        if start < 0:
            break
        doc = bisect_right(offsets, start) - 1
        if doc >= last:
            break
        found.add(doc)
        pos = offsets[doc + 1]
    return found


def _joined(texts: list[bytes]) -> tuple[bytes, list[int]]:
    """Texts joined with line breaks as Matcher.select joins them (an empty text adds nothing)."""
    parts, offsets, size = [], [], 0
    for data in texts:
        offsets.append(size)
        if data:
            parts.append(data)
            parts.append(b"\n")
            size += len(data) + 1
    offsets.append(size)
    return b"".join(parts), offsets


def _ordinal(relpath: str, data: bytes) -> int:
    """The event's date as the index holds it (an ordinal, 0 for none): from its date line when the
    file opens with a plain one (`### [2019-03-03](/news/...)`, no front matter), else parsed."""
    from newsarc.reading import dates

    match = _DATE_LINE.match(data)
    if match:
        day = dates.parse_day(match.group(1).decode()) or dates.date_from_path(relpath)
        return day.toordinal() if day else 0
    from newsarc.reading.parser import parse_bytes

    event = parse_bytes(data, relpath)
    return event.date.toordinal() if event.date else 0


_NAME_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SAFE_DECODED = sorted(((f"&{name};", html.unescape(f"&{name};")) for name in _SAFE_ENTITIES), key=lambda pair: pair[0] == "&amp;")


def _other_entity(safe: Sequence[str]) -> str:
    """A regex for every entity `_ENTITY` finds (`&NAME;`, NAME `#?[0-9A-Za-z]+`) but `&S;` for S in `safe`:
    the complement of a finite set, spelt out along the tree of its prefixes."""
    prefixes = {name[:k] for name in safe for k in range(len(name) + 1)}

    def rest(prefix: str) -> str:
        # what may follow `prefix` to make a name outside `safe`, then ';'
        branches = []
        if prefix and prefix != "#" and prefix not in safe:
            branches.append(";")
        allowed = ("#" if not prefix else "") + _NAME_CHARS
        children = sorted({name[len(prefix)] for name in safe if name.startswith(prefix) and len(name) > len(prefix)})
        others = [c for c in allowed if c not in children]
        if "#" in others:
            others.remove("#")
            branches.append("#[0-9A-Za-z]+;")
        if others:
            branches.append(f"[{''.join(others)}][0-9A-Za-z]*;")
        branches.extend(re.escape(c) + rest(prefix + c) for c in children)
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    assert "" in prefixes
    return "&" + rest("")


def _decodes_to_word(entity: bytes) -> bool:
    """Whether an entity may decode to a letter or digit, read as HTML or as CommonMark reads it."""
    name = entity.decode()
    values = [html.unescape(name)]
    if name.startswith("&#"):
        digits = name[2:-1]
        try:
            code = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
            values.append(chr(code))
        except (ValueError, OverflowError):
            pass
    return any(_word_char(c) for value in values for c in value)


def _word_char(c: str) -> bool:
    return unicodedata.category(c)[0] in "LN"


# -- the literals a pattern requires -----------------------------------------------


def required(matcher: Matcher) -> list[str] | None:
    """Runs of letters and digits such that every match of any pattern holds one of them (one per
    alternative: its longest run); None when some alternative requires none.

    Only letters and digits: the parser never puts one between two letters that
    touch in the decoded text unless `_needle` or `_unsure` keeps the file. Case-insensitive runs keep ASCII letters only, whose case
    variants (K and the Kelvin sign, s and the long s) are letters too."""
    found = []
    for pattern in matcher.patterns:
        branches = [_runs(list(pattern), matcher.case_sensitive)] if matcher.fixed else _branches(pattern, matcher.case_sensitive)
        if branches is None:
            return None
        for runs in branches:
            if not runs:
                return None
            found.append(max(runs, key=len))
    return found


def required_runs(matcher: Matcher) -> list[list[str]] | None:
    """Per alternative of every pattern, all the runs of letters and digits its every match holds
    (`required` keeps the longest of each); None when some alternative requires none."""
    found = []
    for pattern in matcher.patterns:
        branches = [_runs(list(pattern), matcher.case_sensitive)] if matcher.fixed else _branches(pattern, matcher.case_sensitive)
        if branches is None or not all(branches):
            return None
        found.extend(sorted(runs, key=len, reverse=True) for runs in branches)
    return found


def _runs(chars: list[str | None], sensitive: bool) -> list[str]:
    """Runs of word characters in a sequence of literal characters (None: anything may be there)."""
    runs, current = [], []
    for c in [*chars, None]:
        if c is not None and _word_char(c) and (sensitive or c.isascii()):
            current.append(c)
        elif current:
            runs.append("".join(current))
            current = []
    return runs


def _branches(pattern: str, sensitive: bool) -> list[list[str]] | None:
    """Per top-level alternative of a regex, the runs its every match holds; None when unsure.

    Conservative: a group, class, escape class, anchor or `.` ends a run; a
    quantified character is dropped from its run; inline flags give up."""
    from newsarc.features.search.patterns import _Scan, _class, _escape, _repetition

    if "(?" in pattern:
        return None
    branches: list[list[str | None]] = []
    chars: list[str | None] = []  # literal characters, None where a run must end
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        end = i + 1
        if ch == "\\":
            if pattern.startswith("\\Q", i):
                close = pattern.find("\\E", i + 2)
                end = len(pattern) if close == -1 else close + 2
                chars.extend(pattern[i + 2 : close if close != -1 else len(pattern)])
                i = end
                continue
            end, _, literal = _escape(pattern, i, {})
            chars.append(literal if len(literal) == 1 else None)
        elif ch == "[":
            end = _class(pattern, i, _Scan(""))[0]
            chars.append(None)
        elif ch == "(":
            end = _group_end(pattern, i)
            if end < 0:
                return None
            chars.append(None)
        elif ch == "|":
            branches.append(chars)
            chars = []
        elif ch in ".^$)":
            chars.append(None)
        elif ch in "*+?" or (ch == "{" and _repetition(pattern, i) > i):
            end = _repetition(pattern, i) if ch == "{" else i + 1
            if pattern.startswith("?", end):
                end += 1  # lazy
            if chars:
                chars[-1] = None  # the quantified atom may be absent or repeated
        else:
            chars.append(ch)
        i = end
    branches.append(chars)
    return [_runs(b, sensitive) for b in branches]


def _group_end(pattern: str, start: int) -> int:
    """Index after the `)` closing the group at `start` (escapes and classes skipped), -1 if none."""
    from newsarc.features.search.patterns import parentheses

    depth = 0
    for i, ch in parentheses(pattern, start):
        depth += 1 if ch == "(" else -1
        if depth == 0:
            return i + 1
    return -1
