"""The size limit on files read: settings that every command reads before any file, kept out of
parser.py so that reading them does not import the parser (pyromark, PyYAML) in commands that parse nothing."""

from __future__ import annotations

import os
import re

from newsarc.errors import NewsarcError

DEFAULT_MAX_FILE_SIZE = 16 << 20
SIZE_VARIABLE = "NEWSARC_MAX_FILE_SIZE"
_SIZE = re.compile(r"(\d+)\s*([kKmMgG]?)(?:i?[bB])?")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_chosen_size: int | None = None  # --max-file-size, which wins over the variable


def parse_size(text: str, name: str = SIZE_VARIABLE) -> int:
    """`16M`, `512k`, `1G` or bytes (`0`: no limit); NewsarcError naming `name` otherwise."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise NewsarcError(f"{name} '{text}' is not a size; write bytes or a number with k, M or G (such as 16M)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def choose_max_file_size(size: int | None) -> None:
    """The CLI's --max-file-size for this run (None: the variable or the default decides)."""
    global _chosen_size
    _chosen_size = size


def max_file_size() -> int:
    """Files larger than this many bytes are not parsed (0: no limit). Parsing costs 20 to 75
    times a file's size in memory, and one stray 200 MB file should not take a run down."""
    if _chosen_size is not None:
        return _chosen_size
    raw = os.environ.get(SIZE_VARIABLE)
    return DEFAULT_MAX_FILE_SIZE if raw is None or not raw.strip() else parse_size(raw)


def over_limit(size: int) -> bool:
    """A file of `size` bytes is over the size limit (and so is skipped for content)."""
    return 0 < max_file_size() < size


def human_size(size: int) -> str:
    if size >= 1 << 20:
        return f"{size >> 20} MB" if size % (1 << 20) == 0 else f"{size / (1 << 20):.1f} MB"
    if size >= 1 << 10:
        return f"{size >> 10} KB" if size % (1 << 10) == 0 else f"{size / (1 << 10):.1f} KB"
    return f"{size} bytes"
