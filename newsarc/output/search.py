"""`search`: matching lines grouped by event, grep lines when piped, or JSON Lines.

Views: "lines" (the default), "paths" (-l), "count" (-c) and "events"
(-v: the events that do not match, which have no lines to show).
Plain output follows grep so editors and scripts read it:
`path:line:column:text` for a match, `path-line-text` for context, `--`
between context groups; paths are relative to the current folder.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from newsarc.model import Event
from newsarc.output.console import LocalPaths, Mode, make_console, printable, printable_lines, printable_spans, write_json
from newsarc.features.search import Found, Line, Result

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

MATCH_STYLE = "bold red"  # ripgrep's colours: paths magenta, line numbers green, matches red


def render(result: Result, mode: Mode, root, view: str = "lines") -> None:
    paths = LocalPaths(root)
    {Mode.RICH: _rich, Mode.PLAIN: _plain, Mode.JSON: _json}[mode](result, paths, view)


# -- JSON Lines -------------------------------------------------------------------


def _event_record(event: Event) -> dict[str, Any]:
    return {"path": event.path, "date": event.date.isoformat() if event.date else None, "title": event.title}


def line_record(event: Event, line: Line) -> dict[str, Any]:
    """One matching line: where it is, what it says, and each match in it (columns count characters)."""
    record = _event_record(event)
    matches = [{"column": start + 1, "match": line.text[start:end]} for start, end in line.spans]
    record.update(
        field=line.field,
        line=line.line,
        column=line.column,
        match=matches[0]["match"] if matches else "",
        text=line.text.rstrip("\r"),
        matches=matches,
    )
    return record


def _json(result: Result, paths: LocalPaths, view: str) -> None:
    for found in result.found:
        score = {"score": round(found.score, 4)} if found.score else {}  # with --sort relevance
        if view == "lines":
            for line in found.lines:
                if not line.context:
                    write_json({**line_record(found.event, line), **score})
        elif view == "count":
            write_json({**_event_record(found.event), "count": found.count, **score})
        else:
            write_json({**_event_record(found.event), **score})


# -- plain (grep) -----------------------------------------------------------------


def _plain(result: Result, paths: LocalPaths, view: str) -> None:
    write = sys.stdout.write
    if view == "count":
        for found in result.found:
            write(f"{printable(paths(found.event.path))}:{found.count}\n")
        return
    if view != "lines":
        for found in result.found:
            write(printable(paths(found.event.path)) + "\n")
        return
    grouped = result.context  # as grep and rg: with context asked for, "--" between events too
    for n, found in enumerate(result.found):
        path = printable(paths(found.event.path))
        if grouped and n:
            write("--\n")
        for line in found.lines:
            if line.gap:
                write("--\n")
            write(_plain_line(path, line))


def _plain_line(path: str, line: Line) -> str:
    text = printable_lines(line.text.rstrip("\r"))
    if line.context:
        return f"{path}-{line.line}-{text}\n"
    return f"{path}:{line.line}:{line.column}:{text}\n"


# -- rich -------------------------------------------------------------------------


def _rich(result: Result, paths: LocalPaths, view: str) -> None:
    from rich.text import Text

    console = make_console()
    if view == "paths":
        for found in result.found:
            console.print(Text(printable(paths(found.event.path)), style="magenta"))
    else:
        for found in result.found:
            console.print(_heading(found, paths, view))
            if view == "lines":
                console.print(_lines_table(found))
                console.print()
    _summary(result)


def _heading(found: Found, paths: LocalPaths, view: str) -> Text:
    from rich.text import Text

    event = found.event
    when = event.date.isoformat() if event.date else "undated"
    heading = Text.assemble((when, "bold cyan"), "  ", (printable(event.title) or "(no headline)", "bold"))
    if view == "count":
        noun = "line" if found.count == 1 else "lines"
        heading.append(f"  {found.count} matching {noun}", style="green")
    heading.append("\n" + printable(paths(event.path)), style="magenta")
    return heading


def _lines_table(found: Found) -> Table:
    """Line number, field and text in columns, so long paragraphs wrap under their text."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
    table.add_column("line", justify="right", style="green", no_wrap=True)
    table.add_column("field", style="dim", no_wrap=True)
    table.add_column("text", ratio=1)
    for line in found.lines:
        if line.gap:
            table.add_row("", "", Text("⋮", style="dim"))
        table.add_row(str(line.line), line.field, _shown(_printable(line)))
    return table


def _printable(line: Line) -> Line:
    """The line as `printable_lines` shows it, its matches still marked."""
    text, spans = printable_spans(line.text.rstrip("\r"), line.spans)
    return line if text is line.text else Line(line.field, line.line, text, spans, line.context, line.gap)


MAX_SHOWN = 1000  # characters of one line on a terminal (ripgrep's --max-columns-preview, roughly)
SHOWN_BYTES = 4 * MAX_SHOWN  # what _shown can mark after a line's first match, in UTF-8 bytes at most


def _shown(line: Line) -> Text:
    """The line with its matches coloured; a long line only around its first match.

    Laying out a 10 MB single-line file with every match styled took rich
    20 s and 1 GB; --plain and --json still print the whole line.
    """
    from rich.text import Text

    whole = line.text.rstrip("\r")
    start = 0
    if len(whole) > MAX_SHOWN:
        first = line.spans[0][0] if line.spans else 0
        start = max(0, min(first - MAX_SHOWN // 10, len(whole) - MAX_SHOWN))
    end = start + MAX_SHOWN
    text = Text.assemble(("…" if start else "", "dim"), (whole[start:end], "dim" if line.context else ""))
    shift = len(text.plain) - len(whole[start:end]) - start
    for a, b in line.spans:
        if a >= end:
            break
        if b > start:
            text.stylize(MATCH_STYLE, max(a, start) + shift, min(b, end) + shift)
    if end < len(whole):
        text.append(f"… [{len(whole) - end:,} more characters: --plain shows the whole line]", style="dim")
    return text


def _summary(result: Result) -> None:
    """Counts go to stderr, never mixed with results."""
    from rich.text import Text

    shown = len(result.found)
    noun = "event" if shown == 1 else "events"
    message = f"{shown} {noun}"
    if result.selected is not None and result.selected > shown:
        message = f"{shown} of {result.selected} matching events shown (raise --limit for more)"
    make_console(stderr=True).print(Text(f"{message}; {result.searched} searched", style="dim"))
