"""The command line assembled: every command module registered on the typer app, and the
entry point that runs it and exits (the error boundary is cli/errors.py)."""

from __future__ import annotations

import os
import sys

from newsarc.cli.errors import exit_status
from newsarc.cli.root import app

# Each module registers its commands on `app` when imported, in the order --help lists them.
from newsarc.cli import listing, show, search, related, links, overview  # noqa: F401,I001


def main() -> None:
    """Console entry point: run, flush, and leave without tearing down the heap.

    Freeing a 100k-event index object by object costs about a second at exit;
    the operating system reclaims it at once, so we exit with os._exit.
    """
    code: object = 0
    try:
        app(prog_name="newsarc")
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:  # Ctrl-C outside a command (while parsing options)
        code = 130
    os._exit(_flush(code))


def _flush(code: object) -> int:
    """The exit status; output typer left buffered is written first."""
    if isinstance(code, str):  # sys.exit("message")
        sys.stderr.write(code + "\n")
        code = 1
    status = int(code or 0) if isinstance(code, int) or code is None else 1
    if "newsarc.output.progress" in sys.modules:
        sys.modules["newsarc.output.progress"].close_all()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            exit_status(BrokenPipeError(32, "Broken pipe"))
        except (OSError, ValueError):
            pass
    return status
