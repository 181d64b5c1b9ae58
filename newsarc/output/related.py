"""`related`: a ranked table, a tree of links (--depth), or a story line (--timeline).

Plain lines, tab-separated, one per related event:
  ranked:    score, date, path, headline, reasons ("; " between them)
  tree:      depth, direction (out/in/both), score, date, path, headline, reasons, parent path
  timeline:  date, mark ("*" for the event itself, "" otherwise), score, path, headline, reasons
Paths are as the shell sees them; a missing target's path is where its link points.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from newsarc.model import Event
from newsarc.output.console import Mode, linked_headline, local_path, make_console, plain_field, printable, slug_line, write_json
from newsarc.features.related import BOTH, IN, OUT, Item, Moment, Node, Ranking

if TYPE_CHECKING:
    from rich.text import Text
    from rich.tree import Tree

ARROWS = {OUT: "→", IN: "←", BOTH: "↔"}


def _day(item: Item) -> str:
    return item.date.isoformat() if item.date else ""


def _shown_path(root, path: str) -> str:
    """Paths as the user's shell sees them, like list-by-date; links that leave the archive as written."""
    if not path or "://" in path or path.startswith(("/", "..", "#")):
        return printable(path)
    return printable(local_path(root, path))


def record(item: Item) -> dict:
    """The JSON Lines record of one related item."""
    found = {
        "path": item.path,
        "date": item.date.isoformat() if item.date else None,
        "title": item.title,
        "score": item.score,
        "reasons": item.reasons,
        "sources": {name: round(value, 4) for name, value in item.scores.items()},
        "topics": item.topics,
        "terms": item.terms,
        "missing": item.missing,
    }
    if item.target:
        found["link"] = item.target
        found["context"] = item.context
    if item.exists_as:
        found["exists_as"] = item.exists_as
    if item.note:
        found["note"] = item.note
    return found


def _headline(item: Item, root) -> Text:
    """The headline, a link to the event's file (when there is one)."""
    from rich.text import Text

    text = linked_headline(item.title, root, item.path) if item.event is not None else Text(printable(item.title or item.path))
    if item.missing:
        hint = f" (exists as /{printable(item.exists_as)})" if item.exists_as else ""
        text.append(f"\nmissing: {printable(item.target)}{hint}", style="red")
    return text


def _slug(item: Item):
    """The event's slug on a dim line of its own, cropped (its start is what `show` takes)."""
    return None if item.event is None else slug_line(item.event.slug)


def _reasons(item: Item) -> str:
    return "; ".join(item.reasons)


# -- ranked list ---------------------------------------------------------------


def render_notes(result: Ranking | Node, items: list[Item], depth: int | None) -> None:
    """What the events shown leave out, on stderr: links to missing files, the weaker events the
    cut-off dropped (a ranking), the events within the depth the limit dropped (a tree)."""
    missing = sum(1 for item in items if item.missing)
    if missing:
        noun = "link points" if missing == 1 else "links point"
        sys.stderr.write(f"newsarc: {missing} related {noun} to a missing file (see: newsarc validate-links)\n")
    if isinstance(result, Ranking) and result.weaker:
        noun = "event" if result.weaker == 1 else "events"
        sys.stderr.write(
            f"newsarc: {result.weaker} weaker related {noun} left out (scores under {result.floor:.2f},"
            " or only a topic a fifth of the archive carries); --all shows them\n"
        )
    if isinstance(result, Node) and result.more:
        noun = "event" if result.more == 1 else "events"
        sys.stderr.write(f"newsarc: {result.more} more {noun} within depth {depth}; use --limit {len(items) + result.more} to see them\n")


def render(event: Event, items: list[Item], mode: Mode, root) -> None:
    {Mode.RICH: _rich, Mode.PLAIN: _plain, Mode.JSON: _json}[mode](event, items, root)


def _json(event: Event, items: list[Item], root) -> None:
    for item in items:
        write_json(record(item))


def _plain(event: Event, items: list[Item], root) -> None:
    out = sys.stdout
    for item in items:
        path = _shown_path(root, item.path)
        out.write(f"{item.score:.2f}\t{_day(item)}\t{path}\t{plain_field(item.title)}\t{plain_field(_reasons(item))}\n")


def _heading(console, event: Event, what: str) -> None:
    from rich.text import Text

    when = event.date.isoformat() if event.date else "undated"
    console.print(Text.assemble((what, "bold"), " ", (when, "cyan"), "  ", (printable(event.title or event.path), "bold")))


def _rich(event: Event, items: list[Item], root) -> None:
    from rich.table import Table

    console = make_console()
    _heading(console, event, f"{len(items)} related to")
    table = Table(box=None, padding=(0, 1), pad_edge=False, expand=True, header_style="dim")
    table.add_column("score", justify="right", style="bold", no_wrap=True)
    table.add_column("date", style="cyan", no_wrap=True, width=10)
    table.add_column("headline · why", ratio=1)
    for item in items:
        table.add_row(f"{item.score:.2f}", _day(item), _described(item, root))
    console.print(table)


def _described(item: Item, root):
    """The headline, its slug, then the reasons on a dim line of their own."""
    from rich.console import Group
    from rich.text import Text

    parts = [_headline(item, root), _slug(item)]
    reasons = [r for r in item.reasons if not r.startswith("missing")]
    if reasons:
        parts.append(Text(printable(" · ".join(reasons)), style="dim"))
    return Group(*(part for part in parts if part is not None))


# -- tree (--depth) ------------------------------------------------------------


def render_tree(root_node: Node, mode: Mode, root) -> None:
    {Mode.RICH: _tree_rich, Mode.PLAIN: _tree_plain, Mode.JSON: _tree_json}[mode](root_node, root)


def _tree_json(root_node: Node, root) -> None:
    for node in root_node.walk():
        write_json({**record(node.item), "depth": node.depth, "direction": node.direction, "via": node.via})


def _tree_plain(root_node: Node, root) -> None:
    out = sys.stdout
    for node in root_node.walk():
        item = node.item
        fields = [
            str(node.depth),
            node.direction,
            f"{item.score:.2f}",
            _day(item),
            _shown_path(root, item.path),
            plain_field(item.title),
            plain_field(_reasons(item)),
            _shown_path(root, node.via or ""),
        ]
        out.write("\t".join(fields) + "\n")


def _tree_label(node: Node, root):
    """Arrow, score, date and headline (the ranked list's order), the slug under them: the
    reasons are in --plain and --json. The score leads, so a narrow terminal cannot wrap it
    onto a line of its own."""
    from rich.console import Group
    from rich.text import Text

    item = node.item
    label = Text.assemble((ARROWS.get(node.direction, "") + " ", "bold"), (f"{item.score:.2f} ", "dim"), (_day(item) or "undated", "cyan"), "  ")
    headline = _headline(item, root)
    if item.missing:
        headline.stylize("red")
    label.append_text(headline)
    slug = _slug(item)
    return Group(label, slug) if slug is not None else label


def _tree_rich(root_node: Node, root) -> None:
    from rich.text import Text
    from rich.tree import Tree

    console = make_console()
    event = root_node.item
    tree = Tree(Text.assemble((_day(event) or "undated", "bold cyan"), "  ", (printable(event.title or event.path), "bold")))
    _grow(tree, root_node, root)
    console.print(tree)
    count = sum(1 for _ in root_node.walk())
    noun = "event" if count == 1 else "events"
    console.print(Text(f"{count} linked {noun}; → its parent links to it, ← it links to its parent, ↔ both", style="dim"))


def _grow(tree: Tree, root_node: Node, root) -> None:
    """Each node's branch under its parent's (a stack, not recursion: see Node.walk)."""
    stack = [(tree, root_node)]
    while stack:
        branch, node = stack.pop()
        stack.extend((branch.add(_tree_label(child, root)), child) for child in node.children)


# -- story line (--timeline) ---------------------------------------------------


def render_timeline(moments: list[Moment], mode: Mode, root) -> None:
    {Mode.RICH: _line_rich, Mode.PLAIN: _line_plain, Mode.JSON: _line_json}[mode](moments, root)


def _line_json(moments: list[Moment], root) -> None:
    for moment in moments:
        found = record(moment.item)
        if moment.this:
            found.update(score=None, reasons=["this event"])
        write_json({**found, "this": moment.this})


def _line_plain(moments: list[Moment], root) -> None:
    out = sys.stdout
    for moment in moments:
        item = moment.item
        score = "" if moment.this else f"{item.score:.2f}"
        reasons = "this event" if moment.this else _reasons(item)
        mark = "*" if moment.this else ""
        path = _shown_path(root, item.path)
        out.write(f"{_day(item)}\t{mark}\t{score}\t{path}\t{plain_field(item.title)}\t{plain_field(reasons)}\n")


def _line_rich(moments: list[Moment], root) -> None:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    table = Table(box=None, padding=(0, 1), pad_edge=False, expand=True, show_header=False)
    table.add_column("score", justify="right", style="bold", no_wrap=True, width=5)  # the ranked list's order
    table.add_column("date", style="cyan", no_wrap=True, width=10)
    table.add_column("mark", no_wrap=True, width=1)
    table.add_column("headline", ratio=1)
    for moment in moments:
        item = moment.item
        if moment.this:
            table.add_row("", Text(_day(item), style="bold cyan"), Text("▶", style="bold yellow"), Text(printable(item.title), style="bold yellow"))
        else:
            table.add_row(f"{item.score:.2f}", _day(item) or "undated", Text("│", style="dim"), _described(item, root))
    console.print(table)
