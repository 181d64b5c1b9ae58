"""`validate-links --fix`: rewrite links that have exactly one certain fix.

Edits are byte-exact at the link destination the parser located
(`Link.dest_start/dest_end`), so every other byte of the file survives: line
endings, trailing spaces, front matter, a BOM. A file is written atomically
(temp file in the same folder, then os.replace) with its permissions, owner
and extended attributes kept.
Nothing is applied that is not certain: fuzzy fixes only on request, never
two different edits at one place, never a file that did not decode cleanly
(the parser's offsets would not match its bytes), never a span whose bytes
are not the link as the parser read it.

An archive may be hostile, or change while it is fixed: the file written is
the file that was read and checked, never what a path points to later
(see `_fix_file`). Files a rewrite would damage are left alone and reported:
one with hard links (the other names would keep the old text), one its owner
made read-only (as `sed -i` would not rewrite it either), a symbolic link out
of the root. A symlink to an event inside the root is that event: its fixes
are the event's, counted once, so `--dry-run` and `--fix` agree.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from newsarc.errors import NewsarcError
from newsarc.features.linkcheck.checks import Finding, Fix, Report

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


def _need_folder_descriptors() -> None:
    """Every step works relative to a folder's descriptor, never following a symlink: without
    those (Windows) a fix could be sent outside the archive, so there is none."""
    needed = {os.open, os.rename, os.stat, os.unlink}  # os.replace makes os.rename's call
    if not hasattr(os, "O_NOFOLLOW") or not hasattr(os, "O_DIRECTORY") or not needed <= os.supports_dir_fd:
        raise NewsarcError(
            "--fix needs a system with folder descriptors (Linux, macOS, BSD) to write safely;"
            " fix the links by hand from the report"
        )


class _Refused(Exception):
    """Why a file is left alone: the end of the sentence `not fixing PATH: ...`."""


# Called after the file is read and its new text written to the temp file, just before the
# check that the name is still that file: tests swap the file here, at the worst moment.
_before_replace: Callable[[], None] | None = None


def apply(root: Path, findings: Iterable[Finding], *, fuzzy: bool = False, dry_run: bool = False) -> FixResult:
    """Rewrite each file with its chosen fixes (or only diff them with `dry_run`)."""
    _need_folder_descriptors()
    result = FixResult()
    top = os.path.realpath(root)
    cleaned: set[str] = set()
    for real, (paths, chosen) in sorted(_by_real_file(root, top, choose(findings, fuzzy), result).items()):
        try:
            _fix_file(top, real, paths, chosen, result, dry_run, cleaned)
        except _Refused as why:
            result.refused[real] = str(why)
    return result


def _by_real_file(root: Path, top: str, plan: dict[str, list[Finding]], result: FixResult) -> dict[str, tuple[list[str], list[Finding]]]:
    """The files to fix, by the file each path really is (relative to the real root).

    The scan reads a symlink inside the root as an event of its own; fixing
    both names would edit one file twice (the second edit finds its bytes
    moved). A path that leads out of the root now is refused here.
    """
    groups: dict[str, tuple[list[str], list[Finding]]] = {}
    for path, chosen in plan.items():
        try:
            real = os.path.realpath(root / path)
        except OSError as exc:  # a symlink on the way changing as we look
            result.refused[path] = f"cannot read: {exc.strerror or exc}"
            continue
        if not real.startswith(top.rstrip(os.sep) + os.sep):
            result.refused[path] = "it is now a symbolic link out of the archive root; left alone"
            continue
        paths, found = groups.setdefault(Path(os.path.relpath(real, top)).as_posix(), ([], []))
        paths.append(path)
        found.extend(chosen)
    return {real: (paths, kept) for real, (paths, found) in groups.items() if (kept := _without_conflicts(found))}


def _fix_file(top: str, real: str, paths: list[str], chosen: list[Finding], result: FixResult, dry_run: bool, cleaned: set[str]) -> None:
    """Check, edit and replace one file, every step relative to its folder's descriptor.

    The folder is opened once by walking down from the root without following
    a symlink, the file with O_NOFOLLOW; just before os.replace the name must
    still be the inode that was read. A file or folder swapped for a symlink
    at any moment can then neither be read through nor send the write outside
    the root.
    """
    folder, _, name = real.rpartition("/")
    with _open_folder(top, folder) as fd, _read(fd, name) as (data, info, attrs):
        why = _unclean(data)
        if why:
            raise _Refused(why)
        offset = len(_BOM) if data.startswith(_BOM) else 0
        usable = [f for f in chosen if data[offset + f.fix.start : offset + f.fix.end] == f.fix.old.encode()]
        if len(usable) < len(chosen):
            raise _Refused("the file changed since it was read, or a link is written with escapes; left alone")
        fixes = _unique_fixes(usable)
        new = _edit(data, offset, fixes)
        if not dry_run:
            if folder not in cleaned:
                cleaned.add(folder)
                _remove_stale_temps(fd)
            _replace(fd, name, new, info, attrs)
    result.diff += _diff(real, data, new)
    for path in paths:
        result.moves[path] = _moves(data, offset, fixes)
    result.applied.extend(usable)
    result.files.append(real)


_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def _open_folder(top: str, folder: str) -> Iterator[int]:
    """A descriptor of `folder` (relative to the real root), no component followed if a symlink."""
    try:
        fd = os.open(top, _DIR)
    except OSError as exc:
        raise _Refused(f"cannot open the archive root: {exc.strerror or exc}") from None
    try:
        for part in folder.split("/") if folder else ():
            try:
                inner = os.open(part, _DIR | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                raise _Refused(f"its folder {part} changed while being fixed ({exc.strerror}); left alone") from None
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _read(fd: int, name: str) -> Iterator[tuple[bytes, os.stat_result, dict[str, bytes]]]:
    """The file's bytes, what it was when read, and its extended attributes; or why not to touch it.

    The file stays open until the fix is done: its inode cannot be freed and
    given to something swapped in under its name (ext4 reuses one at once).
    """
    handle = _open(fd, name)
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("it is no longer a regular file; left alone")
        if info.st_nlink > 1:
            raise _Refused(f"it has {info.st_nlink} hard links; fixing it would break them; left alone")
        if not info.st_mode & stat.S_IWUSR:  # root may open it for writing: its owner said no
            raise _Refused("it is read-only; left alone")
        try:
            data, attrs = file.read(), _xattrs(handle)
        except OSError as exc:
            raise _Refused(f"cannot read: {exc.strerror or exc}") from None
        yield data, info, attrs


def _open(fd: int, name: str) -> int:
    """`name` opened for reading and writing (so a file we may not write is known as such, with no
    second look at the name); never through a symlink, never waiting on a FIFO swapped in."""
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        return os.open(name, os.O_RDWR | flags, dir_fd=fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Refused("it is now a symbolic link; left alone") from None
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise _Refused(f"cannot read: {exc.strerror or exc}") from None
    try:
        os.close(os.open(name, os.O_RDONLY | flags, dir_fd=fd))
    except OSError as exc:
        raise _Refused(f"cannot read: {exc.strerror or exc}") from None
    raise _Refused("it is read-only; left alone")


def _xattrs(handle: int) -> dict[str, bytes]:
    """Extended attributes to copy to the new version (ACLs, labels, user notes), where the platform has them."""
    if not hasattr(os, "listxattr"):
        return {}
    try:
        names = os.listxattr(handle)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return {}
        raise
    return {attr: os.getxattr(handle, attr) for attr in names}


def _replace(fd: int, name: str, data: bytes, read: os.stat_result, attrs: dict[str, bytes]) -> None:
    """Put `data` in place of `name` in folder `fd` atomically, keeping owner, mode and attributes."""
    temp = ""
    try:
        temp, handle = _new_temp(fd)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            with contextlib.suppress(OSError):
                if (read.st_uid, read.st_gid) != (os.getuid(), os.getgid()):
                    os.fchown(handle, read.st_uid, read.st_gid)
            os.fchmod(handle, stat.S_IMODE(read.st_mode))
            _copy_xattrs(handle, attrs)
            os.fsync(handle)
        if _before_replace is not None:
            _before_replace()
        _check_unchanged(fd, name, read)
        os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
        temp = ""
    except OSError as exc:
        raise _Refused(f"cannot write it: {exc.strerror or exc}; left alone") from None
    finally:
        if temp:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=fd)


_TEMP = ".newsarc-fix-{pid}-{token}.tmp"
_OURS = re.compile(r"\.newsarc-fix-(\d+)-[0-9a-f]{8}\.tmp")
_LEGACY = re.compile(r"\.newsarc-fix-[a-z0-9_]{8}\.tmp")  # tempfile.mkstemp's names, before the pid was in them


def _new_temp(fd: int) -> tuple[str, int]:
    """A new temp file in folder `fd`, named so a later run can tell whose it was (`_remove_stale_temps`)."""
    for _ in range(100):
        # A short name: the file's own may already be 255 bytes, all a name may have.
        temp = _TEMP.format(pid=os.getpid(), token=secrets.token_hex(4))
        try:
            return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name")


def _copy_xattrs(handle: int, attrs: dict[str, bytes]) -> None:
    for attr, value in attrs.items():
        with contextlib.suppress(OSError):
            if os.getxattr(handle, attr) == value:
                continue  # already there (a label or default ACL the folder gives new files)
        try:
            os.setxattr(handle, attr, value)
        except OSError as exc:
            raise _Refused(f"cannot keep its extended attribute {attr} ({exc.strerror}); left alone") from None


def _check_unchanged(fd: int, name: str, read: os.stat_result) -> None:
    """Refuse unless `name` is still the file that was read: os.replace would replace whatever is there now."""
    try:
        now = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        raise _Refused("it was removed while being fixed; left alone") from None
    if (now.st_dev, now.st_ino, stat.S_IFMT(now.st_mode)) != (read.st_dev, read.st_ino, stat.S_IFMT(read.st_mode)):
        raise _Refused("it was replaced while being fixed; left alone")
    if (now.st_size, now.st_mtime_ns) != (read.st_size, read.st_mtime_ns):
        raise _Refused("it changed while being fixed; left alone")


def _remove_stale_temps(fd: int) -> None:
    """Delete the temp files a killed newsarc left in this folder (kill -9 runs no cleanup).

    Only ours by name, owned by us, of a process that is gone and over a
    minute old: a pid can be reused, and a newsarc on another machine sharing
    the folder has a pid we cannot check, so a dead pid alone proves nothing;
    writing a temp file takes milliseconds, so a minute is long dead. Names
    from before the pid was in them: over an hour old.
    """
    now = time.time()
    for entry in os.listdir(fd):
        ours, legacy = _OURS.fullmatch(entry), _LEGACY.fullmatch(entry)
        if not (ours or legacy):
            continue
        with contextlib.suppress(OSError):
            info = os.stat(entry, dir_fd=fd, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                continue
            age = now - info.st_mtime
            if (ours and age > 60 and not _alive(int(ours[1]))) or (legacy and age > 3600):
                os.unlink(entry, dir_fd=fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process; or a pid no system has: leave it
    return True


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


def fix_report(root: Path, report: Report, *, fuzzy: bool = False, dry_run: bool = False) -> FixResult:
    """validate-links --fix: `apply` the report's fixes; the findings they mended leave the report
    (with --dry-run nothing is written, and the report stays as it was)."""
    result = apply(root, report.findings, fuzzy=fuzzy, dry_run=dry_run)
    if not dry_run:
        report.findings = left_after(report.findings, result)
    return result


def left_after(findings: list[Finding], result: FixResult) -> list[Finding]:
    """The findings a fix did not mend, with columns corrected for the edits made on their lines."""
    fixed = {id(f) for f in result.applied}
    return [moved(f, result) for f in findings if id(f) not in fixed]


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

