"""validate-links --fix: byte-exact, atomic, certain-only rewrites."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarc.features.linkcheck import fix as fixer
from newsarc.archive import Archive
from newsarc.features.linkcheck.checks import validate
from tests.conftest import event_text, run_newsarc

TARGET = "news/2015/09/4/alpha-event.md"
PADDED = "/news/2015/09/04/alpha-event.md"
GOOD = "/news/2015/09/4/alpha-event.md"


def site(builder) -> Path:
    builder.event("2015-09-04", "Alpha event")
    builder.event("2015-09-05", "Bravo event")
    return builder.root


def write_source(builder, data: bytes, name: str = "news/2015/09/5/source.md") -> Path:
    path = builder.write(name, data)
    return path


def fix_all(root: Path, **kw) -> fixer.FixResult:
    return fixer.apply(root, validate(Archive.open(root)).findings, **kw)


def test_crlf_front_matter_bom_and_trailing_spaces_survive(builder):
    root = site(builder)
    original = (
        b"\xef\xbb\xbf---\r\ntitle: Source  \r\ndate: 2015-09-05\r\n---\r\n"
        b"### [2015-09-05](/news/2015/09/5/index.md)\r\n\r\n# S\xc3\xb6urce event \r\n\r\n"
        b"Caf\xc3\xa9 \xe2\x80\x94 see [alpha](" + PADDED.encode() + b" \"title\")   \r\n"
        b"and [again][a] and [again too][a].\r\n\r\n[a]: <" + PADDED.encode() + b">\r\n"
    )
    file = write_source(builder, original)
    os.chmod(file, 0o640)
    result = fix_all(root)
    assert result.files == ["news/2015/09/5/source.md"] and len(result.applied) == 3
    expected = original.replace(PADDED.encode(), GOOD.encode())
    assert file.read_bytes() == expected
    assert stat.S_IMODE(file.stat().st_mode) == 0o640
    assert [p.name for p in file.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left
    assert not [f for f in validate(Archive.open(root)).findings if f.path.endswith("source.md") and f.kind == "missing-file"]


def test_front_matter_link_is_fixed_in_place(builder):
    root = site(builder)
    text = event_text("2015-09-05", "Source event", front_matter=f"related:\n  - {PADDED}  # keep this comment")
    file = write_source(builder, text.encode())
    fix_all(root)
    assert file.read_bytes() == text.replace(PADDED, GOOD).encode()


def test_dry_run_prints_a_diff_and_changes_nothing(builder):
    root = site(builder)
    original = f"### [2015-09-05](/news/2015/09/5/index.md)\n\n# Source event\n\nSee [alpha]({PADDED}).".encode()
    file = write_source(builder, original)
    result = fix_all(root, dry_run=True)
    assert file.read_bytes() == original
    assert result.diff == (
        "--- a/news/2015/09/5/source.md\n"
        "+++ b/news/2015/09/5/source.md\n"
        "@@ -2,4 +2,4 @@\n"
        " \n"
        " # Source event\n"
        " \n"
        f"-See [alpha]({PADDED}).\n"
        "\\ No newline at end of file\n"
        f"+See [alpha]({GOOD}).\n"
        "\\ No newline at end of file\n"
    )


def test_fuzzy_fixes_only_on_request_and_never_ambiguous(builder):
    root = site(builder)
    builder.event("2015-09-05", "Bravo events")  # a second close slug for 'bravo-evens'
    original = (
        "### [2015-09-05](/news/2015/09/5/index.md)\n\n# Source event\n\n"
        "[typo](/news/2015/09/4/alpha-evant.md) [ambiguous](/news/2015/09/5/bravo-evens.md)\n"
    ).encode()
    file = write_source(builder, original)
    assert fix_all(root).applied == []
    assert file.read_bytes() == original
    result = fix_all(root, fuzzy=True)
    assert [f.link for f in result.applied] == ["/news/2015/09/4/alpha-evant.md"]
    assert file.read_bytes() == original.replace(b"alpha-evant", b"alpha-event")


def test_files_that_did_not_decode_cleanly_are_refused(builder):
    root = site(builder)
    original = b"### [2015-09-05](/news/2015/09/5/index.md)\n\n# Bad \xff byte\n\n[a](" + PADDED.encode() + b")\n"
    file = write_source(builder, original)
    result = fix_all(root)
    assert result.applied == [] and "not valid UTF-8" in result.refused["news/2015/09/5/source.md"]
    assert file.read_bytes() == original


def test_escaped_destinations_are_left_alone(builder):
    root = site(builder)
    original = b"# Source\n\n[a](/news/2015/09/04/alpha\\-event.md)\n"  # the parser reads alpha-event
    file = write_source(builder, original)
    findings = [f for f in validate(Archive.open(root)).findings if f.kind == "missing-file"]
    assert [f.link for f in findings] == [PADDED]
    result = fixer.apply(root, findings)
    assert result.applied == [] and result.refused
    assert file.read_bytes() == original


def test_columns_after_an_edit_move(builder):
    root = site(builder)
    write_source(builder, f"# S\n\n[a]({PADDED}) [b](/news/nope.md)\n".encode())
    report = validate(Archive.open(root))
    result = fixer.apply(root, report.findings)
    rest = [fixer.moved(f, result) for f in report.findings if f not in result.applied and f.kind == "missing-file"]
    assert [(f.line, f.column) for f in rest] == [(3, 1 + len(f"[a]({GOOD}) "))]
    again = [f for f in validate(Archive.open(root)).findings if f.kind == "missing-file"]
    assert [(f.line, f.column) for f in again] == [(3, rest[0].column)]


def test_cli_fix_and_dry_run(builder, cli, monkeypatch):
    root = site(builder)
    monkeypatch.chdir(root)
    original = f"### [2015-09-05](/news/2015/09/5/index.md)\n\n# Source event\n\n[a]({PADDED})\n".encode()
    file = write_source(builder, original)
    dry = cli("validate-links", "--fix", "--dry-run")
    assert dry.exit_code == 1 and dry.stdout.startswith("--- a/news/2015/09/5/source.md\n")
    assert "--fix would rewrite 1 links in 1 files" in dry.stderr and file.read_bytes() == original
    done = cli("validate-links", "--fix", "--format", "text")
    assert "fixed 1 links in 1 files" in done.stderr
    # What remains: the source event is not on a day page (its folder has none): warnings only.
    assert done.exit_code == 0 and "missing-file" not in done.stdout
    assert file.read_bytes() == original.replace(PADDED.encode(), GOOD.encode())


@given(
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    front=st.booleans(),
    before=st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="[]()<>`\\*_!&#"), max_size=20),
    trailing=st.sampled_from(["", " ", "  ", "\t"]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_round_trip_is_byte_exact(tmp_path_factory, newline, bom, front, before, trailing):
    root = tmp_path_factory.mktemp("site")
    target = root / TARGET
    target.parent.mkdir(parents=True)
    target.write_text(event_text("2015-09-04", "Alpha event"))
    lines = ["### [2015-09-05](/news/2015/09/5/index.md)", "", "# Source" + trailing, "", f"{before} [x]({PADDED}){trailing}", ""]
    if front:
        lines = ["---", "title: 'Source'" + trailing, "---", *lines]
    original = (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode()
    file = root / "news/2015/09/5/source.md"
    file.parent.mkdir(parents=True)
    file.write_bytes(original)
    result = fixer.apply(root, validate(Archive.open(root)).findings)
    assert len(result.applied) == 1
    assert file.read_bytes() == original.replace(PADDED.encode(), GOOD.encode())


def test_subprocess_fix(builder):
    root = site(builder)
    file = write_source(builder, f"# S\r\n\r\n[a]({PADDED})\r\n".encode())
    done = run_newsarc("validate-links", "--fix", "--format", "text", cwd=root)
    assert "fixed 1 links in 1 files" in done.stderr
    assert file.read_bytes() == f"# S\r\n\r\n[a]({GOOD})\r\n".encode()
