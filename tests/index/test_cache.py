"""The index cache is never stale: every kind of change is picked up."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from newsarc.index import cache
from newsarc.archive import Archive
from tests.conftest import run_newsarc


def age(root: Path, seconds: float = 100) -> None:
    """Make every file older than the racy window, so its cache entry is trusted."""
    past = time.time() - seconds
    for path in root.rglob("*.md"):
        os.utime(path, (past, past))


def load(root: Path, cache_dir: Path) -> Archive:
    return Archive.open(root, cache_dir=cache_dir).load()


@pytest.fixture
def aged(builder, tmp_path):
    builder.event("2016-04-03", "Army retakes the town", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    builder.event("2016-04-05", "Siege ends")
    age(builder.root)
    return builder, tmp_path / "cache"


def titles(site: Archive) -> list[str]:
    return [e.title for e in site.events]


def test_second_run_parses_nothing(aged):
    builder, cache_dir = aged
    first = load(builder.root, cache_dir)
    assert first.stats == {"parsed": 4, "cached": 0}
    second = load(builder.root, cache_dir)
    assert second.stats == {"parsed": 0, "cached": 4}
    assert [e.to_dict() for e in second.events] == [e.to_dict() for e in first.events]
    assert second.day_pages.keys() == first.day_pages.keys()


def test_edit_in_place_with_the_same_size(aged):
    builder, cache_dir = aged
    load(builder.root, cache_dir)
    path = builder.root / "news/2016/04/5/siege-ends.md"
    text = path.read_text()
    path.write_text(text.replace("Siege ends", "Siege ENDS"))
    assert len(path.read_text()) == len(text)
    site = load(builder.root, cache_dir)  # mtime is fresh: inside the racy window
    assert "Siege ENDS" in titles(site)
    age(builder.root, 50)
    assert "Siege ENDS" in titles(load(builder.root, cache_dir))


def test_young_files_are_read_again_and_parsed_only_if_changed(builder, tmp_path):
    builder.event("2016-04-05", "Fresh file")
    load(builder.root, tmp_path / "c")
    assert load(builder.root, tmp_path / "c").stats == {"parsed": 0, "cached": 2}  # racy: hashed, same bytes
    path = builder.root / "news/2016/04/5/fresh-file.md"
    info = path.stat()
    path.write_text(path.read_text().replace("Fresh file", "Fresh FILE"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size, same mtime: only the bytes differ
    site = load(builder.root, tmp_path / "c")
    assert site.stats == {"parsed": 1, "cached": 1}
    assert "Fresh FILE" in titles(site)


def test_add_delete_rename_touch(aged):
    builder, cache_dir = aged
    load(builder.root, cache_dir)
    builder.event("2016-04-06", "A new event")
    assert "A new event" in titles(load(builder.root, cache_dir))
    (builder.root / "news/2016/04/6/a-new-event.md").unlink()
    assert "A new event" not in titles(load(builder.root, cache_dir))
    old = builder.root / "news/2016/04/5/siege-ends.md"
    old.rename(old.with_name("siege-has-ended.md"))
    site = load(builder.root, cache_dir)
    assert [e.path for e in site.events][-1] == "news/2016/04/5/siege-has-ended.md"
    age(builder.root)
    load(builder.root, cache_dir)
    touched = old.with_name("siege-has-ended.md")
    os.utime(touched)
    site = load(builder.root, cache_dir)
    assert site.stats == {"parsed": 0, "cached": 5}  # 2 events, 3 day pages: the touched one hashed, not parsed
    assert site.index().stamp(site.index().paths.index("news/2016/04/5/siege-has-ended.md")) == cache.stamp(touched.stat())


def test_a_fresh_copy_of_the_archive_keeps_the_index(aged, tmp_path):
    """A new clone (or a cache restored in CI) changes every stamp but no content: nothing is parsed again."""
    builder, cache_dir = aged
    before = load(builder.root, cache_dir)
    copy = tmp_path / "clone"
    shutil.copytree(builder.root, copy, copy_function=shutil.copyfile)  # new inodes, mtimes and ctimes
    edited = copy / "news/2016/04/5/siege-ends.md"
    edited.write_text(edited.read_text().replace("Siege ends", "Siege over"))  # same size, other bytes
    shutil.rmtree(builder.root)
    copy.rename(builder.root)
    after = load(builder.root, cache_dir)
    assert after.stats == {"parsed": 1, "cached": 3}  # 2 events, 2 day pages
    assert titles(after) == [t.replace("Siege ends", "Siege over") for t in titles(before)]
    assert [e.to_dict() for e in after.events if e.title != "Siege over"] == [
        e.to_dict() for e in before.events if e.title != "Siege ends"
    ]


@pytest.mark.parametrize("change", ["edit", "add"])
def test_a_change_rewrites_the_index_once_even_while_young(aged, change):
    """A file (or folder) changed just before a run is young in the index that run writes: later runs
    compare its bytes (or names) instead of trusting its stamp, and use the index as it is."""
    builder, cache_dir = aged
    site = load(builder.root, cache_dir)
    file = cache.cache_file(cache_dir, site.root, site.scope)
    if change == "edit":
        target = builder.root / "news/2016/04/5/siege-ends.md"
        target.write_text(target.read_text() + "\nOne more line.\n")
    else:
        builder.event("2016-04-05", "A late addition")
        target = builder.root / "news/2016/04/5/a-late-addition.md"
    count = len(site.index().paths) + (change == "add")
    parsed = 1 if change == "edit" else 2  # the builder lists the new event on its day page too
    assert load(builder.root, cache_dir).stats == {"parsed": parsed, "cached": count - parsed}
    written = file.stat()
    for _ in range(2):
        assert load(builder.root, cache_dir).stats == {"parsed": 0, "cached": count}
        assert (file.stat().st_ino, file.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # not rewritten
    young = (time.time() - cache.RACY_SECONDS) * 1e9
    assert target.stat().st_mtime_ns >= young and target.parent.stat().st_mtime_ns >= young * (change == "add"), "too slow"


def test_an_index_written_while_every_file_was_young_is_renewed_once_they_age(aged, monkeypatch):
    """After `touch`ing everything (or a fresh clone), every file is young in the index then written:
    checked by its bytes on each run, until the index is rewritten once, reusing every piece."""
    from newsarc import archive

    builder, cache_dir = aged
    site = load(builder.root, cache_dir)
    file = cache.cache_file(cache_dir, site.root, site.scope)
    for path in builder.root.rglob("*.md"):
        os.utime(path)
    assert load(builder.root, cache_dir).stats == {"parsed": 0, "cached": 4}
    written = file.stat().st_ino
    young = load(builder.root, cache_dir)
    assert young.index().young() == 4 and file.stat().st_ino == written  # young: read and hashed, not rewritten
    monkeypatch.setattr(archive, "YOUNG_MIN", 2)
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.2)
    time.sleep(0.3)
    renewed = load(builder.root, cache_dir)
    assert renewed.stats == {"parsed": 0, "cached": 4} and file.stat().st_ino != written
    assert renewed.index().young() == 0
    again = file.stat().st_ino
    assert load(builder.root, cache_dir).index().young() == 0 and file.stat().st_ino == again


def test_corrupt_or_foreign_cache_is_rebuilt(aged):
    builder, cache_dir = aged
    site = load(builder.root, cache_dir)
    expected = titles(site)  # an Archive reads its index file lazily: not after it is overwritten in place
    file = cache.cache_file(cache_dir, site.root, site.scope)
    for junk in (b"\x00garbage", b"", __import__("marshal").dumps(("newsarc-index/0/old", 0.0, []))):
        file.write_bytes(junk)
        again = load(builder.root, cache_dir)
        assert again.stats == {"parsed": 4, "cached": 0}
        assert titles(again) == expected
    assert load(builder.root, cache_dir).stats["cached"] == 4


def test_no_cache_gives_identical_results(aged):
    builder, cache_dir = aged
    load(builder.root, cache_dir)
    cached = load(builder.root, cache_dir)
    fresh = Archive.open(builder.root, cache_dir=cache_dir, use_cache=False).load()
    assert fresh.stats["cached"] == 0
    assert [e.to_dict() for e in fresh.events] == [e.to_dict() for e in cached.events]


def test_front_matter_types_survive_the_cache(builder, tmp_path):
    builder.event("2015-09-16", "Coup", front_matter="date: 2015-09-16\nwhen: 2015-09-16T10:00:00\nn: [1, 2.5, null, yes]")
    age(builder.root)
    load(builder.root, tmp_path / "c")
    event = load(builder.root, tmp_path / "c").events[0]
    assert event.meta == {"date": __import__("datetime").date(2015, 9, 16), "when": __import__("datetime").datetime(2015, 9, 16, 10), "n": [1, 2.5, None, True]}


def test_two_processes_at_once(aged):
    import subprocess
    import sys

    builder, cache_dir = aged
    env = {**os.environ, "NEWSARC_CACHE_DIR": str(cache_dir)}
    # Each builds the store and reads it (no command builds it since stats moved onto the catalogue).
    script = ("import json, sys; from pathlib import Path; from newsarc.archive import Archive;"
              " site = Archive.open(Path(sys.argv[1]), cache_dir=Path(sys.argv[2]));"
              " print(json.dumps({'events': [e.title for e in site.view()], 'stats': site.stats}))")
    cmd = [sys.executable, "-c", script, str(builder.root), str(cache_dir)]
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in runs]
    assert all(p.returncode == 0 for p in runs)
    assert len({json.dumps(o["events"]) for o in outputs}) == 1
    assert len(outputs[0]["events"]) == 2
    assert load(builder.root, cache_dir).stats["cached"] == 4
    assert not [p for p in (cache_dir / "index").iterdir() if p.name.startswith(".tmp-")]


def test_cli_no_cache_flag(aged):
    builder, cache_dir = aged
    done = run_newsarc("--no-cache", "show", "siege-ends", "--archive", str(builder.root), env={"NEWSARC_CACHE_DIR": str(cache_dir)})
    assert done.returncode == 0
    assert not (cache_dir / "index").exists()


def test_parallel_parse_gives_the_same_index(builder, tmp_path, monkeypatch):
    import newsarc.archive as archive_module

    for day in range(1, 29):
        builder.event(f"2016-02-{day:02d}", f"Event number {day}", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    builder.write("news/2016/02/3/binary.md", b"\x00\x01")
    serial = Archive.open(builder.root, use_cache=False).load()
    monkeypatch.setattr(archive_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(archive_module, "_CHUNK", 7)
    parallel = Archive.open(builder.root, cache_dir=tmp_path / "c").load()
    assert [e.to_dict() for e in parallel.events] == [e.to_dict() for e in serial.events]
    assert sorted(parallel.day_pages) == sorted(serial.day_pages)
    assert [str(d) for d in parallel.diagnostics] == [str(d) for d in serial.diagnostics]


def test_index_without_text_then_with_text(aged):
    builder, cache_dir = aged
    bare = Archive.open(builder.root, cache_dir=cache_dir, text=False).load()
    assert bare.stats["parsed"] == 4 and all(e.body == "" for e in bare.events)
    full = Archive.open(builder.root, cache_dir=cache_dir).load()
    assert full.stats == {"parsed": 0, "cached": 4}
    assert [e.body for e in full.events] == ["Something happened.", "Something happened."]
    assert bare.with_text(bare.events[0]).body == "Something happened."
    fresh = Archive.open(builder.root, cache_dir=cache_dir, use_cache=False).load()
    assert [e.to_dict() for e in full.events] == [e.to_dict() for e in fresh.events]


def test_progress_is_told_what_is_parsed(aged):
    builder, cache_dir = aged
    seen = []
    site = Archive.open(builder.root, cache_dir=cache_dir)
    site.progress = lambda done, total: seen.append((done, total))
    site.load()
    assert seen[-1] == (4, 4)
    again = Archive.open(builder.root, cache_dir=cache_dir)
    again.progress = lambda done, total: seen.append(("warm", done, total))
    again.load()
    assert not [s for s in seen if s[0] == "warm"]  # nothing to parse, nothing to draw


# -- answering while the index is checked (options.settled) --------------------------


@pytest.fixture(params=["serial", "forked"])
def check_mode(request, monkeypatch):
    """The background check runs in children past PARALLEL_STATS files; force both ways."""
    import newsarc.index.store as store_module

    if request.param == "forked":
        monkeypatch.delenv("NEWSARC_WORKERS", raising=False)
        monkeypatch.setattr(store_module, "PARALLEL_STATS", 1)
    else:
        monkeypatch.setenv("NEWSARC_WORKERS", "1")
    return request.param


def test_a_stale_index_is_never_shown_while_checked_in_the_background(aged, cli, check_mode):
    builder, cache_dir = aged
    args = ["--cache-dir", str(cache_dir)]
    assert "Siege ends" in cli(*args, "show", "siege-ends", "--archive", str(builder.root)).stdout
    path = builder.root / "news/2016/04/5/siege-ends.md"
    path.write_text(path.read_text().replace("Siege ends", "Siege ENDS"))  # same size, inside the racy window
    shown = cli(*args, "show", "siege-ends", "--json", "--archive", str(builder.root))
    assert shown.exit_code == 0 and json.loads(shown.stdout)["title"] == "Siege ENDS"
    found = cli(*args, "search", "-l", "ENDS", "--archive", str(builder.root))
    assert [line.rsplit("/site/", 1)[-1] for line in found.stdout.split()] == ["news/2016/04/5/siege-ends.md"]


def test_an_event_added_after_the_index_is_found_not_refused(aged, cli, check_mode):
    """The first answer (from the old index) is 'no such event'; it must not be the last."""
    builder, cache_dir = aged
    args = ["--cache-dir", str(cache_dir)]
    assert cli(*args, "show", "siege-ends", "--archive", str(builder.root)).exit_code == 0
    builder.event("2016-04-05", "Truce agreed")
    shown = cli(*args, "show", "truce-agreed", "--json", "--archive", str(builder.root))
    assert shown.exit_code == 0 and json.loads(shown.stdout)["title"] == "Truce agreed"
    checked = cli(*args, "validate-links", "--format", "json", "--archive", str(builder.root))
    assert checked.exit_code == 0, checked.stdout
