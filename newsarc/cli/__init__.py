"""The command line: options in, core calls, renderers out. Nothing else.

This module stays tiny because it is what the `newsarc` script imports
first: Ctrl-C while typer, rich and the command modules load is answered
like Ctrl-C anywhere else (exit 130, no traceback).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point."""
    try:
        from newsarc.cli.app import main as run
    except KeyboardInterrupt as exc:
        from newsarc.cli.errors import exit_status

        os._exit(exit_status(exc))
    run()


def __getattr__(name: str) -> Any:
    if name == "app":  # the typer app, loaded on first use (not the submodule of that name)
        from newsarc.cli.app import app

        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
