"""`newsarc validate-links [PATHS ...]`."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from newsarc.cli.app import app
from newsarc.cli.options import ArchiveOpt, JsonOpt, RootOpt, finish, open_archive


class Format(str, Enum):
    rich = "rich"
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    markdown = "markdown"


_DUMP_FORMATS = ("rich", "text", "json")


@app.command(
    "validate-links",
    epilog=(
        "Examples: newsarc validate-links --archive examples | "
        "newsarc validate-links --format github --summary-file \"$GITHUB_STEP_SUMMARY\" | "
        "newsarc validate-links --fix --dry-run | newsarc validate-links news/2017/08 --strict | "
        "newsarc validate-links --dump --format json"
    ),
)
def validate_links(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(help="Files or folders to check (links from them). [default: the whole archive]", show_default=False),
    ] = None,
    fmt: Annotated[
        Optional[Format],
        typer.Option(
            "--format",
            "-f",
            help="rich (summary and problems by file), text (path:line:col: error: message), json (JSON Lines), "
            "github (annotations), junit (XML), markdown (for $GITHUB_STEP_SUMMARY). [default: rich on a terminal, "
            "text when piped]",
            show_default=False,
        ),
    ] = None,
    json_lines: JsonOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings (unlisted events, padding, duplicates...) as errors.")] = False,
    reciprocal: Annotated[
        bool, typer.Option("--reciprocal", help="Also warn about related links the other event does not return.")
    ] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Rewrite links that have exactly one certain fix (the other day spelling exists).")] = False,
    fix_fuzzy: Annotated[
        bool,
        typer.Option("--fix-fuzzy", help="With --fix, also apply a unique close slug, same slug on a nearby day, or close heading."),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With --fix: print a unified diff, change nothing.")] = False,
    dump: Annotated[bool, typer.Option("--dump", help="List every link found (text or json), without judging it.")] = False,
    summary_file: Annotated[
        Optional[Path],
        typer.Option("--summary-file", help="Also append the Markdown report to this file (e.g. $GITHUB_STEP_SUMMARY).", show_default=False),
    ] = None,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
) -> None:
    """Check every internal link of the archive offline: missing files, headings, dates, day pages.

    Exit status: 0 clean (warnings allowed), 1 when an error was found, 2 for usage or runtime errors.
    """
    from newsarc.errors import NewsarcError
    from newsarc.output.console import Mode, choose_mode

    chosen = Format.json.value if json_lines else fmt.value if fmt else choose_mode(False, None).value
    chosen = "rich" if chosen == Mode.RICH.value else "text" if chosen == Mode.PLAIN.value else chosen
    fix = fix or fix_fuzzy
    _check_usage(chosen, fix, dry_run, dump, NewsarcError)
    site = open_archive(archive or _folder_of(paths), root)
    if dump:
        _dump(site, paths, chosen)
        return
    _validate(site, paths, chosen, strict, reciprocal, fix, fix_fuzzy, dry_run, summary_file)


def _check_usage(chosen: str, fix: bool, dry_run: bool, dump: bool, error: type[Exception]) -> None:
    if dry_run and not fix:
        raise error("--dry-run shows what --fix would change; add --fix")
    if dump and fix:
        raise error("--dump lists links and judges none; drop --fix")
    if dump and chosen not in _DUMP_FORMATS:
        raise error(f"--dump prints text or json, not {chosen}")


def _folder_of(paths: list[Path] | None) -> Path | None:
    """Without --archive, PATHS say where the archive is (pre-commit passes files)."""
    if not paths:
        return None
    first = paths[0].expanduser()
    return first if first.is_dir() else first.parent


def _dump(site, paths, chosen: str) -> None:
    from newsarc import links
    from newsarc.output.links import render_dump

    count = render_dump(links.dump(site, paths or None), "json" if chosen == "json" else "text", str(site.root))
    sys.stderr.write(f"newsarc: {count:,} links\n")
    finish(0)


def _validate(site, paths, chosen, strict, reciprocal, fix, fix_fuzzy, dry_run, summary_file) -> None:
    from newsarc import links
    from newsarc.output import links as render

    report = links.validate(site, paths or None, links.Options(strict=strict, reciprocal=reciprocal))
    if fix:
        if _fix(site, report, fix_fuzzy, dry_run):
            finish(1 if report.errors else 0)
            return
    render.render(report, chosen, str(site.root))
    if chosen != "rich":
        sys.stderr.write(f"newsarc: {render.summary_line(report)}\n")
    if summary_file is not None:
        with open(summary_file, "a", encoding="utf-8") as out:
            out.write(render.markdown(report, render.Renderer(str(site.root))))
    finish(1 if report.errors else 0)


def _fix(site, report, fuzzy: bool, dry_run: bool) -> bool:
    """Apply (or diff) the fixes; drop fixed findings from the report. True when only a diff is wanted."""
    from newsarc import fix as fixer

    result = fixer.apply(site.root, report.findings, fuzzy=fuzzy, dry_run=dry_run)
    for path, why in result.refused.items():
        sys.stderr.write(f"newsarc: not fixing {path}: {why}\n")
    links_n, files_n = len(result.applied), len(result.files)
    if dry_run:
        sys.stdout.write(result.diff)
        sys.stderr.write(f"newsarc: --fix would rewrite {links_n} links in {files_n} files (nothing changed)\n")
        return True
    fixed = {id(f) for f in result.applied}
    report.findings = [fixer.moved(f, result) for f in report.findings if id(f) not in fixed]
    sys.stderr.write(f"newsarc: fixed {links_n} links in {files_n} files\n")
    return False
