"""Run one function over parts of a job on every core, with fork.

For work that is mostly the interpreter's (a stat call, a file read): threads
would hold the GIL, and a process pool costs more to start and feed than the
work. A forked child shares the parent's memory for free, computes its part,
and sends back only its answer (marshal: plain values) through a pipe.
"""

from __future__ import annotations

import gc
import marshal
import os
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from newsarc import settings


def workers() -> int:
    """How many processes to use: every core (at most 4), or 1 where fork is missing; the settings'
    count if they give one (NEWSARC_WORKERS=1)."""
    if not hasattr(os, "fork"):
        return 1
    chosen = settings.current().workers
    if chosen is not None:
        return max(1, chosen)
    return max(1, min(os.cpu_count() or 1, 4))


def fan_out(func: Callable[[Any], Any], parts: Sequence[Any]) -> list[Any]:
    """[func(part) for part in parts], the first part in this process and the others in children.

    A child that fails (or is killed) has its part computed here instead, so
    the answer never depends on the children, only the time does.
    """
    pending = start(func, parts[1:])
    first = func(parts[0])
    return [first, *pending.results()]


class Pending:
    """Parts being computed in children; `results()` waits for them."""

    def __init__(self, func: Callable[[Any], Any], parts: Sequence[Any], children: list[tuple[int, int]]):
        self.func, self.parts, self.children = func, parts, children
        self._results: list[Any] | None = None

    def ready(self) -> bool:
        """Whether every child has answered (its pipe holds its answer, or is closed): `results()`
        would not wait. Never waits itself."""
        if self._results is not None:
            return True
        import select

        pipes = [read for _, read in self.children]
        try:
            readable = select.select(pipes, [], [], 0)[0]
        except (OSError, ValueError):
            return False
        return len(readable) == len(pipes)

    def results(self) -> list[Any]:
        if self._results is None:
            found = []
            for part, (pid, read) in zip(self.parts, self.children):
                with os.fdopen(read, "rb") as pipe:
                    data = pipe.read()
                _, status = os.waitpid(pid, 0)
                found.append(marshal.loads(data) if os.waitstatus_to_exitcode(status) == 0 else self.func(part))
            self._results = found
        return self._results


class Done(Pending):
    """Results already computed (no fork, or nothing to wait for)."""

    def __init__(self, results: list[Any]):
        self._results = results

    def results(self) -> list[Any]:
        return self._results


def start(func: Callable[[Any], Any], parts: Sequence[Any]) -> Pending:
    """func(part) for each part in a child of its own, while this process goes on (here, without fork)."""
    if not parts or not hasattr(os, "fork"):
        return Done([func(part) for part in parts])
    children = []
    for part in parts:
        read, write = os.pipe()
        pid = _fork(lambda: _write_all(write, marshal.dumps(func(part))), read)
        os.close(write)
        children.append((pid, read))
    return Pending(func, parts, children)


def hold_interrupts() -> Any:
    """Ctrl-C held back (blocked) in this thread while it forks: what `let_interrupts_in` restores.

    One that reached a child while Python ran its after-fork hooks was printed as "Exception
    ignored ... KeyboardInterrupt"; a child inherits the block and lets it in once it is ready
    (inside `_fork`'s `try`, or ignoring it: `ignore_interrupts`)."""
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None


def let_interrupts_in(held: Any) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def ignore_interrupts() -> None:
    """A pool worker's start: Ctrl-C reaches every process of the group, and only the parent answers
    it (exit 130, then its workers are ended); a worker dying mid-task printed a traceback and could
    leave the pool waiting for ever. One held back while it was forked is dropped here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _fork(work: Callable[[], None], unused: int) -> int:
    """A child that runs `work()` and leaves without cleanup (exit 0 when it returned, 1 when it raised);
    `unused`: the parent's end of its pipe, closed in the child. Ctrl-C is held back across the fork
    (`hold_interrupts`): it arrives once the child is inside `try`, and ends it quietly (the parent
    reports the interrupt)."""
    held = hold_interrupts()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            let_interrupts_in(held)
            # No collections: one would walk the parent's whole heap, copying every page it touches
            # (seconds, late in a long test session); a child lives for its answers.
            gc.disable()
            os.close(unused)
            work()
            code = 0
        finally:
            os._exit(code)
    let_interrupts_in(held)
    return pid


def split(items: Sequence[Any], count: int) -> list[Sequence[Any]]:
    """`count` contiguous slices of nearly equal length (answers concatenate in order)."""
    size, extra = divmod(len(items), count)
    found, start = [], 0
    for k in range(count):
        stop = start + size + (1 if k < extra else 0)
        found.append(items[start:stop])
        start = stop
    return found


_TOKENS = 1024  # at most this many tokens in `pull`'s pipe (4 KB: it is filled before any reader starts)


def pull(func: Callable[[int], Any], count: int, processes: int) -> list[Any]:
    """[func(k) for k in range(count)], computed by `processes` processes (this one and children)
    that each take the next k when done with the last: a core slowed by other work takes fewer.

    The ks wait in a pipe as 4-byte tokens, all written before the children
    start; a read of 4 bytes takes one whole token. A k no process answered
    (a child failed or was killed) is computed here, so the answer never
    depends on the children, only the time does.
    """
    if processes < 2 or count < 2 or not hasattr(os, "fork"):
        return [func(k) for k in range(count)]
    tokens = min(count, _TOKENS)
    bounds = [count * t // tokens for t in range(tokens + 1)]  # token t stands for the ks bounds[t]:bounds[t + 1]
    read, write = os.pipe()
    try:
        view = memoryview(struct.pack(f"<{tokens}I", *range(tokens)))
        while view:
            view = view[os.write(write, view) :]
    finally:
        os.close(write)

    def drain(_: Any) -> list[tuple[int, Any]]:
        found = []
        while len(token := os.read(read, 4)) == 4:
            t = struct.unpack("<I", token)[0]
            found.extend((k, func(k)) for k in range(bounds[t], bounds[t + 1]))
        return found

    try:
        pending = start(drain, [None] * (processes - 1))
        answers = dict(drain(None))
        for part in pending.results():
            answers.update(part)
    finally:
        os.close(read)
    return [answers[k] if k in answers else func(k) for k in range(count)]


_MISSING = object()  # what `_answer` gives when a child left without answering


def stream(func: Callable[[int], Any], count: int, processes: int) -> Iterator[Any]:
    """func(k) for k in range(count), in order, each as soon as it is there: for a reader that
    must not hold every answer at once (validate-links --dump writes a million links at 100k events).

    This process computes every `processes`-th k and each child the ks of its
    turn, sending each answer (marshal) through a pipe of its own as it goes: a
    pipe holds a few answers at most, so a child ahead of the reader waits, and
    memory stays bounded whatever `count` is. A k a child did not answer (it
    failed or was killed) is computed here; a reader that stops early ends the
    children."""
    if processes < 2 or count < 2 or not hasattr(os, "fork"):
        yield from map(func, range(count))
        return
    children: list[tuple[int, Any]] = []
    try:
        for turn in range(1, min(processes, count)):
            children.append(_streaming_child(func, turn, count, processes))
        turns = len(children) + 1
        for k in range(count):
            turn = k % turns
            found = _answer(children[turn - 1][1]) if turn else _MISSING
            yield func(k) if found is _MISSING else found
    finally:
        for pid, pipe in children:
            pipe.close()
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)


def _streaming_child(func: Callable[[int], Any], turn: int, count: int, turns: int) -> tuple[int, Any]:
    """A child computing func(k) for k = turn, turn + turns, ...: (its pid, the pipe to read them from)."""
    read, write = os.pipe()

    def answer() -> None:
        for k in range(turn, count, turns):
            data = marshal.dumps(func(k))
            _write_all(write, struct.pack("<Q", len(data)) + data)

    pid = _fork(answer, read)
    os.close(write)
    return pid, os.fdopen(read, "rb")


def _answer(pipe: Any) -> Any:
    """The next answer a child sent; _MISSING when it sent no more."""
    head = pipe.read(8)
    if len(head) != 8:
        return _MISSING
    size = struct.unpack("<Q", head)[0]
    data = pipe.read(size)
    return marshal.loads(data) if len(data) == size else _MISSING


def _write_all(fd: int, data: bytes) -> None:
    """All of `data` into a pipe, however many writes it takes (a full pipe takes part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
