"""The spike's search-text and words groups (bench/SQLITE.md, sections 2-4): the sketch of warm
search candidates, FTS5 picking events from a pattern's literal words and RE2 confirming them.

No command registers or reads them: `bench/sqlite_bench.py` measures them and
tests/index/test_index_db.py keeps them working, for when search keeps text in the
index (bench/SQLITE.md, section 11, item 3). Each group is derived from one parsed
Event by a pure function that runs in the build's workers.

Groups (tables):
  search   search(id, text): the default search fields as matched (UTF-8, plain or zlib), RE2 confirms on it
  words    words: FTS5, contentless, columns title/body/topics, tokens casefolded with stopwords, short
           tokens and numbers left out; words_input(id, data): that input (zlib), needed to delete rows
           from a contentless FTS5 table on SQLite < 3.43 (no contentless_delete)
"""

from __future__ import annotations

import marshal
import re
import sqlite3
import zlib
from collections import Counter
from collections.abc import Sequence

from newsarc.index import db

# -- search text ------------------------------------------------------------------------------------

SEARCH_COMPRESSED = True  # the bench measures both


def _search_rows(event) -> dict[str, list[tuple]]:
    from newsarc.reading.event_text import DEFAULT_FIELDS, event_text

    if event.is_day_page:
        return {}
    data = event_text(event, DEFAULT_FIELDS).encode()
    return {"search": [(zlib.compress(data, 1) if SEARCH_COMPRESSED else data,)]}


def search_group(compressed: bool = True) -> db.Group:
    global SEARCH_COMPRESSED
    SEARCH_COMPRESSED = compressed
    return db.register(db.Group(
        name="search", version=1 + compressed,
        tables=("CREATE TABLE search(id INTEGER PRIMARY KEY, text BLOB NOT NULL)",),
        inserts={"search": "INSERT INTO search VALUES(?,?)"},
        rows=_search_rows,
        kinds=(db.EVENT,),
    ))


SEARCH = search_group(True)


def search_text(conn: sqlite3.Connection, ids: Sequence[int] | None = None):
    """(id, text bytes) of the given events (all when None), in id order."""
    unpack = zlib.decompress if SEARCH_COMPRESSED else bytes
    if ids is None:
        for fid, data in conn.execute("SELECT id, text FROM search ORDER BY id"):
            yield fid, unpack(data)
        return
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for fid, data in conn.execute(f"SELECT id, text FROM search WHERE id IN ({marks}) ORDER BY id", part):
            yield fid, unpack(data)


# -- words: FTS5 ------------------------------------------------------------------------------------

_UNICODE_DELIMITERS = (
    "\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb\u2013\u2014\u2026\u00a0\u2022\u00b7\u2032\u2033\u2010\u2011\u2212"
)
_ASCII_DELIMITERS = bytes(range(0, 48)) + bytes(range(58, 65)) + bytes(range(91, 97)) + bytes(range(123, 128))
_TO_SPACE = str.maketrans({chr(c): " " for c in _ASCII_DELIMITERS} | {c: " " for c in _UNICODE_DELIMITERS})
_ASCII_TO_SPACE = str.maketrans({chr(c): " " for c in _ASCII_DELIMITERS})
_UPPER = bytes(range(65, 91))
_BYTE_TABLE = bytes.maketrans(_ASCII_DELIMITERS + _UPPER, b" " * len(_ASCII_DELIMITERS) + _UPPER.lower())
MIN_LENGTH = 3
FILTER = True  # False: every token goes in (the bench measures the cost of stopwords in the index)


def _stopwords() -> frozenset[str]:
    from newsarc.reading.words import STOPWORDS

    return frozenset(w.decode() for w in STOPWORDS)


STOPWORDS = _stopwords()


def tokens(text: str) -> list[str]:
    """The tokens the words table holds for a text: casefolded (RE2's case-insensitive matches are a
    subset: K and the long s fold to ASCII), split at ASCII punctuation and the Unicode punctuation of
    news copy; no stopwords, nothing under MIN_LENGTH characters, no numbers."""
    if text.isascii():  # bytes.translate: four times faster than str.translate with a dict
        words = text.encode().translate(_BYTE_TABLE).decode().split()
    else:
        folded = text.casefold()
        for char in _UNICODE_DELIMITERS:
            if char in folded:
                folded = folded.replace(char, " ")
        words = folded.translate(_ASCII_TO_SPACE).split()
    if not FILTER:
        return words
    stop = STOPWORDS
    return [t for t in words if len(t) >= MIN_LENGTH and t not in stop and not t.isdigit()]


def _words_input(event) -> tuple[str, str, str]:
    return (" ".join(tokens(event.title)), " ".join(tokens(event.body)), " ".join(tokens(" ".join(event.topics))))


KEEP_INPUT = True


def _words_rows(event) -> dict[str, list[tuple]]:
    if event.is_day_page:
        return {}
    values = _words_input(event)
    rows = {"words": [values]}
    if KEEP_INPUT:
        rows["words_input"] = [(zlib.compress(marshal.dumps(values), 1),)]
    return rows


def _words_drop(conn: sqlite3.Connection, ids: list[int]) -> None:
    """A contentless FTS5 table forgets a row only when told its values again ('delete')."""
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        found = conn.execute(f"SELECT id, data FROM words_input WHERE id IN ({marks})", part).fetchall()
        conn.executemany("INSERT INTO words(words, rowid, title, body, topics) VALUES('delete', ?, ?, ?, ?)",
                         [(fid, *marshal.loads(zlib.decompress(data))) for fid, data in found])
        conn.executemany("DELETE FROM words_input WHERE id=?", [(fid,) for fid, _ in found])


def words_group(detail: str = "full", keep_input: bool = True, optimize: bool = True) -> db.Group:
    global KEEP_INPUT
    KEEP_INPUT = keep_input
    tables = [f"CREATE VIRTUAL TABLE words USING fts5(title, body, topics, content='', tokenize='ascii', detail={detail})"]
    inserts = {"words": "INSERT INTO words(rowid, title, body, topics) VALUES(?,?,?,?)"}
    names = ["words"]
    if keep_input:
        tables.append("CREATE TABLE words_input(id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        inserts["words_input"] = "INSERT INTO words_input VALUES(?,?)"
        names.append("words_input")
    tables.append("CREATE VIRTUAL TABLE words_terms USING fts5vocab(words, 'row')")
    tables.append("CREATE TABLE words_vocab(part INTEGER PRIMARY KEY, terms BLOB NOT NULL)")
    names.extend(("words_terms", "words_vocab"))
    return db.register(db.Group(
        name="words", version=1, tables=tuple(tables), inserts=inserts, rows=_words_rows,
        indexes=("INSERT INTO words(words) VALUES('optimize')",) if optimize else (),
        kinds=(db.EVENT,), drop=_words_drop if keep_input else None, names=tuple(names), after=lambda conn: _vocab_after(conn),
    ))


WORDS = words_group()


# search: candidates from the pattern's literal words, RE2 confirms ---------------------------------


def literal_parts(pattern: str) -> list[str] | None:
    """Strings every match of `pattern` contains (its top-level literal runs, casefolded); None when the
    pattern has none this sketch can vouch for (alternation at the top, a parse it does not know).
    The migration takes them from the search's own pattern scan (patterns.py) instead."""
    try:
        import re._parser as sre_parse  # 3.11
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None
    runs, current = [], []
    for op, arg in tree:
        if op is sre_parse.LITERAL:
            current.append(chr(arg))
            continue
        if current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return [r.casefold() for r in runs] or None


def _usable_parts(literal: str) -> list[tuple[str, str]] | None:
    """(how, token) lookups that every text holding `literal` satisfies: the literal split where the
    tokenizer splits; inner pieces are whole tokens ("="), the first ends a token and the last starts
    one (so: a token containing it, "~"). A piece the table may have left out (a stopword could
    contain it, too short, a number) is skipped; None when none is left."""
    if not literal.isascii():
        return None  # case folding beyond ASCII: left to the scan
    if not FILTER:
        pieces = literal.translate(_ASCII_TO_SPACE).split(" ")
        return [("=" if 0 < k < len(pieces) - 1 else "~", p) for k, p in enumerate(pieces) if p] or None
    pieces = literal.translate(_TO_SPACE).split(" ")
    found = []
    for k, piece in enumerate(pieces):
        if not piece:
            continue
        inner = 0 < k < len(pieces) - 1
        if len(piece) < MIN_LENGTH or piece.isdigit() or (not inner and any(c.isdigit() for c in piece)):
            continue  # a number token could hold it
        if inner:
            if piece not in STOPWORDS:
                found.append(("=", piece))
        elif not any(piece in stop for stop in STOPWORDS):
            found.append(("~", piece))
    return found or None


def _vocab_after(conn: sqlite3.Connection) -> None:
    """The table's terms, newline-joined in pieces of about 1 MB: a substring is looked up in a
    plain bytes scan (ms), where fts5vocab reads every posting list (0.4 s at 100k events).
    The spike remakes it after each update; the migration appends the new terms instead."""
    conn.execute("DELETE FROM words_vocab")
    part, size, k = [], 0, 0
    for (term,) in conn.execute("SELECT term FROM words_terms"):
        part.append(term)
        size += len(term) + 1
        if size >= 1 << 20:
            conn.execute("INSERT INTO words_vocab VALUES(?, ?)", (k, ("\n" + "\n".join(part) + "\n").encode()))
            part, size, k = [], 0, k + 1
    if part:
        conn.execute("INSERT INTO words_vocab VALUES(?, ?)", (k, ("\n" + "\n".join(part) + "\n").encode()))


def terms_containing(conn: sqlite3.Connection, piece: str) -> list[str]:
    needle, found = piece.encode(), []
    for (blob,) in conn.execute("SELECT terms FROM words_vocab"):
        at = blob.find(needle)
        while at >= 0:
            start = blob.rfind(b"\n", 0, at) + 1
            stop = blob.find(b"\n", at)
            found.append(blob[start:stop].decode())
            at = blob.find(needle, stop)
    return found


def candidates(conn: sqlite3.Connection, pattern: str, max_terms: int = 2000) -> set[int] | None:
    """Ids of the events that may match `pattern` (a superset), or None: scan them all."""
    literals = literal_parts(pattern)
    if not literals:
        return None
    best: set[int] | None = None
    for literal in literals:
        for how, piece in _usable_parts(literal) or ():
            if how == "=":
                terms = [piece]
            else:
                terms = terms_containing(conn, piece)
                if len(terms) > max_terms:
                    continue
            if not terms:
                return set()
            query = " OR ".join('"' + t + '"' for t in terms)
            ids = {row[0] for row in conn.execute("SELECT rowid FROM words WHERE words MATCH ?", (query,))}
            best = ids if best is None else best & ids
    return best


def search_ids(conn: sqlite3.Connection, pattern: str, case_sensitive: bool = False) -> list[int]:
    """Ids of the events whose search text matches `pattern` (RE2, lines never joined)."""
    import re2

    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.never_nl = True
    program = re2.compile(f"(?m:{pattern})", options)
    chosen = candidates(conn, pattern)
    ids = None if chosen is None else sorted(chosen)
    return [fid for fid, text in search_text(conn, ids) if program.search(text)]


# related: BM25 over the event's own distinctive terms --------------------------------------------

QUERY_TERMS = 24


def related_ids(conn: sqlite3.Connection, fid: int, k: int = 20) -> list[tuple[int, float]]:
    """The k events whose words score best (BM25, headline x2, topics not counted) against the
    QUERY_TERMS terms of event `fid` with the best tf-idf among those another event shares."""
    row = conn.execute("SELECT data FROM words_input WHERE id=?", (fid,)).fetchone()
    if row is None:
        return []
    title, body, _ = marshal.loads(zlib.decompress(row[0]))
    counts = Counter(title.split() * 2 + body.split())
    terms = sorted(counts, key=lambda t: (-counts[t], t))[:400]
    df = {}
    for start in range(0, len(terms), 200):
        part = terms[start : start + 200]
        marks = ",".join("?" * len(part))
        df.update(conn.execute(f"SELECT term, doc FROM words_terms WHERE term IN ({marks})", part))
    total = conn.execute("SELECT count(*) FROM words_input").fetchone()[0]
    import math

    def idf(t: str) -> float:
        n = df.get(t, 0)
        return math.log(1.0 + (total - n + 0.5) / (n + 0.5))

    shared = [t for t in sorted(terms, key=lambda t: (-counts[t] * idf(t), t)) if df.get(t, 0) > 1][:QUERY_TERMS]
    if not shared:
        return []
    query = "{title body} : (" + " OR ".join('"' + t + '"' for t in shared) + ")"
    return [(r, -s) for r, s in conn.execute(
        "SELECT rowid, bm25(words, 2.0, 1.0, 0.0) AS score FROM words WHERE words MATCH ? AND rowid != ? ORDER BY score LIMIT ?",
        (query, fid, k))]


# events -------------------------------------------------------------------------------------------


def events_of_month(conn: sqlite3.Connection, year: int, month: int) -> list[tuple[str, str, int]]:
    import datetime as dt

    first = dt.date(year, month, 1)
    last = dt.date(year + (month == 12), month % 12 + 1, 1)
    return conn.execute(
        "SELECT f.path, e.title, e.day FROM events e JOIN files f USING(id) WHERE e.day >= ? AND e.day < ? ORDER BY e.day, f.path",
        (first.toordinal(), last.toordinal())).fetchall()


def by_slug(conn: sqlite3.Connection, slug: str) -> list[tuple[int, str]]:
    return conn.execute("SELECT f.id, f.path FROM events e JOIN files f USING(id) WHERE e.slug = ?", (slug,)).fetchall()
