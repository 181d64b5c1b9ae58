"""Hostile archives: every bad input of issue 8 through every command.

Each bad input is written into a copy of a small clean archive (three events
linking each other, with day pages). Every (case, command) pair then checks:

1. the command finishes (a SIGALRM guard fails a test that hangs) with the exit
   status its contract gives: no exception escapes (CliRunner runs with
   catch_exceptions=False), 1 only where validate-links finds errors;
2. the bad file is named, with its diagnostic and line where it has one:
   - a file that could not be read at all (binary, unreadable, a symlink that is
     not followed, a folder that cannot be listed) by every command that came
     across it, on stderr (validate-links: in its findings);
   - a file read only in part by list-by-date when it lists it (stderr), by
     `show FILE` (the record's diagnostics) and by validate-links (findings);
     the other commands answer from what was read and stay quiet about it;
3. the results for the rest of the archive are unchanged: each command's --json
   output equals a run on the clean archive, records about the bad file left out;
   stats (one record of counts) equals stats of the clean archive plus a clean
   twin of the bad file, when there is one (a BOM or UTF-16 file counts exactly
   like its UTF-8 twin).

The matrix runs in-process (CliRunner); tests/cli/test_signals.py has the real
processes (pipes, Ctrl-C, terminals).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.features.linkcheck import fix
from newsarc.features.linkcheck import checks as links
from newsarc.archive import Archive
from newsarc.cli import app
from tests.conftest import ArchiveBuilder, event_text, run_newsarc

DAY = "news/2017/08/13"
GOOD = f"{DAY}/army-retakes-the-town.md"
SECRET = "SECRETWORD"  # only in files outside the archive: no output may ever contain it
ROOT_USER = os.geteuid() == 0  # CI runs as root, where chmod 000 files are still readable


def base_archive(root: Path) -> ArchiveBuilder:
    """Three events on two days that link each other, with day pages."""
    root.mkdir(parents=True)
    b = ArchiveBuilder(root)
    army = b.event(
        "2017-08-13",
        "Army retakes the town",
        body="Syria&#x27;s army advanced near Homs.",
        related=[("Rebels leave the town", "/news/2017/08/12/rebels-leave-the-town.md", ["Syrian Civil War", "Homs"])],
    )
    b.event("2017-08-12", "Rebels leave the town", body="Rebels left Homs.", related=[("Army retakes the town", army, ["Syrian Civil War", "Homs"])])
    b.event("2017-08-20", "Storm floods the coast", body="A storm hit Texas.", related=[("Army retakes the town", army, ["Weather"])])
    return b


def ev(title: str, **kw) -> str:
    """A clean event of 2017-08-13; bad events carry no topics, so topic tables stay as they were."""
    return event_text("2017-08-13", title, **kw)


def write(b: ArchiveBuilder, name: str, data: str | bytes) -> str:
    b.write(f"{DAY}/{name}", data)
    return f"{DAY}/{name}"


# -- the cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    build: Callable[[ArchiveBuilder, Path], str]  # writes the bad input; returns its path (records about it start so)
    diag: str = ""  # what the diagnostic that names it says ("" when nothing is wrong with the file itself)
    line: int = 0  # the line it names; 0 for the whole file
    unread: bool = False  # not read at all: every command names it
    kind: str = ""  # the validate-links finding kind for it [default: unreadable or unparsed]
    title: str | None = None  # read as an event with this headline (search must find it)
    twin: str | bytes | None = None  # a clean file with the same content, for stats
    events: int = 0  # events the bad input adds (stats)
    links_exit: int = 0  # validate-links' exit status
    says: str = ""  # what validate-links' finding says, when not `diag`
    not_named_by: frozenset[str] = field(default_factory=frozenset)  # commands that never come across it
    # (list-by-date reads the day folders of its period, not folders below them; undated files are in no period)

    @property
    def finding(self) -> str:
        return self.kind or ("unreadable" if self.unread else "unparsed" if self.diag else "")


def _deep(b: ArchiveBuilder, outside: Path) -> str:
    folder = f"{DAY}/" + "/".join(["d"] * 100)
    b.write(f"{folder}/deep-town.md", ev("Deep town"))
    return f"{DAY}/d"


def _beyond_path_max(b: ArchiveBuilder, outside: Path) -> str:
    """80 folders of 60 characters: 4,900 bytes, more than PATH_MAX (4,096) allows to open."""
    fd = os.open(b.root / DAY, os.O_RDONLY)
    try:
        for _ in range(80):
            os.mkdir("n" * 60, dir_fd=fd)
            inner = os.open("n" * 60, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        out = os.open("far-town.md", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
        os.write(out, ev("Far town").encode())
        os.close(out)
    finally:
        os.close(fd)
    return f"{DAY}/n"


def _symlink(name: str, target: str | Path) -> Callable[[ArchiveBuilder, Path], str]:
    def build(b: ArchiveBuilder, outside: Path) -> str:
        os.symlink(str(target).replace("OUTSIDE", str(outside)), b.root / DAY / name)
        return f"{DAY}/{name}"

    return build


def _outside_day(b: ArchiveBuilder, outside: Path) -> str:
    """A day folder (2017-08-14) that is a symlink to a folder outside the root."""
    os.symlink(outside, b.root / "news/2017/08/14")
    return "news/2017/08/14"


def _chmod000(b: ArchiveBuilder, outside: Path) -> str:
    path = write(b, "locked-town.md", ev("Locked town"))
    (b.root / path).chmod(0)
    return path


def _dir_named_md(b: ArchiveBuilder, outside: Path) -> str:
    b.write(f"{DAY}/folder.md/inner-town.md", ev("Inner town"))
    return f"{DAY}/folder.md"


def _non_markdown(b: ArchiveBuilder, outside: Path) -> str:
    write(b, "zz-notes.txt", "town " + SECRET)
    write(b, "zz-picture.jpg", b"\xff\xd8\xff\x00town")
    write(b, "zz-upper.MD", ev("Upper town"))
    write(b, "zz-long.markdown", ev("Markdown town"))
    return f"{DAY}/zz-"


def _undecodable_name(b: ArchiveBuilder, outside: Path) -> str:
    with open(os.fsencode(b.root / DAY) + b"/caf\xe9-town.md", "wb") as out:
        out.write(ev("Latin town").encode())
    return f"{DAY}/caf\\xe9-town.md"  # as JSON carries it: a lone surrogate (\udce9) is not valid JSON


def _file(name: str, data: str | bytes, folder: str = DAY) -> Callable[[ArchiveBuilder, Path], str]:
    def build(b: ArchiveBuilder, outside: Path) -> str:
        b.write(f"{folder}/{name}", data)
        return f"{folder}/{name}"

    return build


def _mixed_endings(text: str) -> bytes:
    """CRLF, LF and a lone CR in one file."""
    lines = text.split("\n")
    out = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1])) + lines[-1]
    return out.replace("Something happened.", "Something\rhappened.").encode()


def _alias_bomb() -> str:
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi")]
    return "\n".join(rows)


def _ten_thousand() -> str:
    related = [
        (f"Item {i}", f"/{GOOD}" if i % 2 else f"/{DAY}/missing-{i}.md", ["Hostile topic"]) for i in range(10_000)
    ]
    return ev("Ten thousand links town", related=related)


HUGE_LINE = ("lorem ipsum dolor " * 580_000 + "town").encode()  # 10.4 MB, no line break at all
MARKER = "newsarc-yaml-was-executed"  # a file the !!python tag would create
PYTHON_TAG = f"x: !!python/object/apply:os.system ['touch {MARKER}']"
DOTDOT = "See [p](../../../../../../etc/passwd), [q](/news/../../etc/passwd.md) and [r](/../x.md)."
PERCENT = (
    "[same](/news/2017/08/13/army%2Dretakes%2Dthe%2Dtown.md) [up](/news/%2e%2e/%2e%2e/etc/passwd) "
    "[nul](/news/2017/08/13/x%00y.md) [nul folder](/news/20%0017/x.md) [bad escape](%ZZ.md) "
    "[utf8](/news/2017/08/13/caf%C3%A9.md)"
)
FEB30 = event_text("2017-02-28", "February town").replace("2017-02-28", "2017-02-30").replace("/02/28/", "/02/30/")

CASES: dict[str, Case] = {
    "empty": Case(_file("empty.md", b""), "empty file", events=1, not_named_by=frozenset({"list-by-date"})),  # undated: not listed
    "whitespace": Case(_file("blank.md", b"  \n\t\n \r\n"), "empty file", events=1, not_named_by=frozenset({"list-by-date"})),
    "binary": Case(_file("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00town"), "binary file (contains NUL bytes); skipped", unread=True, links_exit=1, says="cannot check links: binary file (contains NUL bytes)"),
    "invalid-utf8": Case(
        _file("invalid-utf8.md", ev("Caf\udce9 town").encode("utf-8", "surrogateescape")),
        "invalid UTF-8 (byte 0xe9); undecodable bytes shown as \ufffd",
        line=3,
        title="Caf\ufffd town",
        twin=ev("Caf\ufffd town"),
        events=1,
    ),
    "bom": Case(_file("bom.md", b"\xef\xbb\xbf" + ev("Bom town").encode()), title="Bom town", twin=ev("Bom town"), events=1),
    "utf16": Case(
        _file("utf16.md", ev("Wide town").encode("utf-16")),
        "file is UTF-16; read it, but save it as UTF-8",
        title="Wide town",
        twin=ev("Wide town"),
        events=1,
    ),
    "crlf": Case(_file("crlf.md", ev("Crlf town").replace("\n", "\r\n").encode()), title="Crlf town", twin=ev("Crlf town"), events=1),
    "mixed-endings": Case(_file("mixed.md", _mixed_endings(ev("Mixed town"))), title="Mixed town", twin=ev("Mixed town"), events=1),
    "10mb-one-line": Case(_file("huge.md", HUGE_LINE), "no headline ('# ...' line)", title="", events=1),
    "10k-related": Case(_file("ten-thousand.md", _ten_thousand()), kind="missing-file", title="Ten thousand links town", events=1, links_exit=1),
    "deep-100": Case(_deep, title="Deep town", events=1),
    "beyond-path-max": Case(
        _beyond_path_max, "cannot read folder: File name too long", unread=True, not_named_by=frozenset({"list-by-date"})
    ),
    "symlink-loop": Case(
        _symlink("loop", ".."), "symlink loop; folder read once", unread=True, not_named_by=frozenset({"list-by-date"})
    ),
    "symlink-self": Case(_symlink("self.md", "self.md"), "symbolic link loop; not followed", unread=True),
    "symlink-out-file": Case(
        _symlink("secret.md", "OUTSIDE/secret.md"), "symbolic link to outside the archive root; not followed", unread=True
    ),
    "symlink-out-folder": Case(
        _symlink("evil", "OUTSIDE"),
        "symbolic link to outside the archive root; not followed",
        unread=True,
        not_named_by=frozenset({"list-by-date"}),
    ),
    "symlink-out-day": Case(_outside_day, "symbolic link to outside the archive root; not followed", unread=True),
    "chmod-000": Case(
        _chmod000,
        "" if ROOT_USER else "cannot read file: Permission denied; skipped",
        unread=not ROOT_USER,
        title="Locked town" if ROOT_USER else None,
        twin=ev("Locked town") if ROOT_USER else None,
        events=1 if ROOT_USER else 0,
        links_exit=0 if ROOT_USER else 1,  # a file validate-links cannot check is an error
        says="" if ROOT_USER else "cannot check links: cannot read file: Permission denied",
    ),
    "deleted-before-read": Case(_symlink("gone.md", "vanished.md"), "symbolic link to a missing file; skipped", unread=True),
    "dir-named-md": Case(_dir_named_md, title="Inner town", twin=ev("Inner town"), events=1),
    "non-markdown": Case(_non_markdown),
    "yaml-invalid": Case(
        _file("yaml-invalid.md", ev("Yaml town", front_matter="title: [unclosed\nx: 1")),
        "front matter is not valid YAML (did not find expected ',' or ']'); ignored",
        line=3,
        title="Yaml town",
        twin=ev("Yaml town"),
        events=1,
    ),
    "yaml-impossible-date": Case(
        _file("impossible.md", ev("Leap town", front_matter="date: 2019-02-30")),
        "front matter has a value that cannot be read (day is out of range for month); ignored",
        line=2,
        title="Leap town",
        twin=ev("Leap town"),
        events=1,
    ),
    "yaml-alias-bomb": Case(
        _file("bomb.md", ev("Bomb town", front_matter=_alias_bomb())),
        "front matter expands to over 10,000 values (YAML aliases?); ignored",
        line=2,
        title="Bomb town",
        twin=ev("Bomb town"),
        events=1,
    ),
    "yaml-list": Case(
        _file("list.md", ev("List town", front_matter="- a\n- b")),
        "front matter is a list, not a mapping of keys; ignored",
        line=2,
        title="List town",
        twin=ev("List town"),
        events=1,
    ),
    "yaml-nested-500": Case(
        _file("nested.md", ev("Nested town", front_matter="x: " + "[" * 500 + "]" * 500)),
        "front matter nests more than 50 levels deep; ignored",
        line=2,
        title="Nested town",
        twin=ev("Nested town"),
        events=1,
    ),
    "yaml-python-tag": Case(
        _file("python.md", ev("Python town", front_matter=PYTHON_TAG)),
        "front matter is not valid YAML (could not determine a constructor for the tag",
        line=2,
        title="Python town",
        twin=ev("Python town"),
        events=1,
    ),
    "date-feb-30": Case(
        _file("february-town.md", FEB30, folder="news/2017/02/30"),
        "date line '2017-02-30' is not a valid date",
        says="date line '2017-02-30' is not a date",
        line=1,
        kind="bad-date",
        title="February town",
        events=1,
        links_exit=1,
        not_named_by=frozenset({"list-by-date"}),  # undated: in no period
    ),
    "date-month-13": Case(
        _file("month.md", ev("Month town").replace("2017-08-13]", "2017-13-01]")),
        "date line '2017-13-01' is not a valid date",
        says="date line '2017-13-01' is not a date",
        line=1,
        kind="bad-date",
        title="Month town",
        events=1,
        links_exit=1,
    ),
    "date-year-0": Case(
        _file("year.md", ev("Year town").replace("2017-08-13]", "0000-01-01]")),
        "date line '0000-01-01' is not a valid date",
        says="date line '0000-01-01' is not a date",
        line=1,
        kind="bad-date",
        title="Year town",
        events=1,
        links_exit=1,
    ),
    "dotdot-links": Case(
        _file("dotdot.md", ev("Dotdot town", body=DOTDOT)),
        "link leaves the archive root: ../../../../../../etc/passwd",
        line=5,
        kind="outside-archive",
        title="Dotdot town",
        events=1,
        links_exit=1,
    ),
    "percent-links": Case(
        _file("percent.md", ev("Percent town", body=PERCENT)),
        "link leaves the archive root: /news/%2e%2e/%2e%2e/etc/passwd",
        line=5,
        kind="outside-archive",
        title="Percent town",
        events=1,
        links_exit=1,
    ),
    "name-255-bytes": Case(_file("t" * 252 + ".md", ev("Long name town")), title="Long name town", twin=ev("Long name town"), events=1),
    "name-not-utf8": Case(_undecodable_name, title="Latin town", twin=ev("Latin town"), events=1),
}

# Each command once, with --json, as the matrix runs it.
COMMANDS = {
    "show": ["show", "army-retakes-the-town"],
    "list-by-date": ["list-by-date", "2017"],
    "search": ["search", "-F", "town"],
    "related": ["related", "army-retakes-the-town"],
    "validate-links": ["validate-links"],
    "topics": ["topics"],
    "timeline": ["timeline", "homs"],
    "stats": ["stats"],
}


# -- running ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _deadline():
    """A command that hangs fails its test instead of the whole run."""

    def expired(signum, frame):
        raise TimeoutError("the command did not finish within 60 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class Runner:
    """CliRunner with the conftest `cli` environment, usable from module-scoped fixtures."""

    def __init__(self, cache: Path):
        self.env = {"COLUMNS": "100", "NO_COLOR": None, "TERM": "xterm", "NEWSARC_ARCHIVE": None, "NEWSARC_CACHE_DIR": str(cache)}

    def __call__(self, *args: str, env: dict | None = None):
        return CliRunner().invoke(app, list(args), env={**self.env, **(env or {})}, catch_exceptions=False)

    def json(self, root: Path, command: str) -> tuple[object, list[dict]]:
        result = self(*COMMANDS[command], "--archive", str(root), "--json")
        return result, [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Archives built once per module: the clean one, one per case, twins on demand."""
    top = tmp_path_factory.mktemp("hostile")
    outside = top / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(ev("Secret outside town", body=f"{SECRET} town"))
    world = World(top, outside, Runner(top / "cache"))
    yield world
    if "chmod-000" in world.cases:  # let pytest remove it
        root, bad = world.cases["chmod-000"]
        (root / bad).chmod(0o644)


class World:
    def __init__(self, top: Path, outside: Path, run: Runner):
        self.top, self.outside, self.run = top, outside, run
        self.clean = top / "clean"
        base_archive(self.clean)
        self.cases: dict[str, tuple[Path, str]] = {}
        self.baselines: dict[str, list[dict]] = {}
        self.twins: dict[str, dict] = {}

    def case(self, name: str) -> tuple[Path, str]:
        if name not in self.cases:
            root = self.top / name
            bad = CASES[name].build(base_archive(root), self.outside)
            self.cases[name] = (root, bad)
        return self.cases[name]

    def baseline(self, command: str) -> list[dict]:
        if command not in self.baselines:
            self.baselines[command] = self.run.json(self.clean, command)[1]
        return self.baselines[command]

    def twin_stats(self, name: str) -> dict:
        if name not in self.twins:
            root = self.top / f"{name}-twin"
            b = base_archive(root)
            bad = self.case(name)[1]
            target = bad if bad.endswith(".md") else f"{bad}/inner-town.md"  # dir-named-md
            b.write(target, CASES[name].twin)
            self.twins[name] = self.run.json(root, "stats")[1][0]
        return self.twins[name]


def about(record: dict, bad: str) -> bool:
    """Is a JSON record about the bad file (or anything below the bad folder)?"""
    return any(isinstance(v, str) and (v == bad or v.startswith(bad)) for v in _strings(record))


def _strings(value) -> list:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value]


def rest(command: str, records: list[dict], bad: str) -> list[dict]:
    """The records of `command` about everything but the bad file, normalised where needed."""
    if command == "show":  # the event shown is not about the bad file, its backlinks may be
        records = [dict(r, linked_from=[p for p in r["linked_from"] if not p.startswith(bad)]) for r in records]
    kept = [r for r in records if not about(r, bad)]
    if command == "related":  # text similarity is relative to the whole corpus: compare the rest
        kept = sorted((_without_text(r) for r in kept), key=lambda r: r["path"])
    if command == "topics":
        kept = [r for r in kept if not r["topic"].startswith("Hostile")]
    if command == "validate-links":
        kept = [r for r in kept if r.get("type") != "summary"]
    return kept


def _without_text(record: dict) -> dict:
    record = dict(record)
    for key in ("score", "terms"):
        record.pop(key, None)
    record["sources"] = {k: v for k, v in record["sources"].items() if k != "text"}
    record["reasons"] = [r for r in record["reasons"] if not r.startswith("similar")]
    return record


def naming_commands(case: Case) -> set[str]:
    """The commands that must name the bad file on stderr (validate-links does in its findings)."""
    if case.unread:
        return set(COMMANDS) - {"validate-links"} - case.not_named_by
    if case.finding in ("unparsed", "bad-date"):
        return {"list-by-date"} - case.not_named_by  # it lists the file, so it says what is wrong with it
    return set()


def names(stderr: str, bad: str, diag: str, line: int) -> bool:
    """Does stderr name the file as newsarc.model.Diagnostic does (`path:line: message`)?"""
    where = f":{line}: " if line else ": "
    return any(  # the path as the user's shell sees it: relative to the current folder, ending in `bad`
        text.startswith("newsarc: ") and bad in text and f"{where}{diag}" in text for text in stderr.splitlines()
    )


# -- the matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", list(CASES))
def test_matrix(world, name, command):
    case = CASES[name]
    root, bad = world.case(name)
    result, records = world.run.json(root, command)
    assert "Traceback" not in result.stderr
    assert result.exit_code == (case.links_exit if command == "validate-links" else 0), result.stderr
    if command == "stats":
        _check_stats(world, name, case, records[0])
    else:
        assert rest(command, records, bad) == rest(command, world.baseline(command), bad)
    if command == "validate-links":
        _check_findings(case, records, bad)
    elif command in naming_commands(case):
        assert names(result.stderr, bad, case.diag, case.line), result.stderr
    if case.unread and command != "validate-links":
        assert not [r for r in records if about(r, bad)]  # nothing read from it, nothing said about it
    if command == "search" and case.title is not None:
        assert {r["title"] for r in records if r["path"].startswith(bad)} == {case.title}
    assert SECRET not in result.stdout + result.stderr


def _check_stats(world, name: str, case: Case, got: dict) -> None:
    noisy = {"diagnostics", "files_with_diagnostics"}
    if case.twin is not None:
        expected = world.twin_stats(name)
    else:
        expected = dict(world.baseline("stats")[0])
        assert got["events"] == expected["events"] + case.events
        if case.events:
            return  # its counts are its own; the rest is compared by the commands that list records
    assert {k: v for k, v in got.items() if k not in noisy} == {k: v for k, v in expected.items() if k not in noisy}
    if case.diag and (case.unread or case.finding == "unparsed"):
        assert got["diagnostics"] > expected["diagnostics"]  # counted as a file with problems


def _check_findings(case: Case, records: list[dict], bad: str) -> None:
    mine = [r for r in records if r.get("path", "").startswith(bad)]
    if case.finding:
        wanted = [r for r in mine if r["kind"] == case.finding]
        assert wanted, mine
        if case.diag:
            says = case.says or case.diag
            assert any(says in r["message"] and r["line"] == case.line for r in wanted), wanted
    else:
        assert [r["kind"] for r in mine] in ([], ["unlisted"])  # a fine file: at most not on its day page


def test_show_names_the_problems_of_the_file_shown(world):
    """`show FILE` carries the diagnostics of a file read in part, with their lines."""
    for name, case in CASES.items():
        if not case.diag or case.unread or case.kind not in ("", "bad-date"):
            continue
        root, bad = world.case(name)
        result = world.run("show", bad, "--archive", str(root), "--json")
        assert result.exit_code == 0, (name, result.stderr)
        diagnostics = json.loads(result.stdout)["diagnostics"]
        assert any(case.diag in d["message"] and d["line"] == case.line for d in diagnostics), (name, diagnostics)


def test_ten_thousand_related_links_are_all_checked(world):
    root, bad = world.case("10k-related")
    result, records = world.run.json(root, "validate-links")
    missing = [r for r in records if r.get("path") == bad and r["kind"] == "missing-file"]
    assert len(missing) == 5000
    assert [r["line"] for r in missing[:2]] == [14, 16]  # one related item a line, every other one missing
    shown = json.loads(world.run("show", bad, "--archive", str(root), "--json").stdout)
    assert len(shown["related"]) == 10_000


def test_yaml_tags_are_never_executed(world, monkeypatch, tmp_path):
    """The front matter asks PyYAML to run `touch`; the safe loader refuses and says so."""
    monkeypatch.chdir(tmp_path)
    root, bad = world.case("yaml-python-tag")
    for command in COMMANDS:
        world.run(*COMMANDS[command], "--archive", str(root))
    world.run("show", bad, "--archive", str(root))
    assert not (tmp_path / MARKER).exists()


# -- security: the root is a wall ---------------------------------------------------------------


@pytest.fixture
def walled(builder, tmp_path):
    """An archive with links into a folder and a file that are symlinks to outside the root."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(ev("Secret outside town", body=f"{SECRET} town"))
    b = builder
    b.event("2017-08-13", "Army retakes the town")
    b.event(
        "2017-08-13",
        "Links out town",
        body="[a](/news/2017/08/13/evil/secret.md#secret-outside-town) [b](secret.md#nope) [c](evil/secret.md)",
    )
    os.symlink(outside, b.root / DAY / "evil")
    os.symlink(outside / "secret.md", b.root / DAY / "secret.md")
    return b.root, outside


def test_validate_links_never_reads_through_a_symlink_out_of_the_root(walled):
    root, _ = walled
    report = links.validate(Archive.open(root / "news", use_cache=False))
    out = sorted((f.column, f.kind, f.message) for f in report.findings if f.path.endswith("links-out-town.md"))
    # Had it listed the folder or read the file, (a) would pass and (b) would be a missing heading.
    assert out == [
        (1, "outside-archive", "link leaves the archive root through a symbolic link: /news/2017/08/13/evil/secret.md#secret-outside-town"),
        (58, "outside-archive", "link leaves the archive root through a symbolic link: secret.md#nope"),
        (78, "outside-archive", "link leaves the archive root through a symbolic link: evil/secret.md"),
    ]


def test_show_path_of_a_symlink_out_of_the_root_is_not_read(walled, cli):
    root, outside = walled
    result = cli("show", str(root / DAY / "secret.md"), "--archive", str(root), "--raw")
    assert result.exit_code == 2
    assert SECRET not in result.stdout + result.stderr
    assert f"{DAY}/secret.md: symbolic link to outside the archive root; not followed" in result.stderr


def test_no_command_reads_through_a_symlink_out_of_the_root(walled, cli):
    root, _ = walled
    for args in (["list-by-date", "2017-08-13"], ["search", SECRET, "--on", "2017-08"], ["stats", "--from", "2017-08"],
                 ["validate-links", "--dump"], ["search", "--raw", "--in", "all", SECRET]):  # fmt: skip
        result = cli(*args, "--archive", str(root))
        assert SECRET not in result.stdout, args
        assert "Secret outside" not in result.stdout, args


def test_fix_never_writes_outside_the_root(builder, tmp_path):
    """A file swapped for a symlink out of the root after the scan is refused, not rewritten."""
    builder.event("2017-08-05", "Five town")
    builder.event("2017-08-13", "Army retakes the town", body="[five](/news/2017/08/05/five-town.md)")
    report = links.validate(Archive.open(builder.root, use_cache=False))
    assert [f.fix.new for f in report.findings if f.fix] == ["/news/2017/08/5/five-town.md"]
    victim = tmp_path / "victim.md"
    victim.write_bytes((builder.root / GOOD).read_bytes())
    (builder.root / GOOD).unlink()
    os.symlink(victim, builder.root / GOOD)
    before = victim.read_bytes()
    result = fix.apply(builder.root, report.findings)
    assert result.applied == [] and victim.read_bytes() == before
    assert result.refused == {GOOD: "it is now a symbolic link out of the archive root; left alone"}


def test_fix_rewrites_a_file_with_a_255_byte_name(builder):
    builder.event("2017-08-05", "Five town")
    name = "é" * 126 + ".md"  # 255 bytes in UTF-8
    assert len(name.encode()) == 255
    builder.write(f"{DAY}/{name}", ev("Long town", body="[five](/news/2017/08/05/five-town.md)"))
    builder.days["news/2017/08/13"] = [("Long town", f"/{DAY}/{name}")]
    builder.write_day_pages()
    result = run_newsarc("validate-links", "--fix", "--archive", str(builder.root))
    assert result.returncode == 0, result.stderr
    assert "fixed 1 links in 1 files" in result.stderr
    assert "(/news/2017/08/5/five-town.md)" in (builder.root / DAY / name).read_text()
    assert sorted(p.name for p in (builder.root / DAY).iterdir()) == sorted(["index.md", name])  # no temp file left


# -- everything at once, with and without the index cache ---------------------------------------


def test_kitchen_sink_same_answers_cold_warm_and_without_cache(world, tmp_path):
    """Every bad input in one archive: the cache must neither crash on them nor change an answer."""
    root = tmp_path / "sink"
    b = base_archive(root)
    for name, case in CASES.items():
        if name not in ("10mb-one-line", "10k-related", "beyond-path-max"):  # the big ones have their own runs
            try:
                case.build(b, world.outside)
            except FileExistsError:
                pass  # two cases write the same helper file
    past = os.stat(root).st_mtime - 3600  # older than the racily-clean window: the warm run trusts the cache
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past), follow_symlinks=False)
    cache = tmp_path / "cache"
    answers = []
    for flags in ([], [], ["--no-cache"]):  # cold cache, warm cache, no cache
        run = []
        for command, args in COMMANDS.items():
            result = world.run(*flags, *args, "--archive", str(root), "--json", env={"NEWSARC_CACHE_DIR": str(cache)})
            assert "Traceback" not in result.stderr
            assert result.exit_code == (1 if command == "validate-links" else 0), (command, result.stderr)
            run.append((result.stdout, result.stderr))
        answers.append(run)
    assert answers[0] == answers[1] == answers[2]


def test_errors_are_one_sentence_and_debug_adds_the_traceback(world):
    """cli/errors.py: a user's mistake is one line and exit 2; --debug adds the traceback for bug reports."""
    plain = world.run("show", "no-such-event", "--archive", str(world.clean))
    assert (plain.exit_code, plain.stderr.count("\n"), "Traceback" in plain.stderr) == (2, 1, False)
    debug = world.run("--debug", "show", "no-such-event", "--archive", str(world.clean))
    assert debug.exit_code == 2
    assert debug.stderr.startswith("Traceback") and debug.stderr.endswith(plain.stderr)


def test_percent_encoded_links_reach_files_with_spaces_and_accents(builder, cli):
    builder.write(f"{DAY}/café town.md", ev("Cafe town"))
    builder.event("2017-08-13", "Army retakes the town", body="[a](caf%C3%A9%20town.md) [b](</news/2017/08/13/café town.md>)")
    result = cli("validate-links", "--json", "--archive", str(builder.root))
    kinds = {(r["path"], r["kind"]) for r in map(json.loads, result.stdout.splitlines()) if r.get("type") == "finding"}
    assert kinds == {(f"{DAY}/café town.md", "unlisted")}
    shown = json.loads(cli("show", f"{DAY}/café town.md", "--archive", str(builder.root), "--json").stdout)
    assert shown["linked_from"] == [GOOD]


@contextlib.contextmanager
def as_user():
    """Root reads chmod 000 files; for the user's view, drop to nobody (effective uid only, restored after)."""
    if not ROOT_USER:
        yield
        return
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)


def test_a_file_and_a_folder_the_user_may_not_read(world):
    """chmod 000 as a user sees it (CI runs as root, who reads everything): named by every command."""
    top = Path(tempfile.mkdtemp(prefix="newsarc-locked-"))  # not under pytest's 0700 folder: nobody must get in
    try:
        top.chmod(0o755)
        b = base_archive(top / "site")
        locked = write(b, "locked-town.md", ev("Locked town"))
        folder = b.write(f"{DAY}/locked/inner-town.md", ev("Inner town")).parent
        for path in [top, *top.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (b.root / locked).chmod(0)
        folder.chmod(0)
        for command, args in COMMANDS.items():
            run = ["--no-cache", *args, "--archive", str(b.root), "--json"]
            world.run(*run)  # as ourselves first: every module the command imports lazily is loaded
            with as_user():
                result = world.run(*run)
            assert result.exit_code == (1 if command == "validate-links" else 0), (command, result.stderr)
            if command == "validate-links":  # a file it cannot check is an error
                findings = [json.loads(line) for line in result.stdout.splitlines()]
                said = {f"{r['path']}: {r['message']}" for r in findings if r.get("kind") == "unreadable"}
                assert said == {f"{locked}: cannot check links: cannot read file: Permission denied",
                                f"{DAY}/locked: cannot read folder: Permission denied"}  # fmt: skip
                continue
            assert f"/site/{locked}: cannot read file: Permission denied; skipped\n" in result.stderr, command
            if command != "list-by-date":  # it reads day folders, not the folders below them
                assert f"/site/{DAY}/locked: cannot read folder: Permission denied\n" in result.stderr, command
    finally:
        for path in [top, *top.rglob("*")]:
            path.chmod(0o755)
        shutil.rmtree(top)
