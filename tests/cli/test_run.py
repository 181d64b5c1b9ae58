"""cli/run.run_command: the order of what a command says, and when it names the files not read."""

from __future__ import annotations

import pytest

BINARY = b"### [2017-08-21](/news/2017/08/21/index.md)\n\n# Broken\x00\n"
SKIPPED = "newsarc: news/2017/08/21/broken.md: binary file (contains NUL bytes); skipped\n"


@pytest.fixture
def site(builder, monkeypatch):
    builder.event("2017-08-21", "A total solar eclipse", related=[("Glasses recalled", "/news/2017/08/13/glasses.md", ["Solar eclipses"])])
    builder.write("news/2017/08/21/broken.md", BINARY)
    builder.write_day_pages()
    monkeypatch.chdir(builder.root)
    return builder.root


def test_related_names_the_files_not_read_when_its_event_is_one_of_them(site, cli):
    """even_on_error: the answer failed, and the line before the error says why."""
    result = cli("related", "broken")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == SKIPPED + "newsarc: 'broken' is news/2017/08/21/broken.md, which was not read (the reason is on the line above)\n"


def test_a_failed_answer_is_the_only_line_of_other_commands(site, cli):
    result = cli("timeline", "zzzz")
    assert result.exit_code == 2
    assert result.stderr == "newsarc: no topic matches 'zzzz'; list them all with: newsarc topics\n"


def test_timeline_says_which_topic_before_the_files_not_read_then_renders(site, cli):
    result = cli("timeline", "eclipse", "--plain")
    assert result.exit_code == 0
    assert result.stderr == "newsarc: showing topic 'Solar eclipses'\n" + SKIPPED
    assert result.stdout.startswith("2017-08-21\t")


def test_nothing_found_follows_the_diagnostics_and_exits_1(site, cli):
    result = cli("search", "zzzz")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == SKIPPED + "newsarc: no match in 1 event (searched: title, body, topics)\n"


def test_quiet_says_nothing_at_all(site, cli):
    assert (cli("search", "-q", "zzzz").exit_code, cli("search", "-q", "zzzz").stderr) == (1, "")
    found = cli("search", "-q", "eclipse")
    assert (found.exit_code, found.stdout, found.stderr) == (0, "", "")
