"""The catalogue (features/catalog.py): show and list-by-date answered from the SQLite index.

Its answers are checked against Archive's (every file parsed),
which every other test of show and list-by-date has long pinned down; then what
only the catalogue does: it builds nothing but its own tables, keeps up with
edits, and survives what may be found at its database's name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarc.archive import Archive
from newsarc.errors import AmbiguousEvent, EventNotFound
from newsarc.features.catalog import Catalog
from newsarc.index import db
from newsarc.reading.dates import DateSpan, parse_when
from tests.conftest import EXAMPLES, ArchiveBuilder, run_newsarc


def _catalog(root: Path, cache_dir: Path) -> Catalog:
    return Catalog(Archive.open(root, cache_dir=cache_dir), cache_dir=cache_dir)


def _paths(events) -> list[str]:
    return [e.path for e in events]


def test_the_catalogue_answers_as_the_archive_does_on_the_examples(tmp_path):
    archive = Archive.open(EXAMPLES, use_cache=False).load()
    catalog = _catalog(EXAMPLES, tmp_path / "cache")
    everything = DateSpan(None, None)
    assert _paths(catalog.events_in(everything)) == _paths(archive.events_in(everything))
    assert catalog.event_paths() == archive.event_paths()
    assert catalog.event_days() == archive.event_days()
    for event in archive.events:
        found = catalog.find(event.slug)
        assert (found.path, found.date, found.title, found.topics, found.source_count) == (
            event.path, event.date, event.title, event.topics, event.source_count)
        assert _paths(catalog.backlinks(found)) == _paths(archive.backlinks(event))
        full = catalog.with_text(found)
        assert (full.to_dict(), full.body_raw) == (event.to_dict(), event.body_raw)
        if event.date:
            assert _paths(catalog.on_this_day(event.date.month, event.date.day)) == _paths(
                archive.on_this_day(event.date.month, event.date.day))
    assert catalog.confirm()


@pytest.mark.parametrize("when", ["2015..2017", "2016", "2017-08", "2017-08-21", "..2016-03-27", "2016-03-28.."])
def test_a_span_from_the_catalogue_equals_the_day_folders_read(tmp_path, when):
    catalog = _catalog(EXAMPLES, tmp_path / "cache")
    catalog.database  # open: every span is read from it (a short one would be read from its day folders)
    span = parse_when(when)
    from_folders = Archive.open(EXAMPLES, use_cache=False).events_in(span, index=False)
    assert _paths(catalog.events_in(span)) and _paths(catalog.events_in(span)) == _paths(from_folders)


def test_find_says_what_archive_find_says(builder: ArchiveBuilder, tmp_path):
    builder.event("2016-04-05", "Siege ends in the old town")
    builder.event("2016-04-06", "Siege ends again")
    builder.event("2016-04-07", "Harvest fair opens")
    catalog = _catalog(builder.root, tmp_path / "cache")
    with pytest.raises(AmbiguousEvent) as many:
        catalog.find("siege-ends")
    assert many.value.candidates == ["news/2016/04/5/siege-ends-in-the-old-town.md", "news/2016/04/6/siege-ends-again.md"]
    assert catalog.find("harvest").title == "Harvest fair opens"
    assert catalog.find("/news/2016/04/07/harvest-fair-opens.md").title == "Harvest fair opens"  # the other day spelling
    with pytest.raises(EventNotFound, match="is a day page, not an event; try: newsarc list-by-date 2016-04-7"):
        catalog.find("/news/2016/04/7/index.md")
    with pytest.raises(EventNotFound, match="no event matches 'zebra'"):
        catalog.find("zebra")


def _show(root: Path, env: dict[str, str], ref: str = "siege-ends") -> tuple[int, str, str]:
    done = run_newsarc("show", ref, "--json", "--archive", str(root), env=env)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def site(builder: ArchiveBuilder) -> ArchiveBuilder:
    builder.event("2016-04-05", "Siege ends")
    builder.event("2016-04-07", "Aid reaches the town", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    return builder


def test_show_and_list_by_date_build_only_the_catalogue(site, tmp_path):
    cache = tmp_path / "cache"
    env = {"NEWSARC_CACHE_DIR": str(cache)}
    done = run_newsarc("list-by-date", "2016-04", "--json", "--archive", str(site.root), env=env)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2
    assert not cache.exists()  # a month is read from its day folders: nothing built
    code, out, err = _show(site.root, env)
    assert (code, err) == (0, "")
    assert json.loads(out)["linked_from"] == ["news/2016/04/7/aid-reaches-the-town.md"]
    names = sorted(p.name for p in (cache / "index").iterdir())
    assert [n for n in names if n.endswith(".db")]


def test_show_keeps_up_with_edits(site, tmp_path):
    env = {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")}
    assert _show(site.root, env)[0] == 0
    site.event("2016-04-05", "Siege ends", body="The last fighters left at dawn.")  # same file, new body
    site.event("2016-04-09", "Town rebuilds", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"])])
    code, out, _ = _show(site.root, env)
    record = json.loads(out)
    assert code == 0 and record["body"] == "The last fighters left at dawn."
    assert record["linked_from"] == ["news/2016/04/7/aid-reaches-the-town.md", "news/2016/04/9/town-rebuilds.md"]
    os.remove(site.root / "news/2016/04/7/aid-reaches-the-town.md")
    assert json.loads(_show(site.root, env)[1])["linked_from"] == ["news/2016/04/9/town-rebuilds.md"]


def _database(cache: Path) -> Path:
    (found,) = (cache / "index").glob("*.db")
    return found


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_something_not_a_file_at_the_catalogue_name_never_blocks_and_is_named(site, tmp_path, kind):
    cache = tmp_path / "cache"
    env = {"NEWSARC_CACHE_DIR": str(cache), "NEWSARC_WORKERS": "1"}
    expected = _show(site.root, env)
    target = _database(cache)
    for side in db.SIDE:
        Path(str(target) + side).unlink(missing_ok=True)
    target.unlink()
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    for _ in range(2):
        code, out, err = _show(site.root, env)
        assert (code, out) == expected[:2]
        assert err == f"newsarc: {target} is not a regular file; newsarc leaves it alone (remove it)\n"
    assert target.is_fifo() if kind == "fifo" else target.is_dir()


def test_a_damaged_catalogue_is_built_again_never_a_wrong_answer(site, tmp_path):
    cache = tmp_path / "cache"
    env = {"NEWSARC_CACHE_DIR": str(cache)}
    expected = _show(site.root, env)
    target = _database(cache)
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    assert _show(site.root, env) == expected
    assert _show(site.root, env) == expected


def test_show_with_no_cache_writes_nothing(site, tmp_path):
    cache = tmp_path / "cache"
    done = run_newsarc("--no-cache", "show", "siege-ends", "--archive", str(site.root), env={"NEWSARC_CACHE_DIR": str(cache)})
    assert done.returncode == 0 and "Siege ends" in done.stdout
    assert not cache.exists()


def test_a_name_that_is_not_utf8_is_listed_and_shown(builder: ArchiveBuilder, tmp_path):
    builder.event("2016-04-05", "Siege ends")
    folder = os.fsencode(builder.root / "news/2016/04/5")
    with open(folder + b"/caf\xe9-town.md", "wb") as out:
        out.write((builder.root / "news/2016/04/5/siege-ends.md").read_bytes().replace(b"Siege ends", b"Cafe town"))
    catalog = _catalog(builder.root, tmp_path / "cache")
    found = catalog.find("caf")
    assert (found.path, found.title) == ("news/2016/04/5/caf\udce9-town.md", "Cafe town")
    assert catalog.with_text(found).title == "Cafe town"
    assert _paths(catalog.events_in(parse_when("2016..2017"), index=True)) == ["news/2016/04/5/caf\udce9-town.md", "news/2016/04/5/siege-ends.md"]


@given(st.binary().filter(lambda b: b"\0" not in b))
def test_a_stored_path_is_utf8_and_gives_back_the_path(name):
    """Any bytes a file name may hold, as Python reads them (os.fsdecode: bytes that are not UTF-8 as
    lone surrogates), go into SQLite as UTF-8 text and come back as they were."""
    real = os.fsdecode(name)
    stored = db.stored_path(real)
    stored.encode("utf-8")
    assert db.real_path(stored) == real
    assert (stored == real) == (real.encode("utf-8", "surrogateescape").decode("utf-8", "replace") == real)


def test_topic_groups_equal_the_archives_and_are_kept_for_the_next_run(tmp_path):
    archive = Archive.open(EXAMPLES, use_cache=False).load()
    expected = {key: (ranked, list(at)) for key, (ranked, at) in archive.topic_groups().items()}
    first = _catalog(EXAMPLES, tmp_path / "cache")
    assert {key: (ranked, list(at)) for key, (ranked, at) in first.topic_groups().items()} == expected
    assert _paths(first.view()) == archive.event_paths()
    assert db.recall(first.database.conn, "topics-1") is not None  # kept in the index ...
    again = _catalog(EXAMPLES, tmp_path / "cache")
    assert {key: (ranked, list(at)) for key, (ranked, at) in again.topic_groups().items()} == expected  # ... and read back
    view = again.view()
    assert [e.path for e in view.subset([3, 1])] == [view[3].path, view[1].path]


def test_topics_and_timeline_keep_up_with_edits(site, tmp_path):
    env = {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")}
    before = run_newsarc("topics", "--json", "--archive", str(site.root), env=env)
    assert [json.loads(line)["topic"] for line in before.stdout.splitlines()] == ["War"]
    site.event("2016-04-09", "Floods close the bridge", related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["Floods"])])
    after = run_newsarc("topics", "--json", "--archive", str(site.root), env=env)
    assert sorted(json.loads(line)["topic"] for line in after.stdout.splitlines()) == ["Floods", "War"]
    line = run_newsarc("timeline", "floods", "--json", "--archive", str(site.root), env=env)
    assert [json.loads(record)["path"] for record in line.stdout.splitlines()] == ["news/2016/04/9/floods-close-the-bridge.md"]


def test_validate_links_reads_the_catalogue_and_keeps_up_with_edits(site, tmp_path):
    """Once show built the catalogue, validate-links answers from its tables (reading only the files they
    cannot vouch for), and what changes between runs is in the next answer."""
    env = {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")}
    check = lambda: run_newsarc("validate-links", "--format", "text", cwd=site.root, env=env)  # noqa: E731
    site.write_day_pages()
    assert _show(site.root, env)[0] == 0
    assert (check().returncode, check().stdout) == (0, "")
    site.event("2016-04-08", "Talks resume", related=[("Gone", "/news/2016/04/2/no-such-event.md", ["War"])])
    site.write_day_pages()
    found = check()
    assert found.returncode == 1 and found.stdout.count("\n") == 1
    assert found.stdout.startswith("news/2016/04/8/talks-resume.md:") and "missing-file" in found.stdout
    os.remove(site.root / "news/2016/04/5/siege-ends.md")  # Aid reaches the town links to it
    site.days["news/2016/04/5"] = []
    site.write_day_pages()
    again = check().stdout.splitlines()
    assert [line.split(":")[0] for line in again] == ["news/2016/04/7/aid-reaches-the-town.md", "news/2016/04/8/talks-resume.md"]


CATALOGUE_FORMS = [
    "show hurricane-harvey-makes --json", "show hurricane-harvey-makes --raw", "list-by-date 2010..2020",
    "list-by-date --on-this-day 08-21", "list-by-date 2017 --topic Texas", "topics", "topics --from 2016 --to 2017",
    "timeline harvey --from 2017-08-26", "related hurricane-harvey-makes", "related hurricane-harvey-makes --by topics",
    "related hurricane-harvey-makes --depth 2", "related hurricane-harvey-makes --from 2017-08-26 --to 2017-09-30",
    "validate-links", "validate-links --strict --format json", "validate-links --reciprocal",
    "validate-links --reciprocal --format json", "validate-links --dump --format json", "validate-links --dump --format text",
    "search -l Harvey", "search Harvey --from 2017", "search -l Texas --topic Texas", "search -v -l Harvey",
    "search --sort relevance -l Harvey", "search --in sources -l reuters", "search -c -e \\w+ --on 2017-08",
    "stats", "stats --json", "stats --from 2016 --to 2016", "stats --from 2017-08-21 --to 2017-08-21 --json", "stats --top 3",
    "stats --pretty",
]


@pytest.mark.parametrize("form", CATALOGUE_FORMS)
def test_the_commands_answer_on_a_catalogue_as_with_no_index(cli, tmp_path, form):
    """Each form once on a catalogue built by `show` (which may add its groups), then again (which reads
    them): the answer of a run with no index at all (--no-cache)."""
    cache = tmp_path / "cache"
    assert cli("--cache-dir", str(cache), "show", "hurricane-harvey-makes", "-a", str(EXAMPLES)).exit_code == 0
    plain = cli("--no-cache", *form.split(), "-a", str(EXAMPLES))
    assert plain.exit_code == 0, plain.stderr
    for _ in range(2):
        result = cli("--cache-dir", str(cache), *form.split(), "-a", str(EXAMPLES))
        assert (result.exit_code, result.stdout, result.stderr) == (0, plain.stdout, plain.stderr), form


def test_four_shows_at_once_on_no_catalogue_agree_and_leave_one(site, tmp_path):
    """Four processes build the catalogue at once (each a scratch file, named when whole): every one
    answers the same, and one database is left, whole."""
    import subprocess
    import sys

    env = {**os.environ, "NEWSARC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NEWSARC_ARCHIVE", None)
    command = [sys.executable, "-m", "newsarc", "show", "siege-ends", "--json", "--archive", str(site.root)]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0]
    assert len({out for out, _ in outputs}) == 1 and all(err == "" for _, err in outputs)
    assert json.loads(outputs[0][0])["title"] == "Siege ends"
    databases = list((tmp_path / "cache" / "index").glob("*.db"))
    assert len(databases) == 1 and not list((tmp_path / "cache" / "index").glob("*.tmp"))
    assert _show(site.root, {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")})[1] == outputs[0][0]


def _search(root: Path, cache: Path, *args: str) -> list[str]:
    done = run_newsarc("--cache-dir", str(cache), "search", "-l", *args, "--archive", str(root))
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.splitlines()


def test_a_filtered_search_follows_edits_between_runs(builder: ArchiveBuilder, tmp_path):
    """A date or topic filter takes its events from the catalogue, and a search reads their files: an
    event added, retitled or retagged after the catalogue was built is searched as it is now."""
    tagged = [("The siege begins", "/news/2016/01/2/the-siege-begins.md", ["Siege"])]
    builder.event("2016-04-05", "Siege ends", related=tagged, body="The army withdraws.")
    cache = tmp_path / "cache"
    assert [Path(p).name for p in _search(builder.root, cache, "army", "--topic", "siege")] == ["siege-ends.md"]
    builder.event("2016-04-06", "Aid arrives", related=tagged, body="The army escorts a convoy.")
    (builder.root / "news/2016/04/5/siege-ends.md").write_text(
        (builder.root / "news/2016/04/5/siege-ends.md").read_text().replace("army", "militia"))
    found = _search(builder.root, cache, "army", "--topic", "siege")
    assert [Path(p).name for p in found] == ["aid-arrives.md"]
    assert [Path(p).name for p in _search(builder.root, cache, "militia", "--from", "2016-04")] == ["siege-ends.md"]
    assert [Path(p).name for p in _search(builder.root, cache, "-v", "militia", "--on", "2016-04")] == ["aid-arrives.md"]


def test_only_a_ranked_search_builds_the_lengths_it_weighs(tmp_path):
    """`--sort relevance` keeps every event's text length in the catalogue (search_lengths); a search
    with a topic filter builds the catalogue alone, and a search with none (or a short span) nothing."""
    import sqlite3

    cache = tmp_path / "cache"
    _search(EXAMPLES, cache, "Harvey")
    assert not (cache / "index").exists()
    _search(EXAMPLES, cache, "Harvey", "--from", "2017-08")  # a few day folders: read, no index
    assert not (cache / "index").exists()
    _search(EXAMPLES, cache, "Harvey", "--topic", "Hurricane Harvey")
    tables = lambda: {row[0] for row in sqlite3.connect(_database(cache)).execute("SELECT name FROM sqlite_master")}
    assert "events" in tables() and "search_lengths" not in tables()
    ranked = _search(EXAMPLES, cache, "Harvey", "--sort", "relevance")
    assert "search_lengths" in tables() and ranked and sorted(ranked) == sorted(_search(EXAMPLES, cache, "Harvey"))


def test_every_command_keeps_the_groups_the_catalogue_holds(site, tmp_path):
    """`related` adds its words and `stats` its counts; a `show` after an edit (a process that imports
    neither feature) brings them up to date with the rest instead of dropping them: the next `related`
    and `stats` answer as from nothing, with no build of their own."""
    import sqlite3

    cache = tmp_path / "cache"
    env = {"NEWSARC_CACHE_DIR": str(cache)}
    for command in (["related", "siege-ends"], ["stats"]):
        assert run_newsarc(*command, "--json", "--archive", str(site.root), env=env).returncode in (0, 1)
    groups = lambda: dict(sqlite3.connect(_database(cache)).execute("SELECT name, version FROM groups"))
    held = groups()
    assert {"events", "links", "text", "counts"} <= set(held)
    page = site.root / "news/2016/04/7/aid-reaches-the-town.md"
    page.write_text(page.read_text().replace("Something happened.", "Convoys reached the siege town."))
    assert _show(site.root, env)[0] == 0
    assert groups() == held
    for command in (["related", "siege-ends"], ["stats"], ["search", "-l", "Convoys", "--topic", "War"]):
        warm = run_newsarc(*command, "--json", "--archive", str(site.root), env=env)
        cold = run_newsarc("--no-cache", *command, "--json", "--archive", str(site.root), env=env)
        assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)


def test_a_command_builds_the_groups_it_uses_and_no_more(site, tmp_path):
    """`list-by-date` and `topics` need the events alone; `show` adds the links (its backlinks);
    validate-links uses a catalogue only once it holds them, and builds none of its own."""
    import sqlite3

    cache = tmp_path / "cache"
    env = {"NEWSARC_CACHE_DIR": str(cache)}
    groups = lambda: {row[0] for row in sqlite3.connect(_database(cache)).execute("SELECT name FROM groups")}
    listed = run_newsarc("topics", "--archive", str(site.root), env=env)
    assert listed.returncode == 0 and groups() == {"events"}
    checked = run_newsarc("validate-links", "--archive", str(site.root), env=env)
    assert groups() == {"events"}
    assert _show(site.root, env)[0] == 0 and groups() == {"events", "links"}
    assert run_newsarc("validate-links", "--archive", str(site.root), env=env).stdout == checked.stdout


def test_a_lookup_asks_for_the_group_it_reads(site, tmp_path):
    """Through the library: a catalogue opened for its events builds the links group when asked for backlinks."""
    catalog = _catalog(site.root, tmp_path / "cache")
    assert [e.path for e in catalog.events_in(parse_when("2016"))]
    assert catalog.groups == ("events",)
    target = catalog.find("siege-ends")
    assert _paths(catalog.backlinks(target)) == ["news/2016/04/7/aid-reaches-the-town.md"]
    assert "links" in catalog.groups and catalog.confirm()
