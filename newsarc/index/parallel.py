"""Work on every core with a bounded number of tasks in flight, results in order.

`Pool.imap` feeds every task to the workers at once and queues every answer
in the parent until it is consumed: while the parent inserts rows into
SQLite (the slow step of a build), parsed chunks piled up in its memory
(646 MB at 100k files in the spike). Here at most IN_FLIGHT tasks per worker
are outstanding; the next is submitted only once the oldest answer is taken,
so the parent holds a few chunks whatever the archive's size.

A worker that dies (killed, out of memory) costs time, never the answer:
its tasks, and every one not yet done, are computed in this process.
Workers are forked (they share the parent's loaded modules and state, such
as the path -> id map that groups read) and ignore Ctrl-C: the parent
answers it, then the workers are ended with the pool.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from newsarc import cores

T = TypeVar("T")
IN_FLIGHT = 2  # tasks outstanding per worker: one being worked on, one waiting


def workers() -> int:
    """How many processes share a build (the settings' count; 1 where fork is missing)."""
    return cores.workers()


def ordered(work: Callable[[T], Any], tasks: Iterable[T], count: int | None = None, in_flight: int = IN_FLIGHT) -> Iterator[Any]:
    """work(task) for each task, in order, on `count` forked processes (default: workers()), with at
    most `in_flight` * count tasks submitted and not yet taken."""
    count = workers() if count is None else count
    tasks = iter(tasks)
    first = []  # what the workers get first (one task alone is done here)
    for task in tasks:
        first.append(task)
        if len(first) >= in_flight * count:
            break
    context = _fork_context() if count > 1 and len(first) > 1 else None
    if context is None:
        for task in first:
            yield work(task)
        for task in tasks:
            yield work(task)
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pending: deque = deque()
    source = tasks
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=_worker_start)
    broken = False
    try:
        held = cores.hold_interrupts()  # the first submit forks the workers (fork context: all at once)
        try:
            for task in first:
                pending.append((task, pool.submit(work, task)))
        finally:
            cores.let_interrupts_in(held)
        while pending:
            task, future = pending.popleft()
            if broken:
                yield work(task)
                continue
            try:
                result = future.result()
            except BrokenProcessPool:
                broken = True
                yield work(task)
                continue
            yield result
            for task in source:
                try:
                    pending.append((task, pool.submit(work, task)))
                except BrokenProcessPool:
                    broken = True
                    pending.append((task, None))
                break
        for task in source:  # left when the pool broke
            yield work(task)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start() -> None:
    """Ctrl-C is the parent's to answer (cores.ignore_interrupts). A worker whose parent is killed
    (kill -9 mid-build) ends too, rather than wait for tasks for ever (Linux)."""
    import signal
    import sys

    cores.ignore_interrupts()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover
            pass


def _fork_context():
    import multiprocessing

    try:
        return multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return None
