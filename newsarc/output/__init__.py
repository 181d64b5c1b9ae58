"""Rendering: turns core results into rich, plain or JSON Lines output.

The only package besides `newsarc.cli` that may import rich, and only inside
the functions that draw with it: plain and JSON output never need it, and
importing it costs every scripted call tens of milliseconds
(tests/cli/test_lean_imports.py). Each feature has a module here with one
renderer per output mode.
"""
