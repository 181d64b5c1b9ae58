"""Run one function over parts of a job on every core, with fork.

For work that is mostly the interpreter's (a stat call, a file read): threads
would hold the GIL, and a process pool costs more to start and feed than the
work. A forked child shares the parent's memory for free, computes its part,
and sends back only its answer (marshal: plain values) through a pipe.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable, Sequence
from typing import Any


def workers() -> int:
    """How many processes to use: every core (at most 4), or 1 where fork is missing or NEWSARC_WORKERS=1."""
    if not hasattr(os, "fork") or os.environ.get("NEWSARC_WORKERS") == "1":
        return 1
    return max(1, min(os.cpu_count() or 1, 4))


def fan_out(func: Callable[[Any], Any], parts: Sequence[Any]) -> list[Any]:
    """[func(part) for part in parts], the first part in this process and the others in children.

    A child that fails (or is killed) has its part computed here instead, so
    the answer never depends on the children, only the time does.
    """
    children = []
    for part in parts[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer through the pipe, then leave without cleanup
            code = 1
            try:
                os.close(read)
                data = marshal.dumps(func(part))
                view = memoryview(data)
                while view:
                    view = view[os.write(write, view) :]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        children.append((pid, read))
    results = [func(parts[0])]
    for part, (pid, read) in zip(parts[1:], children):
        chunks = []
        with os.fdopen(read, "rb") as pipe:
            chunks.append(pipe.read())
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            results.append(marshal.loads(b"".join(chunks)))
        else:
            results.append(func(part))
    return results


def split(items: Sequence[Any], count: int) -> list[Sequence[Any]]:
    """`count` contiguous slices of nearly equal length (answers concatenate in order)."""
    size, extra = divmod(len(items), count)
    found, start = [], 0
    for k in range(count):
        stop = start + size + (1 if k < extra else 0)
        found.append(items[start:stop])
        start = stop
    return found
