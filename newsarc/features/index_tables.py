"""What each feature will register with the SQLite index (index/db.register), and the queries it runs.

The spike's sketch, kept on the features' floor: the index knows no
feature, and features say what they need stored. As each command moves onto
the index, its group moves into its own module (list/show into lookup,
links into links, search text into search, words into related and search). Everything a group stores is derived
from one parsed Event by a pure function that runs in the build's workers.

Groups (tables; who reads them):
  events   moved to features/catalog.py (show, list-by-date)
  links    links(target, id): resolved internal targets (backlinks, related's links);
           listed(id, target): what a day page links to (validate-links' day-page check);
           link_facts(id, links, http, quiet) + written(id, target): validate-links' "quiet" verdict,
           one query answers it on every run
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

# -- links ----------------------------------------------------------------------------------------

BACKLINK, PLAIN, LISTED = 1, 2, 4  # links.role bits: counts as a backlink; written "/" + the path; on a day page


def _link_rows(event) -> dict[str, list[tuple]]:
    """Targets as file ids (a path the index lacks goes to links_missing, resolved if it appears).
    validate-links' verdict needs: quiet (link_facts), no target written otherwise than plainly (odd),
    and every plain target a file (no PLAIN row in links_missing)."""
    from newsarc.archive import day_page_targets

    roles: dict[str, int] = {}
    lists = None
    if event.is_day_page:  # what it lists; a day page is no backlink (Archive.backlinks: events only)
        listed = day_page_targets(event)
        lists = marshal.dumps([db.stored_path(target) for target in listed])  # read whole by validate-links
        for target in listed:
            roles[target] = LISTED
    else:
        for target in _link_targets(event):
            roles[target] = roles.get(target, 0) | BACKLINK
    links, http, written, quiet = _link_facts(event)
    odd = 0
    for target in written:
        if target[:1] == "/" and "%" not in target and "?" not in target and "#" not in target:
            roles[target[1:]] = roles.get(target[1:], 0) | PLAIN
        else:
            odd += 1
    found, missing = [], []
    for target, role in roles.items():
        fid = db.file_id(target)
        if fid is None:
            missing.append((target, role))
        else:
            found.append((fid, role))
    return {"links": found, "links_missing": missing, "link_facts": [(links, http, int(quiet), odd, lists)]}


_HTTP = ("http://", "https://")


def _link_targets(event) -> list[str]:
    """archive.link_targets, a plain site-absolute link (archive.resolve_written's rule) taken as its
    path and an http(s) link as external without resolve_link: the same answer, in a fraction of the time."""
    from newsarc.archive import PLAIN_ABSOLUTE, resolve_link
    from newsarc.model import DATE

    found: dict[str, None] = {}
    path = event.path
    for link in event.links:
        if link.role == DATE:
            continue
        target = link.target
        if target[:1] == "/" and PLAIN_ABSOLUTE.fullmatch(target) and "//" not in target and "/." not in target \
                and target[-1] != "/":
            target = target[1:]
        elif target[:4] == "http" and target.startswith(_HTTP):
            continue
        else:
            target = resolve_link(path, target).path
        if target and target != path:
            found[target] = None
    return list(found)


_AGREE: dict[tuple, bool] = {}  # archive._dates_agree of a folder and date line (the events of a day share it)


def _link_facts(event) -> tuple[int, int, list[str], bool]:
    """archive.link_facts, its written targets as a list and its date check kept per folder and date line
    (archive._dates_agree reads nothing else of a file without a front matter date)."""
    from newsarc.archive import _dates_agree
    from newsarc.model import DATE

    written, http = [], 0
    line = None
    for link in event.links:
        target = link.target
        if target[:4] == "http" and target.startswith(_HTTP):
            http += 1
        else:
            written.append(target)
        if line is None and link.role == DATE:
            line = link
    if written == [""]:
        written = []  # as link_facts' "\0"-joined targets: one empty target reads as none
    quiet = not event.diagnostics
    if quiet and not event.is_day_page:
        if "date" in event.meta:
            quiet = _dates_agree(event)
        else:
            key = (event.path.rpartition("/")[0], line.text, line.target) if line is not None else (event.path.rpartition("/")[0],)
            quiet = _AGREE.get(key)
            if quiet is None:
                if len(_AGREE) > 100_000:
                    _AGREE.clear()
                quiet = _AGREE[key] = _dates_agree(event)
    return len(event.links), http, written, quiet


def _links_moved(conn: sqlite3.Connection, added: list[tuple[int, str]], gone: list[int]) -> None:
    """Links to files gone become missing ones; missing ones to files added become links."""
    for fid in gone:
        conn.execute("INSERT INTO links_missing SELECT l.id, f.path, l.role FROM links l JOIN files f ON f.id = l.target"
                     " WHERE l.target = ?", (fid,))
        conn.execute("DELETE FROM links WHERE target = ?", (fid,))
    for fid, path in added:
        conn.execute("INSERT INTO links SELECT id, ?, role FROM links_missing WHERE target = ?", (fid, path))
        conn.execute("DELETE FROM links_missing WHERE target = ?", (path,))


LINKS = db.register(db.Group(
    name="links", version=3,
    tables=(
        "CREATE TABLE links(id INTEGER NOT NULL, target INTEGER NOT NULL, role INTEGER NOT NULL)",
        "CREATE TABLE links_missing(id INTEGER NOT NULL, target TEXT NOT NULL, role INTEGER NOT NULL)",
        "CREATE TABLE link_facts(id INTEGER PRIMARY KEY, links INTEGER NOT NULL, http INTEGER NOT NULL,"
        " quiet INTEGER NOT NULL, odd INTEGER NOT NULL, listed BLOB)",
    ),
    inserts={
        "links": "INSERT INTO links VALUES(?,?,?)",
        "links_missing": "INSERT INTO links_missing VALUES(?,?,?)",
        "link_facts": "INSERT INTO link_facts VALUES(?,?,?,?,?,?)",
    },
    rows=_link_rows,
    needs=frozenset({"kind", "path", "links", "diagnostics", "meta"}),
    indexes=(
        "CREATE INDEX links_target ON links(target)",
        "CREATE INDEX links_id ON links(id)",
        "CREATE INDEX links_missing_target ON links_missing(target)",
        "CREATE INDEX links_missing_id ON links_missing(id)",
    ),
    moved=_links_moved,
))


def backlinks(conn: sqlite3.Connection, path: str) -> list[str]:
    """Paths of the files linking to `path` (its date line aside, itself aside), in path order."""
    return [row[0] for row in conn.execute(
        "SELECT f.path FROM links l JOIN files f ON f.id = l.id WHERE l.target = (SELECT id FROM files WHERE path = ?)"
        " AND l.role & 1 ORDER BY f.path", (path,))]


def listed(conn: sqlite3.Connection, day_page: str) -> set[str]:
    """The files a day page links to (validate-links' day-page check)."""
    fid = conn.execute("SELECT id FROM files WHERE path = ?", (day_page,)).fetchone()
    if fid is None:
        return set()
    return {row[0] for row in conn.execute(
        "SELECT f.path FROM links l JOIN files f ON f.id = l.target WHERE l.id = ? AND l.role & 4 UNION "
        "SELECT target FROM links_missing WHERE id = ? AND role & 4", (fid[0], fid[0]))}


def loud_files(conn: sqlite3.Connection) -> list[int]:
    """Ids validate-links must read (answered by the database on every run)."""
    return [row[0] for row in conn.execute(
        "SELECT id FROM link_facts WHERE quiet = 0 OR odd > 0 UNION SELECT id FROM links_missing WHERE role & 2")]


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
