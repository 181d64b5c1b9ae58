"""Pipes, Ctrl-C and terminals, for every command (issue 8).

Real processes where the operating system is part of the behaviour (closed
pipes, SIGINT to the process group as a terminal sends it) on a generated
4,000-event archive (bench/gen_archive.py, built once per session); the
rendering checks (NO_COLOR, TERM=dumb, COLUMNS) run in-process on examples/.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ctrl_c_as_a_terminal_sends_it, generated_archive

COMMANDS = ["show", "list-by-date", "search", "related", "validate-links", "topics", "timeline", "stats"]
ESCAPE = re.compile(r"\x1b")
SUMMARY = re.compile(r"newsarc: [\d,]+ errors?, .* internal links \(checks: .*\)\n")  # validate-links' count line
LEFT_OUT = re.compile(r"newsarc: [\d,]+ weaker related events left out \(.*\); --all shows them\n")  # related's cut


@pytest.fixture(scope="session")
def big(tmp_path_factory):
    """A 4,000-event archive, its files dated an hour back so the index cache is trusted at once."""
    root = generated_archive(tmp_path_factory.mktemp("big"), 4000, 8)
    past = time.time() - 3600
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    env = {**os.environ, "NEWSARC_CACHE_DIR": str(tmp_path_factory.mktemp("big-cache")), "COLUMNS": "100"}
    env.pop("NEWSARC_ARCHIVE", None)
    first = subprocess.run([sys.executable, "-m", "newsarc", "topics", "--json", "--archive", str(root)], env=env,
                           capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    topic = json.loads(first.stdout.splitlines()[0])["topic"]  # also fills the index cache
    event = min(str(p.relative_to(root)) for p in (root / "news").rglob("*.md") if p.name != "index.md")
    args = {
        "show": ["show", event],
        "list-by-date": ["list-by-date", "2024"],
        "search": ["search", "the"],
        "related": ["related", event],
        "validate-links": ["validate-links"],
        "topics": ["topics"],
        "timeline": ["timeline", topic],
        "stats": ["stats"],
    }
    return root, env, args


def newsarc(big, command: str, *extra: str) -> list[str]:
    root, _, args = big
    return [sys.executable, "-m", "newsarc", *extra, *args[command], "--archive", str(root)]


def mode_flags(command: str, mode: str) -> list[str]:
    if mode == "pretty":
        return ["--format", "rich"] if command == "validate-links" else ["--pretty"]
    return ["--json"] if mode == "json" else ["--plain"] if command != "validate-links" else ["--format", "text"]


# -- closed pipes -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "json", "pretty"])
@pytest.mark.parametrize("command", COMMANDS)
def test_reader_gone_before_the_first_line(big, command, mode):
    """The reader closed its end before anything was written: every write fails (EPIPE). Exit 0, nothing said."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(newsarc(big, command) + mode_flags(command, mode), stdout=write, stderr=subprocess.PIPE,
                              env=big[1], text=True, timeout=120)  # fmt: skip
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("command", COMMANDS)
def test_head_1_ends_quietly(big, command):
    """`newsarc ... | head -1`: quiet, whether or not the output still fit in the pipe when head left."""
    script = 'python -m newsarc "$@" | head -1 >/dev/null; exit "${PIPESTATUS[0]}"'
    cmd = ["bash", "-c", script.replace("python", sys.executable), "newsarc", *newsarc(big, command)[3:]]
    done = subprocess.run(cmd, env=big[1], capture_output=True, text=True, timeout=120)
    if command == "validate-links" and done.returncode == 1:  # it finished: 20 broken links, and its count line
        assert SUMMARY.fullmatch(done.stderr), done.stderr
    elif command == "related" and done.stderr:  # its 6 KB fit in the pipe before head left: it finished, and said so
        assert (done.returncode, LEFT_OUT.fullmatch(done.stderr) is not None) == (0, True), done.stderr
    else:
        assert (done.returncode, done.stderr) == (0, "")


# -- Ctrl-C -------------------------------------------------------------------------------------


def _at_work(pid: int, root: Path) -> bool:
    """Is the process reading the archive: a parse worker busy (some CPU time spent), or a file open?"""
    return any(_cpu_ticks(child) >= 3 for child in _children(pid)) or _reading(pid, root)


def _children(pid: int) -> list[str]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            found += Path(f"/proc/{pid}/task/{task}/children").read_text().split()
    except OSError:
        pass
    return found


def _cpu_ticks(pid: str) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _reading(pid: int, root: Path) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(root)):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the process at work")
@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_exits_130_without_a_traceback(big, command):
    """SIGINT to the whole process group, as a terminal sends it, while the archive is being read
    (without the index cache: 4,800 files, parsed on the worker pool)."""
    root = big[0]
    args = newsarc(big, command, "--no-cache")
    if command == "list-by-date":
        args[args.index("2024")] = "1990..2030"  # every day folder: enough files for the pool
    process = subprocess.Popen(args, env=big[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, preexec_fn=ctrl_c_as_a_terminal_sends_it)  # fmt: skip
    try:
        while process.poll() is None and not _at_work(process.pid, root):
            time.sleep(0.001)
        assert process.poll() is None, "finished before it could be interrupted"
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert (process.returncode, stderr) == (130, "newsarc: interrupted\n")


# -- terminals ----------------------------------------------------------------------------------

SLUG = "amazon-offers-refunds-to-customers-who-bought-eclipse-glasses"
EXAMPLE_ARGS = {
    "show": ["show", SLUG],
    "list-by-date": ["list-by-date", "2017"],
    "search": ["search", "eclipse"],
    "related": ["related", SLUG],
    "validate-links": ["validate-links", "--format", "rich"],
    "topics": ["topics"],
    "timeline": ["timeline", "burkinabe coup"],
    "stats": ["stats"],
}


def pretty(cli, command: str, env: dict):
    args = EXAMPLE_ARGS[command] + ([] if command == "validate-links" else ["--pretty"])
    result = cli(*args, "--archive", str(EXAMPLES), env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    return result


@pytest.mark.parametrize("command", COMMANDS)
def test_no_color_and_dumb_terminals_get_no_escape_codes(cli, command):
    assert ESCAPE.search(pretty(cli, command, {}).stdout)  # the check can fail: colour is on by default
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        result = pretty(cli, command, env)
        assert not ESCAPE.search(result.stdout + result.stderr), env


def test_no_color_in_a_real_process():
    for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        for args in (["stats", "--pretty"], ["validate-links", "--format", "rich"]):
            done = subprocess.run([sys.executable, "-m", "newsarc", *args, "--archive", str(EXAMPLES)],
                                  env={**os.environ, **env}, capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0 and done.stdout.strip(), done.stderr
            assert not ESCAPE.search(done.stdout + done.stderr), (env, args)


@pytest.mark.parametrize("command", COMMANDS)
def test_narrow_and_wide_terminals_render_within_their_width(cli, command):
    longest = {}
    for columns in (40, 200):
        result = pretty(cli, command, {"NO_COLOR": "1", "COLUMNS": str(columns)})
        lines = result.stdout.splitlines()
        longest[columns] = max(len(line) for line in lines)
        assert longest[columns] <= columns, [line for line in lines if len(line) > columns][:3]
    assert longest[200] >= longest[40]


@pytest.mark.parametrize("columns", ["0", "-3", "abc", ""])
def test_nonsense_columns_fall_back_to_a_width(cli, columns):
    """COLUMNS=0 made rich print nothing at all; COLUMNS=abc was an internal error."""
    result = pretty(cli, "stats", {"NO_COLOR": "1", "COLUMNS": columns})
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
