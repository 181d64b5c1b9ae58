"""`show`: one event in full."""

from __future__ import annotations

import sys

from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from newsarc.lookup import EventDetail, RelatedTarget
from newsarc.model import jsonable
from newsarc.output.console import Mode, make_console, plain_field, write_json


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
            console.print(Padding(Text(paragraph), (0, 0, 1, 0)))
    for name, text in event.sections.items():
        console.print(Text(name, style="bold underline"))
        console.print(Padding(Text(text), (0, 0, 1, 2)))
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
    event = detail.event
    if event.sources:
        console.print(Text(f"Sources ({len(event.sources)})", style="bold underline"))
        for source in event.sources:
            line = Text.assemble("  ", (source.publisher, "bold"), "  ", (source.domain, "green"))
            line.append("  ")
            line.append(source.url, style=f"dim link {source.url}")
            console.print(line)
    if event.cover:
        console.print(Text.assemble(("Cover image ", "bold"), (event.cover, f"dim link {event.cover}")))
    if event.sources or event.cover:
        console.print()


def _related_row(item: RelatedTarget) -> Text:
    mark = ("✓ ", "green") if item.exists else ("✗ ", "red")
    when = item.event.date.isoformat() if item.event and item.event.date else "          "
    line = Text.assemble("  ", mark, (when, "cyan"), "  ", item.entry.title or item.entry.target)
    if item.entry.topics:
        line.append("  " + _topics(item.entry.topics), style="dim")
    if not item.exists:
        hint = f" exists as /{item.other_spelling}" if item.other_spelling else ""
        line.append(f"  missing: {item.entry.target}{hint}", style="red")
    return line


def _related(console, detail: EventDetail) -> None:
    if not detail.related:
        return
    missing = sum(not r.exists for r in detail.related)
    title = f"Related ({len(detail.related)}" + (f", {missing} missing)" if missing else ")")
    console.print(Text(title, style="bold underline"))
    for item in detail.related:
        console.print(_related_row(item))
    console.print()


def _backlinks(console, detail: EventDetail) -> None:
    count = len(detail.backlinks)
    noun = "event" if count == 1 else "events"
    console.print(Text(f"Linked from {count} {noun}", style="bold underline"))
    for event in detail.backlinks:
        when = event.date.isoformat() if event.date else "undated"
        console.print(Text.assemble("  ", (when, "cyan"), "  ", event.title, ("  " + escape(event.path), "dim")))
