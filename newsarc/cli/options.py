"""Options every command shares, declared once (as sqlite-utils does)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer

from newsarc.cli.complete import topic_names
from newsarc.errors import ExitStatus
from newsarc.output.console import printable

ArchiveOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--archive",
        "-a",
        envvar="NEWSARC_ARCHIVE",
        metavar="DIR",
        help="Archive folder: the site root, its news/ folder, or any folder inside. [default: current folder]",
        show_default=False,
    ),
]
RootOpt = Annotated[
    Optional[Path],
    typer.Option("--root", metavar="DIR", help="Site root that /news/... links resolve against. [default: detected]", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON Lines: one object per result.")]
PrettyOpt = Annotated[
    Optional[bool],
    typer.Option(
        "--pretty/--plain",
        help="Force the rich layout or plain lines. [default: rich on a terminal, plain when piped]",
        show_default=False,
    ),
]
LimitOpt = Annotated[Optional[int], typer.Option("--limit", "-n", min=0, metavar="N", help="Show at most this many results.")]
FromOpt = Annotated[Optional[str], typer.Option("--from", metavar="DATE", help="Earliest date (any date form).", show_default=False)]
ToOpt = Annotated[Optional[str], typer.Option("--to", metavar="DATE", help="Latest date (any date form).", show_default=False)]
TopicOpt = Annotated[
    Optional[list[str]], typer.Option("--topic", "-t", metavar="TOPIC", autocompletion=topic_names, help="Only events with this topic (repeatable).", show_default=False)
]


def examples(*commands: str, note: str = "") -> str:
    """A command's --help epilog: one example per line, as typed (click's \\b keeps the
    lines from being joined into one paragraph). tests/cli/test_help_examples.py runs each."""
    text = "Examples:\n\n\b\n" + "\n".join(f"  {command}" for command in commands)
    return f"{text}\n\n{note}" if note else text


T = TypeVar("T")


def open_catalog(archive: Path | None, root: Path | None, more: tuple[str, ...] = (), *, text: bool = False):
    """The archive the options name, its lookups answered from the index's catalogue (features/catalog.py);
    `more`: groups to hold besides (related's text statistics); `text`: the events read from day
    folders keep their bodies (search matches them)."""
    from newsarc import settings
    from newsarc.archive import Archive
    from newsarc.features.catalog import Catalog
    from newsarc.output.progress import for_terminal

    chosen = settings.current()
    site = Archive.open(archive, root, cache_dir=chosen.cache_dir, use_cache=chosen.use_cache, text=text)
    site.progress = for_terminal()  # a short span's day folders are parsed by the archive itself
    catalog = Catalog(site, cache_dir=site.cache_dir, use_cache=site.use_cache, more=more)
    catalog.progress, catalog.notice = site.progress, say
    return catalog


def say(message: str) -> None:
    """A problem beside the answer (the index cache's, not the archive's): stderr, one line."""
    sys.stderr.write(f"newsarc: {message}\n")


def settled(site, answer: Callable[[], T]) -> T:
    """`answer()` from the index while its freshness is checked in the background; again if it was stale.

    Nothing may be printed inside `answer`: it may be thrown away. An error it
    raises counts only if the index was fresh (a file just added can be the
    event it did not find)."""
    from newsarc.errors import NewsarcError

    site.speculate = True
    try:
        found = answer()
    except NewsarcError:
        if site.confirm():
            raise
        return answer()
    return found if site.confirm() else answer()


def finish(status: int) -> None:
    """End the command with `status` (typer ignores return values)."""
    sys.stdout.flush()
    if status:
        raise typer.Exit(int(status))


def report_diagnostics(diagnostics, root, limit: int = 20) -> None:
    """Problems found while reading go to stderr, never mixed with results; their paths are
    relative to the current folder, as the results' are (one rule for every path shown)."""
    from newsarc.output.console import LocalPaths

    diagnostics, local = list(diagnostics), LocalPaths(root)
    for diagnostic in diagnostics[:limit]:
        sys.stderr.write(f"newsarc: {printable(diagnostic.shown(local(diagnostic.path)))}\n")
    if len(diagnostics) > limit:
        sys.stderr.write(f"newsarc: ... and {len(diagnostics) - limit} more problems (see: newsarc validate-links)\n")


def unread(site) -> list:
    """Files the scan skipped (unreadable, binary, symlinks not followed), by path.

    Every result lacks them, so every command names them, not only validate-links.
    """
    found = [*site.scan_diagnostics, *(d for doc in site.unreadable for d in doc.diagnostics)]
    return sorted(found, key=lambda d: d.path)


def nothing_found(message: str) -> None:
    sys.stderr.write(f"newsarc: {printable(message)}\n")
    finish(ExitStatus.NOTHING)
