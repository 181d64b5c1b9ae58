"""The SQLite index prototype (newsarc/index): build, reopen, format and damage checks, updates."""

from __future__ import annotations

import os
import sqlite3

import pytest

from newsarc.index import db, tables

GROUPS = ["events", "links", "search", "words"]


@pytest.fixture
def archive(builder):
    a = builder.event("2021-06-01", "Syrian Army retakes Palmyra", body="The Syrian Army entered Palmyra on Sunday.")
    builder.event("2021-06-01", "Ceasefire in Idlib holds", body="A ceasefire agreed in Moscow held overnight.",
                  related=[("Syrian Army retakes Palmyra", a, ["Syria"])])
    builder.event("2021-06-02", "Floods hit Dhaka", body="Heavy rain flooded Dhaka.")
    builder.event("2021-07-04", "Palmyra museum reopens", body="The museum at Palmyra reopened.",
                  related=[("Syrian Army retakes Palmyra", a, ["Syria"])])
    return builder.root


def build(root, path, groups=GROUPS):
    items = db.scan(str(root))
    db.build_new(path, items, groups)
    return items


def test_build_and_reopen(archive, tmp_path):
    path = tmp_path / "index.db"
    items = build(archive, path)
    conn, reused = db.open_index(path)
    assert reused
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA
    assert set(db.built_groups(conn)) == set(GROUPS)
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == len(items) == 4 + 3  # 3 day pages
    assert not db.changes(conn, db.scan(str(archive)))
    june = tables.events_of_month(conn, 2021, 6)
    assert [title for _, title, _ in june] == ["Ceasefire in Idlib holds", "Syrian Army retakes Palmyra", "Floods hit Dhaka"]
    [(fid, found)] = tables.by_slug(conn, "syrian-army-retakes-palmyra")
    assert found == "news/2021/06/1/syrian-army-retakes-palmyra.md"
    assert tables.backlinks(conn, found) == ["news/2021/06/1/ceasefire-in-idlib-holds.md", "news/2021/07/4/palmyra-museum-reopens.md"]
    assert tables.listed(conn, "news/2021/06/1/index.md") == {found, "news/2021/06/1/ceasefire-in-idlib-holds.md"}
    assert tables.loud_files(conn) == []


def test_search_candidates_then_re2(archive, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path)
    conn, _ = db.open_index(path)
    paths = dict(conn.execute("SELECT id, path FROM files"))
    found = lambda pattern: sorted(paths[i].rsplit("/", 1)[1] for i in tables.search_ids(conn, pattern))  # noqa: E731
    assert found("Syrian Army") == ["syrian-army-retakes-palmyra.md"]
    assert found("almyr") == ["palmyra-museum-reopens.md", "syrian-army-retakes-palmyra.md"]  # inside a word
    assert found("Palmy?ra") == ["palmyra-museum-reopens.md", "syrian-army-retakes-palmyra.md"]
    assert tables.candidates(conn, "a|b") is None  # no literal every match holds: everything is scanned
    assert found("flood(ed)? Dhaka") == ["floods-hit-dhaka.md"]
    assert tables.candidates(conn, "Zanzibar") == set()


def test_related_by_bm25(archive, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path)
    conn, _ = db.open_index(path)
    [(fid, _)] = tables.by_slug(conn, "syrian-army-retakes-palmyra")
    best = [conn.execute("SELECT path FROM files WHERE id=?", (i,)).fetchone()[0] for i, _ in tables.related_ids(conn, fid)]
    assert best[0] == "news/2021/07/4/palmyra-museum-reopens.md"


def test_only_the_groups_asked_for(archive, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path, ["events"])
    conn, _ = db.open_index(path)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    assert "events" in names and "search" not in names and "links" not in names
    db.ensure(conn, str(archive), ["events", "links"])  # a later command adds what it uses
    assert set(db.built_groups(conn)) == {"events", "links"}
    assert len(tables.backlinks(conn, "news/2021/06/1/syrian-army-retakes-palmyra.md")) == 2
    assert db.ensure(conn, str(archive), ["events", "links"]) is None


def test_other_format_is_rebuilt(archive, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={db.SCHEMA + 1}")
    conn.close()
    conn, reused = db.open_index(path)
    assert not reused
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA


def test_other_newsarc_is_rebuilt(archive, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value='newsarc/0.0.1/py3.0' WHERE key='made_by'")
    conn.commit()
    conn.close()
    assert not db.open_index(path)[1]


@pytest.mark.parametrize("where", ["header", "middle"])
def test_damaged_database_is_detected(archive, tmp_path, where):
    path = tmp_path / "index.db"
    build(archive, path)
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        if where == "header":
            handle.write(b"not a database at all")
        else:  # every page after the first: b-tree pages no longer parse
            handle.seek(db.PAGE_SIZE)
            handle.write(os.urandom(size - db.PAGE_SIZE))
    if where == "middle":
        conn = db.connect(path)
        assert not db.check(conn)
        conn.close()
    conn, reused = db.open_index(path)
    if where == "header":
        assert not reused
    assert db.check(conn) or not reused


def test_edit_add_delete_are_found_and_applied(archive, builder, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path)
    conn, _ = db.open_index(path)
    target = "news/2021/06/1/syrian-army-retakes-palmyra.md"
    edited = archive / "news/2021/06/2/floods-hit-dhaka.md"
    edited.write_text(edited.read_text().replace("Heavy rain flooded Dhaka.", "Heavy rain flooded Dhaka; Palmyra was dry."))
    (archive / "news/2021/07/4/palmyra-museum-reopens.md").unlink()
    builder.event("2021-07-05", "Quake shakes Ankara", body="A quake shook Ankara.", related=[("Syrian Army retakes Palmyra", "/" + target, ["Syria"])])
    found = db.changes(conn, db.scan(str(archive)))
    assert len(found.changed) >= 1 and len(found.added) == 2 and len(found.gone) == 1  # the event and its day page
    db.update(conn, found)
    assert not db.changes(conn, db.scan(str(archive)))
    assert tables.backlinks(conn, target) == ["news/2021/06/1/ceasefire-in-idlib-holds.md", "news/2021/07/5/quake-shakes-ankara.md"]
    paths = dict(conn.execute("SELECT id, path FROM files"))
    assert sorted(paths[i] for i in tables.search_ids(conn, "Palmyra")) == [
        "news/2021/06/1/syrian-army-retakes-palmyra.md", "news/2021/06/2/floods-hit-dhaka.md"]
    assert conn.execute("INSERT INTO words(words) VALUES('integrity-check')") is not None


def test_link_to_a_missing_file_resolves_when_it_appears(builder, tmp_path):
    builder.event("2021-06-01", "Talks open", related=[("Talks close", "/news/2021/06/2/talks-close.md", ["Talks"])])
    path = tmp_path / "index.db"
    build(builder.root, path)
    conn, _ = db.open_index(path)
    assert len(tables.loud_files(conn)) == 1  # a plain link to a file that is not there
    builder.event("2021-06-02", "Talks close")
    db.update(conn, db.changes(conn, db.scan(str(builder.root))))
    assert tables.backlinks(conn, "news/2021/06/2/talks-close.md") == ["news/2021/06/1/talks-open.md"]
    assert tables.loud_files(conn) == []


def test_racy_file_is_compared_by_bytes(archive, tmp_path):
    path = tmp_path / "index.db"
    build(archive, path)
    conn, _ = db.open_index(path)
    file = archive / "news/2021/06/2/floods-hit-dhaka.md"
    info = file.stat()
    data = file.read_bytes()
    file.write_bytes(data.replace(b"Heavy", b"Light"))  # same size, and put back the stamp it had
    os.utime(file, ns=(info.st_atime_ns, info.st_mtime_ns))
    found = db.changes(conn, db.scan(str(archive)))
    assert [item[1] for _, item in found.changed] == ["news/2021/06/2/floods-hit-dhaka.md"]
