"""newsarc: look up, search and link-check news-event archives.

The package is a library first: everything below `newsarc.cli` and
`newsarc.output` can be imported without typer or rich.
"""

__version__ = "0.1.0"
