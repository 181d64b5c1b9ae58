"""`newsarc show EVENT`."""

from __future__ import annotations

from typing import Annotated

import typer

from newsarc.cli.root import app
from newsarc.cli.complete import event_slugs
from newsarc.cli.options import ArchiveOpt, JsonOpt, PrettyOpt, RootOpt, examples
from newsarc.cli.run import run_command


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
    from newsarc.features.catalog import LINKS
    from newsarc.features.lookup import detail
    from newsarc.output import show as render

    def answer(site):
        found = site.with_text(lookup.find(site, event))
        return found, None if raw else detail(site, found)

    def shown(answered, mode, site):
        found, shown = answered
        if shown is None:
            render.render_raw((site.root / found.path).read_bytes())
        else:
            render.render(shown, mode, str(site.root))

    # bodies: only this event's, read from its file; lookups are queries. The files not read are
    # named even when the lookup fails: the event may be one of them, and backlinks from them are missing.
    run_command(archive, root, answer, shown, json_lines=json_lines, pretty=pretty, more=(LINKS,), even_on_error=True)
