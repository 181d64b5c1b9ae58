"""`validate-links`: every internal link in every file, checked offline.

Exactness first: a link is broken only if its target is missing as written
(checked against the scan, then against a listing of the target's folder, so
hidden files, non-Markdown files and files outside the scanned scope count);
links inside code are not links (the parser never reports them). Speed
second: the scan already knows which files exist, so each link costs a set
lookup, and the filesystem is asked only about targets the scan did not see.

The core produces `Finding` records and never prints. A finding names one
place (path, line, column) and may carry more (`also`), so a check that
reports one URL used in many files (the future `--external`) fits the same
record and the same renderers.
"""

from __future__ import annotations

import os
import posixpath
import re
from itertools import compress, groupby, repeat
from operator import attrgetter, itemgetter, not_
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from newsarc.reading import dates
from newsarc.index.cache import no_gc
from newsarc.archive import Archive, Target, day_spellings, resolve_written
from newsarc.errors import ExitStatus, NewsarcError
from newsarc.model import DATE, FRONT_MATTER, RELATED, Event, Link
from newsarc.reading.parser import DAY_PAGE, CannotStream, read_event
from newsarc.features.linkcheck.over_limit import parts_over_limit
from newsarc.features.suggest import close_names

if TYPE_CHECKING:
    from newsarc.features.linkcheck.facts import Facts

ERROR = "error"
WARNING = "warning"

# Kinds of finding: the check that finds them, whether they are errors without
# --strict, and a label for summaries. Their names are a stable interface
# (JSON, JUnit, --format github titles).
MISSING = "missing-file"
OUTSIDE = "outside-archive"
HEADING = "missing-heading"
DATE_MISMATCH = "date-mismatch"
BAD_DATE = "bad-date"
UNLISTED = "unlisted"
NO_DAY_PAGE = "no-day-page"
MIXED_PADDING = "mixed-padding"
DUPLICATE = "duplicate"
NOT_RECIPROCAL = "not-reciprocal"
UNREADABLE = "unreadable"
UNPARSED = "unparsed"


@dataclass(frozen=True, slots=True)
class Kind:
    check: str
    error: bool
    label: str


KINDS: dict[str, Kind] = {
    MISSING: Kind("links", True, "missing file"),
    OUTSIDE: Kind("links", True, "outside the archive"),
    HEADING: Kind("fragments", True, "missing heading"),
    DATE_MISMATCH: Kind("dates", True, "date mismatch"),
    BAD_DATE: Kind("dates", True, "date line is not a date"),
    UNLISTED: Kind("day-pages", False, "not on its day page"),
    NO_DAY_PAGE: Kind("day-pages", False, "day folder without index.md"),
    MIXED_PADDING: Kind("padding", False, "mixed day padding"),
    DUPLICATE: Kind("duplicates", False, "duplicate event"),
    NOT_RECIPROCAL: Kind("reciprocal", False, "related link not reciprocated"),
    UNREADABLE: Kind("files", False, "unreadable file"),
    UNPARSED: Kind("files", False, "part of a file not understood"),
    # --external: made in newsarc/cli/links.py from newsarc.features.linkcheck.external's verdicts, one per URL
    "dead-url": Kind("external", True, "dead URL"),
    "malformed-url": Kind("external", True, "malformed URL"),
    "moved-url": Kind("external", False, "moved permanently"),
    "rate-limited-url": Kind("external", False, "rate-limited"),
    "unchecked-url": Kind("external", False, "not checked"),
}

# What each check covers, in the order summaries list them.
CHECKS: dict[str, str] = {
    "links": "internal links point at existing files, inside the archive",
    "fragments": "#fragments name a heading of their target",
    "dates": "each event's date line agrees with its folder",
    "day-pages": "every day folder has index.md, and it lists the day's events",
    "padding": "day folders use one spelling (4 or 04)",
    "duplicates": "no two events share date and headline",
    "reciprocal": "related links are returned",
    "files": "every file could be read and understood",
}

_SAFE_PATH = re.compile(r"[A-Za-z0-9_\-./~]*")
_FRONT_MATTER_DATE = re.compile(rb"^date[ \t]*:", re.M)
_HEAD_BYTES = 256 << 10  # what _text_bytes reads: the front matter and more


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    link: str  # what to write instead, in the style of the link as written
    reason: str  # "other day spelling", "close slug", "same slug on 2015-09-05", ...


@dataclass(frozen=True, slots=True)
class Fix:
    """One certain edit: replace `old` at byte span [start, end) with `new`.

    Offsets are into the file's text without a BOM (as `Link.dest_start`);
    `fuzzy` fixes are applied only on request (`--fix-fuzzy`).
    """

    start: int
    end: int
    old: str
    new: str
    fuzzy: bool = False


@dataclass(slots=True)
class Finding:
    """One problem: where, the link as written, why, and what to write instead."""

    path: str  # posix, relative to the site root: a file, or a folder for folder problems
    line: int  # 1-based; 0 when the problem concerns the whole file or folder
    column: int
    link: str  # the link as written; "" when the problem is not about one link
    kind: str
    message: str
    severity: str = ERROR
    target: str = ""  # where the link points (site path or URL)
    suggestions: Sequence[Suggestion] = ()  # shared empty tuples: 510k findings of --reciprocal at 100k
    fix: Fix | None = None  # events held two empty lists each, 57 MB
    also: Sequence[Location] = ()  # the same problem at other places

    @property
    def check(self) -> str:
        return KINDS[self.kind].check if self.kind in KINDS else self.kind

    @property
    def locations(self) -> list[Location]:
        return [Location(self.path, self.line, self.column), *self.also]

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.kind, self.link)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "link": self.link,
            "kind": self.kind,
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "target": self.target,
            "suggestions": [{"link": s.link, "reason": s.reason} for s in self.suggestions],
            "fixable": None if self.fix is None else ("fuzzy" if self.fix.fuzzy else "certain"),
            "also": [{"path": p.path, "line": p.line, "column": p.column} for p in self.also],
        }


_SORT_FIELDS = ("link", "kind", "column", "line", "path")  # Finding.sort_key's, last first


def sort_findings(findings: list[Finding]) -> None:
    """`findings.sort(key=Finding.sort_key)`, the same order: one stable sort per field, the last
    field first, so no key tuple is made (510k of them, --reciprocal at 100k, took 19 MB at the
    command's peak); in place (a sorted copy took 50 MB more)."""
    for name in _SORT_FIELDS:
        findings.sort(key=attrgetter(name))


@dataclass(slots=True)
class Options:
    """What to check. New checks (such as --external) add a field and a name in `checks()`."""

    strict: bool = False  # warnings count as errors
    reciprocal: bool = False

    def checks(self) -> tuple[list[str], dict[str, str]]:
        """The checks that run, and the ones that do not with the reason."""
        ran = [name for name in CHECKS if name != "reciprocal" or self.reciprocal]
        off = {} if self.reciprocal else {"reciprocal": "off (use --reciprocal)"}
        off["external"] = "off (offline: http links are not fetched)"
        return ran, off


@dataclass(slots=True)
class Report:
    findings: list[Finding]
    checks: list[str]
    skipped: dict[str, str]
    files: int = 0  # files whose links were checked
    links: int = 0  # internal links checked
    external: int = 0  # links with a scheme (http:, mailto:...), not checked offline
    strict: bool = False
    # The files checked, as `sources` found them: --external asks for their URLs next, and finding
    # them again was a second glance at every file (about 3 s at 100k events with no index).
    sources: Sources | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    def counts(self) -> dict[str, dict[str, int]]:
        """kind -> {"error": n, "warning": n}, in the order of KINDS."""
        table: dict[str, dict[str, int]] = {}
        for finding in self.findings:
            row = table.setdefault(finding.kind, {ERROR: 0, WARNING: 0})
            row[finding.severity] += 1
        order = list(KINDS)
        return dict(sorted(table.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

    def summary(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "links": self.links,
            "external_not_checked": self.external,
            "errors": self.errors,
            "warnings": self.warnings,
            "strict": self.strict,
            "checks": self.checks,
            "skipped_checks": self.skipped,
            "kinds": self.counts(),
        }

    def exit_status(self, checked: Any = None) -> int:
        """validate-links' exit status: 130 when Ctrl-C stopped --external's requests (`checked`,
        external.Report), else 1 when an error was found, else 0 (warnings allowed)."""
        if checked is not None and checked.interrupted:
            return ExitStatus.INTERRUPTED
        return ExitStatus.NOTHING if self.errors else ExitStatus.OK


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """A link as `--dump` lists it: found, resolved, not judged."""

    path: str
    line: int
    column: int
    role: str
    link: str
    resolved: str | None  # site path; None for external links and links leaving the archive
    scope: str  # "internal", "external" or "outside"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "role": self.role,
            "link": self.link,
            "resolved": self.resolved,
            "scope": self.scope,
        }


# -- which files to check -----------------------------------------------------


@dataclass(slots=True)
class Sources:
    """The parsed files whose links are checked, and what is known to exist."""

    docs: Sequence[Event]  # readable events and day pages to check
    unreadable: list[Event]
    scanned: list[str]  # folders (relative to the root, "" = root) read completely
    whole: bool = True  # the whole scope was read (not just PATHS)
    notes: list[Any] = field(default_factory=list)  # scan diagnostics
    columns: Columns | None = None  # what the checks of every file read of `docs`


class Columns:
    """Path, kind, headline, date and link verdict of each doc, by position.

    The checks that look at every file (day pages, padding, duplicates, which
    files to read) need no more of most of them: from the facts of a glance at
    every file or of the catalogue (linkfacts.Facts, catalog._LinkFacts) they
    are columns, where making 110k events and reading their fields cost about
    0.8 s. Docs given without facts are read as they are.
    """

    def __init__(self, docs: Sequence[Event], facts: Facts | None = None):
        self.docs = docs
        self.index = facts
        self._folders: list[str] | None = None
        self._folder_set: set[str] | None = None
        if facts is not None:
            self.paths, self.pages = facts.paths, facts.pages
        else:
            self.paths = [d.path for d in docs]
            self.pages = [d.is_day_page for d in docs]

    def titles(self, positions: list[int]) -> list[str]:
        if self.index is None:
            return [self.docs[k].title for k in positions]
        return list(map(self.index.titles.__getitem__, positions))

    def day(self, k: int):
        return self.docs[k].date if self.index is None else self.index.day(k)

    @property
    def folders(self) -> list[str]:
        """The folder of each doc (computed once: several checks group by folder)."""
        if self._folders is None:
            self._folders = list(map(itemgetter(0), map(str.rpartition, self.paths, repeat("/"))))
        return self._folders

    @property
    def folder_set(self) -> set[str]:
        if self._folder_set is None:
            self._folder_set = set(self.folders)
        return self._folder_set

    def inside_root(self, folder: str) -> bool:
        """Whether `folder` (relative to the root) is known to be inside the root without a
        realpath: the scan read files from it, and the scan follows no link out of the root.
        (Only a shortcut: a folder not known here is looked at with realpath.)"""
        return folder in self.folder_set

    def listed(self, k: int) -> set[str] | None:
        """The files the day page at position k links to, from the facts (None: no facts)."""
        return None if self.index is None else set(self.index.listed(k))

    def pick(self, positions: list[int]) -> list[Event]:
        """The docs at these positions (parsed now, when they come with facts)."""
        return [self.docs[k] for k in positions]

    def quiet(self) -> tuple[list[int], int, int] | None:
        """Positions of the docs validate-links must read, and the (internal, http) links of the
        others; None without facts (every doc is read)."""
        return None if self.index is None else self.index.quiet()


def sources(archive: Archive, paths: Sequence[Path] | None = None) -> Sources:
    """The whole archive scope, or just PATHS (files and folders) with the rest read on demand.

    The whole scope comes from the catalogue's tables when it is on disk, else
    from a glance at each file (linkcheck/facts.py): no index is built. A library
    caller's loaded Archive (`load()`) gives its events; the files are parsed
    when read."""
    if not paths or any(Path(p).expanduser().resolve() == archive.scope for p in paths):
        from newsarc.features.linkcheck import facts as linkfacts
        from newsarc.features.catalog import Catalog

        glanced = archive.link_facts() if isinstance(archive, Catalog) else None  # None: not on disk
        if glanced is None:
            glanced = linkfacts.scan(archive)
        if glanced is not None:
            docs, unreadable, facts = glanced
            scope = [_rel_folder(archive, archive.scope)]
            return Sources(docs, unreadable, scope, notes=list(archive.scan_diagnostics), columns=Columns(docs, facts=facts))
        docs = archive.every_file()
        scope = [_rel_folder(archive, archive.scope)]
        notes = list(archive.scan_diagnostics)
        return Sources(docs, list(archive.unreadable), scope, notes=notes, columns=Columns(docs))
    found: dict[str, Event] = {}
    scanned: list[str] = []
    notes: list[Any] = []
    for path in paths:
        full = path.expanduser().resolve()
        if not full.exists():
            raise NewsarcError(f"'{path}' does not exist; pass files or folders of the archive")
        if full != archive.root and archive.root not in full.parents:
            raise NewsarcError(f"'{path}' is outside the archive root {archive.root}; pass --root or --archive")
        if full.is_dir():
            part = Archive(archive.root, full)
            for file in part.markdown_files():
                relpath = archive.relpath(file)
                found.setdefault(relpath, read_event(file, relpath))
            scanned.append(_rel_folder(archive, full))
            notes.extend(part.scan_diagnostics)
        elif full.name.endswith(".md"):
            relpath = archive.relpath(full)
            found.setdefault(relpath, read_event(full, relpath))
    docs = sorted(found.values(), key=lambda e: e.path)
    readable = [d for d in docs if not d.skipped]
    return Sources(readable, [d for d in docs if d.skipped], scanned, notes=notes, whole=False, columns=Columns(readable))


def _rel_folder(archive: Archive, folder: Path) -> str:
    rel = archive.relpath(folder)
    return "" if rel == "." else rel


# -- the archive on disk, as far as links need it -------------------------------


class Site:
    """What exists under the root: the scan first, folder listings for the rest.

    Each folder is listed at most once, so checking a link is a set lookup
    for the files the scan saw and one cached directory read otherwise.
    """

    def __init__(self, root: Path, src: Sources):
        self.root = root
        self._src = src
        self._columns = src.columns or Columns(src.docs)
        self._position: dict[str, int] | None = None  # path -> position in src.docs, made on first use
        self.docs: dict[str, Event] = {}  # files read, from src.docs or from disk
        self.known: set[str] = set(self._columns.paths) | {d.path for d in src.unreadable}
        self.scanned = src.scanned
        self._listings: dict[str, dict[str, bool]] = {}
        self.outside: set[str] = set()  # folders and files that are symbolic links out of the root
        self._real_root = os.path.realpath(root)
        self._folders: dict[str, list[str]] | None = None
        self._anchors: dict[str, set[str]] = {}
        self._targets: dict[tuple, set[str]] = {}

    def plain(self, written: str) -> bool:
        """Is the link written as "/" + the path of a scanned file, which resolve_link maps to
        itself? Then it is fine without resolving it (most links of an archive are)."""
        return (
            written[:1] == "/" and written[1:] in self.known and "%" not in written and "?" not in written and "#" not in written
        )

    def listing(self, folder: str) -> dict[str, bool]:
        """name -> is a folder, for one folder (relative to the root); {} when absent.

        Symbolic links that lead out of the root are left out (and remembered
        in `outside`): the checker never lists or reads anything beyond the root.
        """
        found = self._listings.get(folder)
        if found is None:
            found = {}
            base = self.root / folder if folder else self.root
            if "\0" in folder:
                pass  # a %00 in a link: no such file, and the OS would refuse the name
            elif folder and not self._columns.inside_root(folder) and self._leaves_root(base):
                # (a folder the scan read files from is inside the root: no realpath needed)
                self.outside.add(folder)
            else:
                self._list(base, folder, found)
            self._listings[folder] = found
        return found

    def _list(self, base: Path, folder: str, found: dict[str, bool]) -> None:
        try:
            with os.scandir(base) as entries:
                for entry in entries:
                    try:
                        if entry.is_symlink() and self._leaves_root(Path(entry.path)):
                            self.outside.add(f"{folder}/{entry.name}" if folder else entry.name)
                            continue
                        found[entry.name] = entry.is_dir()
                    except OSError:
                        found[entry.name] = False
        except OSError:
            pass

    def _leaves_root(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return not (real == self._real_root or real.startswith(self._real_root.rstrip(os.sep) + os.sep))

    def leaves_root(self, path: str) -> bool:
        """Does `path` (not found in the archive) lead out of the root through a symbolic link?"""
        parts = path.split("/")
        return any("/".join(parts[:i]) in self.outside for i in range(1, len(parts) + 1))

    def exists(self, path: str) -> bool:
        if path in self.known or not path:
            return True
        folder, _, name = path.rpartition("/")
        return name in self.listing(folder)

    def is_dir(self, path: str) -> bool:
        folder, _, name = path.rpartition("/")
        return bool(self.listing(folder).get(name))

    def is_file(self, path: str) -> bool:
        """`exists(path) and not is_dir(path)`, asked of the one name: a folder not listed yet is
        listed only when the name is there (suggestions look at a dozen folders per broken link,
        most of them absent: one lstat each instead of a listing)."""
        if path in self.known:
            return True
        folder, _, name = path.rpartition("/")
        if folder not in self._listings:
            try:
                os.lstat(self.root / path)
            except (FileNotFoundError, NotADirectoryError, ValueError):
                return False  # not there (or a NUL in the name): its folder's listing would not hold it
            except OSError:
                pass  # the listing says (a folder that can be listed but not searched)
        return self.exists(path) and not self.is_dir(path)

    def doc(self, path: str, *, keep: bool = True) -> Event | None:
        """The parsed file at `path`, read now if the scan did not include it; kept for the next
        ask unless `keep=False` (the caller keeps what it needs of it)."""
        found = self.docs.get(path)
        if found is None and path in self.known:
            k = self._positions().get(path)
            if k is not None:
                found = self._src.docs[k]
                if keep:
                    self.docs[path] = found
                return found
        if found is None and path.endswith(".md") and self.exists(path) and not self.is_dir(path):
            found = read_event(self.root / path, path)
            if found is not None and found.skipped:
                found = None
            if found is not None and keep:
                self.docs[path] = found
        return found

    def _positions(self) -> dict[str, int]:
        if self._position is None:
            self._position = {path: k for k, path in enumerate(self._columns.paths)}
        return self._position

    def complete(self, folder: str) -> bool:
        """Was every Markdown file of `folder` read by the scan?"""
        return any(s == "" or folder == s or folder.startswith(s + "/") for s in self.scanned)

    def folder_docs(self, folder: str) -> list[Event]:
        """The parsed Markdown files of one folder."""
        if self.complete(folder):
            if self._folders is None:
                self._folders = {}
                for path in self._columns.paths:
                    self._folders.setdefault(path.rpartition("/")[0], []).append(path)
            return [self.doc(p) for p in self._folders.get(folder, [])]  # type: ignore[misc]
        names = [n for n, is_dir in self.listing(folder).items() if n.endswith(".md") and not is_dir and not n.startswith(".")]
        return [d for d in (self.doc(f"{folder}/{n}" if folder else n) for n in sorted(names)) if d is not None]

    def anchors(self, path: str) -> set[str] | None:
        """The #fragment targets of a Markdown file: heading anchors GitHub style (`a`, `a-1`...), heading
        ids (`{#id}`) and HTML ids and names, as lychee's fragment checker reads them; None if unreadable."""
        if path not in self._anchors:
            doc = self.doc(path, keep=False)  # its anchors are kept, not the event (1 GB of them at 100k)
            if doc is None:
                return None
            seen: dict[str, int] = {}
            names = set(doc.anchors)  # ids and names in raw HTML: <a id="x"></a>, <a name="x">
            for heading in doc.headings:
                n = seen.get(heading.anchor, 0)
                names.add(heading.anchor if n == 0 else f"{heading.anchor}-{n}")
                seen[heading.anchor] = n + 1
                if heading.id:
                    names.add(heading.id)  # `## Text {#custom-id}`: both, as lychee reads it
            self._anchors[path] = names
        return self._anchors[path]

    def path_of(self, source: str, written: str) -> str | None:
        """The site path a link points at; None for external links and links leaving the root."""
        if self.plain(written):
            return written[1:]
        target = resolve_written(source, written)
        return None if target is None or target.outside else target.path

    def targets(self, doc: Event, roles: tuple[str, ...] | None = None) -> set[str]:
        """Site paths a file's links point at (optionally only links with these roles)."""
        key = (doc.path, roles)
        found = self._targets.get(key)
        if found is None:
            wanted = set(roles or ())
            found = set()
            for link in doc.links:
                if wanted and link.role not in wanted:
                    continue
                path = self.path_of(doc.path, link.target)
                if path:
                    found.add(path)
            self._targets[key] = found
        return found


# -- the checker -------------------------------------------------------------------


def validate(
    archive: Archive, paths: Sequence[Path] | None = None, options: Options | None = None, *, narrow: bool = True
) -> Report:
    """Run every enabled check over the archive (or PATHS); never raises for bad links.

    `narrow=False` reads every file's links even when the index's facts show
    there is nothing to find in them, and works out again what a memo kept
    (the tests compare both ways)."""
    options = options or Options()
    with no_gc():  # columns of 110k files, none in a cycle: collections would walk them again and again (~40 ms)
        src = sources(archive, paths)
        report = Checker(archive, src, options, narrow=narrow).run()
        report.sources = src
        return report


class Checker:
    def __init__(self, archive: Archive, src: Sources, options: Options, *, narrow: bool = True):
        self.archive = archive
        self.src = src
        self.options = options
        self.narrow = narrow
        if src.columns is None:  # Sources made by hand (tests): the docs' own fields
            src.columns = Columns(src.docs)
        self.columns = src.columns
        self.site = Site(archive.root, src)
        self.findings: list[Finding] = []
        self.links = 0
        self.external = 0
        self._cache: dict[str, list] = {}  # destination as written -> problems (source-independent ones)
        self._days: dict[str, Any] = {}  # folder -> day folder / date it names
        self._dates: dict[str, Any] = {}  # date line text -> date
        self._folders: dict[str, list[int]] | None = None

    def run(self) -> Report:
        ran, off = self.options.checks()
        self._pass(self._to_read())
        if self.options.reciprocal:
            self.check_reciprocal(*self._noted_related())
        self.check_files()
        findings, self.findings = self.findings, []
        sort_findings(findings)
        return Report(findings, ran, off, len(self.src.docs) + len(self.src.unreadable), self.links, self.external, self.options.strict)

    def _pass(self, todo: Iterable[Event]) -> None:
        """One pass: the files come from the index one at a time, and are not kept."""
        for doc in todo:
            self.check_links(doc)
            if not doc.is_day_page:
                self.check_dates(doc)
            self.check_parsed(doc)
        self.check_folders()

    def _noted_related(self) -> tuple[dict[str, tuple[str, ...]], _Claims]:
        """Each event's related targets (path -> targets, as Site.targets gives them), and each related
        link that names another file as a claim (`_Claims`): from every file parsed on every core and
        let go there (linkcheck/every_link.py), 500k claims at 100k events. Let go by the caller before the
        findings are sorted."""
        from newsarc.features.linkcheck import every_link as linkpass

        related: dict[str, tuple[str, ...]] = {}
        claims = _Claims(self.columns.paths)
        for path, noted in linkpass.every_file(self.archive, self.src, related_links, over_limit=False):
            if noted is None:
                continue
            named, written = noted
            related[claims.one(path)] = tuple(map(claims.one, named))
            claims.add(path, written)
        return related, claims

    def _to_read(self) -> Sequence[Event]:
        """The files whose links and date lines must be read; the others are counted from the index.

        The index skips a file only when it is quiet (no diagnostics, a date
        line that agrees with its folder: archive.link_facts) and every target
        it writes, http(s) aside, is an existing file written exactly (the
        rule of `Site.plain`): then check_links and check_dates have nothing
        to say of it. At 100k events that leaves about a thousand files to read.
        """
        known = self.columns.quiet() if self.narrow else None
        if known is None:
            return self.src.docs
        loud, internal, http = known
        self.links += internal
        self.external += http
        return self.columns.pick(loud)

    def add(self, path: str, line: int, column: int, link: str, kind: str, message: str, *, error: bool = False, **extra) -> Finding:
        """`error`: an error whatever the kind's default (a file nobody could check)."""
        severity = ERROR if error or KINDS[kind].error or self.options.strict else WARNING
        finding = Finding(path, line, column, link, kind, message, severity, **extra)
        self.findings.append(finding)
        return finding

    # -- links -----------------------------------------------------------------

    def check_links(self, doc: Event) -> None:
        """Judge each link; the common case (written as an existing site path) is one set lookup."""
        plain, cache = self.site.plain, self._cache
        external = 0
        for link in doc.links:
            written = link.target
            if plain(written):
                continue
            if written[:1] == "/":
                problems = cache.get(written)
                if problems is None:
                    problems = self._verdict(doc, link)
            elif written[:4] == "http" and written.startswith(("http://", "https://")):
                external += 1
                continue
            else:
                problems = cache.get(_relative_key(doc.path, written))
                if problems is None:
                    problems = self._verdict(doc, link)
            if problems is _EXTERNAL:
                external += 1
            elif problems:
                self._report(doc, link, problems)
        self.links += len(doc.links) - external
        self.external += external

    def _verdict(self, doc: Event, link: Link) -> list:
        written = link.target
        target = resolve_written(doc.path, written)
        problems = _EXTERNAL if target is None else self._judge(doc, link, target)
        if written[:1] == "/":  # resolves the same wherever it is written
            self._cache[written] = problems
        elif written[:1] != "#":  # the same anywhere in this folder
            self._cache[_relative_key(doc.path, written)] = problems
        return problems

    def _report(self, doc: Event, link: Link, problems: list) -> None:
        for kind, message, target_path, suggestions in problems:
            line, column, span = self._where(doc.path, link)
            fix = self._fix(doc.path, link, span, suggestions, kind)
            self.add(doc.path, line, column, link.target, kind, message, target=target_path, suggestions=suggestions, fix=fix)

    def _judge(self, doc: Event, link: Link, target: Target) -> list[tuple[str, str, str, list[Suggestion]]]:
        """Problems of one link: (kind, message, target, suggestions); [] when fine."""
        if target.outside:
            return [(OUTSIDE, f"link leaves the archive root: {link.target}", "", [])]
        path = target.path
        if not self.site.exists(path):
            if self.site.leaves_root(path):
                return [(OUTSIDE, f"link leaves the archive root through a symbolic link: {link.target}", "", [])]
            return [(MISSING, _missing_message(link.target, path), path, self._suggest(doc.path, link.target, path))]
        if target.fragment and self.site.anchors(path) is not None:
            return self._judge_fragment(doc, link, path, target.fragment)
        return []

    def _judge_fragment(self, doc: Event, link: Link, path: str, fragment: str) -> list:
        anchors = self.site.anchors(path) or set()
        if _has_anchor(anchors, fragment):
            return []
        import difflib

        name = unquote(fragment)
        close = difflib.get_close_matches(name.lower(), sorted(anchors), n=3, cutoff=0.75)
        base = link.target[: len(link.target) - len(fragment) - 1]
        suggestions = [Suggestion(f"{base}#{a}", "close heading") for a in close]
        where = "this file" if link.target.startswith("#") else path
        return [(HEADING, f"no heading '#{fragment}' in {where}", path, suggestions)]

    def _where(self, path: str, link: Link) -> tuple[int, int, tuple[int, int] | None]:
        """Line, column and destination span; front-matter links are located in the file."""
        if link.role != FRONT_MATTER:
            span = (link.dest_start, link.dest_end) if link.dest_start >= 0 else None
            return link.line, link.column, span
        found = _locate_front_matter(self.site.root / path, link.target)
        return found or (1, 1, None)

    def _fix(self, source: str, link: Link, span, suggestions: list[Suggestion], kind: str) -> Fix | None:
        """A fix only when there is exactly one candidate, we know where the link is written,
        and the link it leaves validates (a close slug without the link's #heading is no fix)."""
        if span is None or len(suggestions) != 1 or kind not in (MISSING, HEADING):
            return None
        only = suggestions[0]
        if not self._valid(source, only.link):
            return None
        return Fix(span[0], span[1], link.target, only.link, fuzzy=only.reason != SPELLING)

    def _valid(self, source: str, written: str) -> bool:
        """Whether `written`, in file `source`, names an existing file and (if any) one of its headings."""
        target = resolve_written(source, written)
        if target is None or target.outside or not self.site.exists(target.path):
            return False
        anchors = self.site.anchors(target.path) if target.fragment else None
        return anchors is None or _has_anchor(anchors, target.fragment)

    # -- suggestions -------------------------------------------------------------

    def _suggest(self, source: str, written: str, path: str) -> list[Suggestion]:
        """Other day spelling (certain); else close slugs on that day and the slug on nearby days."""
        for other in day_spellings(path):
            if self.site.exists(other):
                return [Suggestion(_restyle(source, written, other), SPELLING)]
        folder, _, name = path.rpartition("/")
        found: dict[str, Suggestion] = {}
        day = _day_folder(folder)
        folders = [folder, *day_spellings(folder + "/")] if day else [folder]
        for candidate_folder in folders:
            candidate_folder = candidate_folder.rstrip("/")
            for other in close_names(name, self.site.listing(candidate_folder)):
                full = f"{candidate_folder}/{other}" if candidate_folder else other
                found.setdefault(full, Suggestion(_restyle(source, written, full), "close slug"))
        if day and name != DAY_PAGE:
            for full, when in self._nearby(folder, name, day):
                found.setdefault(full, Suggestion(_restyle(source, written, full), f"same slug on {when.isoformat()}"))
        return list(found.values())

    def _nearby(self, folder: str, name: str, day: tuple[int, Any]) -> Iterator[tuple[str, Any]]:
        import datetime as dt

        index, date = day
        parts = folder.split("/")
        for delta in (-1, 1, -2, 2):
            when = date + dt.timedelta(days=delta)
            month = f"{when.month:0{len(parts[index + 1])}d}"
            for spelling in (str(when.day), f"{when.day:02d}"):
                new = parts[:index] + [f"{when.year:04d}", month, spelling] + parts[index + 3 :]
                full = "/".join(new + [name])
                if self.site.is_file(full):
                    yield full, when

    def _day(self, folder: str) -> tuple[int, Any] | None:
        if folder not in self._days:
            self._days[folder] = _day_folder(folder)
        return self._days[folder]

    def _folder_date(self, folder: str):
        """The date a folder path names anywhere in it (dates.date_from_path), cached."""
        key = "\0" + folder
        if key not in self._days:
            self._days[key] = dates.date_from_parts(folder.split("/"))
        return self._days[key]

    # -- dates -------------------------------------------------------------------

    def check_dates(self, doc: Event) -> None:
        """The date line (its text and its day-page link) and front matter agree with the folder."""
        folder_day = self._folder_date(doc.path.rpartition("/")[0])
        line = None
        for link in doc.links:
            if link.role == DATE:
                line = link
                break
        line_day = None
        if line is not None:
            line_day = self._dates.get(line.text, False)
            if line_day is False:
                line_day = self._dates[line.text] = dates.parse_day(line.text)
            if line_day is None:
                self.add(doc.path, line.line, line.column, line.target, BAD_DATE, f"date line '{line.text}' is not a date")
            self._check_date_line(doc, line, line_day, folder_day)
        if "date" in doc.meta:
            self._check_front_matter_date(doc, folder_day or line_day, "its folder" if folder_day else "its date line")

    def _check_date_line(self, doc: Event, line: Link, line_day, folder_day) -> None:
        if folder_day is None:
            return
        claims = []
        if line_day is not None and line_day != folder_day:
            claims.append(f"date line says {line_day.isoformat()}")
        path = self.site.path_of(doc.path, line.target)
        linked_day = self._folder_date(path.rpartition("/")[0]) if path else None
        if linked_day is not None and linked_day != folder_day:
            claims.append(f"it links to the day page of {linked_day.isoformat()}")
        if claims:
            message = " and ".join(claims) + f", but the file is in the folder of {folder_day.isoformat()}"
            self.add(doc.path, line.line, line.column, line.target, DATE_MISMATCH, message, target=path or "")

    def _check_front_matter_date(self, doc: Event, reference, against: str) -> None:
        day = dates.coerce_day(doc.meta["date"])
        if reference is None or day == reference:
            return
        said = day.isoformat() if day else f"'{doc.meta['date']}' (not a date)"
        line = _front_matter_date_line(self.site.root / doc.path)
        self.add(doc.path, line, 1, "", DATE_MISMATCH, f"front matter date {said} disagrees with {against} ({reference.isoformat()})")

    # -- what the index's columns tell ------------------------------------------

    def check_folders(self) -> None:
        """Day pages, padding and duplicates. For the whole scope their answer depends on the catalogue's
        tables alone (paths, kinds, headlines, dates, day-page links), so it is kept in them (db.keep) and
        a warm run reads it back instead of going over 100k files' columns again (0.17 s at 100k)."""
        memo = getattr(self.columns.index, "memo", None) if self.src.whole and self.narrow else None
        if memo is not None:
            kept = memo[0](_FOLDER_MEMO)
            if kept is not None:
                for path, line, column, link, kind, message, target in kept:
                    self.add(path, line, column, link, kind, message, target=target)
                return
        start = len(self.findings)
        self.check_day_pages()
        self.check_padding()
        self.check_duplicates()
        if memo is not None:
            found = [(f.path, f.line, f.column, f.link, f.kind, f.message, f.target) for f in self.findings[start:]]
            memo[1](_FOLDER_MEMO, found)

    # -- day pages ---------------------------------------------------------------

    def check_day_pages(self) -> None:
        """Each day folder has index.md, and the day page links to each event of its folder."""
        paths = self.columns.paths
        positions = list(compress(range(len(paths)), self.columns.pages))
        pages = dict(zip(map(paths.__getitem__, positions), positions))
        for folder, events in self._by_folder().items():
            page = f"{folder}/{DAY_PAGE}"
            listed = self.columns.listed(pages[page]) if page in pages else None
            if listed is None:
                if not self.site.exists(page):
                    self.add(folder, 0, 0, "", NO_DAY_PAGE, f"day folder has events but no {DAY_PAGE}")
                    continue
                day_page = self.site.doc(page)
                if day_page is None:
                    continue
                listed = self.site.targets(day_page)
            if listed.issuperset(map(paths.__getitem__, events)):
                continue  # the common case: every event of the folder is listed
            for k in events:
                if paths[k] not in listed:
                    self.add(paths[k], 0, 0, "", UNLISTED, f"not listed on its day page {page}", target=page)

    def _by_folder(self) -> dict[str, list[int]]:
        """Positions (in src.docs) of the checked events in day folders, per folder (computed once)."""
        if self._folders is None:
            found: dict[str, list[int]] = {}
            folders = self.columns.folders
            events = compress(range(len(folders)), map(not_, self.columns.pages))
            for folder, ks in groupby(events, folders.__getitem__):  # a folder's files are mostly side by side
                found.setdefault(folder, []).extend(ks)
            self._folders = {folder: ks for folder, ks in found.items() if self._day(folder)}
        return self._folders

    def check_padding(self) -> None:
        """Day folders 1-9 are all written `4` or all `04`; the minority is reported."""
        styles: dict[str, set[str]] = {"padded": set(), "unpadded": set()}
        for folder in self._day_folders():
            name = folder.rpartition("/")[2]
            if len(name) == 2 and name.startswith("0"):
                styles["padded"].add(folder)
            elif len(name) == 1:
                styles["unpadded"].add(folder)
        padded, unpadded = styles["padded"], styles["unpadded"]
        if not padded or not unpadded:
            return
        minority, style = (padded, "padded") if len(padded) <= len(unpadded) else (unpadded, "unpadded")
        checked = self._folders_checked()
        counts = f"{len(padded)} padded (04), {len(unpadded)} unpadded (4)"
        for folder in sorted(minority & checked):
            self.add(folder, 0, 0, "", MIXED_PADDING, f"day folder is {style} while most are not: {counts}")

    def _folders_checked(self) -> set[str]:
        return self.columns.folder_set | {d.path.rpartition("/")[0] for d in self.src.unreadable}

    def _day_folders(self) -> set[str]:
        folders = self._folders_checked()
        listed = None if self.src.whole else self.archive.day_folders()
        if listed:
            folders |= {self.archive.relpath(path) for _, path in listed}
        return {f for f in folders if self._day(f)}

    def check_duplicates(self) -> None:
        """Events of one day (either folder spelling) with the same date and headline."""
        by_day: dict[Any, list] = {}
        for folder, events in self._day_events():
            by_day.setdefault(self._day(folder)[1], []).extend(events)
        path_of, titles_of, day_of = self._event_fields()
        checked = None if self.src.whole else set(self.columns.paths)
        for events in by_day.values():
            titles = titles_of(events)
            if len(set(map(str.casefold, titles))) == len(events):
                continue  # the common case: every headline of the day differs
            groups: dict[tuple, list[str]] = {}
            for event, title in zip(events, titles):
                day = day_of(event)
                if day and title:
                    groups.setdefault((day, title.casefold()), []).append(path_of(event))
            for paths in groups.values():
                for path in sorted(paths) if len(paths) > 1 else ():
                    if checked is None or path in checked:
                        others = ", ".join(p for p in sorted(paths) if p != path)
                        self.add(path, 0, 0, "", DUPLICATE, f"same date and headline as {others}")

    def _day_events(self) -> Iterable[tuple[str, list]]:
        """The events per day folder: of the checked folders, and with PATHS their other spelling
        too. Positions in src.docs for the whole scope (their fields come from the index's
        columns), events otherwise; `_event_fields` reads either."""
        if self.src.whole:
            return self._by_folder().items()
        folders: set[str] = set()
        for folder in self._by_folder():
            folders.add(folder)
            folders.update(s.rstrip("/") for s in day_spellings(folder + "/"))
        return [(f, [d for d in self.site.folder_docs(f) if not d.is_day_page]) for f in sorted(folders)]

    def _event_fields(self) -> tuple[Callable[[Any], str], Callable[[list], list[str]], Callable[[Any], Any]]:
        """Path of, headlines of and date of what `_day_events` lists."""
        if self.src.whole:
            columns = self.columns
            return columns.paths.__getitem__, columns.titles, columns.day
        return attrgetter("path"), lambda events: [e.title for e in events], attrgetter("date")

    def check_reciprocal(self, related: Mapping[str, Collection[str]], claims: _Claims) -> None:
        """A related B whose own related links do not name A (off by default: lists are capped).

        From what every file's parse noted (`related_links`): every event made
        once, none kept (100k kept took 1.6-2 GB). A target the pass did not
        read (outside the folder checked) is read here. The findings about one
        target share its message and its link as written."""
        shared: dict[str, tuple[str, str]] = {}  # target -> ("/" + target, message)
        for path, line, column, role, written, target in claims.last_first():
            named = related.get(target)
            if named is None:
                other = self.site.doc(target)
                if other is None or other.is_day_page:
                    continue
                named = self.site.targets(other, _RELATED_ROLES)
            if path in named:
                continue
            plain, message = shared.get(target) or shared.setdefault(target, ("/" + target, f"{target} does not list this event among its related events"))
            link = Link(written or plain, "", line, column, role)
            line, column, _ = self._where(path, link)
            self.add(path, line, column, link.target, NOT_RECIPROCAL, message, target=target)

    def check_parsed(self, doc: Event) -> None:
        """A file read, but not all of it understood (the parser says where)."""
        for problem in doc.diagnostics:
            if not problem.message.startswith(_DATES_CHECK):
                self.add(doc.path, problem.line, 1 if problem.line else 0, "", UNPARSED, problem.message)

    def check_files(self) -> None:
        """Files not read: an error (CI must not pass over links nobody checked), but for a file over
        the size limit whose links a streaming pass could read. A file with diagnostics is never
        skipped (`_to_read`), so check_parsed sees it. Notes of the scan (symbolic links not
        followed, by design) stay warnings."""
        for doc in self.src.unreadable:
            reason = doc.diagnostics[0].message if doc.diagnostics else "unreadable"
            problem = self._stream(doc, reason)
            if problem:
                self.add(doc.path, 0, 0, "", UNREADABLE, f"cannot check links: {problem.removesuffix('; skipped')}", error=True)
        for note in self.src.notes:
            self.add(note.path, 0, 0, "", UNREADABLE, note.message)

    def _stream(self, doc: Event, reason: str) -> str:
        """Check the links of a file over the size limit a part at a time; "" when done, else why not
        (`reason` for a file that is not over the limit)."""
        try:
            parts = parts_over_limit(self.site.root, doc.path)
            if parts is None:
                return reason
            for part in parts:
                self.check_links(part)
        except OSError as exc:
            return f"cannot read file: {exc.strerror or exc}"
        except CannotStream as exc:
            return str(exc)
        self.add(doc.path, 0, 0, "", UNPARSED, f"{reason}; its links were checked a part at a time")
        return ""


class _Claims:
    """The related links --reciprocal checks, as columns: the file and target as numbers (each path
    held once, the scan's own string where it has one), line, column and role in arrays, and the
    link as written only where it is not "/" + its target. 500k claims as tuples took 68 MB at 100k
    events, and pushed the command's peak over 300 MB."""

    def __init__(self, known: Sequence[str]):
        from array import array

        self._canonical = {path: path for path in known}  # a path string the glance holds already
        self.paths: list[str] = []
        self._number: dict[str, int] = {}
        self.files, self.targets, self.lines, self.columns = (array("i") for _ in range(4))
        self.roles = array("b")
        self.written: dict[int, str] = {}

    def one(self, path: str) -> str:
        """`path` as one string object, whoever names it."""
        return self._canonical.setdefault(path, path)

    def _number_of(self, path: str) -> int:
        k = self._number.get(path)
        if k is None:
            k = self._number[path] = len(self.paths)
            self.paths.append(self.one(path))
        return k

    def add(self, path: str, written: list[tuple]) -> None:
        """The claims of one file: (line, column, role, the link as written or None, target) each."""
        source = self._number_of(path)
        for line, column, role, link, target in written:
            if link is not None:
                self.written[len(self.lines)] = link
            self.files.append(source)
            self.targets.append(self._number_of(target))
            self.lines.append(line)
            self.columns.append(column)
            self.roles.append(_RELATED_ROLES.index(role))

    def last_first(self) -> Iterator[tuple]:
        """(path, line, column, role, the link as written or None, target), the last added first."""
        paths, written = self.paths, self.written
        for k in range(len(self.lines) - 1, -1, -1):
            yield (paths[self.files[k]], self.lines[k], self.columns[k], _RELATED_ROLES[self.roles[k]], written.get(k),
                   paths[self.targets[k]])


def related_links(doc: Event) -> tuple[list[str], list[tuple]] | None:
    """What --reciprocal needs of one event, as plain values (linkcheck/every_link.py sends them between
    processes): the paths its related links name (a tuple of 5 paths takes 100 B, a set 730), and
    each such link that names another file as (line, column, role, the link as written or None where
    it is "/" + its target, target): no Link is kept, nor a written link the target spells again.
    None for a day page or a file not read."""
    if doc.is_day_page or doc.skipped:
        return None
    named: list[str] = []
    written: list[tuple] = []
    for link in doc.links:
        if link.role not in _RELATED_ROLES:
            continue
        target = resolve_written(doc.path, link.target)
        if target is None or not target.path:
            continue
        path = target.path
        if not target.outside:
            named.append(path)
        if path != doc.path:
            plain = link.target[1:] == path and link.target[:1] == "/"
            written.append((link.line, link.column, link.role, None if plain else link.target, path))
    return named, written


SPELLING = "other day spelling"
# Parser diagnostics the dates check already reports in its own words.
_DATES_CHECK = ("date line ", "date mismatch", "front matter date ", "no date")
_EXTERNAL: list = []  # marker: a link with a scheme, not checked offline
_RELATED_ROLES = (RELATED, FRONT_MATTER)  # the links --reciprocal expects to be returned
_FOLDER_MEMO = "links-folders-1"  # bump when check_folders' findings change for the same index


def _relative_key(source: str, written: str) -> str:
    return source.rpartition("/")[0] + "\0" + written


def _missing_message(written: str, path: str) -> str:
    shown = written.split("#", 1)[0].split("?", 1)[0]
    if shown.lstrip("/") == path:
        return f"missing file: {shown}"
    return f"missing file: {shown} ({path})"


def _day_folder(folder: str) -> tuple[int, Any] | None:
    """(index of the year part, date) when `folder` ends in YYYY/MM/D; else None."""
    parts = folder.split("/")
    if len(parts) < 3:
        return None
    year, month, day = parts[-3:]
    if not (len(year) == 4 and year.isdigit() and month.isdigit() and day.isdigit() and len(month) <= 2 and len(day) <= 2):
        return None
    found = dates.date_from_parts([year, month, day])
    return (len(parts) - 3, found) if found else None


def _has_anchor(anchors: set[str], fragment: str) -> bool:
    """Whether `#fragment` names a heading (written encoded or not, any case; `#top` always does)."""
    name = unquote(fragment)
    return fragment in anchors or name in anchors or name.lower() in anchors or name.lower() == "top"


def _restyle(source: str, written: str, new_path: str) -> str:
    """`written` pointing at `new_path` instead, keeping its style (absolute or relative, suffix)."""
    cut = min((i for i in (written.find("#"), written.find("?")) if i >= 0), default=len(written))
    head, tail = written[:cut], written[cut:]
    if head.startswith("/"):
        base = "/" + new_path
    else:
        base = posixpath.relpath(new_path, posixpath.dirname(source) or ".")
    for candidate in _edits(head, new_path):
        if (resolved := resolve_written(source, candidate)) and resolved.path == new_path:
            return candidate + tail
    if not _SAFE_PATH.fullmatch(base) or "%" in head:
        base = quote(base, safe="/")
    return base + tail


def _edits(head: str, new_path: str) -> Iterator[str]:
    """Smallest rewrites of the written path: swap the day folder spelling, or the file name."""
    yield from day_spellings(head)
    folder, sep, _ = head.rpartition("/")
    name = new_path.rpartition("/")[2]
    if _SAFE_PATH.fullmatch(name):
        yield f"{folder}{sep}{name}"
        for spelled in day_spellings(f"{folder}{sep}{name}"):
            yield spelled


def _locate_front_matter(file: Path, needle: str) -> tuple[int, int, tuple[int, int] | None] | None:
    """Line, column and byte span of `needle` in a file's front matter, when written there exactly once."""
    data = _text_bytes(file)
    if data is None:
        return None
    end = _front_matter_end(data)
    wanted = needle.encode()
    first = data.find(wanted, 0, end)
    if first < 0 or not wanted:
        return None
    line = data.count(b"\n", 0, first) + 1
    column = len(data[data.rfind(b"\n", 0, first) + 1 : first].decode("utf-8", "replace")) + 1
    unique = data.find(wanted, first + 1, end) < 0
    return line, column, (first, first + len(wanted)) if unique else None


def _front_matter_date_line(file: Path) -> int:
    data = _text_bytes(file) or b""
    match = _FRONT_MATTER_DATE.search(data, 0, _front_matter_end(data))
    return data.count(b"\n", 0, match.start()) + 1 if match else 1


def _text_bytes(file: Path) -> bytes | None:
    """The head of a file, where its front matter is (at most 64 KB: parser._MAX_FRONT_MATTER);
    never all of a file that may be too big to read."""
    try:
        with open(file, "rb") as handle:
            data = handle.read(_HEAD_BYTES)
    except OSError:
        return None
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _front_matter_end(data: bytes) -> int:
    if not data.startswith(b"---"):
        return 0
    match = re.search(rb"\r?\n---[ \t]*(?:\r?\n|\Z)", data)
    return match.start() if match else 0


# -- --dump ------------------------------------------------------------------------


def dump(archive: Archive, paths: Sequence[Path] | None = None) -> Iterator[LinkRecord]:
    """Every link of every file, resolved but not judged: each file parsed on every core and turned
    into records there (linkcheck/every_link.py), streamed in linkpass.order's order."""
    from newsarc.features.linkcheck import every_link as linkpass

    for path, records in linkpass.every_file(archive, sources(archive, paths), link_records):
        for record in records:
            yield LinkRecord(path, *record)


def link_records(doc: Event) -> list[tuple]:
    """--dump's records of one file, without its path, as plain values (linkcheck/every_link.py): (line, column,
    role, the link as written, site path or None, scope)."""
    found = []
    for link in doc.links:
        target = resolve_written(doc.path, link.target)
        if target is None:
            found.append((link.line, link.column, link.role, link.target, None, "external"))
        elif target.outside:
            found.append((link.line, link.column, link.role, link.target, None, "outside"))
        else:
            found.append((link.line, link.column, link.role, link.target, target.path, "internal"))
    return found
