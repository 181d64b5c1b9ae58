"""`newsarc validate-links [PATHS ...]`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand

from newsarc.cli.root import app
from newsarc.cli.options import ArchiveOpt, JsonOpt, RootOpt, examples, finish, open_catalog, say, settled


class Format(str, Enum):
    rich = "rich"
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    markdown = "markdown"


_DUMP_FORMATS = ("rich", "text", "json")


class _LinksCommand(TyperCommand):
    """Reads `--external=warn`: typer has no option whose value may be left out."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, _split_external(args))


_EXTERNAL_MODES = ("warn", "error")


def _split_external(args: list[str]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        if arg.startswith("--external="):
            out += ["--external", "--external-mode", arg.partition("=")[2]]
        else:
            _mode_as_path(arg, args[i - 1] if i else "")
            out.append(arg)
    return out


def _mode_as_path(arg: str, before: str) -> None:
    """`--external warn` makes `warn` a PATH (the flag takes no value): say what was meant,
    where validate-links would only say that no file `warn` exists."""
    from newsarc.errors import NewsarcError

    if before == "--external" and arg in _EXTERNAL_MODES and not Path(arg).expanduser().exists():
        raise NewsarcError(f"'{arg}' is not a file or folder; did you mean --external={arg}?")


@app.command(
    "validate-links",
    cls=_LinksCommand,
    epilog=examples(
        "newsarc validate-links -a examples",
        "newsarc validate-links -a examples --format github --strict",
        "newsarc validate-links -a examples --fix --dry-run",
        "newsarc validate-links examples/news/2017/08 --strict",
        "newsarc validate-links -a examples --dump --format json | head -3",
        note='With --external=warn (or =error) it also requests every http(s) link.',
    ),
)
def validate_links(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(metavar="[PATH]...", help="Files or folders to check (links from them). [default: the whole archive]", show_default=False),
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
        typer.Option("--summary-file", metavar="FILE", help="Also append the Markdown report to this file (e.g. $GITHUB_STEP_SUMMARY).", show_default=False),
    ] = None,
    external: Annotated[
        bool,
        typer.Option(
            "--external",
            help="Also request every http(s) link (sources, cover images, body links), each distinct URL once; "
            "dead ones are errors. --external=warn makes them warnings (exit 0).",
        ),
    ] = False,
    external_mode: Annotated[Optional[str], typer.Option("--external-mode", hidden=True)] = None,
    max_concurrency: Annotated[
        Optional[int], typer.Option("--max-concurrency", min=1, metavar="N", help="With --external: requests at once. [default: 32]", show_default=False)
    ] = None,
    host_concurrency: Annotated[
        Optional[int],
        typer.Option("--host-concurrency", min=1, metavar="N", help="With --external: requests at once to one host. [default: 4]", show_default=False),
    ] = None,
    timeout: Annotated[
        Optional[float],
        typer.Option("--timeout", min=0.001, metavar="SECONDS", help="With --external: seconds to wait for a server. [default: 10]", show_default=False),
    ] = None,
    max_time: Annotated[
        Optional[float],
        typer.Option(
            "--max-time",
            min=0.001,
            metavar="SECONDS",
            help="With --external: seconds for all requests (like curl's); URLs not answered by then are "
            "reported as not checked (warnings). [default: no limit]",
            show_default=False,
        ),
    ] = None,
    accept: Annotated[
        Optional[str],
        typer.Option("--accept", metavar="STATUSES", help="With --external: accepted statuses, lychee's syntax. [default: 200..=299]", show_default=False),
    ] = None,
    include: Annotated[
        Optional[list[str]],
        typer.Option("--include", metavar="REGEX", help="With --external: check only URLs matching this regex (repeatable; wins over --exclude).", show_default=False),
    ] = None,
    exclude: Annotated[
        Optional[list[str]],
        typer.Option("--exclude", metavar="REGEX", help="With --external: do not check URLs matching this regex (repeatable).", show_default=False),
    ] = None,
    cache_file: Annotated[
        Optional[Path],
        typer.Option("--cache-file", metavar="FILE", help="With --external: the result cache. [default: links.json in the cache dir (newsarc --cache-dir)]", show_default=False),
    ] = None,
    max_cache_age: Annotated[
        Optional[str],
        typer.Option("--max-cache-age", metavar="AGE", help="With --external: re-check cached successes older than this (1d, 12h, 30m, 0). [default: 1d]", show_default=False),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-url-cache", help="With --external: neither read nor write the URL result cache (newsarc --no-cache does the same).")] = False,
    archive: ArchiveOpt = None,
    root: RootOpt = None,
) -> None:
    """Check every internal link of the archive offline: missing files, headings, dates, day pages.

    With --external, also request every http(s) link (the only time newsarc uses the network).

    Exit status: 0 clean (warnings allowed), 1 when an error was found, 2 for usage or runtime errors,
    130 when Ctrl-C stopped --external (what was checked is still reported). URLs not checked (a server
    asking to wait longer than 30 s, --max-time reached) are warnings: exit 1 only with --strict.
    """
    from newsarc.errors import NewsarcError
    from newsarc.output.console import Mode, choose_mode

    chosen = Format.json.value if json_lines else fmt.value if fmt else choose_mode(False, None).value
    chosen = "rich" if chosen == Mode.RICH.value else "text" if chosen == Mode.PLAIN.value else chosen
    fix = fix or fix_fuzzy
    _check_usage(chosen, fix, dry_run, dump, NewsarcError)
    given = {
        "max_concurrency": max_concurrency, "host_concurrency": host_concurrency, "timeout": timeout,
        "max_time": max_time,
        "accept": accept, "include": include, "exclude": exclude, "cache_file": cache_file,
        "max_cache_age": max_cache_age, "no_url_cache": no_cache,
    }  # fmt: skip
    if dump and external:
        raise NewsarcError("--dump lists links and judges none; drop --external")
    ext = _external_settings(external, external_mode, given)
    from newsarc.features.catalog import LINKS

    site = open_catalog(archive or _folder_of(paths), root, more=(LINKS,))
    if dump:
        _dump(site, paths, chosen)
        return
    _validate(site, paths, chosen, strict, reciprocal, fix, fix_fuzzy, dry_run, summary_file, ext)


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
    from newsarc.features.linkcheck import checks as links
    from newsarc.output.links import render_dump

    count = render_dump(links.dump(site, paths or None), "json" if chosen == "json" else "text", str(site.root))
    say(f"{count:,} links")
    finish(0)


def _validate(site, paths, chosen, strict, reciprocal, fix, fix_fuzzy, dry_run, summary_file, ext=None) -> None:
    """The offline check, then --fix (a dry run ends there), then --external; one report printed."""
    from newsarc.features.linkcheck import checks as links
    from newsarc.output import links as render

    options = links.Options(strict=strict, reciprocal=reciprocal)
    report = settled(site, lambda: links.validate(site, paths or None, options))
    if fix:
        from newsarc.features.linkcheck import fix as fixer

        render.render_fix(fixer.fix_report(site.root, report, fuzzy=fix_fuzzy, dry_run=dry_run), dry_run)
        if dry_run:
            finish(report.exit_status())
            return
    checked = _external(site, paths, report, ext, strict) if ext is not None else None
    render.render_report(report, chosen, str(site.root), checked, summary_file)
    finish(report.exit_status(checked))


def _external_settings(external: bool, mode: str | None, given: dict[str, Any]):
    """--external's options (features/linkcheck/external_findings.Settings), checked before the archive is read; None without --external."""
    from newsarc.errors import NewsarcError

    if not external:
        used = [name for name, value in given.items() if value not in (None, False, [])]
        if used:
            raise NewsarcError(f"--{used[0].replace('_', '-')} applies to external links; add --external")
        return None
    from newsarc.features.linkcheck import external_findings as external_links

    return external_links.checked_settings(mode, **given)


def _external(site, paths, report, ext, strict: bool):
    """Check the http(s) links of the files validated into `report`; features/linkcheck/external_findings.py's report."""
    from newsarc.features.linkcheck import external_findings as external_links
    from newsarc.output.links import external_progress

    with external_progress() as progress:
        result, problem = external_links.check_with(site, paths, report, ext, strict=strict, progress=progress)
    if problem:
        say(problem)
    return result
