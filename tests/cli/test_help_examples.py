"""Every example in every --help runs on examples/ and finds something; help reads plainly.

The examples are run as a user pastes them: by bash, from the repository root,
with `newsarc` on PATH (pipes and quotes included).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_newsarc

COMMANDS = ["list-by-date", "show", "search", "related", "validate-links", "topics", "timeline", "stats"]


def help_text(command: str) -> str:
    done = run_newsarc(command, "--help", env={"COLUMNS": "100"})
    assert done.returncode == 0
    return done.stdout


def examples_of(command: str) -> list[str]:
    text = help_text(command)
    block = text.split("\n  Examples:\n\n", 1)[1]
    return [line.strip() for line in block.splitlines() if line.startswith("    newsarc ")]


EXAMPLES = [(command, line) for command in COMMANDS for line in examples_of(command)]


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory):
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "newsarc"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m newsarc "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "100"}
    env["NEWSARC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    env.pop("NEWSARC_ARCHIVE", None)
    return env


def test_every_command_has_examples_one_per_line():
    for command in COMMANDS:
        found = examples_of(command)
        assert len(found) >= 3, command
        assert all(line.startswith(f"newsarc {command} ") and " | newsarc " not in line for line in found)


@pytest.mark.parametrize(("command", "line"), EXAMPLES, ids=[line[8:60] for _, line in EXAMPLES])
def test_example_runs_on_examples_and_finds_something(shell_env, command, line):
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line], cwd=ROOT, env=shell_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    if command == "validate-links" and "--dump" not in line:  # examples/ is clean: the verdict is on stderr
        assert "no problems" in done.stderr or "would rewrite 0 links" in done.stderr
    else:
        assert done.stdout.strip(), line


@pytest.mark.parametrize("command", COMMANDS)
def test_metavars_are_plain_words(command):
    text = help_text(command)
    assert not re.search(r"<(str|int range|float range|path|int|float)>", text), text
