"""--help and --version when stdout's reader goes away: exit 0 and say nothing, like every command.

Top-level --help and --version print while the options are parsed, before the
commands' error boundary (NewsarcGroup.invoke); click's own EPIPE handling
there exits 1. Real processes and real pipes: the operating system is the
behaviour under test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COMMANDS = ["show", "list-by-date", "search", "related", "validate-links", "topics", "timeline", "stats"]
HELPS = [["--help"], ["-h"], ["--version"]] + [[command, "--help"] for command in COMMANDS]
ENV = {**os.environ, "COLUMNS": "80"}


def first_line(args: list[str]) -> str:
    """What a reader that stays to the end sees first."""
    return subprocess.run([sys.executable, "-m", "newsarc", *args], capture_output=True, text=True, env=ENV,
                          timeout=60, check=True).stdout.splitlines()[0]  # fmt: skip


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_reader_gone_before_the_help_is_written(args):
    """The reader closed its end before anything was written: the one write fails (EPIPE)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "newsarc", *args], stdout=write, stderr=subprocess.PIPE,
                              env=ENV, text=True, timeout=60)  # fmt: skip
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["search", "--help"]], ids=" ".join)
def test_reader_takes_one_line_and_leaves(args):
    """`newsarc --help | head -1`: the reader reads one line, closes its end, and the process ends quietly."""
    proc = subprocess.Popen([sys.executable, "-m", "newsarc", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV)  # fmt: skip
    line = proc.stdout.readline().decode()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert (proc.wait(timeout=60), stderr) == (0, "")
    assert line.rstrip("\n") == first_line(args)
    assert line.startswith("newsarc " if args == ["--version"] else "Usage: newsarc ")


F_SETPIPE_SZ = 1031  # Linux fcntl: a pipe's capacity


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs F_SETPIPE_SZ to shrink a pipe")
def test_reader_leaves_while_the_help_is_still_being_written():
    """A one-page pipe and a help longer than a page: the writer is blocked mid-help when the reader,
    having read only its first line, closes. Its write fails then, every time."""
    import fcntl

    args = ["validate-links", "--help"]
    assert len(subprocess.run([sys.executable, "-m", "newsarc", *args], capture_output=True, env=ENV,
                              timeout=60, check=True).stdout) > 4096  # fmt: skip
    read, write = os.pipe()
    fcntl.fcntl(write, F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([sys.executable, "-m", "newsarc", *args], stdout=write, stderr=subprocess.PIPE, env=ENV)
    os.close(write)
    line = b""
    while not line.endswith(b"\n"):  # byte by byte: the rest of the page stays unread, the writer stays blocked
        line += os.read(read, 1)
    os.close(read)
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert (proc.wait(timeout=60), stderr) == (0, "")
    assert line.decode() == "Usage: newsarc validate-links [OPTIONS] [PATH]...\n"
