"""Nothing from an archive reaches the terminal raw, and machine formats stay valid whatever the names.

An archive is untrusted input. A title `Title\\x1b[2J\\x1b]0;PWNED\\x07` printed
raw clears the reader's screen and sets the window title; a C1 byte (U+009B is
CSI) or an OSC 8 sequence does as much; rich markup in a publisher or a topic
(`[link=http://evil.example/]x[/link]`) became a live hyperlink; a file name
with a newline forged a second `path:line:col: error:` line, one with ESC made
the JUnit report ill-formed XML, one with the byte 0xff put a lone surrogate in
JSON. Every string from the archive is shown `printable` (control characters as
`\\x1b`, a byte that is not UTF-8 as `\\xff`, bidi controls as `\\u202e`), in
rich and plain output and on stderr, and never parsed as markup; JSON keeps
the text, escaped JSON's way.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from newsarc.output.console import printable, printable_spans, write_json
from tests.conftest import event_text, read_pty, run_newsarc

DAY = "news/2017/08/13"
EVIL = "Title\x1b[2J\x1b]0;PWNED\x07 c1\u009b6n \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\ \u202eright"
LINKED = "Bad\u009b2J\x1bc\x07\u202e"  # no brackets: it must fit in a Markdown link text (related titles, publishers)
MARKUP = "[link=http://evil.example/]x[/link] [bold red]loud"
TITLE = f"{EVIL} town {MARKUP}"
TOPIC = f"{MARKUP} {LINKED}"
ESC_NAME, NEWLINE_NAME = f"{DAY}/esc\x1b[31mred.md", f"{DAY}/new\nline.md"
BYTE_NAME = f"{DAY}/bad\\xff.md"  # as every format shows it (the file's name has the byte 0xff)

# What must never reach the output raw. rich's own escapes (colours, its OSC 8 links to
# files and sources) are fine: none of these is one of them.
RAW = ["\x1b[2J", "\x1b]0;", "\x07", "\x9b", "\x1bc", "\u202e", "esc\x1b[31mred", "new\nline", "\udcff", "\ufffd"]
EVIL_LINK = re.compile(r"\x1b\]8;[^;]*;http://evil")

COMMANDS = {
    "show": ["show", "hostile-town"],
    "show-backlink": ["show", "other-town"],  # "Linked from" the hostile title, a related title with LINKED
    "list-by-date": ["list-by-date", "2017-08"],
    "search": ["search", "town"],
    "search-count": ["search", "-c", "town"],
    "search-paths": ["search", "-l", "town"],
    "related": ["related", "hostile-town"],
    "related-depth": ["related", "other-town", "--depth", "2"],
    "related-timeline": ["related", "other-town", "--timeline"],
    "topics": ["topics"],
    "timeline": ["timeline", "loud bad"],
    "stats": ["stats"],
}
# Archive text each command shows, as it must show it on a terminal and when piped.
SHOWN = {
    "show": [printable(EVIL), "[link=http://evil.example/]x[/link]", printable(LINKED), "x\\x1b[2Jy"],
    "show-backlink": [printable(LINKED), "[link=http://evil.example/]x[/link]"],
    "list-by-date": [printable(EVIL), "[link=http://evil.example/]x[/link]"],
    "search": [printable(EVIL), "Second\\x1b[2J paragraph", BYTE_NAME, "esc\\x1b[31mred.md", "new\\nline.md"],
    "search-count": [BYTE_NAME, "esc\\x1b[31mred.md", "new\\nline.md"],
    "search-paths": [BYTE_NAME, "esc\\x1b[31mred.md", "new\\nline.md"],
    "related": [printable(LINKED), "[link=http://evil.example/]x[/link]"],
    "related-depth": [printable(EVIL)],
    "related-timeline": [printable(EVIL)],
    "topics": ["[link=http://evil.example/]x[/link]", printable(LINKED)],
    "timeline": [printable(EVIL)],
    "stats": ["[link=http://evil.example/]x[/link]"],
}


@pytest.fixture
def site(builder, monkeypatch):
    """A hostile event, an event that links to it and back, and three files with hostile names; cwd is the root."""
    builder.event("2017-08-13", "Other town", related=[(f"{LINKED} town {MARKUP}", f"/{DAY}/hostile-town.md", [TOPIC])])
    hostile = event_text(
        "2017-08-13",
        TITLE,
        body=f"A town body {EVIL} and {MARKUP}.\n\nSecond\x1b[2J paragraph town.",
        sources=[(TOPIC, "https://example.com/a")],
        related=[(f"{MARKUP} rel {LINKED}", f"/{DAY}/other-town.md", [TOPIC])],
        front_matter=f"tags: ['{MARKUP}']\nnote: \"x\\e[2Jy\"",
    )
    builder.write(f"{DAY}/hostile-town.md", hostile)
    builder.days[DAY].append(("Hostile town", f"/{DAY}/hostile-town.md"))
    builder.write_day_pages()
    gone = "See [gone](/news/2017/08/13/gone.md)."
    builder.write(ESC_NAME, event_text("2017-08-13", "Escape name town", body=gone, front_matter="title: [unclosed"))
    builder.write(NEWLINE_NAME, event_text("2017-08-13", "Newline name town", body=gone))
    with open(os.fsencode(builder.root / DAY) + b"/bad\xff.md", "wb") as out:
        out.write(event_text("2017-08-13", "Byte name town", body=gone).encode())
    monkeypatch.chdir(builder.root)
    return builder.root


def run(cli, *args: str):
    return cli(*args, "--archive", ".", env={"COLUMNS": "300"})


def assert_safe(result) -> str:
    """Valid UTF-8, and no raw escape, control byte, markup link or broken name from the archive."""
    out = result.stdout_bytes.decode("utf-8") + result.stderr_bytes.decode("utf-8")
    for raw in RAW:
        assert raw not in out, (raw, out)
    assert not EVIL_LINK.search(out), out
    return out


@pytest.mark.parametrize("mode", ["--pretty", "--plain"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_shows_archive_text_escaped_and_never_as_markup(cli, site, command, mode):
    result = run(cli, *COMMANDS[command], mode)
    assert result.exit_code == 0, result.stderr
    out = assert_safe(result)
    for text in SHOWN[command]:
        assert text in out, (text, out)
    if mode == "--pretty":
        assert "\x1b[" in result.stdout  # rich did style it: its own escapes are there, the archive's are not


@pytest.mark.parametrize("command", list(COMMANDS))
def test_json_lines_parse_and_are_utf8_whatever_the_text_and_names(cli, site, command):
    result = run(cli, *COMMANDS[command], "--json")
    assert result.exit_code == 0, result.stderr
    assert_safe(result)
    for line in result.stdout.splitlines():
        json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")  # no lone surrogate in any string


def test_json_keeps_the_text_and_shows_a_byte_that_is_not_utf8_as_written(cli, site):
    shown = json.loads(run(cli, "show", "hostile-town", "--json").stdout)
    assert shown["title"] == TITLE and TOPIC in shown["topics"]
    listed = [json.loads(line)["path"] for line in run(cli, "list-by-date", "2017-08", "--json").stdout.splitlines()]
    assert listed == [BYTE_NAME, ESC_NAME, f"{DAY}/hostile-town.md", NEWLINE_NAME, f"{DAY}/other-town.md"]


def test_write_json_escapes_c1_bidi_and_surrogates():
    out = io.StringIO()
    write_json({"p": "caf\udce9\u009b\u202e é\x1b"}, out)
    assert out.getvalue() == '{"p": "caf\\\\xe9\\u009b\\u202e é\\u001b"}\n'
    assert json.loads(out.getvalue()) == {"p": "caf\\xe9\u009b\u202e é\x1b"}


def test_ambiguous_topic_names_its_candidates_escaped_on_stderr(cli, site):
    result = run(cli, "timeline", "loud")
    assert result.exit_code == 2
    assert_safe(result)
    assert result.stderr.splitlines()[1:] == [f"  {printable(TOPIC)}", f"  {MARKUP}"]


def test_diagnostics_on_stderr_name_the_file_escaped(cli, site):
    result = run(cli, "list-by-date", "2017-08", "--json")
    assert_safe(result)
    assert result.stderr.startswith(
        "newsarc: news/2017/08/13/esc\\x1b[31mred.md:3: front matter is not valid YAML (did not find expected ',' or ']'); ignored\n"
    )


def test_search_on_a_terminal_marks_the_match_after_escapes(cli, site):
    result = run(cli, "search", "PWNED", "--pretty")
    out = assert_safe(result)
    assert "Title\\x1b[2J\\x1b]0;\x1b[1;31mPWNED\x1b[0m\\x07" in out


# -- validate-links: every format valid, one finding per record, whatever the names -------------------


def findings(cli) -> list[dict]:
    lines = run(cli, "validate-links", "--json").stdout.splitlines()
    return [json.loads(line) for line in lines if '"type": "finding"' in line]


LINE = re.compile(r"^news/2017/08/13/(bad\\xff|esc\\x1b\[31mred|new\\nline)\.md(:\d+:\d+)?: (error|warning): [^\x00-\x1f]+ \[[a-z-]+\]$")


def test_text_format_is_one_line_per_finding(cli, site):
    result = run(cli, "validate-links", "--format", "text")
    assert result.exit_code == 1
    assert_safe(result)
    lines = result.stdout.splitlines()
    assert len(lines) == len(findings(cli)) == 7
    assert all(LINE.match(line) for line in lines), lines


def test_junit_parses_whatever_the_names(cli, site):
    result = run(cli, "validate-links", "--format", "junit")
    assert_safe(result)
    cases = [case for case in ET.fromstring(result.stdout).iter("testcase") if case.get("file")]
    assert sorted({case.get("file") for case in cases}) == [BYTE_NAME, "news/2017/08/13/esc\\x1b[31mred.md", "news/2017/08/13/new\\nline.md"]


def test_github_and_markdown_are_one_record_per_line(cli, site):
    github = run(cli, "validate-links", "--format", "github")
    assert_safe(github)
    assert len(github.stdout.splitlines()) == 7 and all(line.startswith("::") for line in github.stdout.splitlines())
    assert "::error file=news/2017/08/13/new\\nline.md,line=5,col=5,title=missing-file::" in github.stdout
    markdown = run(cli, "validate-links", "--format", "markdown")
    assert_safe(markdown)
    rows = [line for line in markdown.stdout.splitlines() if line.startswith("| `news/")]
    assert len(rows) == 7 and "| `news/2017/08/13/esc\\x1b[31mred.md` | 8:5 | error |" in markdown.stdout


def test_rich_and_dump_show_the_names_escaped(cli, site):
    rich = assert_safe(run(cli, "validate-links", "--format", "rich"))
    assert "esc\\x1b[31mred.md" in rich and BYTE_NAME in rich and "new\\nline.md" in rich
    dump = run(cli, "validate-links", "--dump")
    assert_safe(dump)
    assert all(line.count("\t") == 4 for line in dump.stdout.splitlines())
    for line in run(cli, "validate-links", "--dump", "--json").stdout.splitlines():
        json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")


def test_a_real_pipe_gets_utf8_and_no_control_bytes(site):
    """As a subprocess: the bytes as a terminal or a CI log would get them."""
    for args in (["validate-links"], ["list-by-date", "2017-08"], ["show", "hostile-town"], ["search", "town"]):
        done = subprocess.run(
            [sys.executable, "-m", "newsarc", *args, "--archive", "."], cwd=site, capture_output=True, timeout=120
        )
        out = (done.stdout + done.stderr).decode("utf-8")  # strict: a raw 0xff fails here
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", out), (args, out)


def test_printable():
    assert printable("caf\udce9 \udcff") == "caf\\xe9 \\xff"  # the bytes of a name that is not UTF-8, as written
    assert printable("a\u202eb\u2066c\u2069") == "a\\u202eb\\u2066c\\u2069"  # bidi controls reorder what follows
    assert printable("Genève — 東京 ✓ \u00a0") == "Genève — 東京 ✓ \u00a0"
    assert printable_spans("a\x1bbc\tz", ((2, 3), (4, 6))) == ("a\\x1bbc\tz", ((5, 6), (7, 9)))
    assert printable_spans("plain", ((1, 2),)) == ("plain", ((1, 2),))


# -- --fix --dry-run and show --raw: a patch and the file's bytes when piped, escaped on a terminal ----

SOURCE = "### [2015-09-05](/news/2015/09/5/index.md)\n\n# Source event\n\nSee [alpha](/news/2015/09/04/alpha-event.md) and \x1b]0;PWNED\x07.\n"
QUOTED = ['"a/news/2015/09/5/bad\\377.md"', '"a/news/2015/09/5/esc\\033[31mred.md"', '"a/news/2015/09/5/new\\nline.md"']


@pytest.fixture
def fixable(builder, monkeypatch):
    """Three files with hostile names, each with a link --fix can mend (the other day spelling); cwd is the root."""
    builder.event("2015-09-04", "Alpha event")
    builder.event("2015-09-05", "Bravo event")
    builder.write("news/2015/09/5/esc\x1b[31mred.md", SOURCE)
    builder.write("news/2015/09/5/new\nline.md", SOURCE)
    with open(os.fsencode(builder.root) + b"/news/2015/09/5/bad\xff.md", "wb") as out:
        out.write(SOURCE.encode())
    monkeypatch.chdir(builder.root)
    return builder.root


def test_dry_run_diff_names_files_as_git_quotes_them(cli, fixable):
    result = run(cli, "validate-links", "--fix", "--dry-run")
    headers = [line for line in result.stdout.splitlines() if line.startswith(("--- ", "+++ "))]
    assert headers == [f"{sign} {name.replace('a/', side, 1)}" for name in QUOTED for sign, side in (("---", "a/"), ("+++", "b/"))]
    assert result.stdout.count("\x1b]0;PWNED\x07") == 6  # piped, the content is the file's: the patch applies
    assert "new\nline" not in result.stdout and "esc\x1b[31m" not in result.stdout


def on_a_terminal(*args: str, cwd) -> str:
    """What newsarc writes to a terminal (a pseudo-terminal), its line ends as the program wrote them."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "newsarc", *args]
    proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    written = read_pty(master)
    proc.communicate(timeout=120)
    os.close(master)
    return written.replace(b"\r\n", b"\n").decode("utf-8")


def test_on_a_terminal_the_diff_shows_control_characters_escaped(fixable):
    diff = on_a_terminal("validate-links", "--fix", "--dry-run", "--archive", ".", cwd=fixable)
    assert "\x1b" not in diff and "\x07" not in diff
    assert diff.count("and \\x1b]0;PWNED\\x07.") == 6 and diff.count('--- "a/news/2015/09/5/') == 3


def test_show_raw_gives_the_bytes_to_a_pipe_and_escapes_them_on_a_terminal(fixable):
    raw = on_a_terminal("show", "news/2015/09/5/esc\x1b[31mred.md", "--raw", "--archive", ".", cwd=fixable)
    assert raw == SOURCE.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    piped = run_newsarc("show", "news/2015/09/5/esc\x1b[31mred.md", "--raw", "--archive", ".", cwd=fixable)
    assert piped.stdout == SOURCE
