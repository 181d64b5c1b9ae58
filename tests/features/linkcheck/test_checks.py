"""validate-links: exact findings on a fixture with one of each problem, none on examples/."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.archive import Archive
from newsarc.features.linkcheck.checks import Options, validate
from newsarc.features.stats import stats
from newsarc.features.suggest import edit_distance
from tests.conftest import EXAMPLES, event_text, run_newsarc

A = "/news/2015/09/4/alpha-event.md"
B = "/news/2015/09/5/bravo-event.md"

CODE_BODY = """Links in code are not links: `[x](/news/nope.md)` and

```
[y](/news/2015/09/4/also-nope.md)
```

<!-- [z](/news/in-a-comment.md) -->

A [folder link](/news/2015/09/4/) and a [picture](/img/pic.png), a [missing picture](/img/gone.png),
a [heading that exists](/news/2015/09/4/alpha-event.md#source) and [one that does not](#nowhere),
[a reference][ref] and [http](https://example.com/x) <someone@example.com>.

[ref]: ../4/alpha.md"""


def build_fixture(builder) -> Path:
    """One of each problem; `EXPECTED` lists them all."""
    builder.event("2015-09-04", "Alpha event", related=[("Bravo event", B, ["T"])])
    builder.event("2015-09-05", "Bravo event", related=[("Alpha event", A, ["T"])])
    builder.event(
        "2015-09-06",
        "Charlie event",
        related=[
            ("padding", "/news/2015/09/04/alpha-event.md", ["T"]),  # 14: other day spelling exists
            ("typo", "/news/2015/09/5/bravo-evant.md", ["T"]),  # 15: close slug
            ("wrong day", "/news/2015/09/7/bravo-event.md", ["T"]),  # 16: same slug, 2015-09-05
            ("missing", "/news/2015/09/5/nothing-like-this.md", ["T"]),  # 17: no suggestion
            ("outside", "../../../../../outside.md", ["T"]),  # 18
            ("heading", A + "#no-such-heading", ["T"]),  # 19
            ("fine", "../4/alpha-event.md", ["T"]),  # 20: relative, fine
            ("fine", A + "#related", ["T"]),  # 21: heading exists
        ],
    )
    builder.event("2015-09-06", "Code event", body=CODE_BODY)
    # The file is in the folder of 2015-09-08, its date line says 2015-09-09.
    builder.write("news/2015/09/8/delta-event.md", event_text("2015-09-09", "Delta event", day_folder="8"))
    builder.days.setdefault("news/2015/09/8", []).append(("Delta event", "/news/2015/09/8/delta-event.md"))
    builder.event("2015-09-04", "Echo event", day_page=False)  # not on its day page
    builder.event("2015-09-10", "Foxtrot event", day_page=False)  # day folder without index.md
    builder.event("2015-09-03", "Golf event", day_folder="03")  # the only padded day folder
    builder.write("news/2015/09/5/bravo-event-again.md", event_text("2015-09-05", "Bravo event"))
    builder.days["news/2015/09/5"].append(("Bravo again", "/news/2015/09/5/bravo-event-again.md"))
    builder.event(
        "2015-09-11",
        "Hotel event",
        front_matter="title: Hotel event\ndate: 2015-09-12\nrelated:\n  - /news/2015/09/04/alpha-event.md",
    )
    builder.write("news/2015/09/11/india-event.md", event_text("2015-09-11", "India event").replace("2015-09-11]", "someday]"))
    builder.days["news/2015/09/11"].append(("India event", "/news/2015/09/11/india-event.md"))
    builder.days["news/2015/09/5"].append(("Ghost", "/news/2015/09/5/ghost.md"))
    builder.write_day_pages()
    builder.write("news/2015/09/4/binary.md", b"\x00\x01 not text")
    builder.write("img/pic.png", b"\x89PNG")
    return builder.root


F_CHARLIE = "news/2015/09/6/charlie-event.md"
F_CODE = "news/2015/09/6/code-event.md"
F_HOTEL = "news/2015/09/11/hotel-event.md"
EXPECTED = {
    (F_CHARLIE, 14, 4, "missing-file"),
    (F_CHARLIE, 15, 4, "missing-file"),
    (F_CHARLIE, 16, 4, "missing-file"),
    (F_CHARLIE, 17, 4, "missing-file"),
    (F_CHARLIE, 18, 4, "outside-archive"),
    (F_CHARLIE, 19, 4, "missing-heading"),
    (F_CODE, 13, 68, "missing-file"),  # /img/gone.png
    (F_CODE, 14, 68, "missing-heading"),  # #nowhere
    (F_CODE, 15, 1, "missing-file"),  # [a reference][ref] -> ../4/alpha.md
    ("news/2015/09/8/delta-event.md", 1, 5, "date-mismatch"),
    ("news/2015/09/4/echo-event.md", 0, 0, "unlisted"),
    ("news/2015/09/10/foxtrot-event.md", 1, 5, "missing-file"),  # its day page is missing
    ("news/2015/09/10", 0, 0, "no-day-page"),
    ("news/2015/09/03", 0, 0, "mixed-padding"),
    ("news/2015/09/5/bravo-event.md", 0, 0, "duplicate"),
    ("news/2015/09/5/bravo-event-again.md", 0, 0, "duplicate"),
    (F_HOTEL, 3, 1, "date-mismatch"),  # front matter date
    (F_HOTEL, 5, 5, "missing-file"),  # front matter related link
    ("news/2015/09/11/india-event.md", 1, 5, "bad-date"),
    ("news/2015/09/5/index.md", 5, 4, "missing-file"),  # the day page lists a ghost
    ("news/2015/09/4/binary.md", 0, 0, "unreadable"),
}


@pytest.fixture
def fixture_root(builder) -> Path:
    return build_fixture(builder)


def keys(report) -> set[tuple]:
    return {(f.path, f.line, f.column, f.kind) for f in report.findings}


def test_fixture_exact_findings(fixture_root):
    report = validate(Archive.open(fixture_root))
    assert keys(report) == EXPECTED
    assert len(report.findings) == len(EXPECTED)


def test_examples_have_no_findings():
    report = validate(Archive.open(EXAMPLES), options=Options(strict=True))
    assert [str(f) for f in report.findings] == []
    assert report.files == 117 and report.links == 282


def test_suggestions_and_fixes(fixture_root):
    found = {(f.path, f.line): f for f in validate(Archive.open(fixture_root)).findings}
    padding = found[(F_CHARLIE, 14)]
    assert [(s.link, s.reason) for s in padding.suggestions] == [(A, "other day spelling")]
    assert padding.fix.new == A and not padding.fix.fuzzy
    typo = found[(F_CHARLIE, 15)]
    assert [(s.link, s.reason) for s in typo.suggestions] == [(B, "close slug")]
    assert typo.fix.fuzzy
    wrong_day = found[(F_CHARLIE, 16)]
    assert [(s.link, s.reason) for s in wrong_day.suggestions] == [(B, "same slug on 2015-09-05")]
    assert found[(F_CHARLIE, 17)].suggestions == [] and found[(F_CHARLIE, 17)].fix is None
    assert found[(F_CHARLIE, 18)].message == "link leaves the archive root: ../../../../../outside.md"
    assert found[(F_CHARLIE, 19)].message == "no heading '#no-such-heading' in news/2015/09/4/alpha-event.md"
    hotel = found[(F_HOTEL, 5)]
    assert hotel.link == "/news/2015/09/04/alpha-event.md" and hotel.fix is not None
    assert found[(F_HOTEL, 3)].message == "front matter date 2015-09-12 disagrees with its folder (2015-09-11)"
    delta = found[("news/2015/09/8/delta-event.md", 1)]
    assert delta.message == "date line says 2015-09-09, but the file is in the folder of 2015-09-08"
    assert found[("news/2015/09/4/echo-event.md", 0)].message == "not listed on its day page news/2015/09/4/index.md"
    assert found[("news/2015/09/5/bravo-event.md", 0)].message == "same date and headline as news/2015/09/5/bravo-event-again.md"


def test_severities_and_strict(fixture_root):
    report = validate(Archive.open(fixture_root))
    warnings = {f.kind for f in report.findings if f.severity == "warning"}
    assert warnings == {"unlisted", "no-day-page", "mixed-padding", "duplicate"}  # a binary file is an error (unreadable)
    strict = validate(Archive.open(fixture_root), options=Options(strict=True))
    assert {f.severity for f in strict.findings} == {"error"}
    assert keys(strict) == EXPECTED


def test_reciprocal_reads_targets_outside_the_folder_checked_and_skips_day_pages(builder):
    """Targets the pass over the files did not read (another folder) are read for their related links;
    a day page named as related is not an event that could return the link."""
    b_link = builder.event("2016-04-06", "Bravo names nobody")
    c_link = builder.event("2016-04-06", "Charlie names Alpha", related=[("Alpha", "/news/2016/04/5/alpha-names-two.md", ["T"])])
    related = [("Bravo", b_link, ["T"]), ("Charlie", c_link, ["T"]), ("The day", "/news/2016/04/6/index.md", ["T"])]
    builder.event("2016-04-05", "Alpha names two", related=related)
    options = Options(reciprocal=True)

    def missing(paths=None) -> set[tuple]:
        report = validate(Archive.open(builder.root), paths, options=options)
        return {(f.path, f.link, f.target) for f in report.findings if f.kind == "not-reciprocal"}

    alpha = "news/2016/04/5/alpha-names-two.md"
    expected = {(alpha, b_link, b_link.lstrip("/"))}
    assert missing([builder.root / "news/2016/04/5"]) == expected
    assert missing() == expected


def test_reciprocal_findings_say_where_each_link_is_written(cli, builder, monkeypatch):
    """The reciprocal check keeps no Link per related link (500k at 100k events): each finding must still
    show the link as written (absolute, relative, in front matter) at its own line and column."""
    bravo = builder.event("2016-04-06", "Bravo names nobody")
    builder.event("2016-04-05", "Alpha names Bravo", related=[("Bravo", bravo, ["T"]), ("Bravo again", "../6/bravo-names-nobody.md", ["T"])])
    builder.event("2016-04-07", "Charlie names Bravo", front_matter=f"title: Charlie names Bravo\nrelated:\n  - {bravo}")
    builder.write_day_pages()
    monkeypatch.chdir(builder.root)
    result = cli("validate-links", "--reciprocal", "--format", "text")
    message = f"{bravo[1:]} does not list this event among its related events [not-reciprocal]"
    assert result.stdout.splitlines() == [
        f"news/2016/04/5/alpha-names-bravo.md:14:4: warning: {message}",
        f"news/2016/04/5/alpha-names-bravo.md:15:4: warning: {message}",
        f"news/2016/04/7/charlie-names-bravo.md:4:5: warning: {message}",
    ]
    records = [json.loads(line) for line in cli("validate-links", "--reciprocal", "--format", "json").stdout.splitlines()]
    assert [r["link"] for r in records if r["type"] == "finding"] == [bravo, "../6/bravo-names-nobody.md", bravo]


def test_reciprocal_is_opt_in(fixture_root):
    report = validate(Archive.open(fixture_root), options=Options(reciprocal=True))
    extra = {(f.path, f.line, f.column) for f in report.findings if f.kind == "not-reciprocal"}
    # Charlie's links to Alpha (19 has a bad heading, 20, 21); Alpha and Bravo return each other's links.
    assert extra == {(F_CHARLIE, 19, 4), (F_CHARLIE, 20, 4), (F_CHARLIE, 21, 4)}
    assert "reciprocal" in report.checks and "reciprocal" not in validate(Archive.open(fixture_root)).checks


def test_paths_give_the_same_findings_as_the_whole_archive(fixture_root):
    whole = validate(Archive.open(fixture_root))
    files = sorted(p for p in fixture_root.rglob("*.md"))
    for file in files:
        rel = file.relative_to(fixture_root).as_posix()
        part = validate(Archive.open(fixture_root), [file])
        folder = rel.rpartition("/")[0]
        want = {k for k in keys(whole) if k[0] == rel or (k[0] == folder and k[3] in ("no-day-page", "mixed-padding"))}
        assert keys(part) == want, rel


def test_paths_may_be_folders(fixture_root):
    part = validate(Archive.open(fixture_root), [fixture_root / "news/2015/09/6"])
    assert keys(part) == {k for k in EXPECTED if k[0].startswith("news/2015/09/6/")}


def test_site_absolute_links_resolve_against_the_detected_root(builder):
    builder.event("2016-01-02", "Kilo event", related=[("a", "/news/2016/01/2/kilo-event.md", ["T"])])
    report = validate(Archive.open(builder.root / "news" / "2016"))
    assert report.findings == [] and report.links == 3


def test_day_spelling_suggestion_both_ways(builder):
    builder.event("2016-01-02", "Lima event", day_folder="02")
    builder.event("2016-01-03", "Mike event", day_folder="03", related=[("l", "/news/2016/01/2/lima-event.md", ["T"])])
    found = validate(Archive.open(builder.root)).findings
    assert [(f.kind, f.suggestions[0].link) for f in found] == [("missing-file", "/news/2016/01/02/lima-event.md")]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("", "abc", 3), ("same", "same", 0), ("bravo-event", "bravo-evant", 1), ("ab", "ba", 2)],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b, 10) == distance


@given(st.text("abc-", max_size=30), st.text("abc-", max_size=30), st.integers(0, 6))
@settings(max_examples=300, deadline=None)
def test_edit_distance_matches_levenshtein(a, b, limit):
    def full(x, y):
        row = list(range(len(y) + 1))
        for i, cx in enumerate(x, 1):
            prev, row[0] = row[0], i
            for j, cy in enumerate(y, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (cx != cy))
        return row[-1]

    expected = full(a, b)
    assert edit_distance(a, b, limit) == (expected if expected <= limit else limit + 1)


# -- the command ---------------------------------------------------------------------


def test_cli_examples_clean(cli):
    result = cli("validate-links", "--archive", str(EXAMPLES), "--format", "json", "--strict")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [records[-1]] and records[-1]["type"] == "summary"
    assert records[-1]["errors"] == 0 and records[-1]["warnings"] == 0
    assert "no problems in 117 files, 282 internal links" in result.stderr


def test_cli_json_round_trip(cli, fixture_root, monkeypatch):
    monkeypatch.chdir(fixture_root)
    result = cli("validate-links", "--format", "json")
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    findings = [r for r in records if r["type"] == "finding"]
    assert {(r["path"], r["line"], r["column"], r["kind"]) for r in findings} == EXPECTED
    summary = records[-1]
    assert summary["type"] == "summary" and summary["errors"] == 16 and summary["warnings"] == 5
    assert summary["checks"] == ["links", "fragments", "dates", "day-pages", "padding", "duplicates", "files"]
    assert set(summary["skipped_checks"]) == {"reciprocal", "external"}
    padding = next(r for r in findings if r["line"] == 14 and r["path"] == F_CHARLIE)
    assert padding["file"] == F_CHARLIE and padding["fixable"] == "certain"
    assert padding["suggestions"] == [{"link": A, "reason": "other day spelling"}]


TEXT_LINE = re.compile(r"^(?P<file>[^:]+)(?::(?P<line>\d+):(?P<col>\d+))?: (?P<sev>error|warning): (?P<msg>.*) \[(?P<kind>[a-z-]+)\]$")


def test_cli_text_is_compiler_style(cli, fixture_root, monkeypatch):
    monkeypatch.chdir(fixture_root / "news")
    result = cli("validate-links", "--format", "text", "--archive", "..")
    assert result.exit_code == 1
    parsed = set()
    for line in result.stdout.splitlines():
        match = TEXT_LINE.match(line)
        assert match, line
        path = str((Path(match["file"])).as_posix())
        assert path.startswith("2015/09/")  # relative to the current folder
        parsed.add(("news/" + path, int(match["line"] or 0), int(match["col"] or 0), match["kind"]))
    assert parsed == EXPECTED
    assert (
        "2015/09/6/charlie-event.md:14:4: error: missing file: /news/2015/09/04/alpha-event.md; "
        f"did you mean {A} (other day spelling)? [missing-file]"
    ) in result.stdout.splitlines()
    assert result.stderr.startswith("newsarc: 16 errors, 5 warnings in 18 files, 38 internal links (checks: links, fragments, dates, day-pages, padding, duplicates, files; off: reciprocal, external)\n")


GITHUB = re.compile(r"^::(?P<level>error|warning) (?P<props>[^:]*)::(?P<message>.*)$")


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_cli_github_annotations(cli, fixture_root, monkeypatch):
    monkeypatch.chdir(fixture_root)
    result = cli("validate-links", "--format", "github", env={"GITHUB_WORKSPACE": str(fixture_root)})
    assert result.exit_code == 1
    parsed = set()
    for line in result.stdout.splitlines():
        match = GITHUB.match(line)
        assert match, line
        props = dict(_unescape_pair(p) for p in match["props"].split(","))
        assert set(props) <= {"file", "line", "col", "title"} and "\n" not in _unescape(match["message"])
        parsed.add((props["file"], int(props.get("line", 0)), int(props.get("col", 0)), props["title"]))
        assert (match["level"] == "warning") == (props["title"] in {"unlisted", "no-day-page", "mixed-padding", "duplicate"})
    assert parsed == EXPECTED


def _unescape_pair(pair: str) -> tuple[str, str]:
    key, _, value = pair.partition("=")
    return key, _unescape(value)


def test_cli_junit_parses(cli, fixture_root, monkeypatch):
    monkeypatch.chdir(fixture_root)
    result = cli("validate-links", "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites" and root.get("failures") == "16"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["links", "fragments", "dates", "day-pages", "padding", "duplicates", "files"]
    failures = [(c.get("file"), c.find("failure").get("type")) for c in root.iter("testcase") if c.find("failure") is not None]
    assert sorted(failures) == sorted((p, k) for p, _, _, k in EXPECTED if k not in {"unlisted", "no-day-page", "mixed-padding", "duplicate"})
    assert suites["links"].get("failures") == "10" and suites["fragments"].get("failures") == "2"


def test_cli_markdown_and_summary_file(cli, fixture_root, monkeypatch, tmp_path):
    monkeypatch.chdir(fixture_root)
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = cli("validate-links", "--format", "markdown", "--summary-file", str(summary))
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("## ❌ newsarc validate-links: 16 errors, 5 warnings\n")
    assert "| missing file | `missing-file` | 9 | 0 |" in text
    assert f"| `{F_CHARLIE}` | 14:4 | error | missing file: /news/2015/09/04/alpha-event.md | `{A}` (other day spelling) |" in text
    assert summary.read_text() == "# earlier step\n" + text


def test_cli_rich_summary(cli, fixture_root):
    result = cli("validate-links", "--archive", str(fixture_root), "--format", "rich", env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    out = result.stdout
    assert "checks: links, fragments, dates, day-pages, padding, duplicates, files" in out
    assert "missing file" in out and "✗ 16 errors, 5 warnings" in out
    assert out.index("charlie-event.md") < out.index("14:4")


def test_cli_strict_turns_warnings_into_failure(cli, builder, monkeypatch):
    monkeypatch.chdir(builder.root)
    builder.event("2016-01-02", "Lone event", day_page=False)
    builder.event("2016-01-02", "Listed event")
    assert cli("validate-links", "--archive", str(builder.root), "--format", "text").exit_code == 0
    strict = cli("validate-links", "--archive", str(builder.root), "--format", "text", "--strict")
    assert strict.exit_code == 1
    assert strict.stdout == "news/2016/01/2/lone-event.md: error: not listed on its day page news/2016/01/2/index.md [unlisted]\n"


def test_cli_dump_lists_every_link(cli, fixture_root):
    result = cli("validate-links", "--archive", str(fixture_root), "--dump", "--format", "json")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    code = [r for r in records if r["path"] == F_CODE]
    assert [(r["line"], r["column"], r["role"], r["link"], r["scope"]) for r in code] == [
        (1, 5, "date", "/news/2015/09/6/index.md", "internal"),
        (13, 3, "body", "/news/2015/09/4/", "internal"),
        (13, 41, "body", "/img/pic.png", "internal"),
        (13, 68, "body", "/img/gone.png", "internal"),
        (14, 3, "body", "/news/2015/09/4/alpha-event.md#source", "internal"),
        (14, 68, "body", "#nowhere", "internal"),
        (15, 1, "body", "../4/alpha.md", "internal"),
        (15, 24, "body", "https://example.com/x", "external"),
        (15, 54, "body", "someone@example.com", "external"),
        (22, 4, "source", "https://www.reuters.com/a", "external"),
    ]
    assert result.stderr == f"newsarc: {len(records)} links\n"


def test_cli_usage_errors(cli, fixture_root):
    assert cli("validate-links", "--archive", str(fixture_root), "--dry-run").exit_code == 2
    assert cli("validate-links", "--archive", str(fixture_root), "--dump", "--format", "junit").exit_code == 2
    missing = cli("validate-links", "--archive", str(fixture_root), str(fixture_root / "nope.md"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_subprocess_examples_and_fixture(fixture_root):
    clean = run_newsarc("validate-links", "--archive", str(EXAMPLES))
    assert clean.returncode == 0 and clean.stdout == ""
    assert clean.stderr.startswith("newsarc: no problems in 117 files, 282 internal links")
    broken = run_newsarc("validate-links", "news/2015/09/6/charlie-event.md", cwd=fixture_root)
    assert broken.returncode == 1
    assert len(broken.stdout.splitlines()) == 6
    assert broken.stdout.splitlines()[0].startswith("news/2015/09/6/charlie-event.md:14:4: error: missing file")


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_long_reports_are_written_in_batches_with_nothing_lost(cli, fixture_root, monkeypatch, fmt):
    """Text and annotations go out a few thousand lines at a time (--reciprocal at 100k events wrote
    510k lines joined whole: 390 MB); with batches of 5 lines the output is the same, to the byte."""
    from newsarc.output import links as rendering

    monkeypatch.chdir(fixture_root)
    whole = cli("validate-links", "--format", fmt, "--reciprocal")
    monkeypatch.setattr(rendering, "_BATCH", 5)
    batched = cli("validate-links", "--format", fmt, "--reciprocal")
    lines = len(whole.stdout.splitlines())
    assert lines > 2 * 5 and lines % 5  # several whole batches and a part of one
    assert (batched.exit_code, batched.stdout, batched.stderr) == (whole.exit_code, whole.stdout, whole.stderr)


def test_stats_counts_the_broken_links_validate_links_reports(fixture_root):
    """stats' own cheaper count (file existence only) must agree with validate-links on which links are
    broken: it counted a link to a folder that exists and an email autolink as broken."""
    report = validate(Archive.open(fixture_root, use_cache=False).load())
    broken = [f for f in report.findings if f.kind in ("missing-file", "outside-archive")]
    result = stats(Archive.open(fixture_root, use_cache=False))
    assert result.broken_links == len(broken) == 10
    assert result.broken_by_role == {"body": 2, "date": 1, "day-page": 1, "front-matter": 1, "related": 5}


IMAGES_AND_HTML = """An ![existing picture](/img/pic.png), a ![gone one](/img/gone.png), a [![linked](../../../../img/pic.png)](/news/none.md),
an <a href="/news/2015/09/4/alpha-event.md#source">anchor</a> and <a href='/news/html-gone.md'>another</a>,
not <!-- <img src="/img/in-a-comment.png"> --> but ![by reference][map]

<figure>
  <img alt="x" src="/img/figure-gone.png">
</figure>

[map]: /img/ref-gone.png"""


def test_images_and_html_links_are_checked_as_lychee_checks_them(cli, builder, monkeypatch):
    """Markdown images and raw HTML href/src were skipped: a broken picture passed the check that
    lychee --offline fails (these are lychee's lines and columns too)."""
    builder.event("2015-09-04", "Alpha event")
    builder.event("2015-09-05", "Pictures event", body=IMAGES_AND_HTML)
    builder.write_day_pages()
    builder.write("img/pic.png", b"\x89PNG")
    monkeypatch.chdir(builder.root)
    result = cli("validate-links")
    assert result.exit_code == 1
    where = "news/2015/09/5/pictures-event.md"
    assert result.stdout.splitlines() == [
        f"{where}:5:41: error: missing file: /img/gone.png [missing-file]",
        f"{where}:5:71: error: missing file: /news/none.md [missing-file]",
        f"{where}:6:76: error: missing file: /news/html-gone.md [missing-file]",
        f"{where}:7:52: error: missing file: /img/ref-gone.png [missing-file]",
        f"{where}:10:21: error: missing file: /img/figure-gone.png [missing-file]",
    ]
    assert result.stderr.startswith("newsarc: 5 errors in 4 files, 12 internal links")
    dump = cli("validate-links", "--dump", "--format", "json", where)
    roles = [json.loads(line)["role"] for line in dump.stdout.splitlines() if '"role"' in line]
    assert roles.count("image") == 5 and roles.count("body") == 3


# -- reading only what the index cannot vouch for ---------------------------------


def _report(root: Path, cache_dir: Path, narrow: bool) -> tuple[list, dict]:
    report = validate(Archive.open(root, cache_dir=cache_dir), narrow=narrow)
    return [f.to_dict() for f in report.findings], report.summary()


def _age(root: Path) -> None:
    import os
    import time

    past = time.time() - 100
    for path in root.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)


@pytest.mark.parametrize("which", ["fixture", "examples"])
def test_narrowed_check_equals_reading_every_file(which, builder, tmp_path):
    root = build_fixture(builder) if which == "fixture" else EXAMPLES
    cold = _report(root, tmp_path / "c", narrow=True)
    assert cold == _report(root, tmp_path / "c2", narrow=False)
    if which == "fixture":
        _age(root)
    warm = _report(root, tmp_path / "c", narrow=True)
    assert warm == cold == _report(root, tmp_path / "c", narrow=False)


def test_narrowed_check_reads_only_suspect_files(fixture_root, tmp_path):
    from newsarc.features.linkcheck.checks import Checker, sources

    site = Archive.open(fixture_root, cache_dir=tmp_path / "c")
    checker = Checker(site, sources(site, None), Options())
    read = {doc.path for doc in checker._to_read()}
    assert "news/2015/09/5/bravo-event.md" not in read  # quiet: its links all name files that exist
    assert {F_CHARLIE, F_CODE, F_HOTEL, "news/2015/09/8/delta-event.md", "news/2015/09/11/india-event.md"} <= read


def test_a_front_matter_date_that_agrees_keeps_a_file_unread(builder, tmp_path):
    """A front matter date naming the folder's day has nothing to report: the index vouches for the
    file. One that disagrees, or is no date, is read and reported, in the narrowed check as in the wide."""
    from newsarc.features.linkcheck.checks import Checker, sources

    fm = "title: {t}\ndate: {d}"
    builder.event("2016-03-04", "Agrees", front_matter=fm.format(t="Agrees", d="2016-03-04"))
    builder.event("2016-03-04", "Quoted agrees", front_matter=fm.format(t="Quoted agrees", d="'2016-03-04'"))
    builder.event("2016-03-04", "Disagrees", front_matter=fm.format(t="Disagrees", d="2016-03-05"))
    builder.event("2016-03-04", "Not a date", front_matter=fm.format(t="Not a date", d="soon"))
    builder.write_day_pages()
    _age(builder.root)
    site = Archive.open(builder.root, cache_dir=tmp_path / "c")
    read = {doc.path.rpartition("/")[2] for doc in Checker(site, sources(site, None), Options())._to_read()}
    assert read == {"disagrees.md", "not-a-date.md"}
    narrowed = _report(builder.root, tmp_path / "c", narrow=True)
    assert narrowed == _report(builder.root, tmp_path / "c", narrow=False)
    assert [(f["path"].rpartition("/")[2], f["kind"]) for f in narrowed[0]] == [
        ("disagrees.md", "date-mismatch"),
        ("not-a-date.md", "date-mismatch"),
    ]


def test_checks_read_from_the_index_columns_equal_checks_of_events(fixture_root, tmp_path):
    """Day pages, padding and duplicates are judged from the index's columns for the whole archive;
    the same events handed over as plain events (no index behind them) give the same report."""
    from newsarc.features.linkcheck.checks import Checker, Sources, sources

    site = Archive.open(fixture_root, cache_dir=tmp_path / "c")
    indexed = sources(site, None)
    plain = [indexed.docs[k] for k in range(len(indexed.docs))]  # each file parsed
    assert indexed.columns.index is not None and all(type(doc).__name__ == "Event" for doc in plain)
    by_events = Sources(plain, indexed.unreadable, indexed.scanned, notes=indexed.notes)
    wide = {"narrow": False}
    reports = [Checker(site, src, Options(), **wide).run() for src in (indexed, by_events)]
    assert [f.to_dict() for f in reports[0].findings] == [f.to_dict() for f in reports[1].findings]
    assert {(f.path, f.kind) for f in reports[0].findings} >= {
        ("news/2015/09/4/echo-event.md", "unlisted"),
        ("news/2015/09/10", "no-day-page"),
        ("news/2015/09/03", "mixed-padding"),
        ("news/2015/09/5/bravo-event.md", "duplicate"),
    }


def test_a_file_added_or_deleted_changes_the_verdict_on_others(builder, tmp_path):
    """Files copied unchanged into a rebuilt index are judged again against the new file set."""
    builder.event("2015-09-04", "Alpha event", related=[("Bravo event", B, ["T"])])
    builder.write_day_pages()
    _age(builder.root)
    cache_dir = tmp_path / "c"
    assert [f["kind"] for f in _report(builder.root, cache_dir, True)[0]] == ["missing-file"]
    builder.event("2015-09-05", "Bravo event")
    builder.write_day_pages()
    _age(builder.root)
    assert _report(builder.root, cache_dir, True)[0] == []
    (builder.root / B.lstrip("/")).unlink()
    _age(builder.root)
    assert [f["kind"] for f in _report(builder.root, cache_dir, True)[0]] == ["missing-file", "missing-file"]


def test_same_slug_suggestions_look_only_inside_the_root(builder, cli, tmp_path):
    """A day folder two days on that is a symbolic link out of the root is not offered; one inside is."""
    builder.event("2019-03-03", "A headline", body="See [it](/news/2019/03/5/the-story.md) and [that](/news/2019/03/6/the-other.md).")
    builder.event("2019-03-04", "The story")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "the-other.md").write_text(event_text("2019-03-07", "The other"))
    (builder.root / "news/2019/03/7").symlink_to(outside, target_is_directory=True)
    result = cli("validate-links", "--format", "text", "-a", str(builder.root), "--no-cache")
    lines = [line for line in result.stdout.splitlines() if "missing file" in line]
    assert len(lines) == 2
    assert "did you mean /news/2019/03/4/the-story.md (same slug on 2019-03-04)?" in lines[0]
    assert "did you mean" not in lines[1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a.md", "b.md", "a/b.md", "ä.md"]), st.integers(0, 3), st.integers(0, 3),
                          st.sampled_from(["missing", "heading", "not-reciprocal"]), st.sampled_from(["", "/x", "/a", "#h"]),
                          st.integers()), max_size=40))
def test_findings_sorted_field_by_field_are_in_sort_key_order(rows):
    """sort_findings makes no key tuples, and gives sort_key's order, ties kept as they came."""
    from newsarc.features.linkcheck.checks import Finding, sort_findings

    findings = [Finding(path, line, column, link, kind, str(tag)) for path, line, column, kind, link, tag in rows]
    expected = sorted(findings, key=Finding.sort_key)
    sort_findings(findings)
    assert [f.message for f in findings] == [f.message for f in expected] and findings == expected
