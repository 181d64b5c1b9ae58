"""The GitHub Action in action.yml works as written: its validate step runs as the runner runs it.

GitHub is not here, so the step's own script is taken from action.yml and run by
bash with the environment the runner would give it; `newsarc` on PATH is this
checkout's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES, ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {step.get("name", step.get("uses")): step for step in ACTION["runs"]["steps"]}


@pytest.fixture
def on_path(tmp_path: Path) -> Path:
    """A `newsarc` command that runs this checkout, first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "newsarc"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m newsarc "$@"\n')
    shim.chmod(0o755)
    return bin_dir


def run_step(bin_dir: Path, cwd: Path, summary_file: Path | None = None, **inputs: str) -> subprocess.CompletedProcess:
    """The "Validate links" step's script, with the environment a runner gives it."""
    step = STEPS["Validate links"]
    env = {key: value for key, value in os.environ.items() if key != "GITHUB_STEP_SUMMARY"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    for name, value in {**defaults, **inputs}.items():
        env[f"INPUT_{name.upper().replace('-', '_')}"] = value
    assert {key for key in step["env"] if key.startswith("INPUT_")} <= set(env)
    env["NEWSARC_CACHE_DIR"] = str(cwd / "cache")
    env["PYTHONPATH"] = str(ROOT)
    if summary_file is not None:
        env["GITHUB_STEP_SUMMARY"] = str(summary_file)
    # GitHub runs a composite step's script with `bash --noprofile --norc -eo pipefail`.
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(EXAMPLES, copy)
    return copy


def test_inputs_reach_scripts_only_through_the_environment():
    """`${{ inputs.x }}` pasted into a script would run whatever an input holds."""
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", "")
    assert ACTION["runs"]["using"] == "composite"


def test_a_clean_archive_passes_with_github_annotations(on_path, archive):
    done = run_step(on_path, archive.parent, archive="site")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_a_broken_link_fails_the_step_with_an_annotation_and_a_summary(on_path, archive, tmp_path):
    event = next((archive / "news/2017/08/21").glob("a-total-solar-eclipse*.md"))
    event.write_text(event.read_text() + "\nSee [the map](/news/2017/08/21/no-such-event.md).\n")
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier steps\n")
    done = run_step(on_path, archive.parent, summary, archive="site")
    assert done.returncode == 1
    assert "::error file=site/news/2017/08/21/a-total-solar-eclipse" in done.stdout
    assert "no-such-event.md" in done.stdout
    text = summary.read_text()
    assert text.startswith("# earlier steps\n") and "no-such-event.md" in text[len("# earlier steps\n"):]


def test_no_summary_when_asked_for_none(on_path, archive, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("")
    done = run_step(on_path, archive.parent, summary, archive="site", summary="false")
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary.read_text() == ""


def test_args_are_split_into_options(on_path, archive):
    day_page = archive / "news/2017/08/21/index.md"
    lines = day_page.read_text().splitlines(keepends=True)
    day_page.write_text("".join(line for line in lines if "california-s-grid" not in line))  # unlisted: a warning
    relaxed = run_step(on_path, archive.parent, archive="site", format="text")
    strict = run_step(on_path, archive.parent, archive="site", format="text", args="--strict  --reciprocal")
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    assert strict.returncode == 1
    assert "warning" in strict.stdout or "error" in strict.stdout
