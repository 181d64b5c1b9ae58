"""`newsarc show EVENT`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from newsarc.cli.root import app
from newsarc.cli.complete import event_slugs
from newsarc.cli.options import ArchiveOpt, JsonOpt, PrettyOpt, RootOpt, examples, open_catalog, report_diagnostics, settled, unread


@app.command(
    epilog=examples(
        "newsarc show soldiers-of-the-presidential-guard -a examples",
        "newsarc show /news/2017/08/21/a-total-solar-eclipse-crosses-the-contiguous-united-states-from-oregon-to-south-carolina-the-first-coast-to-coast-totality-since-1918.md -a examples",
        "newsarc show hurricane-harvey-makes -a examples --raw",
    )
)
def show(
    event: Annotated[str, typer.Argument(metavar="EVENT", autocompletion=event_slugs, help="A file path, a /news/... link, a slug, or a unique slug prefix.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Print the file exactly as it is (on a terminal, control characters shown escaped).")
    ] = False,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """Show one event: date, headline, body, sources, related events and backlinks."""
    from newsarc.features import lookup
    from newsarc.features.lookup import detail
    from newsarc.output import show as render
    from newsarc.output.console import choose_mode

    from newsarc.features.catalog import LINKS

    site = open_catalog(archive, root, more=(LINKS,))  # bodies: only this event's, read from its file; lookups are queries
    def answer():
        found = site.with_text(lookup.find(site, event))
        return found, None if raw else detail(site, found)

    try:
        found, shown = settled(site, answer)
    finally:
        report_diagnostics(unread(site), site.root)  # backlinks from them are missing; the event may be one of them
    if shown is None:
        _raw((site.root / found.path).read_bytes())
        return
    render.render(shown, choose_mode(json_lines, pretty), str(site.root))


def _raw(data: bytes) -> None:
    """The file's bytes for a pipe; on a terminal, which would obey the escapes in them, shown printable."""
    from newsarc.output.console import isatty, printable_lines

    if isatty(sys.stdout):
        sys.stdout.write(printable_lines(data.decode("utf-8", "surrogateescape").replace("\r\n", "\n")))
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
