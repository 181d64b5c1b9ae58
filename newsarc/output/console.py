"""Output modes and consoles, decided once per command.

Rich on a terminal, plain stable lines when piped, JSON Lines on request.
NO_COLOR and TERM=dumb keep the rich layout but drop every escape code.
rich is imported by `make_console` only: plain and JSON output write to
sys.stdout themselves, and importing rich would cost every scripted call
tens of milliseconds.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from enum import Enum
from functools import cache
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


class Mode(str, Enum):
    RICH = "rich"
    PLAIN = "plain"
    JSON = "json"


def choose_mode(json_lines: bool, pretty: bool | None, stream: IO[str] | None = None) -> Mode:
    """--json wins; --pretty/--plain force a layout; otherwise ask the terminal."""
    if json_lines:
        return Mode.JSON
    if pretty is not None:
        return Mode.RICH if pretty else Mode.PLAIN
    stream = stream or sys.stdout
    return Mode.RICH if isatty(stream) else Mode.PLAIN


def isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour_allowed() -> bool:
    return "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


@cache
def _console_class() -> type[Console]:
    """Defined on first use, so that importing this module does not import rich."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """rich exits 1 here; let cli/errors.py answer it like any other closed pipe (quietly, 0)."""
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return _Console


def make_console(stderr: bool = False) -> Console:
    """A console bound to the current stdout/stderr (CliRunner swaps them)."""
    stream = sys.stderr if stderr else sys.stdout
    plain = not colour_allowed()
    width = None
    if not isatty(stream):
        width = _columns()
    return _console_class()(
        file=stream,
        no_color=plain,
        color_system=None if plain else "auto",
        force_terminal=None if plain else (True if not isatty(stream) and not stderr else None),
        highlight=False,
        emoji=False,
        width=width,
        soft_wrap=False,
        legacy_windows=False,
    )


def _columns(default: int = 100) -> int:
    """COLUMNS off a terminal. Not a number crashed us; 0 or less made rich print nothing."""
    try:
        width = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return default
    return width if width > 0 else default


def write_json(record: dict[str, Any], stream: IO[str] | None = None) -> None:
    """One JSON object per line: the stable machine interface of every command."""
    line = json.dumps(record, ensure_ascii=False)
    if not line.isascii():
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8 (os.fsdecode's surrogates)
            line = json.dumps(record)  # \udcXX escapes: valid JSON; os.fsencode gives the bytes back
    (stream or sys.stdout).write(line + "\n")


_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}  # C0, DEL, C1
_ESCAPES.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})


def printable(text: str) -> str:
    """Control characters as Python writes them in a string (\\x00, \\x1b, \\n).

    A link target written `%00`, `%0A` or `%1B` decodes to one: raw, it puts a
    NUL in text output, cuts a one-line message in two, or drives the reader's
    terminal. JSON escapes them itself and keeps the decoded text as it is."""
    return text if text.isprintable() else text.translate(_ESCAPES)


def plain_field(text: str) -> str:
    """Tabs and newlines would break tab-separated output; fold them to spaces."""
    return " ".join(str(text).split())


def local_path(root, relpath: str) -> str:
    """A root-relative path as the user's shell sees it (for editors and xargs)."""
    full = os.path.join(str(root), relpath)
    try:
        return os.path.relpath(full)
    except ValueError:  # another drive on Windows
        return full


class LocalPaths:
    """`local_path` for many paths of one root: the root's path worked out once, then joined
    (os.path.relpath for each of 100k lines was a sixth of a whole-archive listing)."""

    def __init__(self, root):
        self.prefix = local_path(root, "")
        self.here = self.prefix in ("", ".")

    def __call__(self, relpath: str) -> str:
        return relpath if self.here else os.path.join(self.prefix, relpath)


MAX_LAID_OUT = 100_000  # characters of one text rich lays out in a table cell or a padding


def capped(text: str, what: str) -> Text:
    """`text` as rich Text, at most MAX_LAID_OUT characters of it and then how many more: rich lays
    out a Text in a table cell or a Padding at a cost of its length times its lines (Segment.
    split_and_crop_lines cuts the rest of the text at each line break): 10M characters took 46 s."""
    from rich.text import Text

    if len(text) <= MAX_LAID_OUT:
        return Text(text)
    more = len(text) - MAX_LAID_OUT
    return Text.assemble(text[:MAX_LAID_OUT], (f"… [{more:,} more characters: --plain shows the whole {what}]", "dim"))
