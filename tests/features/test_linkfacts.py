"""validate-links without an index: a glance at each file, the parser for the rest, the same report."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.features import linkfacts
from newsarc.archive import Archive
from newsarc.features.links import Options, validate
from newsarc.reading.parser import parse_bytes
from tests.conftest import EXAMPLES, ROOT, event_text

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
    spec = importlib.util.spec_from_file_location("gen_archive", ROOT / "bench" / "gen_archive.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.generate(tmp_path / "g", 600, seed=7, progress=False)
    return tmp_path / "g"


def report(archive: Archive, **options) -> tuple:
    found = validate(archive, options=Options(**options))
    return [f.to_dict() for f in found.findings], found.files, found.links, found.external


@pytest.mark.parametrize("options", [{}, {"strict": True}])
def test_a_generated_archive_gives_the_same_report_with_and_without_an_index(tmp_path, options):
    root = _generated(tmp_path)
    without = report(Archive.open(root, use_cache=False), **options)
    indexed = Archive.open(root, cache_dir=tmp_path / "c")
    indexed.index()
    assert report(Archive.open(root, cache_dir=tmp_path / "c"), **options) == without
    assert len(without[0]) >= 20  # the generator's broken links


def test_most_generated_files_are_read_at_a_glance(tmp_path):
    root = _generated(tmp_path)
    files = sorted((root / "news").rglob("*.md"))
    known = linkfacts.plain_links(p.relative_to(root).as_posix() for p in files)
    seen = [agrees(p.read_bytes(), p.relative_to(root).as_posix(), known) for p in files]
    assert sum(seen) >= len(files) * 0.9


def test_examples_give_the_same_report_with_and_without_an_index(tmp_path):
    without = report(Archive.open(EXAMPLES, use_cache=False))
    Archive.open(EXAMPLES, cache_dir=tmp_path / "c").index()
    assert report(Archive.open(EXAMPLES, cache_dir=tmp_path / "c")) == without


def test_validate_links_writes_no_index(builder, cli, tmp_path):
    builder.event("2019-03-03", "A headline")
    result = cli("--cache-dir", str(tmp_path / "c"), "validate-links", "-a", str(builder.root))
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "c").exists()


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
    Archive.open(builder.root, cache_dir=tmp_path / "c").index()
    assert report(Archive.open(builder.root, cache_dir=tmp_path / "c")) == without
    kinds = sorted(f["kind"] for f in without[0])
    assert "unreadable" in kinds and "missing-file" in kinds and "date-mismatch" in kinds
