"""`newsarc topics`, `newsarc timeline TOPIC` and `newsarc stats`."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from newsarc.cli.root import app
from newsarc.cli.complete import topic_names
from newsarc.cli.options import (
    examples,
    ArchiveOpt,
    FromOpt,
    JsonOpt,
    LimitOpt,
    PrettyOpt,
    RootOpt,
    ToOpt,
    unread,
)
from newsarc.cli.run import run_command
from newsarc.output.console import printable


class TopicSort(str, Enum):
    """Kept here (not imported from the core) so `--help` stays fast."""

    count = "count"
    name = "name"
    first = "first"
    last = "last"


@app.command(
    epilog=examples(
        "newsarc topics -a examples",
        "newsarc topics syria --sort first -a examples",
        "newsarc topics --sort last -n 10 --json -a examples",
    ),
)
def topics(
    filter_: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[WORDS]",
            help="Only topics whose name holds these words (case, accents and punctuation ignored).",
            show_default=False,
        ),
    ] = None,
    sort: Annotated[
        TopicSort,
        typer.Option(
            "--sort",
            "-s",
            help="count: most events first; name: A-Z; first: earliest story first; last: most recent story first.",
        ),
    ] = TopicSort.count,
    limit: LimitOpt = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """List every topic with its number of events and its first and last date."""
    from newsarc.reading import dates
    from newsarc.features import overview
    from newsarc.output import overview as render

    def shown(found, mode, site):
        if found:
            render.render_topics(found, mode)

    def nothing(site, found):
        if found:
            return None
        span = dates.window(from_, to)
        if filter_ is None:
            return "no topics" + (f" in {span}" if span else "") + "; topics come from _Context: tags and front matter tags"
        close = overview.nearest(list(overview.all_topics(site).values()), filter_)
        return f"no topic matches '{filter_}'" + ("; nearest: " + "; ".join(f"'{t.name}'" for t in close) if close else "")

    run_command(
        archive,
        root,
        lambda site: overview.topic_table(site, filter_, sort=sort.value, span=dates.window(from_, to), limit=limit),
        shown,
        json_lines=json_lines,
        pretty=pretty,
        nothing=nothing,
    )


@app.command(
    epilog=examples(
        "newsarc timeline 'burkinabe coup' -a examples",
        "newsarc timeline 'syrian civil war' --gap 90 -a examples",
        "newsarc timeline harvey --json -a examples",
    ),
)
def timeline(
    topic: Annotated[
        str,
        typer.Argument(
            metavar="TOPIC",
            autocompletion=topic_names,
            help="A topic name; case, accents and punctuation are ignored and a few words are enough. "
            "Several matches are listed (exit 2); no match suggests the nearest names (exit 2).",
        ),
    ],
    gap: Annotated[
        int, typer.Option("--gap", "-g", min=0, metavar="DAYS", help="Mark quiet spells longer than this many days.")
    ] = 30,
    from_: FromOpt = None,
    to: ToOpt = None,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """Show how a story unfolded: every event of one topic, oldest first, grouped by month."""
    from newsarc.reading import dates
    from newsarc.features import overview
    from newsarc.output import overview as render

    def shown(line, mode, site):
        if line.steps:
            render.render_timeline(line, mode, site.root)

    run_command(
        archive,
        root,
        lambda site: overview.timeline(site, topic, gap=gap, span=dates.window(from_, to)),
        shown,
        json_lines=json_lines,
        pretty=pretty,
        notice=lambda line: None if overview.fold(topic) == line.topic.key else f"showing topic '{printable(line.topic.name)}'",
        diagnostics=lambda site, line: [*unread(site), *site.diagnostics_of([step.event for step in line.steps])],
        nothing=lambda site, line: None if line.steps else f"topic '{line.topic.name}' has no events in {line.span}",
    )


@app.command(
    epilog=examples(
        "newsarc stats -a examples",
        "newsarc stats --from 2016 --to 2016 -a examples",
        "newsarc stats --json -a examples",
    ),
)
def stats(
    from_: FromOpt = None,
    to: ToOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, metavar="N", help="How many busiest days, topics, publishers and domains.")] = 10,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """Summarise the archive: events per year and month, busiest days, top topics and sources, broken links."""
    from newsarc.reading import dates
    from newsarc.features import stats as counted  # registers the counts group
    from newsarc.output import overview as render

    run_command(
        archive,
        root,
        lambda site: counted.stats(site, dates.window(from_, to), top=top),
        lambda result, mode, site: render.render_stats(result, mode),
        json_lines=json_lines,
        pretty=pretty,
        more=(counted.COUNTS.name,),
        diagnostics=lambda site, result: counted.reported(unread(site), site, result.span),
        nothing=lambda site, result: None if result.events else "no events" + (f" in {result.span}" if result.span else " in this archive"),
    )
