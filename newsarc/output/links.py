"""`validate-links` output: one renderer per format, all fed the same Report.

Findings are generic (a kind, a severity, one or more locations, a message,
suggestions), so a new check needs no renderer changes. Paths are shown
relative to the current folder (`base`) so editors and CI can open them;
JSON also keeps the site-relative path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import IO

from newsarc.features.linkcheck.checks import CHECKS, ERROR, KINDS, Finding, LinkRecord, Location, Report
from newsarc.output.console import file_url, isatty, linked, make_console, printable, printable_lines, write_json

FORMATS = ("rich", "text", "json", "github", "junit", "markdown")
MARKDOWN_ROWS = 1000  # $GITHUB_STEP_SUMMARY holds 1 MiB


class Renderer:
    """Shared state of one rendering: where paths are shown relative to."""

    def __init__(self, root: str, base: str | None = None, stream: IO[str] | None = None):
        self.root = root
        self.base = base or os.getcwd()
        self.out = stream or sys.stdout

    def file(self, path: str) -> str:
        """A site path as the user can open it from `base` (JSON's; the other formats show it `printable`)."""
        full = os.path.join(self.root, *path.split("/")) if path else self.root
        return os.path.relpath(full, self.base)

    def shown(self, path: str) -> str:
        """`file`, safe in a line of text, XML or a terminal, whatever the file's name."""
        return printable(self.file(path))

    def url(self, path: str) -> str:
        return file_url(self.root, path)


def render(report: Report, fmt: str, root: str, base: str | None = None, stream: IO[str] | None = None) -> None:
    renderer = Renderer(root, base, stream)
    {
        "rich": _rich,
        "text": _text,
        "json": _json,
        "github": _github,
        "junit": _junit,
        "markdown": _markdown,
    }[fmt](report, renderer)


def render_report(report: Report, fmt: str, root: str, checked=None, summary_file=None) -> None:
    """validate-links' whole answer: the report in `fmt`; the summary line on stderr (the rich
    format has it in its table), and --external's; the Markdown report appended to `summary_file`."""
    render(report, fmt, root)
    sys.stdout.flush()  # a reader that is gone stops us here, before the summary (not after it, if the report fit the buffer)
    if fmt != "rich":
        sys.stderr.write(f"newsarc: {summary_line(report)}\n")
    if checked is not None:
        sys.stderr.write(f"newsarc: {printable(external_summary(checked))}\n")
    if summary_file is not None:
        with open(summary_file, "a", encoding="utf-8") as out:
            out.write(markdown(report, Renderer(root)))


def render_fix(result, dry_run: bool) -> None:
    """What --fix did (a features.fix.FixResult): files left alone on stderr; with --dry-run the diff on stdout."""
    for path, why in result.refused.items():
        sys.stderr.write(f"newsarc: not fixing {printable(str(path))}: {printable(str(why))}\n")
    links_n, files_n = len(result.applied), len(result.files)
    if dry_run:
        sys.stdout.write(printable_lines(result.diff) if isatty(sys.stdout) else result.diff)  # piped: a patch to apply
        sys.stderr.write(f"newsarc: --fix would rewrite {links_n} links in {files_n} files (nothing changed)\n")
    else:
        sys.stderr.write(f"newsarc: fixed {links_n} links in {files_n} files\n")


def describe(finding: Finding) -> str:
    """The message with its suggestions, as one line (a decoded %0A or %00 shown escaped)."""
    if not finding.suggestions:
        return printable(finding.message)
    options = " or ".join(f"{s.link} ({s.reason})" for s in finding.suggestions[:3])
    more = f" (+{len(finding.suggestions) - 3} more)" if len(finding.suggestions) > 3 else ""
    return printable(f"{finding.message}; did you mean {options}{more}?")


def verdict(report: Report) -> str:
    if not report.findings:
        return "no problems"
    parts = [_plural(report.errors, "error"), _plural(report.warnings, "warning")]
    return ", ".join(p for p in parts if not p.startswith("0 ")) or "no problems"


def summary_line(report: Report) -> str:
    """The one-line summary (stderr for text and github; inside the other formats)."""
    checked = f"{_plural(report.files, 'file')}, {_plural(report.links, 'internal link')}"
    off = ", ".join(report.skipped)
    return f"{verdict(report)} in {checked} (checks: {', '.join(report.checks)}; off: {off})"


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# -- text: compiler style ------------------------------------------------------


def _where(renderer: Renderer, place: Location) -> str:
    name = renderer.shown(place.path)
    return f"{name}:{place.line}:{place.column}" if place.line else name


def _text(report: Report, renderer: Renderer) -> None:
    _write_batched(
        renderer.out,
        (
            f"{_where(renderer, place)}: {finding.severity}: {describe(finding)} [{finding.kind}]\n"
            for finding in report.findings
            for place in finding.locations
        ),
    )


_BATCH = 4096  # lines written at once: the 510k of --reciprocal at 100k events, joined whole, held 390 MB


def _write_batched(out: IO[str], lines: Iterable[str]) -> None:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= _BATCH:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))


# -- json: JSON Lines ------------------------------------------------------------


def _json(report: Report, renderer: Renderer) -> None:
    for finding in report.findings:
        record = {"type": "finding", "file": renderer.file(finding.path), **finding.to_dict()}
        write_json(record, renderer.out)
    write_json({"type": "summary", **report.summary()}, renderer.out)


# -- github: workflow command annotations --------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(report: Report, renderer: Renderer) -> None:
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        renderer = Renderer(renderer.root, workspace, renderer.out)
    _write_batched(renderer.out, (_annotation(renderer, finding, place) for finding in report.findings for place in finding.locations))


def _annotation(renderer: Renderer, finding: Finding, place: Location) -> str:
    props = [f"file={_escape_property(renderer.shown(place.path))}"]
    if place.line:
        props += [f"line={place.line}", f"col={place.column}"]
    props.append(f"title={_escape_property(finding.kind)}")
    level = "error" if finding.severity == ERROR else "warning"
    return f"::{level} {','.join(props)}::{_escape_data(describe(finding))}\n"


# -- junit: one test suite per check, one failing test case per problem ------------------


def _junit(report: Report, renderer: Renderer) -> None:
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="newsarc validate-links")
    by_check: dict[str, list[Finding]] = {name: [] for name in report.checks}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    totals = [0, 0]
    for check, findings in by_check.items():
        suite = ET.SubElement(suites, "testsuite", name=check)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="description", value=CHECKS.get(check, check))
        failures = 0
        for finding in findings:
            failures += _junit_case(ET, suite, finding, renderer)
        if not findings:
            ET.SubElement(suite, "testcase", name=f"{check}: no problems", classname=check)
        cases = max(1, len(findings))
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        totals[0] += cases
        totals[1] += failures
    suites.set("tests", str(totals[0]))
    suites.set("failures", str(totals[1]))
    out = ET.SubElement(suites, "system-out")
    out.text = summary_line(report)
    ET.indent(suites)
    renderer.out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    renderer.out.write(ET.tostring(suites, encoding="unicode") + "\n")


def _junit_case(ET, suite, finding: Finding, renderer: Renderer) -> int:
    """A test case per problem: a failure when it is an error, a passing case with output otherwise."""
    place = finding.locations[0]
    case = ET.SubElement(suite, "testcase", name=f"{_where(renderer, place)} {finding.kind}", classname=finding.check)
    case.set("file", renderer.shown(place.path))
    if place.line:
        case.set("line", str(place.line))
    details = "\n".join([describe(finding), *(f"also at {_where(renderer, p)}" for p in finding.also)])
    if finding.severity == ERROR:
        failure = ET.SubElement(case, "failure", message=describe(finding), type=finding.kind)
        failure.text = details
        return 1
    out = ET.SubElement(case, "system-out")
    out.text = f"warning: {details}"
    return 0


# -- markdown: for $GITHUB_STEP_SUMMARY -------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")  # a | ends a table cell, even in code
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


def markdown(report: Report, renderer: Renderer) -> str:
    mark = "❌" if report.errors else ("⚠️" if report.warnings else "✅")
    lines = [f"## {mark} newsarc validate-links: {verdict(report)}", ""]
    external = f" ({_plural(report.external, 'external link')} not checked: offline)" if report.external else ""
    lines.append(f"Checked {_plural(report.files, 'file')} and {_plural(report.links, 'internal link')}{external}.")
    lines.append("")
    checks = "Checks: " + ", ".join(f"`{c}`" for c in report.checks)
    if report.skipped:
        checks += " · not run: " + ", ".join(f"`{c}` {why}" for c, why in report.skipped.items())
    lines += [checks, ""]
    counts = report.counts()
    if counts:
        lines += ["| Problem | Kind | Errors | Warnings |", "|---|---|---:|---:|"]
        for kind, row in counts.items():
            label = KINDS[kind].label if kind in KINDS else kind
            lines.append(f"| {label} | `{kind}` | {row['error']} | {row['warning']} |")
        lines += ["", "| File | Line | Severity | Problem | Suggestion |", "|---|---:|---|---|---|"]
        rows = [(f, p) for f in report.findings for p in f.locations]
        for finding, place in rows[:MARKDOWN_ROWS]:
            where = f"{place.line}:{place.column}" if place.line else ""
            hint = "<br>".join(f"{_code(printable(s.link))} ({_cell(s.reason)})" for s in finding.suggestions[:3])
            lines.append(
                f"| {_code(renderer.shown(place.path))} | {where} | {finding.severity} | {_cell(printable(finding.message))} | {hint} |"
            )
        if len(rows) > MARKDOWN_ROWS:
            lines += ["", f"… and {len(rows) - MARKDOWN_ROWS:,} more (run `newsarc validate-links` for all)."]
    return "\n".join(lines) + "\n"


def _markdown(report: Report, renderer: Renderer) -> None:
    renderer.out.write(markdown(report, renderer))


# -- rich: summary, then problems grouped by file --------------------------------------------


def _rich(report: Report, renderer: Renderer) -> None:
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    external = f" · {report.external:,} external not checked (offline)" if report.external else ""
    console.print(
        Text.assemble(
            ("validate-links ", "bold"),
            (f"{_plural(report.files, 'file')} · {_plural(report.links, 'internal link')}{external}", "dim"),
        )
    )
    off = ", ".join(report.skipped)
    console.print(Text.assemble(("checks: ", "dim"), ", ".join(report.checks), (f"   off: {off}" if off else "", "dim")))
    counts = report.counts()
    if counts:
        console.print()
        table = Table(show_header=True, header_style="dim", box=None, padding=(0, 2))
        table.add_column("problem")
        table.add_column("kind", style="dim")
        table.add_column("errors", justify="right", style="red")
        table.add_column("warnings", justify="right", style="yellow")
        for kind, row in counts.items():
            label = KINDS[kind].label if kind in KINDS else kind
            table.add_row(label, kind, str(row["error"] or ""), str(row["warning"] or ""))
        console.print(table)
    for path, findings in _by_file(report.findings):
        console.print()
        console.print(Text(renderer.shown(path), style=linked("bold", renderer.url(path))))
        for finding in findings:
            console.print(_rich_row(Text, finding))
    console.print()
    style = "bold red" if report.errors else ("bold yellow" if report.warnings else "bold green")
    console.print(Text(("✗ " if report.findings else "✓ ") + verdict(report), style=style))


def _rich_row(Text, finding: Finding):
    """Where and how bad in a column of their own, the message and each suggestion in the next:
    a 150-character link wraps inside its column instead of back to the margin, the arrow is
    never alone on a line, and a suggestion shows in bold what differs from the link as written."""
    from rich.console import Group
    from rich.table import Table

    colour = "red" if finding.severity == ERROR else "yellow"
    where = f"{finding.line}:{finding.column}" if finding.line else ""
    message = Text(printable(finding.message))
    message.append(f"  [{finding.kind}]", style="dim")
    lines = [message]
    for suggestion in finding.suggestions[:3]:
        line = _differing(Text, finding.link, suggestion.link)
        line.append(f"  {suggestion.reason}", style="dim")
        if finding.fix is not None and finding.fix.new == suggestion.link:
            line.append("  (" + ("--fix-fuzzy" if finding.fix.fuzzy else "--fix") + " rewrites it)", style="dim")
        lines.append(_hanging(Table, Text("→", style="green"), line))
    for place in finding.also:
        lines.append(Text(f"also at {printable(place.path)}:{place.line}:{place.column}", style="dim"))
    head = Text.assemble("  ", (f"{where:>8}", "cyan"), "  ", (f"{finding.severity:<7}", colour))
    return _hanging(Table, head, Group(*lines))


def _hanging(Table, left, right):
    """`right` wrapped beside `left`, its lines indented under its first."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(left, right)
    return grid


def _differing(Text, written: str, suggested: str):
    """`suggested` in green, the part that differs from `written` in bold."""
    start = 0
    while start < min(len(written), len(suggested)) and written[start] == suggested[start]:
        start += 1
    end = 0
    while end < min(len(written), len(suggested)) - start and written[-1 - end] == suggested[-1 - end]:
        end += 1
    cut = len(suggested) - end
    return Text.assemble(
        (printable(suggested[:start]), "green"), (printable(suggested[start:cut]), "bold green underline"), (printable(suggested[cut:]), "green")
    )


def _by_file(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.path, []).append(finding)
    return list(groups.items())


# -- --dump --------------------------------------------------------------------------------------


def render_dump(records: Iterable[LinkRecord], fmt: str, root: str, base: str | None = None) -> int:
    """Every link, one per line (text) or per object (json); returns how many."""
    renderer = Renderer(root, base)
    count = 0
    batch: list[str] = []
    for record in records:
        count += 1
        if fmt == "json":
            write_json({"type": "link", "file": renderer.file(record.path), **record.to_dict()}, renderer.out)
            continue
        where = _where(renderer, Location(record.path, record.line, record.column))
        batch.append(f"{where}\t{record.role}\t{record.scope}\t{printable(record.link)}\t{printable(record.resolved or '')}\n")
        if len(batch) >= 4096:
            renderer.out.write("".join(batch))
            batch.clear()
    renderer.out.write("".join(batch))
    return count


# -- --external: the progress bar and the one-line summary ----------------------------------------


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def external_progress():
    """A context giving the (checked, total) callback of newsarc.features.linkcheck.external, or None.

    The bar (checked/total, rate, ETA) goes to stderr and only on a terminal:
    piped output and CI logs get the summary line alone.
    """
    if not _maybe_terminal(sys.stderr):
        return _NoProgress()  # without importing rich to ask it
    console = make_console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.1f} URL/s" if task.speed else "", style="dim")

    columns = (TextColumn("checking URLs"), BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn())
    return _Bar(Progress(*columns, console=console, transient=True))


def _maybe_terminal(stream) -> bool:
    """False only where rich's is_terminal is False too: not a tty, and neither TTY_COMPATIBLE=1 nor FORCE_COLOR says otherwise."""
    return isatty(stream) or os.environ.get("TTY_COMPATIBLE") == "1" or bool(os.environ.get("FORCE_COLOR"))


class _Bar:
    def __init__(self, progress):
        self.progress = progress
        self.task = None

    def __enter__(self):
        self.progress.__enter__()
        self.task = self.progress.add_task("external", total=None)
        return self.update

    def update(self, checked: int, total: int) -> None:
        self.progress.update(self.task, completed=checked, total=total)

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)


def external_summary(result) -> str:
    """`external: 139 URLs (120 answered from the cache): 2 dead, 1 malformed, 3 moved permanently, 129 ok; 4 not checked (mailto: 4)`."""
    from newsarc.features.linkcheck import external

    counts = result.counts()
    cached = f" ({result.cached:,} answered from the cache)" if result.cached else ""
    parts = [
        f"{counts[external.DEAD]:,} dead",
        f"{counts[external.MALFORMED]:,} malformed",
        f"{counts[external.WARNING]:,} moved permanently",
        f"{counts[external.OK]:,} ok",
    ]
    parts += [f"{counts[external.RATE_LIMITED]:,} rate-limited"] if counts[external.RATE_LIMITED] else []
    line = f"external: {_plural(len(result.results), 'URL')}{cached}: {', '.join(parts)}"
    unchecked = counts[external.SKIPPED] + counts[external.UNCHECKED]
    if unchecked:
        why = [f"{scheme}: {n:,}" for scheme, n in sorted(result.skipped_schemes.items())]
        excluded = counts[external.SKIPPED] - sum(result.skipped_schemes.values())
        why += [f"filtered out: {excluded:,}"] if excluded else []
        why += [f"{label}: {n:,}" for label, n in result.unchecked.items()]
        line += f"; {unchecked:,} not checked ({', '.join(why)})"
    if result.interrupted:
        line += f"; interrupted with {result.checked:,} of {result.total:,} URLs answered"
    return line
