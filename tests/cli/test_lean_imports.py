"""rich is imported only when something is drawn with it.

Piped (plain) and JSON output never draw with rich, and importing it costs
tens of milliseconds on every scripted call. Python's import profiler
(PYTHONPROFILEIMPORTTIME, the same as -X importtime) lists every module a real
`newsarc` process imports on stderr; main() leaves with os._exit, so an
atexit hook could not tell us.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import EXAMPLES, read_pty, run_newsarc

EVENT = "a-total-solar-eclipse-crosses"
ARCHIVE = ("--archive", str(EXAMPLES))

# (command, arguments, how to ask for JSON)
COMMANDS = [
    ("show", [EVENT], "--json"),
    ("list-by-date", ["2017-08"], "--json"),
    ("search", ["eclipse"], "--json"),
    ("search", ["eclipse", "-l"], "--json"),
    ("search", ["eclipse", "-c"], "--json"),
    ("related", [EVENT], "--json"),
    ("related", [EVENT, "--depth", "2"], "--json"),
    ("related", [EVENT, "--timeline"], "--json"),
    ("validate-links", [], "--format=json"),
    ("topics", [], "--json"),
    ("timeline", ["Eclipses"], "--json"),
    ("stats", [], "--json"),
]
IDS = [" ".join([name, *args]) for name, args, _ in COMMANDS]


def imported(*args: str):
    """Run newsarc with the import profiler on: (result, names of the modules it imported)."""
    result = run_newsarc(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    names = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    return result, names


def rich_modules(names: list[str]) -> list[str]:
    return [name for name in names if name == "rich" or name.startswith("rich.")]


@pytest.mark.parametrize(("name", "args", "json_flag"), COMMANDS, ids=IDS)
def test_plain_output_does_not_import_rich(name, args, json_flag):
    result, names = imported(name, *args, *ARCHIVE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout or "no problems in" in result.stderr  # a clean validate-links prints only its summary
    assert "\x1b[" not in result.stdout + result.stderr
    assert "newsarc.cli.app" in names  # the profiler did see the command's imports
    assert rich_modules(names) == []


@pytest.mark.parametrize(("name", "args", "json_flag"), COMMANDS, ids=IDS)
def test_json_output_does_not_import_rich(name, args, json_flag):
    result, names = imported(name, *args, json_flag, *ARCHIVE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("{")
    assert "newsarc.cli.app" in names
    assert rich_modules(names) == []


def test_other_link_formats_do_not_import_rich():
    for fmt in ("text", "github", "junit", "markdown"):
        result, names = imported("validate-links", f"--format={fmt}", *ARCHIVE)
        assert result.returncode == 0, (fmt, result.stderr[-2000:])
        assert rich_modules(names) == [], fmt
    result, names = imported("validate-links", "--dump", *ARCHIVE)
    assert result.returncode == 0 and result.stdout.count("\n") > 100
    assert rich_modules(names) == []


def test_pretty_output_imports_rich_and_draws():
    """The other way round: --pretty still lays out with rich (the check above can fail)."""
    result, names = imported("show", EVENT, "--pretty", *ARCHIVE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert {"rich.console", "rich.table", "rich.text"} <= set(rich_modules(names))
    assert "Monday, 21 August 2017" in result.stdout
    assert "Sources (3)" in result.stdout
    assert "\x1b[" in result.stdout  # colours: forced for --pretty when piped


def test_pretty_output_without_colour_has_no_escape_codes():
    result = run_newsarc("stats", "--pretty", *ARCHIVE, env={"NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "Archive at a glance" in result.stdout
    assert "\x1b" not in result.stdout


def test_dumb_terminal_has_no_escape_codes():
    result = run_newsarc("topics", "--pretty", *ARCHIVE, env={"TERM": "dumb"})
    assert result.returncode == 0, result.stderr
    assert "Eclipses" in result.stdout
    assert "\x1b" not in result.stdout


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_index_progress_bar_draws_on_a_terminal():
    """The bar imports rich only when it starts; on a terminal it still draws and clears itself."""
    script = textwrap.dedent(
        """
        import sys
        from newsarc.output import progress
        assert "rich" not in sys.modules
        bar = progress.for_terminal()
        assert bar is not None, "stderr is a terminal"
        bar.started -= progress.DELAY  # as if the scan had run for a second already
        for done in range(1, 4):
            bar(done, 3)
        assert bar.bar is None and "rich.progress" in sys.modules
        """
    )
    leader, follower = os.openpty()
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
        proc = subprocess.run(
            [sys.executable, "-c", script], stderr=follower, stdout=subprocess.PIPE, env={**env, "TERM": "xterm"}, timeout=60
        )
        os.close(follower)
        follower = -1
        drawn = _read_all(leader)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, drawn
    assert "indexing" in drawn
    assert "\x1b[?25l" in drawn and "\x1b[?25h" in drawn  # cursor hidden, then shown again


def _read_all(fd: int) -> str:
    return read_pty(fd).decode("utf-8", "replace")


@pytest.mark.parametrize(("force_color", "bar"), [("", False), ("1", True)])
def test_external_progress_asks_rich_only_when_it_might_draw(force_color, bar):
    """validate-links --external with stderr piped: no bar and no rich; FORCE_COLOR still gets rich's bar."""
    script = textwrap.dedent(
        f"""
        import sys
        from newsarc.output.links import external_progress
        with external_progress() as update:
            assert (update is not None) is {bar}, update
            if update:
                update(1, 2)
        assert ("rich" in sys.modules) is {bar}
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env={**env, "FORCE_COLOR": force_color}, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def test_a_warm_show_reads_its_file_without_yaml_or_the_slug_suggestions(tmp_path):
    """show reads its one event again from its file (features/catalog.py): a file in the usual layout,
    without front matter, costs neither PyYAML nor the close-slug search, which runs only when a lookup fails."""
    cache = {"NEWSARC_CACHE_DIR": str(tmp_path / "cache")}
    assert run_newsarc("show", EVENT, *ARCHIVE, env=cache).returncode == 0  # builds the index
    result = run_newsarc("show", EVENT, *ARCHIVE, "--plain", env={**cache, "PYTHONPROFILEIMPORTTIME": "1"})
    names = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert result.returncode == 0
    assert "newsarc.features.catalog" in names and "newsarc.reading.parser" in names
    assert "yaml" not in names and "frontmatter" not in names and "newsarc.features.suggest" not in names
