"""Files that cannot be checked, and huge files ("Hostile archives", items 4 and 6).

- A file validate-links cannot check (a binary file, one it cannot read) is an
  error finding in every format, so CI fails on it; a text file with a stray NUL
  byte is read (the NUL as U+FFFD) and its links are checked.
- A file over the size limit (NEWSARC_MAX_FILE_SIZE or --max-file-size, default
  16 MB) is named on stderr and skipped for content by every command, while
  validate-links still checks its links, reading it a part at a time.
"""

from __future__ import annotations

import json

import pytest

from newsarc.archive import Archive
from newsarc.features.linkcheck.checks import validate
from tests.conftest import event_text, run_newsarc
from tests.features.linkcheck.test_external import server  # noqa: F401 - the HTTP server fixture

DAY = "news/2017/08/13"
BIG = f"{DAY}/huge-town.md"
LIMIT = {"NEWSARC_MAX_FILE_SIZE": "64k"}


@pytest.fixture
def site(builder, monkeypatch):
    """Two clean events that link each other, with their day pages; the current folder is the root."""
    monkeypatch.chdir(builder.root)
    builder.event("2017-08-12", "Rebels leave the town", body="Rebels left Homs.")
    builder.event("2017-08-13", "Army retakes the town", related=[("Rebels", "/news/2017/08/12/rebels-leave-the-town.md", ["Homs"])])
    return builder


def links(cli, root, *args, env=None):
    return cli("validate-links", "-a", str(root), *args, env=env)


# -- item 4: files that cannot be checked ------------------------------------------------


def test_stray_nul_byte_does_not_hide_broken_links(site, cli):
    text = event_text("2017-08-13", "Nul town", body="A stray \x00 byte.\n\nSee [gone](/news/2017/08/13/gone.md).")
    site.write(f"{DAY}/nul-town.md", text)
    site.days[DAY].append(("Nul town", f"/{DAY}/nul-town.md"))
    site.write_day_pages()
    result = links(cli, site.root, "--format", "text")
    assert result.exit_code == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"{DAY}/nul-town.md:7:5: error: missing file: /news/2017/08/13/gone.md [missing-file]" in lines
    assert f"{DAY}/nul-town.md:5:1: warning: text contains NUL bytes (1); read as U+FFFD [unparsed]" in lines
    records = [json.loads(line) for line in links(cli, site.root, "--format", "json").stdout.splitlines()]
    assert [(r["line"], r["kind"], r["severity"]) for r in records if r.get("path") == f"{DAY}/nul-town.md"] == [
        (5, "unparsed", "warning"),
        (7, "missing-file", "error"),
    ]


def test_nul_byte_event_is_listed_and_searchable(site, cli):
    site.write(f"{DAY}/nul-town.md", event_text("2017-08-13", "Nul town", body="A stray \x00 byte."))
    listed = cli("list-by-date", "2017-08-13", "-a", str(site.root), "--json")
    assert "Nul town" in [json.loads(line)["title"] for line in listed.stdout.splitlines()]
    assert f"{DAY}/nul-town.md:5: text contains NUL bytes (1); read as U+FFFD" in listed.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit", "markdown", "rich"])
def test_binary_file_is_an_error_in_every_format(site, cli, fmt):
    site.write(f"{DAY}/picture.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = links(cli, site.root, "--format", fmt)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "cannot check links: binary file" in result.stdout


def test_binary_file_finding(site):
    site.write(f"{DAY}/picture.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    report = validate(Archive.open(site.root, use_cache=False))
    assert [(f.path, f.kind, f.severity, f.message) for f in report.findings] == [
        (f"{DAY}/picture.md", "unreadable", "error", "cannot check links: binary file (contains NUL bytes)")
    ]


def test_binary_file_exit_status_as_a_process(site):
    site.write(f"{DAY}/picture.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    done = run_newsarc("validate-links", "-a", str(site.root))
    assert done.returncode == 1, done.stderr
    assert "picture.md: error: cannot check links: binary file (contains NUL bytes)" in done.stdout


# -- item 6: huge files ---------------------------------------------------------------------


def huge_text(paragraphs: int = 3000) -> tuple[str, int]:
    """An event of about 250 KB (four times a 64 KB limit), a broken link far down; returns it and that line."""
    head = event_text("2017-08-13", "Huge town", body="Start.").split("\n### Source:")[0]
    filler = "\n".join(f"Paragraph {k} of a long report on the town, [fine](/news/2017/08/12/rebels-leave-the-town.md).\n" for k in range(paragraphs))
    text = head + filler + "\nSee [the gone page](/news/2017/08/13/gone.md) here.\n"
    return text, text.count("\n")


def test_huge_file_links_are_still_checked(site, cli):
    text, line = huge_text()
    site.write(BIG, text)
    result = links(cli, site.root, "--format", "text", env=LIMIT)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert f"{BIG}:{line}:5: error: missing file: /news/2017/08/13/gone.md [missing-file]" in result.stdout.splitlines()
    assert "over the 64 KB limit" in result.stdout


def test_huge_file_every_link_counted_once(site, monkeypatch):
    """Chunks are cut at blank lines: every one of the 3,000 links (and the broken one) is read once."""
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "64k")
    text, line = huge_text()
    site.write(BIG, text)
    report = validate(Archive.open(site.root, use_cache=False), narrow=False)
    missing = [(f.path, f.line, f.column) for f in report.findings if f.kind == "missing-file"]
    assert missing == [(BIG, line, 5)]
    assert [f.message for f in report.findings if f.path == BIG and f.kind == "unparsed"] == [
        "file is 0.3 MB, over the 64 KB limit; its content is skipped (set NEWSARC_MAX_FILE_SIZE to read it);"
        " its links were checked a part at a time"
    ]
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "16M")
    whole = validate(Archive.open(site.root, use_cache=False), narrow=False)
    assert report.links == whole.links  # the same links as a parse of the whole file


def test_huge_file_is_skipped_and_named_by_other_commands(site, cli):
    text, _ = huge_text()
    site.write(BIG, text)
    message = f"{BIG}: file is 0.3 MB, over the 64 KB limit; its content is skipped (set NEWSARC_MAX_FILE_SIZE to read it)"
    listed = cli("list-by-date", "2017-08-13", "-a", str(site.root), "--json", env=LIMIT)
    assert listed.exit_code == 0
    assert [json.loads(line)["title"] for line in listed.stdout.splitlines()] == ["Army retakes the town"]
    assert message in listed.stderr
    found = cli("search", "Paragraph", "-a", str(site.root), env=LIMIT)
    assert found.exit_code == 1 and found.stdout == ""
    read = cli("list-by-date", "2017-08-13", "-a", str(site.root), "--json")  # the default limit: read
    assert "Huge town" in read.stdout and "over the" not in read.stderr


def test_max_file_size_option(site, cli):
    text, _ = huge_text()
    site.write(BIG, text)
    listed = cli("--max-file-size", "100k", "list-by-date", "2017-08-13", "-a", str(site.root), "--json")
    assert "over the 100 KB limit" in listed.stderr and "Huge town" not in listed.stdout
    listed = cli("--max-file-size", "1M", "list-by-date", "2017-08-13", "-a", str(site.root), "--json", env=LIMIT)
    assert "Huge town" in listed.stdout  # the option wins over the variable


@pytest.mark.parametrize("value", ["lots", "-5", "16Q"])
def test_bad_size_is_a_usage_error(site, cli, value):
    result = cli("list-by-date", "2017-08-13", "-a", str(site.root), env={"NEWSARC_MAX_FILE_SIZE": value})
    assert result.exit_code == 2
    assert result.stderr == (
        f"newsarc: NEWSARC_MAX_FILE_SIZE '{value}' is not a size; write bytes or a number with k, M or G (such as 16M)\n"
    )
    option = cli("--max-file-size", value, "stats", "-a", str(site.root))
    assert option.exit_code == 2 and "--max-file-size" in option.stderr


def test_huge_file_in_the_index_is_named_on_every_run(site, cli, monkeypatch):
    """The index records the skipped file, and says why on the run that built it and on later ones."""
    from newsarc.features.catalog import Catalog

    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "64k")
    text, _ = huge_text()
    site.write(BIG, text)
    assert links(cli, site.root).exit_code == 1
    for _ in range(2):  # built, then up to date
        catalog = Catalog(Archive.open(site.root))
        catalog.database
        assert [d.message for doc in catalog.unreadable for d in doc.diagnostics] == [
            "file is 0.3 MB, over the 64 KB limit; its content is skipped (set NEWSARC_MAX_FILE_SIZE to read it)"
        ]
        catalog.close()


def test_a_paragraph_of_many_pieces_is_kept_joined():
    """pyromark hands over `*a ` as two text pieces each: the paragraph's text is joined as it grows,
    so Python objects stay a few times the text (they were 25 times it: a string object per piece)."""
    import tracemalloc

    from newsarc.reading.parser import parse_text

    text = "# T\n\n" + "*a " * 100_000 + "\n"
    tracemalloc.start()
    try:
        event = parse_text(text, "news/2017/08/13/t.md", quick=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert event.body == ("*a " * 100_000).strip()
    assert peak < 8 * len(text)


def test_huge_file_reference_links_find_definitions_in_other_parts(site, monkeypatch):
    """A first pass gathers `[label]: url` lines, so a reference link far from its definition is still checked."""
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "64k")
    text, _ = huge_text()
    head, _, rest = text.partition("Paragraph 0 ")
    text = head + "See [the report][Far Away] and [fine][near].\n\nParagraph 0 " + rest
    text += "\n[far  away]: /news/2017/08/13/far-gone.md\n[near]: /news/2017/08/12/rebels-leave-the-town.md\n"
    site.write(BIG, text)
    report = validate(Archive.open(site.root, use_cache=False))
    missing = [(f.line, f.column, f.link) for f in report.findings if f.kind == "missing-file"]
    use = text[: text.index("[the report]")].count("\n") + 1
    gone = text[: text.index("[the gone page]")].count("\n") + 1
    assert missing == [(use, 5, "/news/2017/08/13/far-gone.md"), (gone, 5, "/news/2017/08/13/gone.md")]


def test_huge_file_links_are_dumped(site, cli):
    text, line = huge_text()
    site.write(BIG, text)
    dumped = [json.loads(r) for r in links(cli, site.root, "--dump", "--format", "json", env=LIMIT).stdout.splitlines()]
    mine = [(r["line"], r["link"]) for r in dumped if r["path"] == BIG]
    assert len(mine) == 3001 + 1  # the date line, 3,000 paragraphs' links and the broken one
    assert mine[-1] == (line, "/news/2017/08/13/gone.md")


def test_huge_file_external_links_are_checked(site, cli, server):
    text, _ = huge_text()
    dead = server.url("/404")
    text += f"\nFrom [the wire]({dead}).\n"
    site.write(BIG, text)
    only = ("--include", r"^http://127\.0\.0\.1")  # the events' other sources are not fetched
    result = links(cli, site.root, "--external", "--no-url-cache", *only, "--format", "json", env=LIMIT)
    assert result.exit_code == 1
    found = [json.loads(r) for r in result.stdout.splitlines()]
    assert [(r["path"], r["line"], r["link"]) for r in found if r.get("kind") == "dead-url"] == [(BIG, text.count("\n"), dead)]


def test_huge_file_is_not_cut_inside_a_fenced_code_block(site, monkeypatch):
    """A code block with blank lines in it stays in one part: its links are not links, and the text
    after it is not read as code."""
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "64k")
    text, _ = huge_text(200)
    code = "\n\n".join(f"code line {k} [not a link](/news/nowhere-{k}.md)" for k in range(900))
    text += f"\n```\n{code}\n```\n\nAfter the code, [a real one](/news/2017/08/13/after-gone.md).\n"
    text += huge_text(1500)[0].partition("Start.")[2]  # more prose, so the code is mid-file
    site.write(BIG, text)
    report = validate(Archive.open(site.root, use_cache=False))
    missing = [(f.line, f.link) for f in report.findings if f.kind == "missing-file"]
    after = text[: text.index("After the code")].count("\n") + 1
    first = text[: text.index("[the gone page]")].count("\n") + 1  # huge_text's own broken link, twice
    gone = "/news/2017/08/13/gone.md"
    assert missing == [(first, gone), (after, "/news/2017/08/13/after-gone.md"), (text.count("\n"), gone)]


def test_reading_the_size_limit_does_not_import_the_parser(site):
    """Every command reads the limit at start; a warm `stats` parses nothing, so it must not pay for
    the parser's imports (pyromark, PyYAML: about 45 ms)."""
    assert run_newsarc("stats", "-a", str(site.root)).returncode == 0  # builds the index
    warm = run_newsarc("--max-file-size", "1M", "stats", "-a", str(site.root), env={"PYTHONPROFILEIMPORTTIME": "1"})
    names = [line.rsplit("|", 1)[1].strip() for line in warm.stderr.splitlines() if line.startswith("import time:")]
    assert "newsarc.reading.limits" in names and "newsarc.reading.parser" not in names and "pyromark" not in names


def test_a_lower_limit_applies_to_a_file_read_before(site, monkeypatch):
    """Read under a higher limit, then a lower one: that file is skipped (the index's own case is
    tests/index/test_index_freshness.py's)."""
    text, _ = huge_text()
    site.write(BIG, text)
    assert "Huge town" in [e.title for e in Archive.open(site.root).load().events]
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "64k")
    archive = Archive.open(site.root).load()
    assert "Huge town" not in [e.title for e in archive.events]
    assert [doc.path for doc in archive.unreadable] == [BIG]
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "1M")
    assert "Huge town" in [e.title for e in Archive.open(site.root).load().events]
