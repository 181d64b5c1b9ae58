"""Patterns for `search`: ripgrep-style patterns as RE2 programs, and matching them over text.

* Patterns: `compile_patterns` turns ripgrep-style flags into RE2 programs,
  compiled once. RE2 runs in linear time, so no pattern can hang a search.
  Patterns are rewritten so that `\\w`, `\\d`, `\\s` are Unicode-aware like
  ripgrep's and `\\A`/`\\z` mean line start/end (ripgrep matches line by line);
  RE2's `never_nl` keeps every match inside one line.
* Matching is a pure function over text: `Matcher.select(texts)` says which
  texts hold a match by scanning many texts joined into one buffer (one C
  call per few MB, not one per line or per event); `Matcher.lines(text)`
  then lists the matching lines of the few texts that matched. Nothing here
  knows where the texts came from, so a cached text blob can feed it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from newsarc.errors import BadPattern

SENSITIVE, INSENSITIVE, SMART = "sensitive", "insensitive", "smart"

# -- pattern rewriting --------------------------------------------------------

# Unicode classes as ripgrep (Rust regex) defines them; RE2's are ASCII-only.
_WORD = r"\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}"
_SPACE = r"\t\x0B\f\r\x{85}\p{Z}"
_NOT_WORD = f"[^{_WORD}]"
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": _NOT_WORD,
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}\\n]",
    "A": "(?m:^)",
    "z": "(?m:$)",
}
_INSIDE = {"w": _WORD, "d": r"\p{Nd}", "D": r"\P{Nd}", "s": _SPACE}  # \W, \S stay ASCII in a class
_CONTROL = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
_HEX = set("0123456789abcdefABCDEF")
_SYNTAX_HINT = "patterns use RE2 syntax: no backreferences or lookaround; -F searches fixed strings"
_CHUNK = 8 << 20  # bytes of text scanned per RE2 call


@dataclass(slots=True)
class _Scan:
    """A pattern rewritten for RE2, with what smart case and line checks need."""

    text: str
    literals: list[str] = field(default_factory=list)
    newline: int = -1  # column (0-based) of a literal line break, -1 if none


def _rewrite(pattern: str) -> _Scan:
    """Rewrite escapes ripgrep reads differently from RE2; note literal characters."""
    scan, out, i = _Scan(""), [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            end, piece, literal = _escape(pattern, i, _OUTSIDE)
            if literal == "\n":
                scan.newline = i
            scan.literals.extend(literal)
        elif ch == "[":
            end, piece = _class(pattern, i, scan)
        elif ch == "(" and pattern.startswith("(?", i):
            end = _group_head(pattern, i)
            piece = pattern[i:end]
        elif ch == "{" and _repetition(pattern, i) > i:
            end = _repetition(pattern, i)
            piece = pattern[i:end]
        else:
            end, piece = i + 1, ch
            if ch not in ".^$|()*+?":
                scan.literals.append(ch)
                if ch == "\n":
                    scan.newline = i
        out.append(piece)
        i = end
    scan.text = "".join(out)
    return scan


def _escape(pattern: str, i: int, table: dict[str, str]) -> tuple[int, str, str]:
    """One escape at `i`: (end, replacement, literal characters it stands for)."""
    if i + 1 >= len(pattern):
        return i + 1, "\\", ""  # trailing backslash: RE2 reports it
    ch = pattern[i + 1]
    if ch == "x":
        return _hex_escape(pattern, i)
    if ch in "pP":
        close = pattern.find("}", i) if pattern.startswith("{", i + 2) else i + 2
        end = (close + 1) if close != -1 else len(pattern)
        return end, pattern[i:end], ""
    if ch == "Q":
        close = pattern.find("\\E", i + 2)
        end = len(pattern) if close == -1 else close + 2
        return end, pattern[i:end], pattern[i + 2 : close if close != -1 else len(pattern)]
    if ch == "C":
        raise BadPattern(f"bad pattern {pattern!r}: \\C (any byte) is not supported, at column {i + 1}; use . instead")
    if ch in table:
        return i + 2, table[ch], ""
    if ch in _CONTROL:
        return i + 2, pattern[i : i + 2], _CONTROL[ch]
    if ch.isalnum():
        return i + 2, pattern[i : i + 2], ""  # \b, \B, \1... (RE2 judges)
    return i + 2, pattern[i : i + 2], ch  # escaped punctuation is a literal


def _hex_escape(pattern: str, i: int) -> tuple[int, str, str]:
    if pattern.startswith("{", i + 2):
        close = pattern.find("}", i)
        digits = pattern[i + 3 : close] if close != -1 else ""
        end = close + 1 if close != -1 else len(pattern)
    else:
        digits = pattern[i + 2 : i + 4]
        end = i + 4
    literal = chr(int(digits, 16)) if digits and set(digits) <= _HEX and int(digits, 16) <= 0x10FFFF else ""
    return end, pattern[i:end], literal


def _class(pattern: str, start: int, scan: _Scan) -> tuple[int, str]:
    """A bracketed class: rewrite its escapes; a class of only a line break is refused."""
    out, i = ["["], start + 1
    if pattern.startswith("^", i):
        out.append("^")
        i += 1
    members: list[str] = []
    first = True
    while i < len(pattern) and (pattern[i] != "]" or first):
        first = False
        if pattern.startswith("[:", i) and pattern.find(":]", i + 2) != -1:
            end = pattern.find(":]", i + 2) + 2
            out.append(pattern[i:end])
            members.append("[:]")
            i = end
            continue
        if pattern[i] == "\\":
            end, piece, literal = _escape(pattern, i, _INSIDE)
        else:
            end, piece, literal = i + 1, pattern[i], pattern[i]
        members.append(literal or piece)
        scan.literals.extend(literal)
        out.append(piece)
        i = end
    if members == ["\n"]:
        scan.newline = start
    if i < len(pattern):
        out.append("]")
        i += 1
    return i, "".join(out)


def _group_head(pattern: str, i: int) -> int:
    """End of `(?flags)`, `(?flags:`, `(?P<name>` or `(?<name>`: none of it is literal text."""
    j = i + 2
    if pattern.startswith(("P<", "<"), j) and not pattern.startswith(("<=", "<!"), j):
        close = pattern.find(">", j)
        return close + 1 if close != -1 else len(pattern)
    while j < len(pattern) and (pattern[j].isalpha() or pattern[j] == "-"):
        j += 1
    return j + 1 if j < len(pattern) and pattern[j] in ":)" else j


def _repetition(pattern: str, i: int) -> int:
    """End of a `{n}`, `{n,}` or `{n,m}` counted repetition at `i`, or `i` if it is not one."""
    close = pattern.find("}", i)
    inner = pattern[i + 1 : close] if close != -1 else ""
    low, comma, high = inner.partition(",")
    if low.isdigit() and (not high or high.isdigit()):
        return close + 1
    return i


# -- compiled patterns --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineMatch:
    """A matching line of a text: its 0-based index, its text and the char spans matched."""

    index: int
    text: str
    spans: tuple[tuple[int, int], ...]


class Matcher:
    """Patterns compiled once; `select` and `lines` only read them."""

    fixed = False  # the patterns are plain text (-F): compile_patterns says so, for whoever reads `patterns` again

    def __init__(self, patterns: Sequence[str], sources: Sequence[str], case_sensitive: bool, word: bool):
        import re2

        self.patterns = tuple(patterns)
        self.case_sensitive = case_sensitive
        self.word = word
        self._anchor = re2._re2.RE2.Anchor.UNANCHORED
        combined = "|".join(f"(?:{s})" for s in sources)
        self._any = self._program(re2, combined, capture=False)
        self._each = [self._program(re2, s, capture=False) for s in sources]
        # -w spans the word inside its boundary characters: group 1.
        self._spans = self._program(re2, combined, capture=True) if word else self._any

    def _program(self, re2, body: str, capture: bool):
        options = re2.Options()
        options.log_errors = False
        options.never_nl = True  # a match never spans lines
        options.case_sensitive = self.case_sensitive
        options.never_capture = not capture
        options.max_mem = 64 << 20
        if self.word:
            body = f"(?:^|{_NOT_WORD})({body})(?:$|{_NOT_WORD})"
        return re2.compile(f"(?m:{body})", options)._regexp

    # -- which texts match --------------------------------------------------

    def select(self, texts: Iterable[str | bytes], require_all: bool = False) -> Iterator[int]:
        """Indices of the texts where a pattern matches (every pattern with require_all).

        Texts are joined with line breaks into buffers of a few MB and each
        buffer is scanned by one RE2 call per match found; after a match the
        scan jumps to the next text, so the cost is one pass over the bytes.
        """
        for base, blob, offsets in _chunks(texts):
            yield from (base + i for i in sorted(self.hits(blob, offsets, require_all)))

    def hits(self, blob: bytes, offsets: Sequence[int], require_all: bool = False) -> set[int]:
        """Which texts of `blob` match; text i is blob[offsets[i]:offsets[i + 1]] (the index cache's layout)."""
        programs = self._each if require_all and len(self._each) > 1 else [self._any]
        found: set[int] | None = None
        for program in programs:
            hits = self._scan(program, blob, offsets)
            found = hits if found is None else found & hits
            if not found:
                break
        return found or set()

    def _scan(self, program, blob: bytes, offsets: Sequence[int]) -> set[int]:
        found, pos, end, match, last = set(), 0, len(blob), program.Match, len(offsets) - 1
        while pos <= end:
            start = match(self._anchor, blob, pos, end)[0][0]
            if start < 0:
                break
            doc = bisect_right(offsets, start) - 1
            if doc >= last:  # the empty tail after the final separator
                break
            found.add(doc)
            pos = offsets[doc + 1]
        return found

    # -- where they match ---------------------------------------------------

    def lines(self, text: str, limit: int | None = None, every: bool = True, window: int | None = None) -> list[LineMatch]:
        """The matching lines of `text`, in order, at most `limit` of them (an empty text has none);
        each with the span of every match in it, or with `every=False` of its first match only, or
        with `window` of those starting at most that many bytes after its first.

        Grep lines show only where a line's first match is, and finding the
        others cost most of a search for a common word; a terminal shows a
        window of a long line (a span per match of a megabyte-long line is memory nobody sees)."""
        if not text:
            return []
        data = text.encode()
        starts = _line_starts(data)
        found: dict[int, list[tuple[int, int]]] = {}
        if not every:
            spans = self._first_spans(data, starts)
        else:
            spans = self._byte_spans(data) if window is None else self._window_spans(data, starts, window)
        for start, end in spans:
            index = bisect_right(starts, start) - 1
            if index not in found:
                if limit is not None and len(found) >= limit:
                    break
                found[index] = []
            found[index].append((start, end))
        return [_line_match(data, starts, index, spans) for index, spans in found.items()]

    def _byte_spans(self, data: bytes) -> Iterator[tuple[int, int]]:
        pos, end, match, group = 0, len(data), self._spans.Match, 1 if self.word else 0
        while pos <= end:
            spans = match(self._anchor, data, pos, end)
            if spans[0][0] < 0:
                return
            start, stop = spans[group]
            yield start, stop
            pos = stop if stop > pos else _next_char(data, pos)

    def _window_spans(self, data: bytes, starts: list[int], window: int) -> Iterator[tuple[int, int]]:
        """Each match starting within `window` bytes of its line's first; then on to the next line."""
        pos, end, match, group, last = 0, len(data), self._spans.Match, 1 if self.word else 0, len(starts) - 1
        until = line_end = 0  # the window's end, and where the next line starts
        while pos <= end:
            spans = match(self._anchor, data, pos, end)
            at = spans[0][0]
            if at < 0:
                return
            if at >= line_end:  # a line's first match
                index = bisect_right(starts, at) - 1
                until, line_end = at + window, starts[index + 1] if index < last else end + 1
            elif at > until:  # past the window: the rest of this line is not shown
                if line_end > end:
                    return
                pos = line_end
                continue
            start, stop = spans[group]
            yield start, stop
            pos = stop if stop > pos else _next_char(data, pos)

    def _first_spans(self, data: bytes, starts: list[int]) -> Iterator[tuple[int, int]]:
        """The first match of each matching line: the scan jumps to the next line after one."""
        pos, end, match, group, last = 0, len(data), self._spans.Match, 1 if self.word else 0, len(starts) - 1
        while pos <= end:
            spans = match(self._anchor, data, pos, end)
            if spans[0][0] < 0:
                return
            yield spans[group]
            index = bisect_right(starts, spans[0][0]) - 1
            if index >= last:
                return
            pos = starts[index + 1]

    def counts(self, text: str) -> list[int]:
        """How many times each pattern matches `text` (term frequencies for BM25)."""
        data = text.encode()
        result = []
        for program in self._each:
            pos, end, n = 0, len(data), 0
            while pos <= end:
                span = program.Match(self._anchor, data, pos, end)[0]
                if span[0] < 0:
                    break
                n += 1
                pos = span[1] if span[1] > pos else _next_char(data, pos)
            result.append(n)
        return result


def _chunks(texts: Iterable[str | bytes]) -> Iterator[tuple[int, bytes, list[int]]]:
    """Join texts into buffers of about _CHUNK bytes: (index of the first, buffer, offsets).

    `offsets[i]` is where text i starts; a final offset marks the end. Empty
    texts have no lines, so they are left out (their offset repeats).
    """
    parts: list[bytes] = []
    offsets: list[int] = []
    size, base = 0, 0
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode()
        offsets.append(size)
        if data:
            parts.append(data)
            parts.append(b"\n")
            size += len(data) + 1
        if size >= _CHUNK:
            offsets.append(size)
            yield base, b"".join(parts), offsets
            base += len(offsets) - 1
            parts, offsets, size = [], [], 0
    if offsets:
        offsets.append(size)
        yield base, b"".join(parts), offsets


def _line_starts(data: bytes) -> list[int]:
    starts, find = [0], data.find
    i = find(b"\n")
    while i != -1:
        starts.append(i + 1)
        i = find(b"\n", i + 1)
    return starts


def _next_char(data: bytes, pos: int) -> int:
    """The next UTF-8 character boundary after `pos` (an empty match must move on)."""
    pos += 1
    while pos < len(data) and data[pos] & 0xC0 == 0x80:
        pos += 1
    return pos


def _line_match(data: bytes, starts: list[int], index: int, spans: list[tuple[int, int]]) -> LineMatch:
    start = starts[index]
    stop = starts[index + 1] - 1 if index + 1 < len(starts) else len(data)
    line = data[start:stop]
    if line.isascii():
        chars = tuple((s - start, e - start) for s, e in spans)
        return LineMatch(index, line.decode(), chars)
    chars = _char_offsets(line, [b - start for span in spans for b in span])
    return LineMatch(index, line.decode("utf-8", "replace"), tuple(zip(chars[::2], chars[1::2])))


def _char_offsets(line: bytes, offsets: list[int]) -> list[int]:
    """Byte offsets into a line as character offsets, each counted on from the one before (they
    ascend: matches do not overlap), so many matches on one long line cost its length once."""
    found, at, chars = [], 0, 0
    for offset in offsets:
        if offset < at:
            at = chars = 0
        chars += len(line[at:offset].decode("utf-8", "replace"))
        at = offset
        found.append(chars)
    return found


def compile_patterns(
    patterns: Sequence[str],
    *,
    fixed: bool = False,
    case: str = SENSITIVE,
    word: bool = False,
    line: bool = False,
) -> Matcher:
    """Compile grep-style patterns (any of them matches) once; raise BadPattern.

    `case` is sensitive, insensitive or smart (ripgrep's rule: insensitive
    when the patterns hold a literal character and no uppercase one).
    """
    if not patterns:
        raise BadPattern("give a pattern to search for, e.g. newsarc search 'Deir ez-Zor'")
    scans = [_fixed(p) if fixed else _rewrite(p) for p in patterns]
    for pattern, scan in zip(patterns, scans):
        if scan.newline >= 0:
            raise BadPattern(
                f"bad pattern {pattern!r}: a line break at column {scan.newline + 1} can never match "
                "(matches never span lines); search each line's text separately"
            )
    literals = [c for s in scans for c in s.literals]
    sensitive = case == SENSITIVE or (case == SMART and (not literals or any(c.isupper() for c in literals)))
    for pattern, scan in zip(patterns, scans):
        _check(pattern, scan.text, fixed)
    sources = [f"^(?:{s.text})$" if line else s.text for s in scans]
    import re2

    try:
        matcher = Matcher(patterns, sources, sensitive, word)
        matcher.fixed = fixed
        return matcher
    except re2.error as exc:  # each compiled alone; together they can exceed RE2's memory budget
        raise BadPattern(f"the {len(patterns)} patterns together are too large for the regex engine ({exc}); give fewer") from None


def _fixed(pattern: str) -> _Scan:
    import re2

    newline = pattern.find("\n")
    return _Scan(re2.escape(pattern), list(pattern), newline)


def _check(pattern: str, source: str, fixed: bool) -> None:
    """Compile one pattern alone, so an error names the pattern and the place in it.

    When the rewritten pattern fails, the pattern as typed usually fails the
    same way, and its message points into what the user wrote.
    """
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(source, options)
    except re2.error as exc:
        if not fixed:
            try:
                re2.compile(pattern, options)
            except re2.error as original:
                exc = original
        raise BadPattern(_describe(pattern, exc)) from None


def _describe(pattern: str, exc: Exception) -> str:
    """RE2 says `missing ): (a`; say where that is in the pattern as typed."""
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    what, _, where = message.partition(": ")
    column = pattern.find(where) if where else -1
    if what == "missing )" and _unclosed(pattern) >= 0:
        return f"bad pattern {pattern!r}: the ( at column {_unclosed(pattern) + 1} is never closed; {_SYNTAX_HINT}"
    if column >= 0 and what.startswith("unexpected"):
        column += len(where) - 1  # RE2 quotes the pattern up to the stray character
    near = f" (near {where!r})" if where else ""
    place = f" at column {column + 1}{near}" if column >= 0 else near
    return f"bad pattern {pattern!r}: {what}{place}; {_SYNTAX_HINT}"


def _unclosed(pattern: str) -> int:
    """Index of the last `(` left open (escapes and classes skipped), or -1."""
    stack: list[int] = []
    for i, ch in parentheses(pattern):
        if ch == "(":
            stack.append(i)
        elif stack:
            stack.pop()
    return stack[-1] if stack else -1


def parentheses(pattern: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """(index, "(" or ")") of each parenthesis of `pattern` from `start`, escapes and classes skipped."""
    i = start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _class(pattern, i, _Scan(""))[0]
            continue
        if ch in "()":
            yield i, ch
        i += 1
