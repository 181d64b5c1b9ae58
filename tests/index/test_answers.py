"""answers.py: answers kept beside an index are used for that index only, and never break a run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from newsarc.index import cache, answers
from newsarc.archive import Archive
from newsarc.features.links import _FOLDER_MEMO, Checker, Columns, Options, Report, Sources
from tests.conftest import run_newsarc


def _index(root: Path, cache_dir: Path | None):
    site = Archive.open(root, cache_dir=cache_dir, use_cache=cache_dir is not None)
    return site.index()


@pytest.fixture
def archive(builder):
    builder.event("2016-01-02", "Lone event", day_page=False)
    builder.event("2016-01-02", "Listed event")
    builder.event("2016-01-03", "Same headline")
    builder.write("news/2016/01/3/same-headline-again.md", builder.root.joinpath("news/2016/01/3/same-headline.md").read_text())
    builder.days["news/2016/01/3"].append(("Same headline again", "/news/2016/01/3/same-headline-again.md"))
    builder.write_day_pages()
    past = os.path.getmtime(builder.root) - 100
    for path in builder.root.rglob("*"):
        os.utime(path, (past, past))
    return builder.root


def test_a_memo_is_recalled_for_its_store_only(archive, tmp_path):
    index = _index(archive, tmp_path / "c")
    assert answers.recall(index, "answer") is None
    answers.keep(index, "answer", {"n": [1, 2, 3]})
    assert answers.recall(index, "answer") == {"n": [1, 2, 3]}
    assert answers.recall(_index(archive, tmp_path / "c"), "answer") == {"n": [1, 2, 3]}  # the same store, read again
    (archive / "news/2016/01/2/listed-event.md").write_text("---\ntitle: changed\n---\n")
    rewritten = _index(archive, tmp_path / "c")
    assert rewritten.id != index.id
    assert answers.recall(rewritten, "answer") is None


def test_no_cache_keeps_nothing(archive, tmp_path):
    index = _index(archive, None)
    answers.keep(index, "answer", 1)
    assert answers.recall(index, "answer") is None
    assert not list(tmp_path.rglob("*.memo"))


@pytest.mark.parametrize("damage", [b"", b"\0" * 64, b"not marshal at all"])
def test_a_damaged_memo_is_not_used(archive, tmp_path, damage):
    index = _index(archive, tmp_path / "c")
    answers.keep(index, "answer", [1])
    (file,) = (tmp_path / "c").rglob("*.answer.memo")
    file.write_bytes(damage)
    assert answers.recall(index, "answer") is None


def test_a_flipped_byte_in_the_answer_is_caught(archive, tmp_path):
    index = _index(archive, tmp_path / "c")
    answers.keep(index, "answer", "x" * 100)
    (file,) = (tmp_path / "c").rglob("*.answer.memo")
    data = bytearray(file.read_bytes())
    data[-10] ^= 0x01
    file.write_bytes(bytes(data))
    assert answers.recall(index, "answer") is None


def test_a_cache_folder_that_cannot_be_written_costs_nothing(archive, tmp_path):
    index = _index(archive, tmp_path / "c")
    (tmp_path / "a-file").write_text("")
    index.path = tmp_path / "a-file" / "x.store"  # its folder is a file: no one can write there, root included
    answers.keep(index, "answer", 1)  # says nothing, raises nothing
    assert answers.recall(index, "answer") is None


def validate(site: Archive, options: Options | None = None) -> Report:
    """The link checker over the store's columns (validate-links itself reads the catalogue or the files
    now, never the store: the memo beside the store is driven through the library until both go)."""
    docs = site.every_file()
    src = Sources(docs, list(site.unreadable), [""], notes=list(site.scan_diagnostics), columns=Columns(docs, site))
    return Checker(site, src, options or Options()).run()


def test_the_link_checker_reads_its_folder_checks_back_from_the_memo(archive, tmp_path):
    """The second run takes day pages and duplicates from the memo: a planted answer shows, and
    goes as soon as the index is rewritten."""
    cache_dir = tmp_path / "c"
    index = _index(archive, cache_dir)
    first = validate(Archive.open(archive, cache_dir=cache_dir))
    kinds = sorted(f.kind for f in first.findings)
    assert kinds == ["duplicate", "duplicate", "unlisted"]
    assert len(answers.recall(index, _FOLDER_MEMO)) == 3
    assert [f.to_dict() for f in validate(Archive.open(archive, cache_dir=cache_dir)).findings] == [
        f.to_dict() for f in first.findings
    ]
    planted = [("news/2016/01/2", 0, 0, "", "no-day-page", "planted", "")]
    answers.keep(index, _FOLDER_MEMO, planted)
    assert [f.message for f in validate(Archive.open(archive, cache_dir=cache_dir)).findings] == ["planted"]
    strict = validate(Archive.open(archive, cache_dir=cache_dir), Options(strict=True))
    assert [f.severity for f in strict.findings] == ["error"]  # severity is decided on each run
    (archive / "news/2016/01/2/index.md").unlink()
    after = validate(Archive.open(archive, cache_dir=cache_dir))
    assert "planted" not in [f.message for f in after.findings]
    assert sorted(f.kind for f in after.findings if f.check != "links") == ["duplicate", "duplicate", "no-day-page"]


def test_the_cli_gives_the_same_report_without_an_index_and_beside_a_store_it_does_not_read(archive, tmp_path):
    cached = ("--cache-dir", str(tmp_path / "c"))
    first = run_newsarc(*cached, "validate-links", "--archive", str(archive), "--strict")
    assert not (tmp_path / "c").exists()  # no index yet: read without one, and none written
    Archive.open(archive, cache_dir=tmp_path / "c").index()  # a store an older newsarc left: not read, not kept up to date
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "c").rglob("*"))
    runs = [
        first,
        run_newsarc(*cached, "validate-links", "--archive", str(archive), "--strict"),
        run_newsarc(*cached, "validate-links", "--archive", str(archive), "--strict"),
        run_newsarc("--no-cache", "validate-links", "--archive", str(archive), "--strict"),
    ]
    assert [r.returncode for r in runs] == [1, 1, 1, 1]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout == runs[3].stdout
    assert runs[0].stdout.count("[duplicate]") == 2 and runs[0].stdout.count("[unlisted]") == 1
    assert sorted((p.name, p.stat().st_mtime_ns) for p in (tmp_path / "c").rglob("*")) == before  # no memo beside it, no catalogue


def test_prune_removes_a_memo_whose_store_is_gone(tmp_path):
    folder = tmp_path / "index"
    folder.mkdir()
    keep = folder / ("a" * 20 + ".store")
    keep.write_bytes(b"x")
    (folder / ("a" * 20 + ".store.links-folders-1.memo")).write_bytes(b"x")
    (folder / ("b" * 20 + ".store.links-folders-1.memo")).write_bytes(b"x")
    (folder / "notes.memo").write_bytes(b"x")  # not a name newsarc writes: left alone
    removed = cache.prune(folder, keep)
    assert [p.name for p in removed] == ["b" * 20 + ".store.links-folders-1.memo"]
    assert sorted(os.listdir(folder)) == ["a" * 20 + ".store", "a" * 20 + ".store.links-folders-1.memo", "notes.memo"]


def _topic_rows(topics) -> list[tuple]:
    return sorted((t.key, t.name, t.spellings, [e.path for e in t.events], t.first, t.last) for t in topics.values())


def test_topics_from_the_memo_equal_topics_of_every_event(builder, tmp_path):
    from newsarc.archive import _TOPICS_MEMO
    from newsarc.features.overview import all_topics, group_topics

    builder.event("2015-09-16", "Guard detains the president", related=[("x", "/news/a.md", ["Burkina Faso", "2015 Burkinabé coup"])])
    builder.event("2015-09-23", "Kafando is reinstated", related=[("x", "/news/a.md", ["burkina faso", "2015 Burkinabe coup"])])
    builder.event("2017-04-07", "Strike on airbase", related=[("x", "/news/a.md", ["Syrian Army", "Syrian army"])])
    builder.write("news/drafts/undated.md", "---\ntags: [Burkina Faso]\n---\n# Undated draft\n")
    cache_dir = tmp_path / "c"
    loaded = Archive.open(builder.root, cache_dir=cache_dir).load()
    expected = _topic_rows(group_topics(loaded.events))
    assert expected[1][:3] == ("burkina faso", "Burkina Faso", ["Burkina Faso", "burkina faso"])
    site = Archive.open(builder.root, cache_dir=cache_dir)
    assert _topic_rows(all_topics(site)) == expected  # worked out from the topic column, then kept
    assert answers.recall(site.index(), _TOPICS_MEMO) is not None
    assert _topic_rows(all_topics(Archive.open(builder.root, cache_dir=cache_dir))) == expected  # read back
    answers.keep(site.index(), _TOPICS_MEMO, {"planted": (["Planted"], b"\0\0\0\0")})
    assert [t.name for t in all_topics(Archive.open(builder.root, cache_dir=cache_dir)).values()] == ["Planted"]


def test_the_topics_command_is_the_same_cold_warm_and_without_cache(builder, tmp_path):
    builder.event("2015-09-16", "Guard detains the president", related=[("x", "/news/a.md", ["Burkina Faso"])])
    builder.event("2015-09-23", "Kafando is reinstated", related=[("x", "/news/a.md", ["burkina faso", "Coup"])])
    args = ("topics", "--archive", str(builder.root), "--json")
    runs = [
        run_newsarc("--cache-dir", str(tmp_path / "c"), *args),
        run_newsarc("--cache-dir", str(tmp_path / "c"), *args),
        run_newsarc("--no-cache", *args),
    ]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert [json.loads(line)["topic"] for line in runs[0].stdout.splitlines()] == ["Burkina Faso", "Coup"]
    import sqlite3

    (database,) = (tmp_path / "c" / "index").glob("*.db")  # topics reads the catalogue (features/catalog.py)
    kept = sqlite3.connect(database).execute("SELECT name FROM answers WHERE name NOT LIKE 'stamps-%'").fetchall()
    assert kept == [("topics-1",)]


def _stats_of(root: Path, cache_dir: Path, scope: Path | None = None):
    from dataclasses import asdict

    from newsarc.features.stats import stats

    return asdict(stats(_catalog(root, cache_dir, scope), top=5))


def _catalog(root: Path, cache_dir: Path, scope: Path | None = None):
    from newsarc.features.catalog import Catalog

    return Catalog(Archive.open(scope or root, root=root, cache_dir=cache_dir), cache_dir=cache_dir, more=("counts",))


def test_stats_from_the_kept_sums_equal_stats_worked_out(builder, tmp_path):
    """stats' sums over every file are kept in the catalogue (db.keep, features/stats.py) and used while
    its generation lasts; the targets it does not hold are kept as paths, to be looked for."""
    import marshal

    from newsarc.features.stats import _KEPT
    from newsarc.index import db

    builder.event("2015-09-16", "Guard detains", sources=[("Reuters", "https://www.reuters.com/a")],
                  related=[("x", "/news/2015/09/23/kafando.md", ["Burkina Faso"])])
    builder.event("2015-09-23", "Kafando", sources=[("AP", "https://apnews.com/b"), ("Reuters", "https://www.reuters.com/c")],
                  body="A [picture](/img/pic.png) and [a gone one](/news/2015/09/1/gone.md).")
    builder.write("news/drafts/undated.md", "---\ntags: [Burkina Faso]\n---\n# Undated draft\n")
    cold = _stats_of(builder.root, tmp_path / "c")
    assert (cold["events"], cold["undated"], cold["sources"], cold["broken_links"]) == (3, 1, 3, 2)
    assert _stats_of(builder.root, tmp_path / "c") == cold == _stats_of(builder.root, tmp_path / "other")
    conn = _catalog(builder.root, tmp_path / "c").database.conn
    kept = list(marshal.loads(db.recall(conn, _KEPT)))
    assert sorted(kept[-1]) == [(2, "img/pic.png"), (2, "news/2015/09/1/gone.md")]  # (body, path): the rest are held
    kept[0] = {"Planted": 7}
    db.keep(conn, _KEPT, marshal.dumps(tuple(kept)), int(db.meta(conn, "generation")))
    assert _stats_of(builder.root, tmp_path / "c")["top_publishers"] == [("Planted", 7)]
    builder.event("2015-09-24", "Kafando again")  # an update forgets the kept sums
    assert _stats_of(builder.root, tmp_path / "c")["top_publishers"] == [("Reuters", 3), ("AP", 1)]  # the builder's default source


def test_stats_looks_for_targets_outside_the_index_on_every_run(builder, tmp_path):
    """A target the index does not hold (outside the scope here) is looked for again on each run:
    creating it mends the count though the index, and its kept sums, stay the same."""
    from newsarc.index import db

    builder.event("2015-09-23", "Kafando", body="A [picture](/img/pic.png).")
    scope = builder.root / "news"
    assert _stats_of(builder.root, tmp_path / "c", scope)["broken_by_role"] == {"body": 1}
    generation = db.meta(_catalog(builder.root, tmp_path / "c", scope).database.conn, "generation")
    builder.write("img/pic.png", b"\x89PNG")
    assert _stats_of(builder.root, tmp_path / "c", scope)["broken_by_role"] == {}
    assert db.meta(_catalog(builder.root, tmp_path / "c", scope).database.conn, "generation") == generation
