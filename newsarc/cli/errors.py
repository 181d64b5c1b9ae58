"""The one place where exceptions become messages and exit codes."""

from __future__ import annotations

import os
import sys
import traceback

from newsarc.errors import AmbiguousEvent, EventNotFound, ExitStatus, NewsarcError
from newsarc.output.console import printable


def exit_status(exc: BaseException, debug: bool = False) -> int:
    """Report `exc` on stderr (one sentence, traceback only with --debug); return the code."""
    if isinstance(exc, KeyboardInterrupt):
        _say("interrupted")
        return ExitStatus.INTERRUPTED
    if isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == 32):
        _silence_stdout()
        return ExitStatus.OK  # like ripgrep: the reader went away, nothing is wrong
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, EventNotFound) and exc.candidates:
        _say(exc.message)
        for candidate in exc.candidates:
            sys.stderr.write(f"  {printable(str(candidate))}\n")
        return exc.status
    if isinstance(exc, AmbiguousEvent):
        _say(exc.message)
        for candidate in exc.candidates[:20]:
            sys.stderr.write(f"  {printable(str(candidate))}\n")
        if len(exc.candidates) > 20:
            sys.stderr.write(f"  ... and {len(exc.candidates) - 20} more\n")
        return exc.status
    if isinstance(exc, NewsarcError):
        _say(exc.message + (f" ({exc.hint})" if exc.hint else ""))
        return exc.status
    if isinstance(exc, MemoryError):
        _say("out of memory; try a smaller --archive folder")
        return ExitStatus.ERROR
    if isinstance(exc, OSError):
        where = f" '{exc.filename}'" if exc.filename else ""
        _say(f"cannot access{where}: {exc.strerror or exc}; check the path and its permissions")
        return ExitStatus.ERROR
    _say(f"internal error: {type(exc).__name__}: {exc}; rerun with --debug and report the traceback")
    return ExitStatus.ERROR


def _say(message: str) -> None:
    """One line on stderr; file names and event text in it shown `printable` (one line, no escapes)."""
    try:
        sys.stderr.write(f"newsarc: {printable(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the exit-time flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
