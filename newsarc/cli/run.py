"""The sequence every reading command runs, written once: `run_command`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Optional, TypeVar

from newsarc.cli.options import finish, nothing_found, open_catalog, report_diagnostics, say, settled, unread

T = TypeVar("T")


def unread_files(site, found: Any) -> list:
    """The default diagnostics: files the scan skipped (every command names them)."""
    return unread(site)


def run_command(
    archive: Optional[Path],
    root: Optional[Path],
    answer: Callable[[Any], T],
    render: Callable[[T, Any, Any], None],
    *,
    json_lines: bool = False,
    pretty: Optional[bool] = None,
    more: tuple[str, ...] = (),
    text: bool = False,
    diagnostics: Callable[[Any, T], Iterable] = unread_files,
    even_on_error: bool = False,
    notice: Optional[Callable[[T], Optional[str]]] = None,
    nothing: Callable[[Any, T], Optional[str]] = lambda site, found: None,
    quiet: bool = False,
) -> None:
    """Open the catalogue, answer, report what was not read, render, exit like grep.

    Every command did these five steps by hand, and their order is part of the
    output (stderr's lines, the exit status); here it is one sequence, and a command
    says only what differs:

    - `more`, `text`: what the catalogue holds (options.open_catalog);
    - `answer(site)`: the core call, run under options.settled (it may run twice: no output);
    - `notice(found)`: a line for stderr before the diagnostics (timeline: the topic chosen);
    - `diagnostics(site, found)`: the problems to name on stderr (default: the files not read);
      with `even_on_error` also when the answer raised (then `found` is None): show's and
      related's event may be one of those files;
    - `render(found, mode, site)`: stdout (and notes after it), in --json/--pretty's mode;
    - `nothing(site, found)`: the message when nothing was found (exit 1), or None (exit 0);
    - `quiet`: no diagnostics, no rendering, no message: only the exit status (search -q).
    """
    from newsarc.output.console import choose_mode

    site = open_catalog(archive, root, more=more, text=text)
    answered = False
    try:
        found = settled(site, lambda: answer(site))
        answered = True
    finally:
        if even_on_error and not answered:
            report_diagnostics(diagnostics(site, None), site.root)
    if notice is not None and (line := notice(found)):
        say(line)
    if not quiet:
        report_diagnostics(diagnostics(site, found), site.root)
        render(found, choose_mode(json_lines, pretty), site)
    message = nothing(site, found)
    if message is not None:
        if quiet:
            finish(1)
        nothing_found(message)
    finish(0)
