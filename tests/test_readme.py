"""The README is part of the product: its tour runs, and it documents every command."""

from __future__ import annotations

import re
import shlex

import pytest
from typer.main import get_command

from newsarc.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def tour_lines() -> list[str]:
    block = README.split("## A tour on `examples/`", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith("newsarc ")]


def test_every_command_is_in_the_readme():
    for name in get_command(app).commands:
        assert f"newsarc {name}" in README, f"README does not show `newsarc {name}`"


@pytest.mark.parametrize("line", [line for line in tour_lines() if "--external" not in line])
def test_tour_line_runs(line, cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(line.split("|")[0])[1:]
    result = cli(*args)
    assert result.exit_code in (0, 1), f"{line}\n{result.stderr}"
    assert "Traceback" not in result.stderr


def test_setup_block_is_two_commands():
    block = README.split("<!-- setup -->", 1)[1].split("<!-- /setup -->", 1)[0]
    commands = [line for line in block.splitlines() if line and not line.startswith("```")]
    assert len(commands) == 2
    assert re.search(r"pytest", commands[1])
