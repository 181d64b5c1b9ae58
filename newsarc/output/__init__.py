"""Rendering: turns core results into rich, plain or JSON Lines output.

The only package besides `newsarc.cli` that may import rich. Each feature has
a module here with one renderer per output mode.
"""
