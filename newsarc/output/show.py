"""`show`: one event in full."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from newsarc.features.lookup import EventDetail, RelatedTarget
from newsarc.model import jsonable
from newsarc.output.console import LocalPaths, Mode, capped, file_url, headline_and_slug, isatty, linked, make_console, plain_field, printable, printable_lines, write_json

if TYPE_CHECKING:
    from rich.text import Text


def render(detail: EventDetail, mode: Mode, root: str) -> None:
    {Mode.RICH: _rich, Mode.PLAIN: _plain, Mode.JSON: _json}[mode](detail, root)


def render_raw(data: bytes) -> None:
    """The file's bytes (show --raw) for a pipe; on a terminal, which would obey the escapes in them, shown printable."""
    if isatty(sys.stdout):
        sys.stdout.write(printable_lines(data.decode("utf-8", "surrogateescape").replace("\r\n", "\n")))
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)


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
    return plain_field("; ".join(topics))  # topic names may contain commas


def _plain(detail: EventDetail, root: str) -> None:
    event, out, local = detail.event, sys.stdout, LocalPaths(root)
    lines = [
        f"path: {printable(local(event.path))}",
        f"date: {event.date.isoformat() if event.date else ''}",
        f"title: {plain_field(event.title)}",
        f"topics: {_topics(event.topics)}",
    ]
    lines += [f"source: {plain_field(s.publisher)} <{printable(s.url)}>" for s in event.sources]
    if event.cover:
        lines.append(f"cover: {printable(event.cover)}")
    for item in detail.related:
        state = "exists" if item.exists else "missing"
        lines.append(f"related: {printable(item.entry.target)}\t{state}\t{plain_field(item.entry.title)}\t{_topics(item.entry.topics)}")
    lines += [f"linked-from: {printable(local(e.path))}" for e in detail.backlinks]
    lines += [f"meta.{plain_field(key)}: {plain_field(jsonable(value))}" for key, value in event.meta.items()]
    lines += [f"diagnostic: {printable(d.shown(local(d.path)))}" for d in event.diagnostics]
    out.write("\n".join(lines) + "\n\n" + printable_lines(event.body) + "\n")
    for name, text in event.sections.items():
        out.write(f"\n{printable(name)}:\n{printable_lines(text)}\n")


def _rich(detail: EventDetail, root: str) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    event = detail.event
    console = make_console()
    when = event.date.strftime("%A, %-d %B %Y") if event.date else "undated"
    local = LocalPaths(root)
    head = Text.assemble((when, "bold cyan"), "  ", (printable(local(event.path)), linked("dim", file_url(root, event.path))))
    console.print(head)
    console.print(Text(printable(event.title) or "(no headline)", style="bold"))
    if event.topics:
        console.print(Text.assemble(("Topics: ", "dim"), _topics(event.topics)))
    console.print()
    if event.body:
        for paragraph in event.body.split("\n\n"):
            console.print(Padding(capped(printable_lines(paragraph), "paragraph"), (0, 0, 1, 0)))
    for name, text in event.sections.items():
        console.print(Text(printable(name), style="bold underline"))
        console.print(Padding(capped(printable_lines(text), "section"), (0, 0, 1, 2)))
    _sources(console, detail)
    _related(console, detail, root)
    _backlinks(console, detail, root)
    if event.meta:
        console.print(Text("Front matter", style="bold underline"))
        table = Table.grid(padding=(0, 1))  # a long value wraps under itself, not back to the margin
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in event.meta.items():
            table.add_row(Text(f"  {printable(str(key))}:"), capped(printable_lines(_meta_value(value)), "value"))
        console.print(table)
    for diagnostic in event.diagnostics:
        console.print(Text(f"! {printable(diagnostic.shown(local(diagnostic.path)))}", style="yellow"))


def _meta_value(value) -> str:
    """A front matter value as a reader writes it: a list as `a, b`, not Python's `['a', 'b']`."""
    value = jsonable(value)
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


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
            url = Text(printable(source.url), style=linked("", source.url))
            table.add_row(Text(f"  {printable(source.publisher)}"), Text(printable(source.domain)), url)
        console.print(table)
    if event.cover:
        console.print(Text.assemble(("Cover image ", "bold"), (printable(event.cover), linked("dim", event.cover))), overflow="fold")
    if event.sources or event.cover:
        console.print()


def _related(console, detail: EventDetail, root: str) -> None:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    if not detail.related:
        return
    missing = sum(not r.exists for r in detail.related)
    title = f"Related ({len(detail.related)}" + (f", {missing} missing)" if missing else ")")
    console.print(Text(title, style="bold underline"))
    narrow = console.width < 120  # a topics column of its own shrank to a word a line
    table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False, expand=True)
    table.add_column("ok", no_wrap=True, width=3)
    table.add_column("date", style="cyan", no_wrap=True, width=10)
    table.add_column("headline", ratio=3)
    if not narrow:
        table.add_column("topics", style="dim", ratio=1)
    for item in detail.related:
        mark, when, headline, topics = _related_row(item, root)
        table.add_row(mark, when, Group(headline, topics) if narrow else headline, *([] if narrow else [topics]))
    console.print(table)
    console.print()


def _related_row(item: RelatedTarget, root: str):
    """✓ or ✗, date, the headline (a link to the file, its slug under it for `show`), topics."""
    from rich.text import Text

    mark = Text("  ✓", style="green") if item.exists else Text("  ✗", style="red")
    when = item.event.date.isoformat() if item.event and item.event.date else ""
    headline = _headline(item.entry.title or item.entry.target, item.event, root)
    if not item.exists:
        hint = f" (exists as /{printable(item.other_spelling)})" if item.other_spelling else ""
        headline = Text(printable(item.entry.title or item.entry.target))
        headline.append(f"\nmissing: {printable(item.entry.target)}{hint}", style="red")
    return mark, when, headline, Text(_topics(item.entry.topics), style="dim")


def _headline(title: str, event, root: str):
    """A headline linked to its event's file, with the slug to pass on; plain for a missing one."""
    from rich.text import Text

    return Text(printable(title)) if event is None else headline_and_slug(title, root, event.path, event.slug)


def _backlinks(console, detail: EventDetail, root: str) -> None:
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
        table.add_row("", event.date.isoformat() if event.date else "", _headline(event.title, event, root))
    console.print(table)
