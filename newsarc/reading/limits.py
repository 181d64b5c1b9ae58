"""The size limit on files read, kept out of the parser so that asking for it does not import the
parser (pyromark, PyYAML) in commands that parse nothing. The limit itself is a setting (settings.py)."""

from __future__ import annotations

from newsarc import settings
from newsarc.settings import DEFAULT_MAX_FILE_SIZE, SIZE_VARIABLE, parse_size

__all__ = ["DEFAULT_MAX_FILE_SIZE", "SIZE_VARIABLE", "human_size", "max_file_size", "over_limit", "parse_size"]


def max_file_size() -> int:
    """Files larger than this many bytes are not parsed (0: no limit). Parsing costs 20 to 75
    times a file's size in memory, and one stray 200 MB file should not take a run down.
    The value is the settings' (--max-file-size, else NEWSARC_MAX_FILE_SIZE, else 16M)."""
    return settings.current().max_file_size


def over_limit(size: int) -> bool:
    """A file of `size` bytes is over the size limit (and so is skipped for content)."""
    return 0 < max_file_size() < size


def human_size(size: int) -> str:
    if size >= 1 << 20:
        return f"{size >> 20} MB" if size % (1 << 20) == 0 else f"{size / (1 << 20):.1f} MB"
    if size >= 1 << 10:
        return f"{size >> 10} KB" if size % (1 << 10) == 0 else f"{size / (1 << 10):.1f} KB"
    return f"{size} bytes"
