"""Shared pieces of the bench scripts: time one whole process, find newsarc, make archives.

Imported by run.py, search_bench.py, links_bench.py and related_bench.py
(run as scripts, so `bench/` is on sys.path). Stdlib only.

Peak memory: `getrusage(RUSAGE_CHILDREN)` reports the largest child seen so
far, so a delta around one run says nothing about that run; and even the
child's own `ru_maxrss` (os.wait4) starts at the *parent's* peak, because
Linux keeps the high-water mark of the memory a process had when it called
exec, and a (v)forked child had the parent's. So each command runs under
GNU `/usr/bin/time -f %M` (a 2 MB parent): its number is the largest single
process of the command. A command that forks workers holds more than that in
total, so while it has workers the process group's summed PSS is sampled
(see _GroupSampler).
"""

from __future__ import annotations

import os
import platform
import signal
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


TIME = "/usr/bin/time"  # GNU time: exact peak RSS of the command, measured from a tiny parent


@dataclass
class Run:
    """One finished process: wall and CPU seconds, peak resident memory, status and output."""

    cmd: list[str]
    seconds: float
    cpu: float
    max_rss_mb: float  # the largest single process of the command (GNU time %M, else wait4)
    status: int
    stdout: bytes = field(repr=False)
    stderr: bytes = field(repr=False)
    timed_out: bool = False
    tree_rss_mb: float = 0.0  # sampled while it had workers: their PSS summed (0 when it never had any)
    processes: int = 1  # the most processes of the command seen at once

    @property
    def peak_mb(self) -> float:
        """What the command needed at most, as far as we can tell: the larger of the two measures."""
        return max(self.max_rss_mb, self.tree_rss_mb)

    def summary(self) -> dict:
        """The numbers, without the output (for JSON reports)."""
        return {
            "seconds": round(self.seconds, 4),
            "cpu": round(self.cpu, 4),
            "max_rss_mb": round(self.max_rss_mb, 1),
            "tree_rss_mb": round(self.tree_rss_mb, 1),
            "processes": self.processes,
            "status": self.status,
            "stdout_lines": self.stdout.count(b"\n"),
            "timed_out": self.timed_out,
        }


class _GroupSampler(threading.Thread):
    """Peak memory of a whole process group (a command and the workers it forks), sampled.

    Ten times a second the group's members are found (a scan of /proc/*/stat,
    about 1 ms). While there is more than one, their proportional set sizes
    (smaps_rollup Pss: shared copy-on-write pages split between the sharers,
    so the sum is what the group really holds) are added up every half
    second; that read costs about 10 ms per GB mapped, so it is not done at
    every tick. One process alone is measured exactly by GNU time instead.
    """

    def __init__(self, pgid: int, interval: float = 0.1, pss_every: int = 5):
        super().__init__(daemon=True)
        self.pgid, self.interval, self.pss_every = pgid, interval, pss_every
        self.peak_mb, self.processes = 0.0, 1
        self.done = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.done.wait(self.interval):
            members = self.members()
            self.processes = max(self.processes, len(members) - 1)  # GNU time itself does not count
            if len(members) > 2 and tick % self.pss_every == 0:
                self.peak_mb = max(self.peak_mb, sum(map(_pss_mb, members)))
            tick += 1

    def members(self) -> list[str]:
        found = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat", "rb") as handle:
                        fields = handle.read().rpartition(b")")[2].split()  # state, ppid, pgrp, ...
                except OSError:
                    continue  # gone meanwhile
                if int(fields[2]) == self.pgid:
                    found.append(name)
        return found


def _pss_mb(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout: float | None = None) -> Run:
    """Run `cmd` to the end; its own wall time, CPU time and peak memory.

    Output goes to unlinked temporary files rather than pipes, so no reader
    threads compete with the child for the CPU and a large output cannot block.
    The command gets its own process group; after `timeout` seconds, or when
    this process is interrupted, the whole group is killed.
    """
    use_time = os.access(TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *cmd] if use_time else list(cmd)
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                start_new_session=True)
        sampler = _GroupSampler(proc.pid) if Path("/proc").is_dir() else None
        if sampler:
            sampler.start()
        killer = threading.Timer(timeout, _kill_group, (proc.pid,)) if timeout else None
        if killer:
            killer.start()
        try:
            _, wait_status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_group(proc.pid)
            raise
        finally:
            seconds = time.perf_counter() - start
            if killer:
                killer.cancel()
            if sampler:
                sampler.done.set()
        proc.returncode = os.waitstatus_to_exitcode(wait_status)  # reaped here; Popen must not wait again
        _kill_group(proc.pid)  # workers the command left behind, if any
        if sampler:
            sampler.join()
        peak = usage.ru_maxrss / 1024  # KiB on Linux; includes this process's peak (see the module docstring)
        if use_time:
            lines = rss.read().split()  # "Command exited with non-zero status N" comes first when it did
            peak = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else peak
        out.seek(0)
        err.seek(0)
        return Run(
            cmd=list(cmd),
            seconds=seconds,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=peak,
            status=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
            timed_out=bool(killer) and not killer.is_alive() and proc.returncode in (-9, 137),
            tree_rss_mb=sampler.peak_mb if sampler else 0.0,
            processes=sampler.processes if sampler else 1,
        )


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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
