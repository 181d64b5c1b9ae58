"""Shared pieces of the bench scripts: time one whole process, find newsarc, make archives.

Imported by run.py, search_bench.py, links_bench.py and related_bench.py
(run as scripts, so `bench/` is on sys.path). Stdlib only.

Peak memory comes from `os.wait4` on each child: `getrusage(RUSAGE_CHILDREN)`
reports the largest child seen so far, so a delta around one run says
nothing about that run.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Run:
    """One finished process: wall and CPU seconds, peak resident memory, status and output."""

    cmd: list[str]
    seconds: float
    cpu: float
    max_rss_mb: float
    status: int
    stdout: bytes = field(repr=False)
    stderr: bytes = field(repr=False)
    timed_out: bool = False

    def summary(self) -> dict:
        """The numbers, without the output (for JSON reports)."""
        return {
            "seconds": round(self.seconds, 4),
            "cpu": round(self.cpu, 4),
            "max_rss_mb": round(self.max_rss_mb, 1),
            "status": self.status,
            "stdout_lines": self.stdout.count(b"\n"),
            "timed_out": self.timed_out,
        }


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout: float | None = None) -> Run:
    """Run `cmd` to the end; its own wall time, CPU time and peak RSS.

    Output goes to unlinked temporary files rather than pipes, so no reader
    threads compete with the child for the CPU and a large output cannot block.
    A child still running after `timeout` seconds is killed (status -9).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        killer = threading.Timer(timeout, proc.kill) if timeout else None
        if killer:
            killer.start()
        _, wait_status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if killer:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here; Popen must not wait again
        out.seek(0)
        err.seek(0)
        return Run(
            cmd=list(cmd),
            seconds=seconds,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            status=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
            timed_out=bool(killer) and proc.returncode == -9,
        )


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def newsarc_cmd() -> list[str]:
    """The `newsarc` console script next to this interpreter or on PATH, else `python -m newsarc`."""
    beside = Path(sys.executable).with_name("newsarc")
    found = str(beside) if beside.exists() else shutil.which("newsarc")
    return [found] if found else [sys.executable, "-m", "newsarc"]


def generate(out: Path, events: int, seed: int = 1, quiet: bool = True) -> None:
    """Write an archive with bench/gen_archive.py in a child process (its CLI)."""
    cmd = [sys.executable, str(HERE / "gen_archive.py"), str(out), "--events", str(events), "--seed", str(seed)]
    subprocess.run(cmd + (["-q"] if quiet else []), check=True)


def first_line(cmd: list[str]) -> str:
    """First line of a tool's --version output, or why there is none."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr).strip() else "?"


def machine() -> dict:
    """What the numbers were measured on (the machine is shared: load matters)."""
    info = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "cpu_model": "?",
        "memory_gb": None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return info
