"""The SQLite index (newsarc/index) with the spike's groups (features/linkcheck/link_tables.py, features/search/word_index.py): build, reopen, groups built
on demand, updates applied to every group (links re-resolve, FTS5 rows taken out and put in).
Crashes, damage and other versions: test_index_crash.py; freshness: test_index_freshness.py."""

from __future__ import annotations

import os
import sqlite3

import pytest

from newsarc.index import build, db
from newsarc.features import catalog  # noqa: F401  (registers the events group)
from newsarc.features.linkcheck import link_tables
from newsarc.features.search import word_index
from tests.index_truth import CLOCK

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


def open_db(root, tmp_path, groups=GROUPS):
    """The index's connection, fresh, with `groups` (the cache in tmp_path/cache)."""
    return build.open_fresh(root, root, groups, cache_dir=tmp_path / "cache").conn


def test_build_and_reopen(archive, tmp_path):
    first = build.open_fresh(archive, archive, GROUPS, cache_dir=tmp_path / "cache")
    assert first.report.built and first.report.parsed == 4 + 3  # 3 day pages
    index = build.open_fresh(archive, archive, GROUPS, cache_dir=tmp_path / "cache")
    assert not index.report.built and index.report.parsed == 0
    conn = index.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA
    assert set(db.built_groups(conn)) == set(GROUPS)
    assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 4 + 3
    june = word_index.events_of_month(conn, 2021, 6)
    assert [title for _, title, _ in june] == ["Ceasefire in Idlib holds", "Syrian Army retakes Palmyra", "Floods hit Dhaka"]
    [(fid, found)] = word_index.by_slug(conn, "syrian-army-retakes-palmyra")
    assert found == "news/2021/06/1/syrian-army-retakes-palmyra.md"
    assert link_tables.backlinks(conn, found) == ["news/2021/06/1/ceasefire-in-idlib-holds.md", "news/2021/07/4/palmyra-museum-reopens.md"]
    assert link_tables.listed(conn, "news/2021/06/1/index.md") == {found, "news/2021/06/1/ceasefire-in-idlib-holds.md"}
    assert link_tables.loud_files(conn) == []


def test_search_candidates_then_re2(archive, tmp_path):
    conn = open_db(archive, tmp_path)
    paths = dict(conn.execute("SELECT id, path FROM files"))
    found = lambda pattern: sorted(paths[i].rsplit("/", 1)[1] for i in word_index.search_ids(conn, pattern))  # noqa: E731
    assert found("Syrian Army") == ["syrian-army-retakes-palmyra.md"]
    assert found("almyr") == ["palmyra-museum-reopens.md", "syrian-army-retakes-palmyra.md"]  # inside a word
    assert found("Palmy?ra") == ["palmyra-museum-reopens.md", "syrian-army-retakes-palmyra.md"]
    assert word_index.candidates(conn, "a|b") is None  # no literal every match holds: everything is scanned
    assert found("flood(ed)? Dhaka") == ["floods-hit-dhaka.md"]
    assert word_index.candidates(conn, "Zanzibar") == set()


def test_related_by_bm25(archive, tmp_path):
    conn = open_db(archive, tmp_path)
    [(fid, _)] = word_index.by_slug(conn, "syrian-army-retakes-palmyra")
    best = [conn.execute("SELECT path FROM files WHERE id=?", (i,)).fetchone()[0] for i, _ in word_index.related_ids(conn, fid)]
    assert best[0] == "news/2021/07/4/palmyra-museum-reopens.md"


def test_only_the_groups_asked_for(archive, tmp_path):
    conn = open_db(archive, tmp_path, ["events"])
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    assert "events" in names and "search" not in names and "links" not in names
    later = build.open_fresh(archive, archive, ["events", "links"], cache_dir=tmp_path / "cache")  # a later command adds what it uses
    assert later.report.groups_built == ("links",) and later.report.parsed == 7
    assert set(db.built_groups(later.conn)) == {"events", "links"}
    assert len(link_tables.backlinks(later.conn, "news/2021/06/1/syrian-army-retakes-palmyra.md")) == 2
    assert build.ensure(later.conn, str(archive), ["events", "links"]) == ()


def test_edit_add_delete_are_found_and_applied(archive, builder, tmp_path):
    CLOCK.age_tree(archive)
    conn = open_db(archive, tmp_path)
    target = "news/2021/06/1/syrian-army-retakes-palmyra.md"
    edited = archive / "news/2021/06/2/floods-hit-dhaka.md"
    edited.write_text(edited.read_text().replace("Heavy rain flooded Dhaka.", "Heavy rain flooded Dhaka; Palmyra was dry."))
    (archive / "news/2021/07/4/palmyra-museum-reopens.md").unlink()
    builder.event("2021-07-05", "Quake shakes Ankara", body="A quake shook Ankara.", related=[("Syrian Army retakes Palmyra", "/" + target, ["Syria"])])
    index = build.open_fresh(archive, archive, GROUPS, cache_dir=tmp_path / "cache")
    assert index.report.parsed == 3 and index.report.gone == 1  # the edit, the event and its day page
    conn = index.conn
    assert link_tables.backlinks(conn, target) == ["news/2021/06/1/ceasefire-in-idlib-holds.md", "news/2021/07/5/quake-shakes-ankara.md"]
    paths = dict(conn.execute("SELECT id, path FROM files"))
    assert sorted(paths[i] for i in word_index.search_ids(conn, "Palmyra")) == [
        "news/2021/06/1/syrian-army-retakes-palmyra.md", "news/2021/06/2/floods-hit-dhaka.md"]
    conn.execute("INSERT INTO words(words) VALUES('integrity-check')")  # raises if the FTS5 rows do not add up
    again = build.open_fresh(archive, archive, GROUPS, cache_dir=tmp_path / "cache")
    assert again.report.parsed == 0


def test_link_to_a_missing_file_resolves_when_it_appears(builder, tmp_path):
    builder.event("2021-06-01", "Talks open", related=[("Talks close", "/news/2021/06/2/talks-close.md", ["Talks"])])
    conn = open_db(builder.root, tmp_path)
    assert len(link_tables.loud_files(conn)) == 1  # a plain link to a file that is not there
    builder.event("2021-06-02", "Talks close")
    conn = open_db(builder.root, tmp_path)
    assert link_tables.backlinks(conn, "news/2021/06/2/talks-close.md") == ["news/2021/06/1/talks-open.md"]
    assert link_tables.loud_files(conn) == []


def test_links_to_a_file_removed_become_missing_again(builder, tmp_path):
    builder.event("2021-06-02", "Talks close")
    builder.event("2021-06-01", "Talks open", related=[("Talks close", "/news/2021/06/2/talks-close.md", ["Talks"])])
    CLOCK.age_tree(builder.root)
    conn = open_db(builder.root, tmp_path)
    assert link_tables.loud_files(conn) == []
    (builder.root / "news/2021/06/2/talks-close.md").unlink()
    conn = open_db(builder.root, tmp_path)
    loud = {conn.execute("SELECT path FROM files WHERE id=?", (i,)).fetchone()[0] for i in link_tables.loud_files(conn)}
    assert loud == {"news/2021/06/1/talks-open.md", "news/2021/06/2/index.md"}  # the event, and the day page listing it
    assert set(conn.execute("SELECT target FROM links_missing WHERE role & 2").fetchall()) == {("news/2021/06/2/talks-close.md",)}


def test_a_group_no_feature_of_this_process_registered_goes_before_an_update(archive, tmp_path, monkeypatch):
    """Its rows could not be kept up to date: never stale rows, the next command needing it builds it."""
    probe = db.Group(name="probe", version=1, tables=("CREATE TABLE probe(id INTEGER PRIMARY KEY, title TEXT)",),
                     inserts={"probe": "INSERT INTO probe VALUES(?,?)"}, rows=lambda event: {"probe": [(event.title,)]},
                     kinds=(db.EVENT,))
    monkeypatch.setitem(db.GROUPS, "probe", probe)
    CLOCK.age_tree(archive)
    assert open_db(archive, tmp_path, ["events", "probe"]).execute("SELECT count(*) FROM probe").fetchone()[0] == 4
    monkeypatch.delitem(db.GROUPS, "probe")
    conn = open_db(archive, tmp_path, ["events"])  # nothing changed: nothing written, the group stays
    assert "probe" in db.built_groups(conn)
    edited = archive / "news/2021/06/2/floods-hit-dhaka.md"
    edited.write_text(edited.read_text().replace("Floods hit Dhaka", "Floods hit Dhaka again"))
    conn = open_db(archive, tmp_path, ["events"])
    assert "probe" not in db.built_groups(conn)
    assert conn.execute("SELECT count(*) FROM sqlite_schema WHERE name='probe'").fetchone()[0] == 0
