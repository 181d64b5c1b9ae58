"""`list-by-date`: events grouped by day."""

from __future__ import annotations

import sys
from itertools import groupby

from newsarc.features.lookup import Listing
from newsarc.model import Event
from newsarc.output.console import LocalPaths, Mode, capped, headline_and_slug, make_console, plain_field, printable, write_json


def render(result: Listing, mode: Mode, root) -> None:
    {Mode.RICH: _rich, Mode.PLAIN: _plain, Mode.JSON: _json}[mode](result, root)


def render_count(count: int, json_lines: bool) -> None:
    """list-by-date --count: the number alone, or as one JSON object."""
    if json_lines:
        write_json({"count": count})
    else:
        print(count)


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
        topics = plain_field("; ".join(event.topics))
        out.write(f"{day}\t{printable(local(event.path))}\t{plain_field(event.title)}\t{topics}\t{event.source_count}\n")


def _rich(result: Listing, root) -> None:
    """Each event: its headline (a link to the file), its slug for `show` and `related`, its topics
    and how many sources it cites. Below 90 columns the topics go under the headline: a column
    of its own shrank to a word a line."""
    from rich.text import Text

    console = make_console()
    narrow = console.width < 90
    for day, group in groupby(result.events, key=lambda e: e.date):
        events = list(group)
        when = day.strftime("%A, %-d %B %Y") if day else "undated"
        noun = "event" if len(events) == 1 else "events"
        console.print(Text.assemble((when, "bold cyan"), (f"  {len(events)} {noun}", "dim")))
        console.print(_narrow(events, root) if narrow else _table(events, root))
        console.print()


def _sources(event: Event) -> str:
    return f"{event.source_count} source" if event.source_count == 1 else f"{event.source_count} sources"


def _table(events: list[Event], root):
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
    table.add_column("title", ratio=3)
    table.add_column("topics", ratio=2, style="dim")
    table.add_column("sources", justify="right", style="green", no_wrap=True)
    for event in events:
        topics = capped(printable("; ".join(event.topics)), "topic list")
        table.add_row(headline_and_slug(event.title, root, event.path, event.slug), topics, _sources(event))
    return table


def _narrow(events: list[Event], root):
    from rich.console import Group
    from rich.padding import Padding

    rows = []
    for i, event in enumerate(events):
        facts = capped(printable("; ".join(event.topics)), "topic list")
        facts.stylize("dim")
        facts.append(("  " if event.topics else "") + _sources(event), style="green")
        gap = 1 if i < len(events) - 1 else 0  # one event's lines never run into the next's headline
        rows.append(Padding(Group(headline_and_slug(event.title, root, event.path, event.slug), facts), (0, 0, gap, 1)))
    return Group(*rows)
