"""`show`, `list-by-date` and the global CLI behaviour, driven for real."""

from __future__ import annotations

import json
import os
import re

import pytest

from newsarc import __version__
from tests.conftest import EXAMPLES, SAMPLE, run_newsarc

ANSI = re.compile(r"\x1b\[[0-9;]*[mK]|\x1b\]8;[^\x1b]*\x1b\\")


@pytest.fixture
def site(builder):
    a = builder.event(
        "2016-04-03",
        "Army retakes the town",
        body="The army&#x27;s push &amp; more.",
        sources=[("Reuters", "https://www.reuters.com/a"), ("AP", "https://apnews.com/b")],
        cover="https://img.example.com/a.jpg",
        related=[("Siege ends", "/news/2016/04/5/siege-ends.md", ["War"]), ("Gone", "/news/2016/04/6/gone.md", ["War"])],
    )
    builder.event("2016-04-05", "Siege ends", related=[("Army retakes the town", a, ["War", "Town, 2016"])])
    builder.event("2016-04-05", "Siege of the airport", related=[("Army retakes the town", a, ["War"])])
    builder.event("2017-08-13", "Eclipse glasses recalled")
    return builder.root


def test_version_and_help(cli):
    assert cli("--version").stdout == f"newsarc {__version__}\n"
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("show", "list-by-date"):
        assert command in result.stdout


def test_every_command_has_help_with_an_example(cli):
    from newsarc.cli import app
    from typer.main import get_command

    for name in get_command(app).commands:
        result = cli(name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, f"{name} --help shows no example"


def test_list_by_date_plain_is_tab_separated(cli, site, monkeypatch):
    monkeypatch.chdir(site)
    result = cli("list-by-date", "2016-04")
    assert result.exit_code == 0
    assert result.stdout == (
        "2016-04-03\tnews/2016/04/3/army-retakes-the-town.md\tArmy retakes the town\tWar\t2\n"
        "2016-04-05\tnews/2016/04/5/siege-ends.md\tSiege ends\tWar; Town, 2016\t1\n"
        "2016-04-05\tnews/2016/04/5/siege-of-the-airport.md\tSiege of the airport\tWar\t1\n"
    )
    assert result.stderr == ""


def test_list_by_date_lists_events_in_folders_inside_a_day_folder(cli, site, monkeypatch):
    """A day lists what the whole-archive scan finds under its folder: `search` and `list-by-date` agree."""
    from tests.conftest import event_text

    (site / "news/2016/04/5/wire").mkdir()
    (site / "news/2016/04/5/wire/ceasefire-holds.md").write_text(event_text("2016-04-05", "Ceasefire holds"))
    (site / "news/2016/04/5/wire/loop").symlink_to(site / "news/2016/04/5")  # read once, not forever
    monkeypatch.chdir(site)
    result = cli("list-by-date", "2016-04-05")
    assert result.exit_code == 0
    assert result.stdout == (
        "2016-04-05\tnews/2016/04/5/siege-ends.md\tSiege ends\tWar; Town, 2016\t1\n"
        "2016-04-05\tnews/2016/04/5/siege-of-the-airport.md\tSiege of the airport\tWar\t1\n"
        "2016-04-05\tnews/2016/04/5/wire/ceasefire-holds.md\tCeasefire holds\t\t1\n"  # event_text gives one source
    )
    found = cli("search", "-l", "Ceasefire holds")
    assert found.stdout == "news/2016/04/5/wire/ceasefire-holds.md\n"


def test_list_by_date_json_lines(cli, site):
    result = cli("list-by-date", "2016-04-05", "--json", "--archive", str(site))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {"path": "news/2016/04/5/siege-ends.md", "date": "2016-04-05", "title": "Siege ends", "topics": ["War", "Town, 2016"], "sources": 1},
        {"path": "news/2016/04/5/siege-of-the-airport.md", "date": "2016-04-05", "title": "Siege of the airport", "topics": ["War"], "sources": 1},
    ]


def test_list_by_date_rich_groups_by_day(cli, site):
    result = cli("list-by-date", "2016-04", "--pretty", "--archive", str(site), env={"NO_COLOR": "1"})
    assert "\x1b" not in result.stdout
    assert result.stdout.startswith("Sunday, 3 April 2016  1 event\n")
    assert "Tuesday, 5 April 2016  2 events" in result.stdout
    assert "Siege of the airport" in result.stdout


@pytest.mark.parametrize(
    "args, titles",
    [
        (["2016"], ["Army retakes the town", "Siege ends", "Siege of the airport"]),
        (["April 5, 2016"], ["Siege ends", "Siege of the airport"]),
        (["5 April 2016"], ["Siege ends", "Siege of the airport"]),
        (["Apr 2016"], ["Army retakes the town", "Siege ends", "Siege of the airport"]),
        (["2016-04-04.."], ["Siege ends", "Siege of the airport", "Eclipse glasses recalled"]),
        (["..2016-04-04"], ["Army retakes the town"]),
        (["--from", "2016-04-05", "--to", "2017"], ["Siege ends", "Siege of the airport", "Eclipse glasses recalled"]),
        (["2016", "--reverse", "--limit", "2"], ["Siege of the airport", "Siege ends"]),
        (["2016", "--topic", "town, 2016"], ["Siege ends"]),
        (["--on-this-day", "08-13"], ["Eclipse glasses recalled"]),
    ],
)
def test_list_by_date_forms_and_filters(cli, site, args, titles):
    result = cli("list-by-date", *args, "--json", "--archive", str(site))
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["title"] for line in result.stdout.splitlines()] == titles


def test_list_by_date_count(cli, site):
    assert cli("list-by-date", "2016", "--count", "--archive", str(site)).stdout == "3\n"


def test_nothing_found_names_nearest_dates(cli, site):
    result = cli("list-by-date", "2016-06", "--archive", str(site))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "newsarc: no events in 2016-06; nearest dates with events: 2016-04-05, 2017-08-13\n"


def test_bad_date_is_one_line_exit_2(cli, site):
    result = cli("list-by-date", "2017-02-30", "--archive", str(site))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("newsarc: '2017-02-30' is not a real date")
    assert "Traceback" not in result.stderr


def test_missing_archive_is_exit_2(cli, tmp_path):
    result = cli("list-by-date", "2017", "--archive", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_show_plain(cli, site, monkeypatch):
    monkeypatch.chdir(site)  # paths print relative to the current folder
    result = cli("show", "army-retakes", "--archive", str(site))
    assert result.exit_code == 0
    assert result.stdout == (
        "path: news/2016/04/3/army-retakes-the-town.md\n"
        "date: 2016-04-03\n"
        "title: Army retakes the town\n"
        "topics: War\n"
        "source: Reuters <https://www.reuters.com/a>\n"
        "source: AP <https://apnews.com/b>\n"
        "cover: https://img.example.com/a.jpg\n"
        "related: /news/2016/04/5/siege-ends.md\texists\tSiege ends\tWar\n"
        "related: /news/2016/04/6/gone.md\tmissing\tGone\tWar\n"
        "linked-from: news/2016/04/5/siege-ends.md\n"
        "linked-from: news/2016/04/5/siege-of-the-airport.md\n"
        "\n"
        "The army's push & more.\n"
    )


def test_show_json(cli, site):
    result = cli("show", "/news/2016/04/03/army-retakes-the-town.md", "--json", "--archive", str(site))
    record = json.loads(result.stdout)
    assert record["path"] == "news/2016/04/3/army-retakes-the-town.md"
    assert record["date"] == "2016-04-03"
    assert record["body"] == "The army's push & more."
    assert [s["domain"] for s in record["sources"]] == ["reuters.com", "apnews.com"]
    assert [(r["exists"], r["topics"]) for r in record["related"]] == [(True, ["War"]), (False, ["War"])]
    assert record["linked_from"] == ["news/2016/04/5/siege-ends.md", "news/2016/04/5/siege-of-the-airport.md"]
    assert record["diagnostics"] == []


def test_show_rich(cli, site, monkeypatch):
    monkeypatch.chdir(site)
    result = cli("show", "army-retakes", "--pretty", "--archive", str(site), env={"NO_COLOR": "1"})
    text = result.stdout
    assert "\x1b" not in text
    assert text.startswith("Sunday, 3 April 2016  news/2016/04/3/army-retakes-the-town.md\nArmy retakes the town\n")
    assert "Sources (2)" in text and "reuters.com" in text
    assert "Cover image https://img.example.com/a.jpg" in text
    assert "Related (2, 1 missing)" in text
    assert "missing: /news/2016/04/6/gone.md" in text
    assert "Linked from 2 events" in text
    assert re.search(r"\n +siege-ends *\n", text)  # each related event's slug, to pass on


def test_show_front_matter_reads_as_written(cli, builder):
    builder.event("2015-09-16", "Coup", front_matter="tags: [Burkina Faso, Coups]\nextra: {a: 1}")
    text = cli("show", "coup", "--pretty", "--archive", str(builder.root), env={"NO_COLOR": "1"}).stdout
    assert "  tags:  Burkina Faso, Coups\n" in text and "['Burkina Faso'" not in text
    assert re.search(r'\n  extra: \{"a": 1\} *\n', text)


def test_show_raw_is_byte_exact(cli, site):
    result = cli("show", "siege-ends", "--raw", "--archive", str(site))
    assert result.stdout_bytes == (site / "news/2016/04/5/siege-ends.md").read_bytes()


def test_show_ambiguous_lists_candidates_exit_2(cli, site):
    result = cli("show", "siege", "--archive", str(site))
    assert result.exit_code == 2
    assert result.stderr == (
        "newsarc: 'siege' matches 2 events; give more of the slug or the full path\n"
        "  news/2016/04/5/siege-ends.md\n"
        "  news/2016/04/5/siege-of-the-airport.md\n"
    )


def test_show_unknown_exit_2(cli, site):
    result = cli("show", "zzz", "--archive", str(site))
    assert result.exit_code == 2
    assert result.stderr.startswith("newsarc: no event matches 'zzz'")


def test_archive_from_environment(cli, site):
    result = cli("list-by-date", "2017", env={"NEWSARC_ARCHIVE": str(site / "news")})
    assert "Eclipse glasses recalled" in result.stdout


def test_damaged_file_reported_rest_still_listed(cli, builder):
    builder.event("2016-04-05", "Good event")
    builder.write("news/2016/04/5/broken.md", b"### [2016-04-05](/news/2016/04/5/index.md)\n\n# Bad \xff byte\n")
    result = cli("list-by-date", "2016-04-05", "--archive", str(builder.root))
    assert result.exit_code == 0
    assert "Good event" in result.stdout
    assert "news/2016/04/5/broken.md:3: invalid UTF-8 (byte 0xff)" in result.stderr


def test_subprocess_pipe_and_exit_codes(site):
    ok = run_newsarc("list-by-date", "2016", "--archive", str(site))
    assert ok.returncode == 0 and ok.stdout.count("\n") == 3 and "\x1b" not in ok.stdout
    none = run_newsarc("list-by-date", "1999", "--archive", str(site))
    assert none.returncode == 1
    bad = run_newsarc("list-by-date", "1999-99", "--archive", str(site))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_subprocess_head_ends_quietly(tmp_path):
    import subprocess
    import sys

    script = f"{sys.executable} -m newsarc list-by-date 2015..2017 --archive {EXAMPLES} | head -1"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""


def test_python_dash_m_and_sample_event(builder):
    builder.write("news/2017/08/13/sample.md", SAMPLE.read_bytes())
    done = run_newsarc("show", "sample", "--archive", str(builder.root))
    assert done.returncode == 0
    assert "title: The Syrian Army, supported by Russian air power" in done.stdout
    assert "related: /news/2016/03/14/vladimir-putin-orders-the-main-part" in done.stdout


def test_examples_tour_works():
    done = run_newsarc("list-by-date", "2017-08", "--archive", str(EXAMPLES))
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) >= 5


def test_topic_filter_folds_case_accents_and_punctuation(cli, builder):
    builder.event("2015-09-16", "Coup in Ouagadougou", related=[("x", "/news/2015/09/17/x.md", ["2015 Burkinabé coup d'état"])])
    builder.event("2015-09-17", "Something else", related=[("y", "/news/2015/09/16/y.md", ["Elections"])])
    for spelling in ("2015 burkinabe coup d etat", "2015 BURKINABÉ COUP D’ÉTAT"):
        result = cli("list-by-date", "2015", "--topic", spelling, "--json", "--archive", str(builder.root))
        assert [json.loads(line)["title"] for line in result.stdout.splitlines()] == ["Coup in Ouagadougou"]
