"""The command line: options in, core calls, renderers out. Nothing else."""

from newsarc.cli.app import app, main

__all__ = ["app", "main"]
