"""`newsarc related EVENT`."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from newsarc.cli.root import app
from newsarc.cli.complete import event_slugs
from newsarc.cli.options import (
    examples,
    ArchiveOpt,
    FromOpt,
    JsonOpt,
    PrettyOpt,
    RootOpt,
    ToOpt,
)
from newsarc.cli.run import run_command


DEPTH_LIMIT = 50  # events in a --depth tree: in a well-linked archive depth 6 reaches nearly every event


class By(str, Enum):
    links = "links"
    backlinks = "backlinks"
    topics = "topics"
    text = "text"


@app.command(
    epilog=examples(
        "newsarc related the-syrian-army-supported-by-russian-air-power -a examples",
        "newsarc related syrian-government-forces-backed --depth 2 -a examples",
        "newsarc related harvey-sets-a-record --timeline -a examples",
        "newsarc related harvey-sets-a-record --by text --json -a examples",
    ),
)
def related(
    event: Annotated[str, typer.Argument(metavar="EVENT", autocompletion=event_slugs, help="A file path, a /news/... link, a slug, or a unique slug prefix.")],
    by: Annotated[
        Optional[By],
        typer.Option(
            "--by",
            help="Only one source: links (its Related list), backlinks (events linking to it), topics (shared "
            "topics, rare ones weigh more) or text (similar headline and body). [default: all four, added up]",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        Optional[int],
        typer.Option("--limit", "-n", min=0, metavar="N", help="Show at most this many events. [default: 20; 50 with --depth]"),
    ] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    depth: Annotated[
        Optional[int],
        typer.Option("--depth", "-d", min=1, metavar="N", help="Follow links and backlinks this many steps; show them as a tree."),
    ] = None,
    timeline: Annotated[
        bool, typer.Option("--timeline", help="Print the related events as a story line, oldest first, with this one marked.")
    ] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Also the weaker ones the cut-off leaves out (scores under a tenth of the best).")
    ] = False,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """Events to read with EVENT: what it links to, what links to it, shared topics and similar text, ranked, with reasons."""
    from newsarc.reading import dates
    from newsarc.features import lookup
    from newsarc.features import related as story
    from newsarc.output import related as render

    if depth and by in (By.topics, By.text):
        raise typer.BadParameter("--depth follows links; use it with --by links, --by backlinks or without --by", param_hint="'--by'")
    span = dates.window(from_, to)
    source = by.value if by else None
    from newsarc.features.related import text_stats  # registers the text group: the similar-text scores read it
    from newsarc.features.catalog import LINKS

    def answer(site):
        found = lookup.find(site, event)  # the models read columns: no need to load every event
        if depth:
            count = DEPTH_LIMIT if limit is None else limit
            tree = story.follow(site, found, depth, by=source, limit=count, span=span)
            return found, tree, [node.item for node in tree.walk()]
        count = story.DEFAULT_LIMIT if limit is None else limit
        ranking = story.ranked(site, found, by=source, limit=count, span=span, everything=everything)
        return found, ranking, ranking.items

    def shown(answered, mode, site):
        found, result, items = answered
        if items and timeline:
            render.render_timeline(story.timeline(found, items), mode, site.root)
        elif items and depth:
            render.render_tree(result, mode, site.root)
        elif items:
            render.render(found, items, mode, site.root)
        render.render_notes(result, items, depth)

    run_command(
        archive,
        root,
        answer,
        shown,
        json_lines=json_lines,
        pretty=pretty,
        more=(LINKS, text_stats.GROUP) if source in (None, By.text.value) else (LINKS,),
        even_on_error=True,  # events related through the files not read are missing
        nothing=lambda site, answered: None if answered[2] else _nothing(answered[0], source, span),
    )


def _nothing(event, source, span) -> str:
    what = f"by {source}" if source else "by links, backlinks, topics or text"
    where = f" in {span}" if span else ""
    return f"no events related to {event.path} {what}{where}"
