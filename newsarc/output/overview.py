"""`topics`, `timeline` and `stats`: tables, a story line, and charts.

Rich output draws pictures (bars, a story line, a heat map); plain output is
tab-separated with topic names whole (they contain commas); JSON Lines
carries the same facts for scripts.
"""

from __future__ import annotations

import math
import sys
from itertools import groupby
from typing import TYPE_CHECKING

from newsarc.output.console import LocalPaths, Mode, linked_headline, make_console, plain_field, printable, slug_line, write_json
from newsarc.features.overview import Step, Timeline, Topic

if TYPE_CHECKING:
    from newsarc.features.stats import Stats
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"
_HEAT = ("·", "░", "▒", "▓", "█")  # none, then four levels of "more"
_HEAT_STYLES = ("dim", "green", "green", "bold green", "bold green")
LONG_RANGE = 24  # months; beyond this a bar per month is too tall, so draw a heat map
BAR_WIDTH = 30


def _iso(day) -> str:
    return day.isoformat() if day else ""


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighths of a cell; any non-zero value shows at least a sliver."""
    if value <= 0 or largest <= 0:
        return ""
    eighths = max(1, round(value / largest * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def sparkline(values: list[int], width: int) -> str:
    """One character per value (summed into buckets when there are more than `width`); blank for zero."""
    if not values:
        return ""
    size = math.ceil(len(values) / max(width, 1))
    buckets = [sum(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(buckets) or 1
    return "".join(_SPARKS[min(7, (v * 8 - 1) // top)] if v else " " for v in buckets)


# -- topics -------------------------------------------------------------------


def render_topics(topics: list[Topic], mode: Mode) -> None:
    {Mode.RICH: _rich_topics, Mode.PLAIN: _plain_topics, Mode.JSON: _json_topics}[mode](topics)


def topic_record(topic: Topic) -> dict:
    return {
        "topic": topic.name,
        "count": topic.count,
        "first": _iso(topic.first) or None,
        "last": _iso(topic.last) or None,
        "spellings": topic.spellings,
    }


def _json_topics(topics: list[Topic]) -> None:
    for topic in topics:
        write_json(topic_record(topic))


def _plain_topics(topics: list[Topic]) -> None:
    """topic, events, first date, last date (tab-separated; names keep their commas)."""
    for topic in topics:
        sys.stdout.write(f"{plain_field(topic.name)}\t{topic.count}\t{_iso(topic.first)}\t{_iso(topic.last)}\n")


def _rich_topics(topics: list[Topic]) -> None:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    largest = max((t.count for t in topics), default=0)
    bar_width = min(20, console.width - 64)  # the bar goes first when the terminal is narrow
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("Topic", ratio=1, min_width=16, overflow="fold")
    table.add_column("Events", justify="right", no_wrap=True, min_width=6)
    if bar_width > 0:
        table.add_column("", style="green", no_wrap=True, width=bar_width)
    table.add_column("First", style="cyan", no_wrap=True, min_width=10)
    table.add_column("Last", style="cyan", no_wrap=True, min_width=10)
    for topic in topics:
        bars = [bar(topic.count, largest, bar_width)] if bar_width > 0 else []
        table.add_row(Text(printable(topic.name)), str(topic.count), *bars, _iso(topic.first), _iso(topic.last))
    console.print(table)


# -- timeline -----------------------------------------------------------------


def render_timeline(line: Timeline, mode: Mode, root) -> None:
    {Mode.RICH: _rich_timeline, Mode.PLAIN: _plain_timeline, Mode.JSON: _json_timeline}[mode](line, root)


def step_record(step: Step, topic: Topic) -> dict:
    event = step.event
    return {
        "path": event.path,
        "date": _iso(event.date) or None,
        "title": event.title,
        "topic": topic.name,
        "topics": event.topics,
        "sources": event.source_count,
        "days_since_previous": step.gap_days,
        "gap": step.gap,
    }


def _json_timeline(line: Timeline, root) -> None:
    for step in line.steps:
        write_json(step_record(step, line.topic))


def _plain_timeline(line: Timeline, root) -> None:
    """date, path, headline, and the quiet days before it when longer than --gap (else empty)."""
    local = LocalPaths(root)
    for step in line.steps:
        event = step.event
        gap = str(step.gap_days) if step.gap else ""
        sys.stdout.write(f"{_iso(event.date)}\t{printable(local(event.path))}\t{plain_field(event.title)}\t{gap}\n")


def _rich_timeline(line: Timeline, root) -> None:
    from rich.text import Text

    console = make_console()
    console.print(_timeline_head(line))
    width = max(console.width - 13, 20)  # rail and date take 13 columns
    for month, group in groupby(line.steps, key=lambda s: s.event.date.strftime("%B %Y") if s.event.date else "Undated"):
        steps = list(group)
        if steps[0].gap:
            _print_gap(console, steps[0].gap_days)
        console.print()
        console.print(Text.assemble((month, "bold"), (f"  {_count(len(steps), 'event')}", "dim")))
        for step in steps:
            if step is not steps[0] and step.gap:
                _print_gap(console, step.gap_days)
            _print_step(console, step, width, root)


def _timeline_head(line: Timeline) -> Text:
    from rich.text import Text

    topic = line.topic
    dates = [s.event.date for s in line.steps if s.event.date]
    head = Text(printable(topic.name), style="bold cyan", end="")
    head = Text.assemble(head)
    head.append(f"  {_count(len(line.steps), 'event')}", style="dim")
    if dates:
        head.append(f", {dates[0]:%-d %b %Y} – {dates[-1]:%-d %b %Y}", style="dim")
    head.append(f", {_count(line.gaps, 'gap')} longer than {line.gap} days", style="dim")
    return head


def _print_step(console, step: Step, width: int, root) -> None:
    from rich.text import Text

    event = step.event
    when = f"{event.date:%a} {event.date.day:>2}" if event.date else "—"
    lines = linked_headline(event.title, root, event.path).wrap(console, width)
    slug = slug_line(event.slug)
    slug.truncate(width)
    for i, text in enumerate([*lines, slug]):  # the slug last: what show and related take
        rail = Text("  ● ", style="cyan") if i == 0 else Text("  │ ", style="cyan")
        console.print(Text.assemble(rail, (when if i == 0 else "", "cyan"), " " * (9 - (len(when) if i == 0 else 0)), text))


def _print_gap(console, days: int | None) -> None:
    from rich.text import Text

    console.print(Text("  ┆", style="yellow"))
    console.print(Text.assemble(("  ┆ ", "yellow"), (f"{days} days without events", "yellow italic")))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- stats --------------------------------------------------------------------


def render_stats(result: Stats, mode: Mode) -> None:
    {Mode.RICH: _rich_stats, Mode.PLAIN: _plain_stats, Mode.JSON: _json_stats}[mode](result)


def stats_record(result: Stats) -> dict:
    span = result.span
    return {
        "from": _iso(span.start) or None if span else None,
        "to": _iso(span.end) or None if span else None,
        "events": result.events,
        "undated": result.undated,
        "first": _iso(result.first) or None,
        "last": _iso(result.last) or None,
        "days": result.days,
        "per_year": {str(year): n for year, n in result.per_year},
        "per_month": dict(result.per_month),
        "busiest_days": [{"date": day.isoformat(), "count": n} for day, n in result.busiest_days],
        "topics": result.topics,
        "top_topics": [{"topic": name, "count": n} for name, n in result.top_topics],
        "sources": result.sources,
        "top_publishers": [{"publisher": name, "count": n} for name, n in result.top_publishers],
        "top_domains": [{"domain": name, "count": n} for name, n in result.top_domains],
        "internal_links": result.links_checked,
        "broken_links": result.broken_links,
        "broken_by_role": result.broken_by_role,
        "files_with_diagnostics": result.files_with_diagnostics,
        "diagnostics": result.diagnostics,
    }


def _json_stats(result: Stats) -> None:
    write_json(stats_record(result))


def _plain_stats(result: Stats) -> None:
    """`key<TAB>value` lines; repeated keys (year, month, day, topic, ...) carry a name and a count."""
    rows: list[tuple] = [
        ("events", result.events),
        ("undated", result.undated),
        ("first", _iso(result.first)),
        ("last", _iso(result.last)),
        ("days", result.days),
        ("topics", result.topics),
        ("sources", result.sources),
        ("internal-links", result.links_checked),
        ("broken-links", result.broken_links),
        ("files-with-diagnostics", result.files_with_diagnostics),
    ]
    rows += [("broken", role, n) for role, n in result.broken_by_role.items()]
    rows += [("year", y, n) for y, n in result.per_year]
    rows += [("month", m, n) for m, n in result.per_month]
    rows += [("day", d.isoformat(), n) for d, n in result.busiest_days]
    rows += [("topic", plain_field(t), n) for t, n in result.top_topics]
    rows += [("publisher", plain_field(p), n) for p, n in result.top_publishers]
    rows += [("domain", plain_field(d), n) for d, n in result.top_domains]
    sys.stdout.write("".join("\t".join(str(v) for v in row) + "\n" for row in rows))


def _rich_stats(result: Stats) -> None:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    console.print(_stats_head(result))
    if not result.events:
        return
    _section(console, "Events per year", _bars(console, [(str(y), n) for y, n in result.per_year]))
    if len(result.per_month) <= LONG_RANGE:
        _section(console, "Events per month", _bars(console, result.per_month))
    else:
        _section(console, "Events per month", _heat_map(result.per_month))
        spark = sparkline([n for _, n in result.per_month], console.width - 20)
        console.print(Text.assemble(f"  {result.per_month[0][0]} ", (spark, "green"), f" {result.per_month[-1][0]}"))
    days = [(f"{d.isoformat()} {d:%a}", n) for d, n in result.busiest_days]
    _section(console, "Busiest days", _bars(console, days))
    _section(console, "Top topics", _bars(console, result.top_topics))
    sources = Table.grid(padding=(0, 4))
    sources.add_row(_ranking("Top publishers", result.top_publishers), _ranking("Top source domains", result.top_domains))
    console.print()
    console.print(sources)


def _stats_head(result: Stats) -> Text:
    from rich.text import Text

    span = result.span
    where = f"{_iso(result.first)} – {_iso(result.last)}" if result.first else "no dated events"
    if span and (span.start or span.end):
        where += f"  (range {span})"
    head = Text.assemble(("Archive at a glance", "bold cyan"), ("  " + where, "dim"), "\n")
    head.append(f"  {_count(result.events, 'event')} on {_count(result.days, 'day')}")
    if result.undated:
        head.append(f" (+{result.undated} undated)")
    head.append(f" · {_count(result.topics, 'topic')} · {_count(result.sources, 'source')}\n")
    broken_style = "bold red" if result.broken_links else "green"
    head.append(f"  {_count(result.broken_links, 'broken internal link')}", style=broken_style)
    head.append(f" (of {result.links_checked} checked)", style="dim")
    diag_style = "yellow" if result.files_with_diagnostics else "green"
    head.append(" · ")
    head.append(f"{result.files_with_diagnostics} files with diagnostics", style=diag_style)
    return head


def _section(console, title: str, body) -> None:
    from rich.text import Text

    console.print()
    console.print(Text(title, style="bold underline"))
    console.print(body)


def _bars(console, rows: list[tuple[str, int]]) -> Table:
    """Label, bar, count: the one chart every section uses; the bar shrinks to fit the terminal."""
    from rich.table import Table
    from rich.text import Text

    largest = max((n for _, n in rows), default=0)
    label = min(40, max((len(name) for name, _ in rows), default=0) + 2)
    width = max(5, min(BAR_WIDTH, console.width - label - len(str(largest)) - 2))
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column(style="green", no_wrap=True)
    table.add_column(justify="right")
    for name, n in rows:
        table.add_row(Text(f"  {printable(name)}"), bar(n, largest, width), str(n))
    return table


def _heat_map(months: list[tuple[str, int]]) -> Group:
    """Years down, months across, shaded by count; months outside the range stay blank."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    counts = dict(months)
    largest = max(counts.values(), default=0) or 1
    years = sorted({int(m[:4]) for m in counts})
    table = Table(box=None, padding=(0, 0), pad_edge=False, show_header=True, header_style="dim")
    table.add_column("", no_wrap=True)
    for name in "JFMAMJJASOND":
        table.add_column(name, no_wrap=True, width=2)
    table.add_column("", justify="right", no_wrap=True)
    for year in years:
        cells = [_heat_cell(counts.get(f"{year:04d}-{m:02d}"), largest) for m in range(1, 13)]
        total = sum(counts.get(f"{year:04d}-{m:02d}", 0) for m in range(1, 13))
        table.add_row(f"  {year} ", *cells, f"  {total}")
    legend = Text("  " + "  ".join(f"{g} {label}" for g, label in zip(_HEAT, _levels(largest))), style="dim")
    return Group(table, legend)


def _heat_level(count: int, largest: int) -> int:
    return 0 if count <= 0 else min(4, 1 + (count * 4 - 1) // largest)


def _heat_cell(count: int | None, largest: int) -> Text:
    from rich.text import Text

    if count is None:
        return Text("  ")
    level = _heat_level(count, largest)
    return Text(_HEAT[level] + " ", style=_HEAT_STYLES[level])


def _levels(largest: int) -> list[str]:
    """Legend labels: the counts each shade stands for (inverting `_heat_level`)."""
    labels = ["0"]
    for level in range(1, 5):
        low = max(1, -(-((level - 1) * largest + 1) // 4))
        high = min(largest, level * largest // 4)
        labels.append("-" if low > high else str(low) if low == high else f"{low}–{high}")
    return labels


def _ranking(title: str, rows: list[tuple[str, int]]) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, padding=(0, 1), pad_edge=False, show_header=False)
    table.add_column(no_wrap=True, overflow="ellipsis", max_width=32)
    table.add_column(justify="right", style="green")
    for name, n in rows:
        table.add_row(Text(f"  {printable(name)}"), str(n))
    if not rows:
        table.add_row("  none", "")
    return Group(Text(title, style="bold underline"), table)
