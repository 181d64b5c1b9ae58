"""The progress bar of a cold index: on a terminal, and only when it is slow."""

from __future__ import annotations

import sys
import time

from newsarc.output.console import isatty, make_console

DELAY = 1.0  # seconds of parsing before a bar is worth drawing
_ACTIVE: list["IndexProgress"] = []


class IndexProgress:
    """Called by Archive with (parsed, to parse); draws a transient bar on stderr."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < DELAY or done >= total:
                return
            self._start(total)
        self.bar.update(self.task, completed=done, total=total)
        if done >= total:
            self.close()

    def _start(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=make_console(stderr=True),
            transient=True,
        )
        self.task = self.bar.add_task("index", total=total)
        self.bar.start()
        _ACTIVE.append(self)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()  # restores the cursor
            self.bar = None
            _ACTIVE.remove(self)


def close_all() -> None:
    """Called on the way out (Ctrl-C, errors), so no bar is left with the cursor hidden."""
    for bar in list(_ACTIVE):
        bar.close()


def for_terminal() -> IndexProgress | None:
    """A progress callback when stderr is a terminal, else None (pipes and CI stay quiet)."""
    return IndexProgress() if isatty(sys.stderr) else None
