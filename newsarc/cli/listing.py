"""`newsarc list-by-date WHEN`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from newsarc.cli.root import app
from newsarc.cli.options import (
    examples,
    ArchiveOpt,
    FromOpt,
    JsonOpt,
    LimitOpt,
    PrettyOpt,
    RootOpt,
    ToOpt,
    TopicOpt,
    unread,
)
from newsarc.cli.run import run_command


@app.command(
    "list-by-date",
    epilog=examples(
        "newsarc list-by-date 2017-08 -a examples",
        "newsarc list-by-date 'September 16, 2015' -a examples",
        "newsarc list-by-date 2015-09..2015-12 --topic 'Syrian Civil War' -a examples",
        "newsarc list-by-date --on-this-day 08-21 -a examples",
    ),
)
def list_by_date(
    when: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[WHEN]",
            help="A day, month or year (2017-08-13, 2017-08, 2017, 'Aug 2017', '13 August 2017'), a range "
            "(2017-08-01..2017-08-31, open ends allowed) or relative (today, yesterday, 'last week', '3 days ago').",
            show_default=False,
        ),
    ] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    on_this_day: Annotated[
        Optional[str],
        typer.Option("--on-this-day", metavar="MM-DD", help="A calendar day in every year: MM-DD or a month and a day ('Aug 13'); alone, today's.", show_default=False),
    ] = None,
    topic: TopicOpt = None,
    limit: LimitOpt = None,
    reverse: Annotated[bool, typer.Option("--reverse", "-r", help="Newest first.")] = False,
    count: Annotated[bool, typer.Option("--count", "-c", help="Print only the number of events.")] = False,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """List the events of a day, month, year or range, grouped by day."""
    from newsarc.reading import dates
    from newsarc.features.lookup import listing, within
    from newsarc.output import listing as render

    span, calendar_day = _period(when, from_, to, on_this_day)

    def shown(result, mode, site):
        if count:
            render.render_count(len(result.events), json_lines)
        elif result.events:
            render.render(result, mode, site.root)

    run_command(
        archive,
        root,
        lambda site: listing(site, span, on_this_day=calendar_day, topics=topic, reverse=reverse, limit=limit),
        shown,
        json_lines=json_lines,
        pretty=pretty,
        diagnostics=lambda site, result: [*within(unread(site), span), *site.diagnostics_of(result.events)],
        nothing=lambda site, result: None if result.events else _hint(span, topic, result.nearest, dates) + _scope_note(site),
    )


def _period(when, from_, to, on_this_day):
    from newsarc.reading import dates
    from newsarc.errors import BadDate

    if on_this_day is not None:
        if when or from_ or to:
            raise BadDate("--on-this-day lists one calendar day in every year; drop WHEN, --from and --to")
        return None, dates.parse_month_day(on_this_day) if on_this_day else _today()
    if when and (from_ or to):
        raise BadDate("give either WHEN or --from/--to, not both")
    if when:
        return dates.parse_when(when), None
    if from_ or to:
        return dates.window(from_, to), None
    raise BadDate(f"say which dates to list; use {dates.FORMS}")


def _today() -> tuple[int, int]:
    import datetime as dt

    today = dt.date.today()
    return today.month, today.day


def _scope_note(site) -> str:
    """Pointed at a folder inside the archive, only that folder was read: say so, or
    'no events in 2016' from inside news/2017 reads as if the archive had none."""
    if site.scope == site.root or site.scope == site.root / "news":
        return ""
    return f" (only {site.relpath(site.scope)}/ was read; pass --archive {site.root} for the whole archive)"


def _hint(span, topic, nearest, dates) -> str:
    where = f"on {span}" if span and span.granularity == "day" else f"in {span}" if span else "on that calendar day"
    message = f"no events {where}" + (" with topic " + ", ".join(topic) if topic else "")
    if nearest:
        message += "; nearest dates with events: " + ", ".join(d.isoformat() for d in nearest)
    return message
