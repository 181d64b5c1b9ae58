"""The typer application and its global options: what every command module registers on."""

from __future__ import annotations

import dataclasses
import errno
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from newsarc import __version__, settings
from newsarc.cli.errors import exit_status

# typer's own control-flow exceptions (exit, abort, usage errors) pass through.
_TYPER_EXCEPTIONS: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, typer.TyperException)


class NewsarcGroup(TyperGroup):
    """Runs every command inside the one error boundary (see cli/errors.py)."""

    def make_context(self, info_name, args, parent=None, **extra):
        """--help and --version print while the options are parsed, before invoke's boundary, where
        click meets a reader that went away (EPIPE) with exit 1: end them as quietly as a command."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            raise typer.Exit(exit_status(exc)) from None

    def get_command(self, ctx, name):
        """Each command also takes --no-cache and --cache-dir, so `newsarc validate-links --no-cache`
        works as well as `newsarc --no-cache validate-links` (users put them either side)."""
        command = super().get_command(ctx, name)
        if command is not None and not any(p.name == "newsarc_no_cache" for p in command.params):
            command.params.extend(_cache_options())
        return command

    def invoke(self, ctx: typer.Context):
        """The command, under the settings the callback installs (`root`): for this invocation only."""
        _keep_file_names()
        before = settings.installed()
        try:
            return super().invoke(ctx)
        except _TYPER_EXCEPTIONS:
            raise
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - this is the boundary
            raise typer.Exit(exit_status(exc, _debug(ctx))) from None
        finally:
            settings.install(before)


def _debug(ctx: typer.Context) -> bool:
    """--debug or NEWSARC_DEBUG: the run's settings say, or, when building them failed (a bad
    NEWSARC_MAX_FILE_SIZE), the option and the variable alone."""
    chosen = ctx.meta.get("newsarc.settings")
    if chosen is not None:
        return chosen.debug
    return bool(ctx.meta.get("newsarc.debug")) or settings.debug_requested()


def _cache_options() -> list:
    """The global cache options, as a command's own; hidden from its --help (the app's lists them)."""
    from typer.core import TyperOption

    def no_cache(ctx, param, value):
        if value:
            _choose(use_cache=False, url_cache=False)

    def cache_dir(ctx, param, value):
        if value is not None:
            _choose(cache_dir=Path(value).expanduser())

    return [
        TyperOption(param_decls=["--no-cache", "newsarc_no_cache"], is_flag=True, expose_value=False, callback=no_cache, hidden=True),
        TyperOption(param_decls=["--cache-dir", "newsarc_cache_dir"], expose_value=False, callback=cache_dir, hidden=True),
    ]


def _choose(**values) -> None:
    """A command's own --no-cache or --cache-dir, over the settings the app's callback installed."""
    settings.install(dataclasses.replace(settings.current(), **values))


def _keep_file_names() -> None:
    """A file name that is not UTF-8 reaches us as os.fsdecode's surrogates; write its
    bytes back as they are (what Python does in the C locale) instead of failing."""
    try:
        sys.stdout.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        pass


app = typer.Typer(
    cls=NewsarcGroup,
    name="newsarc",
    help="Look up, search and link-check a news-event archive (Markdown files, one event per file).",
    epilog="Example: newsarc list-by-date 2017-08 --archive examples",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsarc {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors (for bug reports).")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Parse every file; neither read nor write the index cache.")
    ] = False,
    cache_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--cache-dir",
            envvar="NEWSARC_CACHE_DIR",
            metavar="DIR",
            help="Where the index cache lives. [default: the user cache dir]",
            show_default=False,
        ),
    ] = None,
    max_file_size: Annotated[
        Optional[str],
        typer.Option(
            "--max-file-size",
            metavar="SIZE",
            help="Skip the content of files larger than this (16M, 512k, bytes; 0: no limit); validate-links "
            "still checks their links. Also NEWSARC_MAX_FILE_SIZE. [default: 16M]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Look up, search and link-check a news-event archive (Markdown files, one event per file)."""
    ctx.meta["newsarc.debug"] = debug
    chosen = _settings(debug, no_cache, cache_dir, max_file_size)
    ctx.meta["newsarc.settings"] = chosen
    settings.install(chosen)


def _settings(debug: bool, no_cache: bool, cache_dir: Path | None, max_file_size: str | None) -> settings.Settings:
    """This run's settings: the options given, else the NEWSARC_* variables. Read once, before any
    file is: a bad size is a usage error, not one per file."""
    return settings.Settings.from_environment(
        debug=True if debug else None,
        use_cache=False if no_cache else None,
        url_cache=False if no_cache else None,
        cache_dir=cache_dir,
        max_file_size=None if max_file_size is None else settings.parse_size(max_file_size, "--max-file-size"),
    )
