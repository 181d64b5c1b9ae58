"""Shared fixtures: real archives on disk and the CLI driven for real."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsarc.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def generated_archive(out: Path, events: int, seed: int) -> Path:
    """`bench/gen_archive.py OUT --events N --seed S` (front matter, CRLF, entities, injected broken links)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_archive", ROOT / "bench" / "gen_archive.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.generate(out, events, seed=seed, progress=False)
    return out
# One event of the repository's own archive, in the full layout of a real one (entities,
# a cover image, Related items with topics); docs/FORMAT.md walks through it.
SAMPLE = EXAMPLES / "news/2016/03/27" / (
    "the-syrian-army-supported-by-russian-air-power-recaptures-the-ancient-city-of-palmyra-from-isil-after-nearly-ten-months-of-militant-rule.md"
)


def slugify(headline: str) -> str:
    """The archive's slug rule (FORMAT.md): lowercase, runs of non-alphanumerics to '-', 150 chars."""
    import re

    slug = re.sub(r"[^0-9a-z]+", "-", headline.lower()).strip("-")
    return slug[:150].rstrip("-")


def event_text(
    date: str,
    title: str,
    body: str = "Something happened.",
    sources: list[tuple[str, str]] | None = None,
    cover: str | None = None,
    related: list[tuple[str, str, list[str]]] | None = None,
    front_matter: str | None = None,
    day_folder: str | None = None,
) -> str:
    """An event file in the sample's exact layout. related: (headline, link, topics)."""
    year, month, day = date.split("-")
    folder = day_folder or str(int(day))
    parts = []
    if front_matter is not None:
        parts.append(f"---\n{front_matter.strip()}\n---\n")
    parts.append(f"### [{date}](/news/{year}/{month}/{folder}/index.md)\n\n# {title} \n\n{body}\n\n")
    items = [f"1. [{name}]({url})" for name, url in (sources or [("Reuters", "https://www.reuters.com/a")])]
    if cover:
        items.append(f"1. [Cover Image]({cover})")
    parts.append("\n### Source:\n\n" + "\n".join(items) + "\n")
    if related:
        lines = [f"{i}. [{h} ]({link}) _Context: {', '.join(t)}_" for i, (h, link, t) in enumerate(related, 1)]
        parts.append("\n### Related:\n\n" + "\n".join(lines) + "\n")
    return "".join(parts)


class ArchiveBuilder:
    """Writes files under a site root; `event()` also keeps day pages in step."""

    def __init__(self, root: Path):
        self.root = root
        self.days: dict[str, list[tuple[str, str]]] = {}

    def write(self, relpath: str, content: str | bytes) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode())
        return path

    def event(self, date: str, title: str, *, day_page: bool = True, **kw) -> str:
        """Write an event; return its site link (/news/YYYY/MM/D/slug.md)."""
        year, month, day = date.split("-")
        folder = kw.get("day_folder") or str(int(day))
        link = f"/news/{year}/{month}/{folder}/{slugify(title)}.md"
        self.write(link.lstrip("/"), event_text(date, title, **kw))
        if day_page:
            self.days.setdefault(f"news/{year}/{month}/{folder}", []).append((title, link))
            self.write_day_pages()
        return link

    def write_day_pages(self) -> None:
        for folder, events in self.days.items():
            date = "-".join(p.zfill(2) for p in folder.split("/")[1:])
            lines = "\n".join(f"1. [{t} ]({link})" for t, link in events)
            self.write(f"{folder}/index.md", f"# {date}\n\n{lines}\n")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Tests never touch the user's cache dir; subprocesses inherit this too."""
    monkeypatch.setenv("NEWSARC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "newsarc-cache"))


@pytest.fixture
def builder(tmp_path: Path) -> ArchiveBuilder:
    root = tmp_path / "site"
    root.mkdir()
    return ArchiveBuilder(root)


@pytest.fixture
def cli(monkeypatch):
    """Invoke the app in-process; stdout and stderr come back separately."""
    monkeypatch.delenv("NEWSARC_ARCHIVE", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):
        base = {"COLUMNS": "100", "NO_COLOR": None, "TERM": "xterm"}
        return runner.invoke(app, list(args), env={**base, **(env or {})}, catch_exceptions=False)

    return invoke


def read_pty(fd: int) -> bytes:
    """Everything written to a pseudo-terminal until its other side closes (EIO or end of file)."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def run_newsarc(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None):
    """Run newsarc as a real subprocess (pipes, signals, exit codes)."""
    full_env = {**os.environ, "COLUMNS": "100", **(env or {})}
    full_env.pop("NEWSARC_ARCHIVE", None)
    return subprocess.run(
        [sys.executable, "-m", "newsarc", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Dropping root's read-anything capabilities lets permission cases run as root too.
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _set_effective_caps(change) -> int:
    """Apply `change(effective) -> effective` to this thread's capabilities; return the old set."""
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    old = data[0].effective
    data[0].effective = change(old)
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    return old


@pytest.fixture
def permissions_apply(tmp_path):
    """chmod 000 must stop this process from reading: as root, drop the capabilities that bypass it."""
    old = None
    if os.geteuid() == 0:
        mask = (1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH)
        try:
            old = _set_effective_caps(lambda effective: effective & ~mask)
        except (OSError, AttributeError):
            pytest.skip("running as root, and root's capabilities cannot be dropped here")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        probe.read_text()
        readable = True
    except PermissionError:
        readable = False
    probe.chmod(0o644)
    try:
        if readable:
            pytest.skip("a chmod 000 file is still readable by this process")
        yield
    finally:
        if old is not None:
            _set_effective_caps(lambda effective: old)
        for folder, dirs, files in os.walk(tmp_path):  # each folder opened before it is entered
            for name in dirs + files:
                path = Path(folder, name)
                if not path.is_symlink():
                    path.chmod(0o755 if name in dirs else 0o644)


def ctrl_c_as_a_terminal_sends_it() -> None:
    """A child's preexec_fn: Ctrl-C at its default. A suite started in the background by a shell
    without job control has SIGINT ignored, which every child inherits, and a Python started so
    ignores Ctrl-C: the tests that send one would fail for the way the suite was started."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
