"""`show`: one event in full."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from newsarc.lookup import EventDetail, RelatedTarget
from newsarc.model import jsonable
from newsarc.output.console import Mode, capped, make_console, plain_field, write_json

if TYPE_CHECKING:
    from rich.text import Text


def render(detail: EventDetail, mode: Mode, root: str) -> None:
    {Mode.RICH: _rich, Mode.PLAIN: _plain, Mode.JSON: _json}[mode](detail, root)


def _json(detail: EventDetail, root: str) -> None:
    record = detail.event.to_dict()
    for entry, item in zip(record["related"], detail.related):
        entry["resolved"] = item.target.path or None
        entry["exists"] = item.exists
        if item.other_spelling:
            entry["exists_as"] = item.other_spelling
    record["linked_from"] = [e.path for e in detail.backlinks]
    write_json(record)


def _topics(topics: list[str]) -> str:
    return "; ".join(topics)  # topic names may contain commas


def _plain(detail: EventDetail, root: str) -> None:
    event, out = detail.event, sys.stdout
    lines = [
        f"path: {event.path}",
        f"date: {event.date.isoformat() if event.date else ''}",
        f"title: {plain_field(event.title)}",
        f"topics: {_topics(event.topics)}",
    ]
    lines += [f"source: {plain_field(s.publisher)} <{s.url}>" for s in event.sources]
    if event.cover:
        lines.append(f"cover: {event.cover}")
    for item in detail.related:
        state = "exists" if item.exists else "missing"
        lines.append(f"related: {item.entry.target}\t{state}\t{plain_field(item.entry.title)}\t{_topics(item.entry.topics)}")
    lines += [f"linked-from: {e.path}" for e in detail.backlinks]
    lines += [f"meta.{key}: {plain_field(jsonable(value))}" for key, value in event.meta.items()]
    lines += [f"diagnostic: {d}" for d in event.diagnostics]
    out.write("\n".join(lines) + "\n\n" + event.body + "\n")
    for name, text in event.sections.items():
        out.write(f"\n{name}:\n{text}\n")


def _rich(detail: EventDetail, root: str) -> None:
    from rich.padding import Padding
    from rich.text import Text

    event = detail.event
    console = make_console()
    when = event.date.strftime("%A, %-d %B %Y") if event.date else "undated"
    head = Text.assemble((when, "bold cyan"), "  ", (event.path, "dim"))
    console.print(head)
    console.print(Text(event.title or "(no headline)", style="bold"))
    if event.topics:
        console.print(Text.assemble(("Topics: ", "dim"), _topics(event.topics)))
    console.print()
    if event.body:
        for paragraph in event.body.split("\n\n"):
            console.print(Padding(capped(paragraph, "paragraph"), (0, 0, 1, 0)))
    for name, text in event.sections.items():
        console.print(Text(name, style="bold underline"))
        console.print(Padding(capped(text, "section"), (0, 0, 1, 2)))
    _sources(console, detail)
    _related(console, detail)
    _backlinks(console, detail)
    if event.meta:
        console.print(Text("Front matter", style="bold underline"))
        for key, value in event.meta.items():
            console.print(Text.assemble("  ", (f"{key}: ", "dim"), str(jsonable(value))))
    for diagnostic in event.diagnostics:
        console.print(Text(f"! {diagnostic}", style="yellow"))


def _sources(console, detail: EventDetail) -> None:
    from rich.table import Table
    from rich.text import Text

    event = detail.event
    if event.sources:
        console.print(Text(f"Sources ({len(event.sources)})", style="bold underline"))
        table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False)
        table.add_column("publisher", style="bold", no_wrap=True)
        table.add_column("domain", style="green", no_wrap=True)
        table.add_column("url", style="dim", overflow="fold")
        for source in event.sources:
            table.add_row(f"  {source.publisher}", source.domain, Text(source.url, style=f"link {source.url}"))
        console.print(table)
    if event.cover:
        console.print(Text.assemble(("Cover image ", "bold"), (event.cover, f"dim link {event.cover}")), overflow="fold")
    if event.sources or event.cover:
        console.print()


def _related(console, detail: EventDetail) -> None:
    from rich.table import Table
    from rich.text import Text

    if not detail.related:
        return
    missing = sum(not r.exists for r in detail.related)
    title = f"Related ({len(detail.related)}" + (f", {missing} missing)" if missing else ")")
    console.print(Text(title, style="bold underline"))
    table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False, expand=True)
    table.add_column("ok", no_wrap=True, width=3)
    table.add_column("date", style="cyan", no_wrap=True, width=10)
    table.add_column("headline", ratio=3)
    table.add_column("topics", style="dim", ratio=1)
    for item in detail.related:
        table.add_row(*_related_row(item))
    console.print(table)
    console.print()


def _related_row(item: RelatedTarget) -> tuple[Text, str, Text, str]:
    from rich.text import Text

    mark = Text("  ✓", style="green") if item.exists else Text("  ✗", style="red")
    when = item.event.date.isoformat() if item.event and item.event.date else ""
    headline = Text(item.entry.title or item.entry.target)
    if not item.exists:
        hint = f" (exists as /{item.other_spelling})" if item.other_spelling else ""
        headline.append(f"\nmissing: {item.entry.target}{hint}", style="red")
    return mark, when, headline, _topics(item.entry.topics)


def _backlinks(console, detail: EventDetail) -> None:
    from rich.table import Table
    from rich.text import Text

    count = len(detail.backlinks)
    noun = "event" if count == 1 else "events"
    console.print(Text(f"Linked from {count} {noun}", style="bold underline"))
    table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False, expand=True)
    table.add_column("pad", width=3)
    table.add_column("date", style="cyan", no_wrap=True, width=10)
    table.add_column("headline")
    for event in detail.backlinks:
        table.add_row("", event.date.isoformat() if event.date else "", event.title)
    console.print(table)
