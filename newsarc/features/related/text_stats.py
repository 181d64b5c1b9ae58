"""related's text statistics kept in the SQLite index: the "text" group, and a source for TextIndex.

`similarity.TextIndex` scores BM25 from statistics it asks for: document
frequencies of a query's candidate terms, postings (with counts) of its chosen
terms, every document's length. Today's `similarity.Scan` finds them by scanning
every normalized text with RE2 for every query; this module keeps
them in the index, as an inverted index SQLite builds in C, so a query reads only
the postings it needs. The scoring is TextIndex's either way: same statistics,
same floats.

The group (tables; built from each parsed event in the build's workers):

    text_fts     FTS5, contentless, tokenize='ascii', detail=full, one column: the event's
                 *useful* tokens (reading/words.py) in order, as `normalize` makes them from
                 headline twice + body. The 'ascii' tokenizer splits at ASCII non-alphanumerics and
                 keeps every non-ASCII character in a token, which is `normalize`'s rule: FTS5's
                 tokens are today's. A token of more than LONG_TOKEN bytes is held as a marker (FTS5
                 cuts tokens at 32 KB; see `fts_term`). Only useful tokens: a query weighs no others.
    text_row     fts5vocab 'row': document frequencies (`doc`)
    text_inst    fts5vocab 'instance': postings with positions, counted per document
    text_docs    (id, day, length): the date (its ordinal, 0 for none) and the byte length of the
                 normalized text (BM25's document length, as Scan's)
    text_input   (id, data): the FTS5 input, raw deflate; the query document's own counts, and what a
                 contentless FTS5 table must be told again to forget a row (no contentless_delete
                 before SQLite 3.43)
    text_order   the events in Archive.view() order ((date or date.min, path)): file ids, lengths,
                 and each file id's position; made again by `after` whenever files change

`open_words(index)` is the TextIndex `related` can ask; documents are
positions in `view()` order, as TextModel's (`TextStatistics.position(path)`,
`.path(doc)`, `.paths()`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable

from newsarc.features.related.text_model import TextIndex
from newsarc.index import build, db
from newsarc.reading.words import normalize, useful

GROUP = "text"
LONG_TOKEN = 240  # bytes; a longer token is held in FTS5 as a marker (FTS5 cuts tokens at 32768 bytes)
# A marker starts with an em dash: `normalize` turns every em dash into a space, so no token of a
# normalized text holds one, and the 'ascii' tokenizer keeps it inside a token (it is not ASCII).
MARK = "\u2014"
ORDER_IDS, ORDER_LENGTHS, ORDER_WHERE, ORDER_OF = 0, 1, 2, 3  # text_order.k; ORDER_OF: "count max(id)" it was made of
INPUT_LEVEL = 1  # deflate level of text_input
WINDOW = -12  # wbits: raw deflate (no header, no checksum) with a 4 KB window: less to set up per text

# How the FTS5 input is kept for deletes (bench/text_stats_bench.py measures them):
#   "input": contentless FTS5, its input deflated in text_input (the choice)
#   "content": FTS5 keeps its input itself (plain text), deletes by rowid
#   "external": external content: text_input(id, data TEXT) plain, read by FTS5
STORAGE = "input"


def fts_term(term: bytes) -> str:
    """A useful token as the FTS5 table holds it: itself, or for a long one a marker no token is."""
    if len(term) <= LONG_TOKEN:
        return term.decode()
    return MARK + hashlib.blake2b(term, digest_size=16).hexdigest()


def _date(day: int) -> dt.date | None:
    return dt.date.fromordinal(day) if day else None


def _fts_text(tokens: list[bytes]) -> str:
    return " ".join(fts_term(t) for t in tokens)


def _rows(event) -> dict[str, list[tuple]]:
    text = normalize(f"{event.title}\n{event.title}\n{event.body}")
    tokens = [t for t in text.split() if useful(t)]
    kept = b" ".join(tokens)
    fts = _fts_text(tokens) if any(len(t) > LONG_TOKEN for t in tokens) else kept.decode()
    day = event.date.toordinal() if event.date else 0
    rows: dict[str, list[tuple]] = {"text_docs": [(day, len(text))], "text_fts": [(fts,)]}
    if STORAGE == "input":
        rows["text_input"] = [(_deflate(kept),)]
    elif STORAGE == "external":
        rows["text_input"] = [(fts,)]
    return rows


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, INPUT_LEVEL, WINDOW)


def _inflate(data: bytes) -> bytes:
    return zlib.decompress(data, -15)  # a raw stream of any window


def _input_of(data: bytes | str) -> bytes:
    """The useful tokens of one document, space-separated, from text_input (or FTS5's own content)."""
    if isinstance(data, str):  # content / external: the FTS5 input itself (long tokens as markers)
        return data.encode()
    return _inflate(data)


def _drop(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Rows of files changed or gone. A contentless FTS5 table forgets a row only when told its
    input again ('delete')."""
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        if STORAGE == "content":
            conn.execute(f"DELETE FROM text_fts WHERE rowid IN ({marks})", part)
        else:
            found = conn.execute(f"SELECT id, data FROM text_input WHERE id IN ({marks})", part).fetchall()
            if STORAGE == "input":
                values = [(fid, _fts_text(_inflate(data).split())) for fid, data in found]
            else:
                values = found
            conn.executemany("INSERT INTO text_fts(text_fts, rowid, body) VALUES('delete', ?, ?)", values)
            conn.execute(f"DELETE FROM text_input WHERE id IN ({marks})", part)
        conn.execute(f"DELETE FROM text_docs WHERE id IN ({marks})", part)
    conn.execute("DELETE FROM text_order WHERE k = ?", (ORDER_OF,))  # rows changed: the order is made again


def _order(conn: sqlite3.Connection) -> None:
    """The events in Archive.view() order (date, none first as date.min, then path as
    Python compares it), packed: ids, lengths, and the position of each file id (-1: no event).

    Made again only when events changed: `_drop` (every file changed or gone passes through it)
    forgets what the order was made of, and an event added has an id above every one it knew. An
    update that only restamped files, or changed no event, keeps it."""
    made_of = "%d %d" % conn.execute("SELECT count(*), coalesce(max(id), 0) FROM text_docs").fetchone()
    kept = conn.execute("SELECT data FROM text_order WHERE k = ?", (ORDER_OF,)).fetchone()
    if kept is not None and kept[0] == made_of.encode():
        return
    rows = conn.execute("SELECT d.id, d.day, d.length, f.path FROM text_docs d JOIN files f ON f.id = d.id").fetchall()
    rows.sort(key=lambda row: (row[1] or 1, db.real_path(row[3])))
    ids = array("i", [row[0] for row in rows])
    lengths = array("q", [row[2] for row in rows])
    top = conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()[0]
    where = array("i", [-1]) * (top + 1)
    for position, fid in enumerate(ids):
        where[fid] = position
    conn.execute("DELETE FROM text_order")
    conn.executemany("INSERT INTO text_order VALUES(?, ?)",
                     [(ORDER_IDS, ids.tobytes()), (ORDER_LENGTHS, lengths.tobytes()), (ORDER_WHERE, where.tobytes()),
                      (ORDER_OF, made_of.encode())])


def text_group(storage: str = "input", optimize: bool = False) -> db.Group:
    """The group, registered (the bench builds the other storages; the library uses "input").
    `optimize` merges FTS5's segments into one after a build (bench/SQLITE.md, section 8: queries
    were no faster for it)."""
    global STORAGE
    STORAGE = storage
    if storage == "input":
        fts = "CREATE VIRTUAL TABLE text_fts USING fts5(body, content='', tokenize='ascii', detail=full, columnsize=0)"
        extra = ("CREATE TABLE text_input(id INTEGER PRIMARY KEY, data BLOB NOT NULL)",)
    elif storage == "content":
        fts = "CREATE VIRTUAL TABLE text_fts USING fts5(body, tokenize='ascii', detail=full, columnsize=0)"
        extra = ()
    elif storage == "external":
        extra = ("CREATE TABLE text_input(id INTEGER PRIMARY KEY, data TEXT NOT NULL)",)
        fts = ("CREATE VIRTUAL TABLE text_fts USING fts5(body, content='text_input', content_rowid='id', tokenize='ascii',"
               " detail=full, columnsize=0)")
    else:
        raise ValueError(storage)
    tables = (
        *extra,
        fts,
        "CREATE VIRTUAL TABLE text_row USING fts5vocab(text_fts, 'row')",
        "CREATE VIRTUAL TABLE text_inst USING fts5vocab(text_fts, 'instance')",
        "CREATE TABLE text_docs(id INTEGER PRIMARY KEY, day INTEGER NOT NULL, length INTEGER NOT NULL)",
        "CREATE TABLE text_order(k INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    )
    inserts = {
        "text_fts": "INSERT INTO text_fts(rowid, body) VALUES(?, ?)",
        "text_docs": "INSERT INTO text_docs VALUES(?, ?, ?)",
    }
    if extra:
        inserts["text_input"] = "INSERT INTO text_input VALUES(?, ?)"
    names = (*(["text_input"] if extra else []), "text_fts", "text_row", "text_inst", "text_docs", "text_order")
    return db.register(db.Group(
        name=GROUP, version=2, tables=tables, inserts=inserts, rows=_rows,
        indexes=("INSERT INTO text_fts(text_fts) VALUES('optimize')",) if optimize else (),
        kinds=(db.EVENT,), drop=_drop, after=_order, names=names,
    ))


TEXT = text_group()


class TextStatistics:
    """similarity.Statistics from the text group: documents are the events in Archive.view() order.

    Everything it answers is read from one snapshot of the index, taken when it is made: for an
    index on disk it reads through a connection of its own, in one read transaction, so that another
    process's update (new files, new ids) cannot pair this order with other postings. After
    `build.Index.confirm()` says the index was stale (and brought it up to date), make another;
    `close()` lets the snapshot go."""

    def __init__(self, conn: sqlite3.Connection, path: str | None = None):
        self._own = path is not None
        if path is not None:  # a temporary database (path None) is this process's alone
            conn = db.connect(path)
            conn.execute("BEGIN")
        self.conn = conn
        packed = dict(conn.execute("SELECT k, data FROM text_order"))
        self.ids = array("i")
        self.ids.frombytes(packed[ORDER_IDS])
        self.lengths = array("q")
        self.lengths.frombytes(packed[ORDER_LENGTHS])
        self.where = array("i")  # file id -> position (-1: not an event)
        self.where.frombytes(packed[ORDER_WHERE])
        self.size = len(self.ids)

    def close(self) -> None:
        if self._own:
            self.conn.close()
            self._own = False

    # -- documents and events --------------------------------------------------

    def position(self, path: str) -> int | None:
        """The document of the event at `path` (relative to the root), None if it is no event."""
        row = self.conn.execute("SELECT id FROM files WHERE path = ?", (db.stored_path(path),)).fetchone()
        if row is None or row[0] >= len(self.where) or self.where[row[0]] < 0:
            return None
        return self.where[row[0]]

    def path(self, doc: int) -> str:
        return db.real_path(self.conn.execute("SELECT path FROM files WHERE id = ?", (self.ids[doc],)).fetchone()[0])

    def paths(self) -> list[str]:
        """Every document's path, in order (Archive.view_paths()). Reads every path: for a few
        documents, `events` reads only theirs."""
        found = dict(self.conn.execute("SELECT id, path FROM files WHERE kind = ?", (db.EVENT,)))
        return [db.real_path(found[fid]) for fid in self.ids]

    def events(self, docs: Iterable[int]) -> dict[int, tuple[str, dt.date | None]]:
        """document -> (path, date) of the documents asked (those a query scored, say), in the order asked."""
        docs = list(docs)
        found: dict[int, tuple[str, int]] = {}
        for start in range(0, len(docs), 500):
            part = [self.ids[doc] for doc in docs[start : start + 500]]
            marks = ",".join("?" * len(part))
            found.update((fid, (path, day)) for fid, path, day in self.conn.execute(
                f"SELECT f.id, f.path, d.day FROM files f JOIN text_docs d ON d.id = f.id WHERE f.id IN ({marks})", part))
        return {doc: (db.real_path(found[self.ids[doc]][0]), _date(found[self.ids[doc]][1])) for doc in docs}

    # -- statistics ------------------------------------------------------------

    def counts(self, doc: int) -> Counter[bytes]:
        """The document's useful tokens, counted (the only ones a query weighs)."""
        fid = self.ids[doc]
        if STORAGE == "content":
            row = self.conn.execute("SELECT body FROM text_fts WHERE rowid = ?", (fid,)).fetchone()
        else:
            row = self.conn.execute("SELECT data FROM text_input WHERE id = ?", (fid,)).fetchone()
        found = Counter(_input_of(row[0]).split()) if row else Counter()
        if STORAGE != "input" and any(t.startswith(MARK.encode()) for t in found):
            raise NotImplementedError("long tokens are kept whole only in text_input")  # bench storages only
        return found

    def frequencies(self, terms: list[bytes]) -> list[int]:
        if not terms:
            return []
        asked = [fts_term(t) for t in terms]
        found: dict[str, int] = {}
        for start in range(0, len(asked), 500):
            part = asked[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(self.conn.execute(f"SELECT term, doc FROM text_row WHERE term IN ({marks})", part))
        return [found.get(term, 0) for term in asked]

    def postings(self, doc: int, terms: list[bytes]) -> dict[bytes, dict[int, int]]:
        """From fts5vocab 'instance': one row per occurrence, in file id order, joined by SQLite into
        one string per term and counted by Counter (C loops, where a GROUP BY would sort and a loop
        over rows would run Python per occurrence)."""
        found: dict[bytes, dict[int, int]] = {}
        where = self.where.__getitem__
        for term in terms:
            row = self.conn.execute("SELECT group_concat(doc) FROM text_inst WHERE term = ?", (fts_term(term),)).fetchone()
            held = Counter(map(where, map(int, row[0].split(",")))) if row and row[0] else Counter()
            held.pop(doc, None)
            found[term] = held
        return found


def open_words(index: build.Index) -> TextIndex:
    """related's text model over the index's text group (the index must hold it: ask open_fresh for
    GROUP). Its documents are the events in Archive.view() order; `.statistics` maps them to paths
    (and `.statistics.close()` ends its snapshot)."""
    return TextIndex(statistics=documents(index))


def documents(index: build.Index) -> TextStatistics:
    """The index's events as documents (position <-> path), without a text model."""
    return TextStatistics(index.conn, index.path)
