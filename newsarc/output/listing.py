"""`list-by-date`: events grouped by day."""

from __future__ import annotations

import sys
from itertools import groupby

from newsarc.lookup import Listing
from newsarc.model import Event
from newsarc.output.console import LocalPaths, Mode, capped, make_console, plain_field, write_json


def render(result: Listing, mode: Mode, root) -> None:
    {Mode.RICH: _rich, Mode.PLAIN: _plain, Mode.JSON: _json}[mode](result, root)


def record(event: Event) -> dict:
    return {
        "path": event.path,
        "date": event.date.isoformat() if event.date else None,
        "title": event.title,
        "topics": event.topics,
        "sources": event.source_count,
    }


def _json(result: Listing, root) -> None:
    for event in result.events:
        write_json(record(event))


def _plain(result: Listing, root) -> None:
    """date, path (relative to the current folder), headline, topics (; separated), sources."""
    out, local = sys.stdout, LocalPaths(root)
    for event in result.events:
        day = event.date.isoformat() if event.date else ""
        topics = "; ".join(event.topics)
        out.write(f"{day}\t{local(event.path)}\t{plain_field(event.title)}\t{topics}\t{event.source_count}\n")


def _rich(result: Listing, root) -> None:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    for day, group in groupby(result.events, key=lambda e: e.date):
        events = list(group)
        when = day.strftime("%A, %-d %B %Y") if day else "undated"
        noun = "event" if len(events) == 1 else "events"
        console.print(Text.assemble((when, "bold cyan"), (f"  {len(events)} {noun}", "dim")))
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column("title", ratio=3)
        table.add_column("topics", ratio=2, style="dim")
        table.add_column("sources", justify="right", style="green", no_wrap=True)
        for event in events:
            sources = f"{event.source_count} src"
            table.add_row(capped(event.title or event.path, "headline"), capped("; ".join(event.topics), "topic list"), sources)
        console.print(table)
        console.print()
