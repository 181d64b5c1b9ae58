"""validate-links' and backlinks' group in the SQLite index: every file's resolved links.

Registered with the index (index/db.register) by this module: the index knows no
feature, and features say what they need stored. Everything the group stores is
derived from one parsed Event by a pure function that runs in the build's workers.

Tables (who reads them):
  links    links(target, id): resolved internal targets (backlinks, related's links);
           listed(id, target): what a day page links to (validate-links' day-page check);
           link_facts(id, links, http, quiet) + written(id, target): validate-links' "quiet" verdict,
           one query answers it on every run
"""

from __future__ import annotations

import marshal
import sqlite3

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
