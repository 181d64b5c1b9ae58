"""`validate-links --fix`: rewrite links that have exactly one certain fix.

Edits are byte-exact at the link destination the parser located
(`Link.dest_start/dest_end`), so every other byte of the file survives: line
endings, trailing spaces, front matter, a BOM. A file is written atomically
(temp file in the same folder, then os.replace) with its permissions kept.
Nothing is applied that is not certain: fuzzy fixes only on request, never
two different edits at one place, never a file that did not decode cleanly
(the parser's offsets would not match its bytes), never a span whose bytes
are not the link as the parser read it.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from newsarc.links import Finding, Fix

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class FixResult:
    applied: list[Finding] = field(default_factory=list)  # findings whose link was rewritten (or would be)
    files: list[str] = field(default_factory=list)  # files changed (or that would change)
    refused: dict[str, str] = field(default_factory=dict)  # path -> why it was left alone
    diff: str = ""  # unified diff of every change (always computed; printed for --dry-run)
    moves: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)  # path -> (line, column, shift)


def choose(findings: Iterable[Finding], fuzzy: bool = False) -> dict[str, list[Finding]]:
    """Findings to fix, per file: certain ones (and fuzzy ones if asked), without conflicts."""
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.fix is not None and (fuzzy or not finding.fix.fuzzy):
            by_path.setdefault(finding.path, []).append(finding)
    return {path: kept for path, chosen in by_path.items() if (kept := _without_conflicts(chosen))}


def _without_conflicts(findings: list[Finding]) -> list[Finding]:
    """Drop every edit that overlaps a different edit: two answers mean no certain answer."""
    spans: dict[tuple[int, int], set[str]] = {}
    for finding in findings:
        spans.setdefault((finding.fix.start, finding.fix.end), set()).add(finding.fix.new)
    bad = {span for span, news in spans.items() if len(news) > 1}
    ordered = sorted(spans)
    for (start, end), (next_start, next_end) in zip(ordered, ordered[1:]):
        if next_start < end:
            bad |= {(start, end), (next_start, next_end)}
    return [f for f in findings if (f.fix.start, f.fix.end) not in bad]


def apply(root: Path, findings: Iterable[Finding], *, fuzzy: bool = False, dry_run: bool = False) -> FixResult:
    """Rewrite each file with its chosen fixes (or only diff them with `dry_run`)."""
    result = FixResult()
    for path, chosen in sorted(choose(findings, fuzzy).items()):
        file = root / path
        if not _inside(root, file):
            result.refused[path] = "it is now a symbolic link out of the archive root; left alone"
            continue
        try:
            data = file.read_bytes()
        except OSError as exc:
            result.refused[path] = f"cannot read: {exc.strerror or exc}"
            continue
        why = _unclean(data)
        if why:
            result.refused[path] = why
            continue
        offset = len(_BOM) if data.startswith(_BOM) else 0
        usable = [f for f in chosen if data[offset + f.fix.start : offset + f.fix.end] == f.fix.old.encode()]
        if len(usable) < len(chosen):
            result.refused[path] = "the file changed since it was read, or a link is written with escapes; left alone"
            continue
        new = _edit(data, offset, _unique_fixes(usable))
        result.diff += _diff(path, data, new)
        result.moves[path] = _moves(data, offset, _unique_fixes(usable))
        if not dry_run:
            write_atomic(file, new)
        result.applied.extend(usable)
        result.files.append(path)
    return result


def _inside(root: Path, file: Path) -> bool:
    """The scan never follows a symlink out of the root; this catches a file swapped for one since."""
    real, top = os.path.realpath(file), os.path.realpath(root)
    return real.startswith(top.rstrip(os.sep) + os.sep)


def _unclean(data: bytes) -> str:
    """Why the parser's byte offsets may not match this file; "" when they do."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "file is UTF-16; save it as UTF-8 to fix it"
    if b"\x00" in data:
        return "binary file"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "file is not valid UTF-8; fix its encoding first"
    return ""


def _unique_fixes(findings: list[Finding]) -> list[Fix]:
    """One edit per span (reference links share their definition), last first."""
    spans = {(f.fix.start, f.fix.end): f.fix for f in findings}
    return [spans[key] for key in sorted(spans, reverse=True)]


def _edit(data: bytes, offset: int, fixes: list[Fix]) -> bytes:
    for fix in fixes:  # from the end, so earlier offsets stay valid
        data = data[: offset + fix.start] + fix.new.encode() + data[offset + fix.end :]
    return data


def _moves(data: bytes, offset: int, fixes: list[Fix]) -> list[tuple[int, int, int]]:
    """(line, column, shift) per edit: later columns on that line move by `shift` characters."""
    moves = []
    for fix in fixes:
        at = offset + fix.start
        line_start = data.rfind(b"\n", 0, at) + 1
        line = data.count(b"\n", 0, at) + 1
        column = len(data[line_start:at].decode("utf-8")) + 1
        if line == 1 and offset:
            column -= 1  # the BOM is not a character of the text
        moves.append((line, column, len(fix.new) - len(fix.old)))
    return moves


def moved(finding: Finding, result: FixResult) -> Finding:
    """`finding` with its column corrected for edits made earlier on its line."""
    shift = sum(s for line, column, s in result.moves.get(finding.path, ()) if line == finding.line and column < finding.column)
    if shift:
        finding.column += shift
    return finding


def _lines(text: str) -> list[str]:
    """Split on '\\n' only, keeping it (str.splitlines also splits on \\x0c, \\u2028...)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _diff(path: str, old: bytes, new: bytes) -> str:
    before, after = _lines(old.decode("utf-8")), _lines(new.decode("utf-8"))
    out = []
    for line in difflib.unified_diff(before, after, git_quoted(f"a/{path}"), git_quoted(f"b/{path}")):
        if line.startswith(("---", "+++")):
            line = line.rstrip("\n") + "\n"
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


_C_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}


def git_quoted(name: str) -> str:
    """A file name in a diff header as git writes one: in double quotes, C-escaped, when it holds a
    control character, a quote or a backslash (git apply and GNU patch read it back). Raw, a newline
    in the name broke the header and an escape reached the reader's terminal."""
    if name.isprintable() and '"' not in name and "\\" not in name:
        return name
    out = []
    for char in name:
        if char in _C_ESCAPES:
            out.append(_C_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        else:  # other controls, bidi controls, and a byte that was not UTF-8 (a surrogate): octal bytes
            out.extend(f"\\{byte:03o}" for byte in char.encode("utf-8", "surrogateescape"))
    return '"' + "".join(out) + '"'


def write_atomic(file: Path, data: bytes) -> None:
    """Replace `file` by a complete new version, never a half-written one; keep its mode."""
    real = Path(os.path.realpath(file))
    info = real.stat()
    # A short fixed prefix: the file's own name may already be 255 bytes, all a name may have.
    handle, temp = tempfile.mkstemp(dir=real.parent, prefix=".newsarc-fix-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, stat.S_IMODE(info.st_mode))
        with contextlib.suppress(OSError):
            if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
                os.chown(temp, info.st_uid, info.st_gid)
        os.replace(temp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
