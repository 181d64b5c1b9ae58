"""`newsarc search PATTERN [PATTERN ...]`: ripgrep's flags, events instead of files."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from newsarc.cli.root import app
from newsarc.cli.options import (
    examples,
    ArchiveOpt,
    FromOpt,
    JsonOpt,
    PrettyOpt,
    RootOpt,
    ToOpt,
    TopicOpt,
)
from newsarc.cli.run import run_command

_CASE_KEY = "newsarc.features.search.case"


def _case(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> bool:
    """-i, -s and -S override each other; click runs callbacks in command-line order, so the last one wins."""
    if value:
        ctx.meta[_CASE_KEY] = param.name
    return value


Count = Annotated[int, typer.Option(min=0, show_default=False)]


@app.command(
    epilog=examples(
        "newsarc search \"Syria's\" -a examples",
        "newsarc search -i -w isil --on 2017 -a examples",
        "newsarc search --all eclipse Oregon --in all -a examples",
        "newsarc search -c -i palmyra --sort path -a examples",
        "newsarc search --raw --in all -l '&#x27;' -a examples",
        note="Patterns use RE2 syntax (like ripgrep's: no backreferences or lookaround); a match never spans lines.",
    ),
)
def search(
    ctx: typer.Context,
    patterns: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="PATTERN...",
            help="Regular expressions (RE2 syntax); an event matches if any of them does.",
            show_default=False,
        ),
    ] = None,
    regexp: Annotated[
        Optional[list[str]],
        typer.Option("--regexp", "-e", metavar="PATTERN", help="A pattern (repeatable; use for patterns starting with -).", show_default=False),
    ] = None,
    fixed_strings: Annotated[bool, typer.Option("--fixed-strings", "-F", help="Patterns are plain text, not regexes.")] = False,
    ignore_case: Annotated[
        bool, typer.Option("--ignore-case", "-i", callback=_case, help="Ignore case (Unicode case folding).")
    ] = False,
    case_sensitive: Annotated[
        bool, typer.Option("--case-sensitive", "-s", callback=_case, help="Match case exactly (the default).")
    ] = False,
    smart_case: Annotated[
        bool,
        typer.Option("--smart-case", "-S", callback=_case, help="Ignore case unless a pattern has an uppercase letter."),
    ] = False,
    word_regexp: Annotated[bool, typer.Option("--word-regexp", "-w", help="Match whole words only.")] = False,
    line_regexp: Annotated[bool, typer.Option("--line-regexp", "-x", help="Match whole lines (whole fields) only.")] = False,
    all_patterns: Annotated[
        bool, typer.Option("--all", help="Every pattern must match somewhere in the event (in any field).")
    ] = False,
    invert: Annotated[bool, typer.Option("--invert-match", "-v", help="List the events that do not match.")] = False,
    max_count: Annotated[
        Optional[int],
        typer.Option("--max-count", "-m", min=0, metavar="N", help="Show at most N matching lines per event.", show_default=False),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing; exit 0 if anything matched.")] = False,
    fields: Annotated[
        str,
        typer.Option(
            "--in",
            metavar="FIELDS",
            help="Fields to search, comma separated: title, body, sources, related, topics, or all.",
        ),
    ] = "title,body,topics",
    raw: Annotated[
        bool,
        typer.Option("--raw", help="Match the file text as written (entities not decoded); with --in all, the whole file."),
    ] = False,
    on: Annotated[
        Optional[str],
        typer.Option("--on", metavar="WHEN", help="Only events on this day, month, year or range (list-by-date's forms).", show_default=False),
    ] = None,
    from_: FromOpt = None,
    to: ToOpt = None,
    topic: TopicOpt = None,
    context: Annotated[Optional[int], typer.Option("--context", "-C", min=0, metavar="N", help="Show N lines around each match.", show_default=False)] = None,
    after_context: Annotated[Optional[int], typer.Option("--after-context", "-A", min=0, metavar="N", help="Show N lines after each match.", show_default=False)] = None,
    before_context: Annotated[Optional[int], typer.Option("--before-context", "-B", min=0, metavar="N", help="Show N lines before each match.", show_default=False)] = None,
    files_with_matches: Annotated[bool, typer.Option("--files-with-matches", "-l", help="Print only the paths of matching events.")] = False,
    count: Annotated[bool, typer.Option("--count", "-c", help="Print the number of matching lines per event.")] = False,
    sort: Annotated[
        str, typer.Option("--sort", metavar="date|path|relevance", help="Order events by date, path or relevance (BM25 over the searched fields).")
    ] = "date",
    limit: Annotated[Optional[int], typer.Option("--limit", min=0, metavar="N", help="Show at most this many events.", show_default=False)] = None,
    line_number: Annotated[
        bool, typer.Option("--line-number", "-n", help="Accepted for ripgrep habits: line numbers are always shown.")
    ] = False,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
    json_lines: JsonOpt = False,
    pretty: PrettyOpt = None,
) -> None:
    """Search events like ripgrep: matching lines grouped by event, on decoded text.

    Exit 0 when something matched, 1 when nothing did, 2 for a bad pattern or any other error.
    """
    from newsarc.features import search as core
    from newsarc.reading.event_text import FIELDS
    from newsarc.output import search as render
    from newsarc.output.console import choose_mode
    from newsarc.features.search.patterns import INSENSITIVE, SENSITIVE, SMART, compile_patterns

    matcher = compile_patterns(
        [*(patterns or []), *(regexp or [])],
        fixed=fixed_strings,
        case={"ignore_case": INSENSITIVE, "smart_case": SMART}.get(ctx.meta.get(_CASE_KEY), SENSITIVE),
        word=word_regexp,
        line=line_regexp,
    )
    mode = choose_mode(json_lines, pretty)
    view = "paths" if files_with_matches else "count" if count else "events" if invert else "lines"
    before = before_context if before_context is not None else context or 0
    after = after_context if after_context is not None else context or 0
    query = core.Query(
        matcher,
        fields=_fields(fields, FIELDS),
        raw=raw,
        require_all=all_patterns,
        invert=invert,
        span=_span(on, from_, to),
        topics=tuple(topic or ()),
        max_count=max_count,
        before=before if view == "lines" else 0,
        after=after if view == "lines" else 0,
        sort=_sort(sort, core),
        limit=1 if quiet else limit,
        details=not quiet and view in ("lines", "count"),
        count_rest=mode.value == "rich" and not quiet,
        every_match=view == "lines" and mode.value != "plain",  # rich and JSON mark every match; grep lines, the first
        span_window=render.SHOWN_BYTES if mode.value == "rich" else None,
    )
    run_command(
        archive,
        root,
        lambda site: core.search(site, query),
        lambda result, mode, site: render.render(result, mode, site.root, view),  # files not searched named first
        json_lines=json_lines,
        pretty=pretty,
        more=(core.LENGTHS.name,) if query.sort == "relevance" else (),
        text=True,
        nothing=lambda site, result: None if result.found else _hint(result, query, on, from_, to),
        quiet=quiet,
    )


def _fields(text: str, known: tuple[str, ...]) -> tuple[str, ...]:
    from newsarc.errors import NewsarcError

    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known and n != "all"]
    if unknown or not names:
        raise NewsarcError(f"--in takes {', '.join(known)} or all (comma separated); got '{text}'")
    if "all" in names:
        return known
    return tuple(n for n in known if n in names)


def _sort(value: str, core) -> str:
    from newsarc.errors import NewsarcError

    if value not in core.SORTS:
        raise NewsarcError(f"--sort takes {', '.join(core.SORTS)}; got '{value}'")
    return value


def _span(on, from_, to):
    from newsarc.reading import dates
    from newsarc.errors import BadDate

    if on and (from_ or to):
        raise BadDate("give either --on or --from/--to, not both")
    if on:
        return dates.parse_when(on)
    return dates.window(from_, to)


def _hint(result, query, on, from_, to) -> str:
    """Say what was searched, and when filters left nothing to search, say so."""
    filters = []
    if query.span is not None:
        filters.append(f"in {query.span}")
    if query.topics:
        filters.append("with topic " + " or ".join(query.topics))
    where = " ".join(filters)
    if filters and not result.searched:
        return f"no events {where}, so nothing was searched; widen --on/--from/--to or check --topic (newsarc list-by-date)"
    noun = "event" if result.searched == 1 else "events"
    what = "every event matched" if query.invert else "no match"
    scope = f" among the {result.searched} {noun} {where}" if filters else f" in {result.searched} {noun}"
    fields = "the raw file" if query.raw and len(query.fields) == 5 else ", ".join(query.fields)
    return f"{what}{scope} (searched: {fields})"
