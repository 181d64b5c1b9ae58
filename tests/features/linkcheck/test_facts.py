"""validate-links without an index: a glance at each file, the parser for the rest, the same report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.features.linkcheck import facts as linkfacts
from newsarc.archive import Archive
from newsarc.features.linkcheck.checks import Options, validate
from newsarc.reading.parser import parse_bytes
from tests.conftest import EXAMPLES, event_text, generated_archive

REL = "news/2019/03/3/x.md"
KNOWN = linkfacts.plain_links(["news/2019/03/3/index.md", "news/2019/03/3/y.md", "news/2019/03/4/index.md", REL])


def agrees(text: str | bytes, rel: str = REL, known: set[str] = KNOWN) -> bool:
    """Whatever the glance calls quiet, the parser does too, with the same facts; True if it said so."""
    data = text.encode() if isinstance(text, str) else text
    row = linkfacts.glance(data, rel, known)
    if row is not None:
        assert row == linkfacts.parsed_row(parse_bytes(data, rel), known), text
    return row is not None


CANONICAL = event_text(
    "2019-03-03",
    "A headline",
    sources=[("Reuters", "https://example.com/a")],
    related=[("Other", "/news/2019/03/3/y.md", ["Topic"])],
)


def test_the_canonical_layout_is_read_at_a_glance():
    assert agrees(CANONICAL)


@pytest.mark.parametrize(
    "change",
    [
        ("Something happened.", "Something `[a](/nowhere.md)` happened."),  # a code span
        ("Something happened.", "    [a](/nowhere.md)"),  # indented code
        ("Something happened.", "<a href='/nowhere.md'>a</a>"),  # HTML
        ("Something happened.", "[a](/news/2019/03/3/y.md \"a title\")"),  # a title
        ("Something happened.", "[a]\n\n[a]: /nowhere.md"),  # a reference
        ("Something happened.", "- [a]: /nowhere.md\n\n[a]"),  # a reference in a list item
        ("Something happened.", "![a](/nowhere.png)"),  # an image
        ("Something happened.", "[a [b](/news/2019/03/3/y.md)](/nowhere.md)"),  # nested
        ("Something happened.", "a](/nowhere.md)"),  # no opening bracket
        ("Something happened.", "[a\nb](/nowhere.md)"),  # a link across lines
        ("Something happened.", "[a](/nowhere.md)"),  # a missing target
        ("Something happened.", "[a](y.md)"),  # relative
        ("Something happened.", "[a](/news/2019/03/3/y.md#part)"),  # a fragment
        ("Something happened.", "[a](mailto:x@example.com)"),  # another scheme
        ("Something happened.", "[a](/news/2019/03/3/y%2Emd)"),  # percent-encoded
        ("Something happened.", "Source\n======"),  # a setext heading
        ("Something happened.", "### Source:\n\nno link here"),  # an item without a link
        ("1. [Reuters](https://example.com/a)", "1. Reuters"),
        ("### Source:", "### Sources for this"),
        ("### Source:", "### Sources &amp;"),
        ("# A headline", "# A _headline_"),
        ("# A headline", "# A headline #"),
        ("# A headline", "# A &amp; headline"),
        ("### [2019-03-03]", "### [2019-03-04]"),  # the date line names another day
        ("### [2019-03-03]", "### [March 3]"),  # not a date
        ("/news/2019/03/3/index.md)", "/news/2019/03/4/index.md)"),  # another day's page
        ("### [2019-03-03]", "## [2019-03-03]"),
        ("Something happened.", "\tSomething"),
        ("Something happened.", "Some*thing* happened."),
        ("Something happened.", "Some\\[thing\\](/nowhere.md)"),
        ("Something happened.", "Something\r\nhappened."),
    ],
)
def test_what_the_glance_leaves_to_the_parser(change):
    old, new = change
    text = CANONICAL.replace(old, new, 1)
    assert text != CANONICAL
    assert not agrees(text)


def test_files_the_parser_must_read():
    assert not agrees(b"")
    assert not agrees(b"\xef\xbb\xbf" + CANONICAL.encode())
    assert not agrees(CANONICAL.encode().replace(b"happened", b"happ\xffened"))
    assert not agrees(CANONICAL.encode().replace(b"happened", b"happ\x00ened"))
    assert not agrees("---\ntitle: x\n---\n" + CANONICAL)
    assert not agrees("Just text.\n")


def test_day_pages():
    page = "# 2019-03-03\n\n1. [X ](/news/2019/03/3/x.md)\n1. [Y ](/news/2019/03/3/y.md)\n1. [X again](/news/2019/03/3/x.md)\n"
    assert agrees(page, "news/2019/03/3/index.md")
    assert linkfacts.glance(page.encode(), "news/2019/03/3/index.md", KNOWN)[5] == ("news/2019/03/3/x.md", "news/2019/03/3/y.md")
    assert not agrees(page.replace("y.md", "z.md"), "news/2019/03/3/index.md")


PIECES = [
    "### [2019-03-03](/news/2019/03/3/index.md)", "# A headline", "## Headline two", "Headline\n===", "Text\n---",
    "### Source:", "### Related:", "## Sources", "### related", "1. [Reuters](https://example.com/a)",
    "1. [Other](/news/2019/03/3/y.md) _Context: A, B_", "- [Other](/news/2019/03/3/y.md)", "1. no link", "2) [x](y.md)",
    "Plain text.", "Text with [a link](/news/2019/03/3/y.md) inside.", "[a](/nowhere.md)", "[a]: /nowhere.md", "[a]",
    "    indented [a](/news/2019/03/3/y.md)", "```", "~~~", "<div>", "`code`", "*em*", "_em_", "&amp;", "&#91;a](b)",
    "a](/news/2019/03/3/y.md)", "[a [b](c)](d)", "![i](/news/2019/03/3/y.md)", "- # Source:", "> quote",
    "[a](/news/2019/03/3/y.md \"t\")", "[a](<x y>)", "[a]()", "", "", "",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14), st.booleans())
def test_any_mix_agrees_with_the_parser(pieces, page):
    agrees("\n".join(pieces) + "\n", "news/2019/03/3/index.md" if page else REL)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="[]()!#*_`<>&:- \n1.ax/", max_size=60))
def test_any_text_agrees_with_the_parser(tail):
    agrees(CANONICAL + tail)


def _generated(tmp_path: Path) -> Path:
    return generated_archive(tmp_path / "g", 600, 7)


def report(archive: Archive, **options) -> tuple:
    found = validate(archive, options=Options(**options))
    return [f.to_dict() for f in found.findings], found.files, found.links, found.external


def catalogued(root: Path, cache_dir: Path, **options) -> tuple:
    """The report from the catalogue's tables (features/catalog.py: show and list-by-date build it),
    which validate-links reads instead of glancing at every file when it is on disk."""
    from newsarc.features.catalog import LINKS, Catalog

    Catalog(Archive.open(root, cache_dir=cache_dir), cache_dir=cache_dir, more=(LINKS,)).database  # built, as show builds it
    catalog = Catalog(Archive.open(root, cache_dir=cache_dir), cache_dir=cache_dir)
    found = report(catalog, **options)
    assert catalog._index is not None  # the tables answered
    return found


@pytest.mark.parametrize("options", [{}, {"strict": True}])
def test_a_generated_archive_gives_the_same_report_with_and_without_an_index(tmp_path, options):
    root = _generated(tmp_path)
    without = report(Archive.open(root, use_cache=False), **options)
    assert catalogued(root, tmp_path / "sql", **options) == without
    assert report(Archive.open(root, use_cache=False).load(), **options) == without  # every file parsed first
    assert len(without[0]) >= 20  # the generator's broken links


def test_most_generated_files_are_read_at_a_glance(tmp_path):
    root = _generated(tmp_path)
    files = sorted((root / "news").rglob("*.md"))
    known = linkfacts.plain_links(p.relative_to(root).as_posix() for p in files)
    seen = [agrees(p.read_bytes(), p.relative_to(root).as_posix(), known) for p in files]
    assert sum(seen) >= len(files) * 0.9


def test_examples_give_the_same_report_with_and_without_an_index(tmp_path):
    without = report(Archive.open(EXAMPLES, use_cache=False))
    assert catalogued(EXAMPLES, tmp_path / "sql") == without
    assert report(Archive.open(EXAMPLES, use_cache=False).load()) == without  # every file parsed first


def test_validate_links_writes_no_index(builder, cli, tmp_path):
    builder.event("2019-03-03", "A headline")
    result = cli("--cache-dir", str(tmp_path / "c"), "validate-links", "-a", str(builder.root))
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "c").exists()


def test_a_catalogue_whose_files_all_changed_stamps_is_left_for_a_glance(builder, cli, tmp_path, monkeypatch):
    """A fresh clone or a restored CI cache: every stamp new, the bytes the same. Bringing the catalogue
    up to date would read and hash every file, more than a glance at them costs: validate-links glances
    and leaves the catalogue as it is. With one file edited it reads the catalogue (brought up to date)."""
    import time

    from newsarc.index import build

    first = builder.event("2019-03-03", "A headline")
    for day in range(4, 12):
        builder.event(f"2019-03-{day:02d}", f"Headline {day}", related=[("A headline", first, ["X"])])
    builder.write("news/2019/03/5/broken.md", event_text("2019-03-05", "Broken") + "\n[gone](/news/2019/03/5/gone.md)\n")
    builder.write_day_pages()
    root, cache = builder.root, tmp_path / "c"
    assert cli("--cache-dir", str(cache), "show", "a-headline", "-a", str(root)).exit_code == 0
    opened: list[int] = []
    real = build.open_fresh
    monkeypatch.setattr(build, "open_fresh", lambda *args, **kwargs: opened.append(1) or real(*args, **kwargs))

    def check() -> tuple:
        found = cli("--cache-dir", str(cache), "validate-links", "--format", "json", "-a", str(root))
        plain = cli("--no-cache", "validate-links", "--format", "json", "-a", str(root))
        assert (found.exit_code, found.stdout) == (plain.exit_code, plain.stdout) and found.exit_code == 1
        return found.stdout

    edited = root / "news/2019/03/4/headline-4.md"
    edited.write_text(edited.read_text() + "\nOne more line.\n")
    check()
    assert len(opened) == 1  # one file of 20 changed: the catalogue, brought up to date
    assert build.changed_share(str(root), cache_dir=cache) == 0.0
    later = time.time() + 60
    for path in root.rglob("*.md"):
        os.utime(path, (later, later))
    opened.clear()
    check()
    assert opened == []  # every stamp changed: a glance, the catalogue left as it was
    assert build.changed_share(str(root), cache_dir=cache) == 1.0


def test_odd_files_give_the_same_report_with_and_without_an_index(builder, tmp_path):
    """Files the parser reads (empty, binary, undated, front matter, CRLF, over the size limit) among quiet ones."""
    builder.event("2019-03-03", "A headline")
    builder.event("2019-03-03", "Another one", related=[("A headline", "/news/2019/03/3/a-headline.md", ["X"])])
    builder.write("news/2019/03/3/empty.md", "")
    builder.write("news/2019/03/3/binary.md", b"\x00\x01\x02" * 100)
    builder.write("notes/undated.md", "# No date here\n\n[a](/news/2019/03/3/a-headline.md)\n")
    builder.write("news/2019/03/3/front.md", "---\ntitle: Front\ndate: 2019-03-04\n---\n# Front\n\n[a](/nowhere.md)\n")
    builder.write("news/2019/03/3/crlf.md", event_text("2019-03-03", "Crlf").replace("\n", "\r\n"))
    without = report(Archive.open(builder.root, use_cache=False))
    assert catalogued(builder.root, tmp_path / "sql") == without
    assert report(Archive.open(builder.root, use_cache=False).load()) == without  # every file parsed first
    kinds = sorted(f["kind"] for f in without[0])
    assert "unreadable" in kinds and "missing-file" in kinds and "date-mismatch" in kinds


# -- the usual layout, read in fewer passes ------------------------------------------------------

# Lines of a Source or Related list (or a day page), most in the usual layout, some only nearly.
ITEMS = [
    "1. [Reuters](https://example.com/a)", "1. [Other](/news/2019/03/3/y.md) _Context: A, B_",
    "2) [Other ](/news/2019/03/3/y.md)", "1. [x](y.md)", "1. [a](/news/2019/03/3/y.md) and [b](/news/2019/03/3/y.md)",
    "1. [a](/news/2019/03/3/y.md) b](c)", "1. [a]()", "1. [a](/x y)", "1. [a](/x\ty)", "1. [a](/x(y)", "1. [a](/x&y)",
    "1. [a](/é.md)", "1. [a](/x\u00a0y)", "1. [a](/x\u2003y)", "1. [a] (/x)", "1. [a\u00a0b](/x)", "1. [a](/news/[x].md)",
    "1. [[a]](/x)", "1. [a](/x)]", "1. [a](/x)[", "1. [a](\n/x)", "- [a](/news/2019/03/3/y.md)",
    "10. [a](/news/2019/03/3/y.md)", "1234567890. [a](/x)", "١. [a](/x)", "1.  [a](/x)", "1. no link", "### Related:",
    "### Source:", "## Related:", "Plain text.", " 1. [a](/x)", "[a](/news/2019/03/3/y.md)", "1.[a](/x)", ". [a](/x)",
    "1) [a](/x)", "### Related: more", "1. [[a](/news/2019/03/3/y.md)", "1. [a [b](/news/2019/03/3/y.md)",
    "1. [a](/news/2019/03/3/y.md) [", "1. [a](/news/2019/03/3/y.md) and [b", "", "", "",
]  # fmt: skip
BODY = ["Plain text.", "Text [a](/news/2019/03/3/y.md) inside.", " indented", "-", "=", "+ x", "# x", "1. x", "", ""]


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(BODY), max_size=4), st.lists(st.sampled_from(ITEMS), max_size=10), st.booleans(), st.booleans(),
    st.booleans(), st.sampled_from(["### Source:", "### Source:", "### Source:", ""]),
)
def test_the_usual_layout_is_read_as_the_slow_way_reads_it(body, items, page, dated, end, source):
    """Whatever `_usual_links` reads, _LINK finds the same links, every "]" is one of theirs and the
    layout is _EVENT's (_PAGE's): the glance would have said the same the slow way."""
    head = ("### [2019-03-03](/news/2019/03/3/index.md)\n\n" if dated else "") + "# A headline\n"
    lines = items if page else [*body, *([source] if source else []), *items]
    text = head + "\n".join(lines) + ("\n" if end else "")
    _, date_link, after = linkfacts._head(text, page)
    brackets = text.count("]")
    unsafe = text.encode().translate(None, linkfacts._PLAIN).translate(None, b"[]")  # the glance refuses those first
    links = None if unsafe else linkfacts._usual_links(text, page, date_link, after, brackets)
    if links is not None:
        assert links == linkfacts._LINK.findall(text)
        assert len(links) == brackets
        assert (linkfacts._PAGE if page else linkfacts._EVENT).match(text, after)
    agrees(text, "news/2019/03/3/index.md" if page else REL)


def _usual(text: str, rel: str = REL) -> list[str] | None:
    _, date_link, after = linkfacts._head(text, rel.endswith("index.md"))
    return linkfacts._usual_links(text, rel.endswith("index.md"), date_link, after, text.count("]"))


def test_the_usual_layout_takes_the_short_way():
    page = "# 2019-03-03\n\n1. [X ](/news/2019/03/3/x.md)\n"
    assert _usual(CANONICAL) == ["/news/2019/03/3/index.md", "https://example.com/a", "/news/2019/03/3/y.md"]
    assert _usual(page, "news/2019/03/3/index.md") == ["/news/2019/03/3/x.md"]
    assert agrees(CANONICAL) and agrees(page, "news/2019/03/3/index.md")
    # Not _EVENT's layout: the slow way. A second Related list, a heading with more on its line, a
    # body line that is a heading (and no Source list after it).
    twice = CANONICAL + "\n### Related:\n\n1. [Other](/news/2019/03/3/y.md)\n"
    more = CANONICAL.replace("### Related:", "### Related: and more")
    heading = "### [2019-03-03](/news/2019/03/3/index.md)\n\n# A headline\n\n# Another\n"
    assert "\n### Related:" in CANONICAL
    for text in (twice, more, heading):
        assert _usual(text) is None
        agrees(text)


# -- on every core: walked in pieces, read in chunks, the same report ----------------------------


def _odd_tree(builder, outside: Path) -> Path:
    """Events in a dozen day folders, and what the walk notes or skips and the parser reads: hidden
    files, a folder named like a file, symbolic links inside the root, out of it and to nowhere, a
    FIFO, front matter, CRLF, binary and empty files, a large file and one over the size limit."""
    for day in range(1, 13):
        builder.event(f"2019-03-{day:02d}", f"Headline {day}", related=[(f"Headline {day - 1}", f"/news/2019/03/{day - 1}/headline-{day - 1}.md", ["X"])])
    builder.event("2019-04-01", "Broken", related=[("Gone", "/news/2019/04/1/gone.md", ["X"])])
    builder.write("news/2019/03/3/.hidden.md", "# Hidden\n")
    (builder.root / "news/2019/03/4/folder.md").mkdir()
    builder.write("news/2019/03/5/front.md", "---\ntitle: Front\ndate: 2019-03-06\n---\n# Front\n\n[a](/nowhere.md)\n")
    builder.write("news/2019/03/5/crlf.md", event_text("2019-03-05", "Crlf").replace("\n", "\r\n"))
    builder.write("news/2019/03/6/binary.md", b"\x00\x01\x02" * 100)
    builder.write("news/2019/03/6/empty.md", "")
    builder.write("news/2019/03/7/big.md", event_text("2019-03-07", "Big", body="x" * 120_000))  # over the limit
    builder.event("2019-03-07", "Large", body="y" * 80_000)  # read in two
    builder.event("2019-03-07", "Medium", body="z" * 10_000)
    outside.write_text("# Outside\n")
    if hasattr(os, "symlink"):
        (builder.root / "news/2019/03/8/inside.md").symlink_to(builder.root / "news/2019/03/1/headline-1.md")
        (builder.root / "news/2019/03/8/out.md").symlink_to(outside)
        (builder.root / "news/2019/03/8/nowhere.md").symlink_to(builder.root / "news/2019/03/8/missing.md")
    if hasattr(os, "mkfifo"):
        os.mkfifo(builder.root / "news/2019/03/9/fifo.md")
    return builder.root


@pytest.fixture(params=["100k", "4k"])
def odd_tree(builder, tmp_path, monkeypatch, request):
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", request.param)
    return _odd_tree(builder, tmp_path / "outside.md")


@pytest.mark.parametrize("loop", [False, True])
def test_a_walk_in_pieces_is_the_one_walk(odd_tree, monkeypatch, loop):
    from newsarc import archive as archive_module

    if loop and hasattr(os, "symlink"):  # a folder reached twice: the pieces are not exact, the one walk answers
        (odd_tree / "news/2019/03/10/again").symlink_to(odd_tree / "news/2019/03")
    one = Archive(odd_tree, odd_tree, use_cache=False)
    files = one.walk_unindexed()
    assert len(files) > 20 and one.scan_diagnostics
    for wanted in (1, 2, 5, 64):
        monkeypatch.setattr(archive_module, "WALK_PIECES", wanted)
        for processes in (2, 3):
            many = Archive(odd_tree, odd_tree, use_cache=False)
            assert many.walk_unindexed(processes) == files
            assert many.scan_diagnostics == one.scan_diagnostics


@pytest.mark.parametrize("options", [{}, {"strict": True}])
def test_every_core_gives_the_report_one_core_gives(odd_tree, tmp_path, monkeypatch, options):
    from newsarc import archive as archive_module

    monkeypatch.setenv("NEWSARC_WORKERS", "1")
    one = report(Archive.open(odd_tree, use_cache=False), **options)
    assert report(Archive.open(odd_tree, use_cache=False).load(), **options) == one  # every file parsed first
    kinds = {f["kind"] for f in one[0]}
    assert {"unreadable", "missing-file", "date-mismatch"} <= kinds
    monkeypatch.setattr(archive_module, "WALK_PIECES", 3)
    monkeypatch.setattr(linkfacts, "_PARALLEL_FILES", 2)
    monkeypatch.setattr(linkfacts, "_CHUNK", 4)
    for workers in ("2", "3"):
        monkeypatch.setenv("NEWSARC_WORKERS", workers)
        assert report(Archive.open(odd_tree, use_cache=False), **options) == one
