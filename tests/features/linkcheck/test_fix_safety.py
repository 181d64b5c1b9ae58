"""validate-links --fix on hostile or changing archives: it writes only the file it read and checked."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsarc.features.linkcheck import fix as fixer
from newsarc.archive import Archive
from newsarc.features.linkcheck.checks import validate
from tests.conftest import event_text, run_newsarc

SOURCE = "news/2017/08/13/army-retakes-the-town.md"
PADDED = "/news/2017/08/05/five-town.md"
GOOD = "/news/2017/08/5/five-town.md"


@pytest.fixture
def site(builder) -> Path:
    """An archive with one certain fix: a padded day folder where the unpadded one exists."""
    builder.event("2017-08-05", "Five town")
    builder.event("2017-08-13", "Army retakes the town", body=f"[five]({PADDED}) and [again]({PADDED})")
    return builder.root


def findings(root: Path):
    return validate(Archive.open(root, use_cache=False)).findings


def fixed_text(root: Path) -> bytes:
    return (root / SOURCE).read_bytes().replace(PADDED.encode(), GOOD.encode())


# -- the race: the file swapped for a symlink out of the root between the check and the write ------


def test_a_file_swapped_for_a_symlink_before_the_write_is_refused(site, tmp_path, monkeypatch):
    """The swap happens after the file was read and checked, at the last moment before the replace."""
    victim = tmp_path / "elsewhere" / "precious.md"
    victim.parent.mkdir()
    victim.write_bytes(b"precious\n")
    file = site / SOURCE
    original = file.read_bytes()

    def swap():
        file.rename(file.with_suffix(".moved"))
        os.symlink(os.path.relpath(victim, file.parent), file)

    monkeypatch.setattr(fixer, "_before_replace", swap)
    result = fixer.apply(site, findings(site))
    assert victim.read_bytes() == b"precious\n"
    assert result.refused == {SOURCE: "it was replaced while being fixed; left alone"}
    assert result.applied == [] and result.files == []
    assert file.with_suffix(".moved").read_bytes() == original and file.is_symlink()
    assert [p.name for p in file.parent.iterdir() if p.name.startswith(".")] == []  # the temp file is gone


def test_a_folder_swapped_for_a_symlink_before_the_write_sends_nothing_outside(site, tmp_path, monkeypatch):
    """The day folder is held open: moving it away and linking an outside folder in its place changes nothing."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "army-retakes-the-town.md").write_bytes(b"precious\n")
    day = (site / SOURCE).parent
    expected = fixed_text(site)

    def swap():
        day.rename(day.with_name("13.moved"))
        os.symlink(outside, day)

    monkeypatch.setattr(fixer, "_before_replace", swap)
    result = fixer.apply(site, findings(site))
    assert (outside / "army-retakes-the-town.md").read_bytes() == b"precious\n"
    assert (day.with_name("13.moved") / "army-retakes-the-town.md").read_bytes() == expected  # the file it read
    assert result.files == [SOURCE] and result.refused == {}


SWAPPER = """
import os, sys
file, real, link, flag = sys.argv[1:5]
for _ in sys.stdin:  # one line per try: swap while the flag file exists, saying when it started and stopped
    said = False
    while os.path.exists(flag):
        os.rename(file, real)
        os.rename(link, file)  # now a symlink out of the root
        os.rename(file, link)
        os.rename(real, file)  # the event again
        if not said:
            print("swapping", flush=True)
            said = True
    print("stopped", flush=True)
"""


def test_a_second_process_swapping_the_file_never_gets_a_write_outside_the_root(site, tmp_path):
    """No hook: another process swaps the file and a symlink out of the root back and forth while --fix runs."""
    victim = tmp_path / "precious.md"
    victim.write_bytes(b"precious\n")
    file = site / SOURCE
    original = file.read_bytes()
    real, link, flag = file.with_name("real.keep"), file.with_name("link.keep"), tmp_path / "swapping"
    report = findings(site)
    swapper = subprocess.Popen(
        [sys.executable, "-c", SWAPPER, str(file), str(real), str(link), str(flag)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    outcomes = []
    try:
        for _ in range(100):
            for path in (file, link):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            file.write_bytes(original)
            os.symlink(victim, link)
            flag.touch()
            swapper.stdin.write("go\n")
            swapper.stdin.flush()
            assert swapper.stdout.readline() == "swapping\n"
            result = fixer.apply(site, report)
            flag.unlink()
            assert swapper.stdout.readline() == "stopped\n"
            assert victim.read_bytes() == b"precious\n"
            outcomes.append("fixed" if result.files else next(iter(result.refused.values())))
    finally:
        swapper.kill()
        swapper.wait()
    assert victim.read_bytes() == b"precious\n"
    assert set(outcomes) - {"fixed"}, outcomes  # the swaps were met, and refused


def test_the_cli_reports_the_refusal_and_fails(site, tmp_path, monkeypatch, cli):
    victim = tmp_path / "precious.md"
    victim.write_bytes(b"precious\n")
    file = site / SOURCE

    def swap():
        file.unlink()
        os.symlink(victim, file)

    monkeypatch.setattr(fixer, "_before_replace", swap)
    result = cli("validate-links", "--fix", "--format", "text", "--archive", str(site))
    assert victim.read_bytes() == b"precious\n"
    assert f"newsarc: not fixing {SOURCE}: it was replaced while being fixed; left alone\n" in result.stderr
    assert "fixed 0 links in 0 files" in result.stderr
    assert result.exit_code == 1 and "missing-file" in result.stdout


# -- temp files a killed run left behind ----------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_files_of_a_dead_newsarc_are_removed(site):
    day = (site / SOURCE).parent
    minute_ago = time.time() - 120
    stale = day / f".newsarc-fix-{dead_pid()}-0123abcd.tmp"  # as kill -9 leaves it
    young = day / f".newsarc-fix-{dead_pid()}-4567cdef.tmp"  # dead, but maybe another host's run: too new
    alive = day / f".newsarc-fix-{os.getpid()}-89abcdef.tmp"  # a live process's
    legacy = day / ".newsarc-fix-k3j_9x2a.tmp"  # tempfile.mkstemp's name, before the pid was in it
    other = day / ".other-tool-0123abcd.tmp"
    for path in (stale, young, alive, legacy, other):
        path.write_bytes(b"half a file")
    for path in (stale, alive, other):
        os.utime(path, (minute_ago, minute_ago))
    os.utime(legacy, (time.time() - 7200,) * 2)
    result = run_newsarc("validate-links", "--fix", "--archive", str(site))
    assert "fixed 2 links in 1 files" in result.stderr
    left = sorted(p.name for p in day.iterdir() if p.name.startswith("."))
    assert left == sorted([young.name, alive.name, other.name])


def test_a_killed_fix_leaves_a_temp_file_that_the_next_run_removes(site):
    """kill -9 in the middle of the write, for real: the next --fix (a minute later) cleans up."""
    code = (
        "import os, signal, sys\n"
        "from newsarc.features.linkcheck import checks as links, fix\n"
        "from newsarc.archive import Archive\n"
        "fix._before_replace = lambda: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"fix.apply(Archive.open(sys.argv[1]).root, links.validate(Archive.open(sys.argv[1])).findings)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(site)], env=os.environ, capture_output=True)
    assert killed.returncode == -9, killed.stderr
    day = (site / SOURCE).parent
    (temp,) = [p for p in day.iterdir() if p.name.startswith(".newsarc-fix-")]
    os.utime(temp, (time.time() - 120,) * 2)
    result = run_newsarc("validate-links", "--fix", "--archive", str(site))
    assert "fixed 2 links in 1 files" in result.stderr
    assert [p.name for p in day.iterdir() if p.name.startswith(".")] == []


# -- files a rewrite would damage ------------------------------------------------------------------------


def test_a_file_with_hard_links_is_left_alone(site, tmp_path, cli):
    other = site / "news/2017/08/13/copy.txt"
    os.link(site / SOURCE, other)
    original = other.read_bytes()
    for args in (["--dry-run"], []):
        result = cli("validate-links", "--fix", *args, "--format", "text", "--archive", str(site))
        assert f"newsarc: not fixing {SOURCE}: it has 2 hard links; fixing it would break them; left alone\n" in result.stderr
        assert result.exit_code == 1
        assert "fixed 0 links in 0 files" in result.stderr if not args else result.stdout == ""
    assert (site / SOURCE).read_bytes() == original == other.read_bytes()
    assert os.stat(other).st_nlink == 2


def test_extended_attributes_are_kept(site):
    file = site / SOURCE
    try:
        os.setxattr(file, "user.newsarc.note", b"checked by hand")
    except (AttributeError, OSError) as exc:
        pytest.skip(f"no user extended attributes here: {exc}")
    result = fixer.apply(site, findings(site))
    assert result.files == [SOURCE]
    assert file.read_bytes().count(GOOD.encode()) == 2
    assert os.getxattr(file, "user.newsarc.note") == b"checked by hand"


def test_a_read_only_file_is_left_alone(site, cli):
    file = site / SOURCE
    original = file.read_bytes()
    os.chmod(file, 0o444)
    for args in (["--dry-run"], []):
        result = cli("validate-links", "--fix", *args, "--format", "text", "--archive", str(site))
        assert f"newsarc: not fixing {SOURCE}: it is read-only; left alone\n" in result.stderr
        assert result.exit_code == 1
    assert file.read_bytes() == original and stat.S_IMODE(file.stat().st_mode) == 0o444


# -- a symlink inside the archive is the event it points at ---------------------------------------------


def test_dry_run_and_fix_count_a_symlinked_event_once(site, cli):
    alias = site / "news/2017/08/14/alias.md"
    alias.parent.mkdir()
    os.symlink("../13/army-retakes-the-town.md", alias)
    expected = fixed_text(site)
    dry = cli("validate-links", "--fix", "--dry-run", "--format", "text", "--archive", str(site))
    done = cli("validate-links", "--fix", "--format", "text", "--archive", str(site))
    assert "newsarc: --fix would rewrite 4 links in 1 files (nothing changed)\n" in dry.stderr
    assert "newsarc: fixed 4 links in 1 files\n" in done.stderr
    assert "not fixing" not in dry.stderr + done.stderr
    assert dry.stdout.startswith(f"--- a/{SOURCE}\n") and dry.stdout.count("--- a/") == 1
    assert (site / SOURCE).read_bytes() == expected and alias.is_symlink()
    assert "missing-file" not in done.stdout


# -- --fix-fuzzy must leave a link that validates ---------------------------------------------------------


def test_fuzzy_fix_is_not_applied_when_the_close_slug_lacks_the_heading(builder, cli, monkeypatch):
    builder.event("2017-08-05", "Target event", body="## Heading on\n\nText.")
    builder.event("2017-08-06", "Other event")
    links = "[a](/news/2017/08/5/target-evnt.md#heading-on) [b](/news/2017/08/6/other-evnt.md#heading-on)"
    builder.event("2017-08-13", "Source event", body=links)
    root = builder.root
    monkeypatch.chdir(root)
    source = root / "news/2017/08/13/source-event.md"
    result = cli("validate-links", "--fix-fuzzy", "--format", "text", "--archive", str(root))
    assert "fixed 1 links in 1 files" in result.stderr
    assert "[a](/news/2017/08/5/target-event.md#heading-on) [b](/news/2017/08/6/other-evnt.md#heading-on)" in source.read_text()
    after = cli("validate-links", "--format", "text", "--archive", str(root))
    problems = [line for line in after.stdout.splitlines() if line.startswith("news/2017/08/13/source-event.md")]
    assert problems == [
        "news/2017/08/13/source-event.md:5:49: error: missing file: /news/2017/08/6/other-evnt.md; did you mean "
        "/news/2017/08/6/other-event.md#heading-on (close slug)? [missing-file]"
    ]


def test_without_folder_descriptors_fix_says_so_and_writes_nothing(builder, monkeypatch):
    """On a system whose os.open and os.replace take no dir_fd (Windows), --fix refuses in one sentence."""
    import os

    from newsarc.features.linkcheck import fix
    from newsarc.errors import NewsarcError

    monkeypatch.setattr(os, "supports_dir_fd", set())
    with pytest.raises(NewsarcError, match=r"^--fix needs a system with folder descriptors"):
        fix.apply(builder.root, [], dry_run=True)
