"""Control characters a link target decodes to (%00, %0A, %1B, %09) are shown escaped in text output.

Raw, a NUL lands in the output, a newline cuts a one-line finding in two, a
tab shifts --dump's columns, and an escape drives the reader's terminal (or
makes the JUnit report ill-formed XML). Text formats show them as Python
writes them in a string (\\x00, \\n, \\x1b[31m, \\t), beside the link as
written; JSON keeps the decoded text, which it escapes itself.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from newsarc.output.console import printable
from tests.conftest import run_newsarc

SUSPECT = "news/2017/08/13/nul-link.md"
BODY = (
    "See [one](/news/2017/08/12/other%00event.md), [two](/news/2017/08/12/other-event.md%0A), "
    "[three](/news/2017/08/12/o%1B[31mred.md) and [four](/news/2017/08/12/a%09b.md)."
)
TEXT = (
    f"{SUSPECT}:5:5: error: missing file: /news/2017/08/12/other%00event.md (news/2017/08/12/other\\x00event.md);"
    " did you mean /news/2017/08/12/other-event.md (close slug)? [missing-file]\n"
    f"{SUSPECT}:5:47: error: missing file: /news/2017/08/12/other-event.md%0A (news/2017/08/12/other-event.md\\n)"
    " [missing-file]\n"
    f"{SUSPECT}:5:90: error: missing file: /news/2017/08/12/o%1B[31mred.md (news/2017/08/12/o\\x1b[31mred.md)"
    " [missing-file]\n"
    f"{SUSPECT}:5:135: error: missing file: /news/2017/08/12/a%09b.md (news/2017/08/12/a\\tb.md) [missing-file]\n"
)
# What the findings say, decoded, as JSON keeps them.
MESSAGES = [
    "missing file: /news/2017/08/12/other%00event.md (news/2017/08/12/other\x00event.md)",
    "missing file: /news/2017/08/12/other-event.md%0A (news/2017/08/12/other-event.md\n)",
    "missing file: /news/2017/08/12/o%1B[31mred.md (news/2017/08/12/o\x1b[31mred.md)",
    "missing file: /news/2017/08/12/a%09b.md (news/2017/08/12/a\tb.md)",
]


@pytest.fixture
def site(builder, monkeypatch):
    """An archive whose one event links to four targets that decode to control characters; cwd is its root."""
    builder.event("2017-08-12", "Other event")
    assert builder.event("2017-08-13", "Nul link", body=BODY) == "/" + SUSPECT
    monkeypatch.chdir(builder.root)
    return builder.root


def links(cli, *args: str, env: dict[str, str] | None = None):
    return cli("validate-links", "--archive", ".", *args, env=env)


def test_text_shows_them_escaped_one_finding_per_line(cli, site):
    result = links(cli, "--format", "text")
    assert (result.exit_code, result.stdout) == (1, TEXT)


def test_json_is_unchanged_it_escapes_them_itself(cli, site):
    result = links(cli, "--json")
    lines = result.stdout.splitlines()
    findings = [json.loads(line) for line in lines if '"type": "finding"' in line]
    assert [f["message"] for f in findings] == MESSAGES
    assert [f["target"] for f in findings] == [m.split(" (")[1][:-1] for m in MESSAGES]
    assert "\\u0000" in lines[0] and "\\u001b" in lines[2] and "\\n" in lines[1]


def test_rich_shows_them_escaped_and_sends_no_escape_of_theirs(cli, site):
    plain = links(cli, "--format", "rich", env={"NO_COLOR": "1", "COLUMNS": "200"}).stdout
    assert "\x00" not in plain and "\x1b" not in plain and "\t" not in plain
    rows = [line.strip() for line in plain.splitlines() if "error " in line]
    assert rows == [
        "5:5  error   " + printable(MESSAGES[0]) + "  [missing-file]",
        "5:47  error   " + printable(MESSAGES[1]) + "  [missing-file]",
        "5:90  error   " + printable(MESSAGES[2]) + "  [missing-file]",
        "5:135  error   " + printable(MESSAGES[3]) + "  [missing-file]",
    ]
    coloured = links(cli, "--format", "rich", env={"COLUMNS": "200"}).stdout
    assert "\x1b[" in coloured  # rich's own colours
    assert "o\x1b[31mred" not in coloured and "o\\x1b[31mred.md" in coloured


def test_github_markdown_and_junit_show_them_escaped(cli, site):
    github = links(cli, "--format", "github").stdout.splitlines()
    assert github[1] == (
        f"::error file={SUSPECT},line=5,col=47,title=missing-file::"
        "missing file: /news/2017/08/12/other-event.md%250A (news/2017/08/12/other-event.md\\n)"
    )
    markdown = links(cli, "--format", "markdown").stdout
    assert f"| `{SUSPECT}` | 5:5 | error | {printable(MESSAGES[0])} | `/news/2017/08/12/other-event.md` (close slug) |\n" in markdown
    assert "\x00" not in markdown and "\x1b" not in markdown
    junit = ET.fromstring(links(cli, "--format", "junit").stdout)  # raw, the NUL made it ill-formed XML
    failures = [f.get("message") for f in junit.iter("failure")]
    assert failures == [
        printable(MESSAGES[0]) + "; did you mean /news/2017/08/12/other-event.md (close slug)?",
        *map(printable, MESSAGES[1:]),
    ]


def test_dump_keeps_its_columns(cli, site):
    result = links(cli, "--dump")
    rows = [line.split("\t") for line in result.stdout.splitlines() if line.startswith(SUSPECT)]
    assert [row[3:] for row in rows if row[1] == "body"] == [
        ["/news/2017/08/12/other%00event.md", "news/2017/08/12/other\\x00event.md"],
        ["/news/2017/08/12/other-event.md%0A", "news/2017/08/12/other-event.md\\n"],
        ["/news/2017/08/12/o%1B[31mred.md", "news/2017/08/12/o\\x1b[31mred.md"],
        ["/news/2017/08/12/a%09b.md", "news/2017/08/12/a\\tb.md"],
    ]


def test_a_real_pipe_gets_no_raw_control_characters(site):
    done = run_newsarc("validate-links", "--archive", ".", cwd=site)  # piped: the text format
    assert (done.returncode, done.stdout) == (1, TEXT)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", done.stdout)


def test_printable():
    assert printable("nothing to do: é, ü, 東京, \\x00 as written") == "nothing to do: é, ü, 東京, \\x00 as written"
    assert printable("a\x00b\x07c\x1b[0m\x7f\x9b\t\n\r") == "a\\x00b\\x07c\\x1b[0m\\x7f\\x9b\\t\\n\\r"
    assert printable("file\udcff\u2028name\x00") == "file\\xff\u2028name\\x00"  # a byte not UTF-8 as it was written
