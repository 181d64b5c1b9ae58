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
import re
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
    if not line.isascii() and _JSON_UNSAFE.search(line):
        line = line.translate(_JSON_ESCAPES)
    (stream or sys.stdout).write(line + "\n")


_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}  # C0, DEL, C1
_ESCAPES.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"})
# Bidi embeddings, overrides and isolates reorder what a terminal shows after them (Trojan Source).
_ESCAPES.update({code: f"\\u{code:04x}" for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
# Lone surrogates: os.fsdecode's stand-ins for the bytes of a name that is not UTF-8 (\udcff was
# the byte 0xff), which no UTF-8 output can carry; and the two code points XML 1.0 forbids.
_ESCAPES.update({code: f"\\x{code - 0xDC00:02x}" for code in range(0xDC80, 0xDD00)})
_ESCAPES.update({code: f"\\u{code:04x}" for code in [*range(0xD800, 0xDC80), *range(0xDD00, 0xE000), 0xFFFE, 0xFFFF]})
_LINES = {code: text for code, text in _ESCAPES.items() if code not in (ord("\t"), ord("\n"))}
# json.dumps(ensure_ascii=False) writes C1 controls, bidi controls and line separators raw: escape
# them JSON's way (the string is the same once parsed). A lone surrogate is no valid JSON: it becomes
# the text printable() shows (`\\xff` for the byte 0xff of a name that is not UTF-8).
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in [*range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}
_JSON_ESCAPES.update({code: text.replace("\\", "\\\\") for code, text in _ESCAPES.items() if 0xD800 <= code < 0xE000})
_JSON_UNSAFE = re.compile("[\x80-\x9f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """A string from the archive (content or file name), safe to show: control characters as Python
    writes them in a string (\\x00, \\x1b, \\n), a byte that was not UTF-8 as \\xff, bidi controls as \\u202e.

    Raw, an escape drives the reader's terminal (clears it, sets its title, makes links), a newline
    cuts a one-line record in two, and a lone surrogate cannot be written as UTF-8 or XML.
    A backslash stays as it is, so `\\x1b` written in a title looks like an escaped ESC."""
    return text if text.isprintable() else text.translate(_ESCAPES)


def printable_lines(text: str) -> str:
    """`printable` for text shown as lines (a body, a paragraph): newlines and tabs kept."""
    return text if text.isprintable() else text.translate(_LINES)


def printable_spans(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """`printable_lines` for a line with marked spans (search matches): the spans moved to
    where their characters are once the escapes before them have lengthened the line."""
    if text.isprintable():
        return text, spans
    bounds = sorted({0, len(text), *(b for span in spans for b in span)})
    moved, shown = {0: 0}, []
    for a, b in zip(bounds, bounds[1:]):
        shown.append(text[a:b].translate(_LINES))
        moved[b] = moved[a] + len(shown[-1])
    return "".join(shown), tuple((moved[a], moved[b]) for a, b in spans)


def file_url(root, relpath: str) -> str:
    """The file:// URL of an archive file, for OSC 8 links (a click opens the event)."""
    return "file://" + os.path.abspath(os.path.join(str(root), *relpath.split("/")))


def linked_headline(title: str, root, relpath: str) -> Text:
    """An event's headline (capped), an OSC 8 link to its file: every rich screen leads on."""
    text = capped(printable(title or relpath), "headline")
    text.stylize(linked("", file_url(root, relpath)))
    return text


def slug_line(slug: str) -> Text:
    """An event's slug, dim, on a line of its own: cropped to the width, never wrapped (its start
    is a prefix `show` and `related` take)."""
    from rich.text import Text

    return Text(printable(slug), style="dim", no_wrap=True, overflow="crop")


def headline_and_slug(title: str, root, relpath: str, slug: str):
    """`linked_headline` over `slug_line`: what list-by-date and show print for each event."""
    from rich.console import Group

    return Group(linked_headline(title, root, relpath), slug_line(slug))


def linked(style: str, url: str):
    """A rich style linking to `url` (OSC 8), built from the URL as data: in a style string
    (`f"bold link {url}"`) a space ended the URL, and control characters reached the terminal."""
    from urllib.parse import quote

    from rich.style import Style

    if not url.isprintable() or " " in url:
        url = quote(url, safe="".join(map(chr, range(0x21, 0x7F))), errors="surrogateescape")
    return Style.parse(style) + Style(link=url) if style else Style(link=url)


def plain_field(text: str) -> str:
    """Tabs and newlines would break tab-separated output: fold them to spaces; escape the rest."""
    return printable(" ".join(str(text).split()))


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
        self.root = root
        self.prefix = local_path(root, "")
        self.here = self.prefix in ("", ".")
        self.inside = ""  # the current folder, relative to the root, when it is inside the archive
        if not self.here and set(self.prefix.split(os.sep)) == {".."}:
            self.inside = os.path.relpath(os.getcwd(), str(root)).replace(os.sep, "/") + "/"

    def __call__(self, relpath: str) -> str:
        """From inside `news/`, `2017/08/x.md`, not `../news/2017/08/x.md`."""
        if self.here:
            return relpath
        if self.inside:
            return relpath[len(self.inside) :] if relpath.startswith(self.inside) else local_path(self.root, relpath)
        return os.path.join(self.prefix, relpath)


MAX_LAID_OUT = 100_000  # characters of one text rich lays out in a table cell or a padding


def capped(text: str, what: str) -> Text:
    """`text` as rich Text, at most MAX_LAID_OUT characters of it and then how many more: rich lays
    out a Text in a table cell or a Padding at a cost of its length times its lines (Segment.
    split_and_crop_lines cuts the rest of the text at each line break): quadratic in a huge paragraph."""
    from rich.text import Text

    if len(text) <= MAX_LAID_OUT:
        return Text(text)
    more = len(text) - MAX_LAID_OUT
    return Text.assemble(text[:MAX_LAID_OUT], (f"… [{more:,} more characters: --plain shows the whole {what}]", "dim"))
