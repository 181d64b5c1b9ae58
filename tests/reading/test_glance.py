"""The glance (reading/glance.py) gives exactly the full parse's fields, or declines.

Every file of examples/, of a generated archive and of the hostile archives of
tests/cli/test_hostile.py, and usual-layout files mutated by hypothesis: the
glance returns None, or an Event whose GIVES fields equal parse_bytes's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.reading.glance import GIVES, KIND, glance
from newsarc.reading.parser import parse_bytes
from tests.conftest import EXAMPLES, SAMPLE, ArchiveBuilder, event_text, generated_archive


def fields(event) -> dict:
    """What GIVES names, as plain values (links: target, text and role; sources: publisher and url)."""
    return {
        "path": event.path,
        "kind": (event.is_day_page, event.skipped),
        "date": event.date,
        "date_source": event.date_source,
        "title": event.title,
        "sources": [(s.publisher, s.url) for s in event.sources],
        "cover": event.cover,
        "topics": event.topics,
        "links": [(k.target, k.text, k.role) for k in event.links],
        "meta": event.meta,
        "diagnostics": [str(d) for d in event.diagnostics],
    }


def test_fields_cover_gives():
    assert set(fields(parse_bytes(b"# x\n", "a.md"))) == GIVES


def check(data: bytes, relpath: str) -> bool:
    """Assert the glance equals the full parse or declines; return whether it took the file."""
    seen = glance(data, relpath)
    if seen is None:
        return False
    full = parse_bytes(data, relpath)
    assert fields(seen) == fields(full), relpath
    assert not full.diagnostics  # a file the parser reports on is never glanced at
    return True


def md_files(root: Path) -> list[tuple[bytes, str]]:
    """(bytes, path relative to root) of every regular .md file that can be read (no symbolic links)."""
    found = []
    for folder, dirs, names in os.walk(root):
        for name in sorted(names):
            path = Path(folder) / name
            try:
                if not name.endswith(".md") or path.is_symlink() or not path.is_file():
                    continue
                found.append((path.read_bytes(), path.relative_to(root).as_posix()))
            except OSError:
                continue
    return found


def generate(out: Path, events: int, seed: int) -> Path:
    return generated_archive(out, events, seed)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """bench/gen_archive.py OUT --events 2000 --seed 3: front matter, CRLF, entities, broken links."""
    return generate(tmp_path_factory.mktemp("glance") / "g", 2000, 3)


def test_sample_is_glanced_at():
    assert check(SAMPLE.read_bytes(), "news/2016/03/27/sample.md")


def test_every_example_agrees_or_declines():
    files = md_files(EXAMPLES)
    taken = [check(data, rel) for data, rel in files]
    assert sum(taken) >= len(files) * 0.9


def test_every_generated_file_agrees_or_declines(generated):
    files = md_files(generated)
    assert len(files) > 2000
    taken = [check(data, rel) for data, rel in files]
    assert sum(taken) >= len(files) * 0.97  # all but front matter (1%)
    pages = [rel for (data, rel), took in zip(files, taken) if took and rel.endswith("/index.md")]
    assert pages  # day pages too


def test_every_hostile_file_agrees_or_declines(tmp_path):
    from tests.cli.test_hostile import CASES, base_archive

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(event_text("2017-08-13", "Secret town"))
    taken = 0
    for name, case in CASES.items():
        root = tmp_path / name
        bad = case.build(base_archive(root), outside)
        for data, rel in md_files(root):
            taken += check(data, rel)
        if name == "chmod-000":  # let pytest remove it
            (root / bad).chmod(0o644)
    assert taken


@pytest.mark.parametrize(
    "text, taken",
    [
        (event_text("2017-08-13", "Plain town", sources=[("Mail & Guardian", "https://mg.co.za/a")]), True),
        (event_text("2017-08-13", "Entities &amp; town&#x27;s &eacute;"), True),
        (event_text("2017-08-13", "Town").replace("\n", "\r\n"), True),
        ("\ufeff" + event_text("2017-08-13", "Bom town"), True),
        (event_text("2017-08-13", "Odd &ampx; entity"), False),  # html.unescape reads a prefix; CommonMark does not
        (event_text("2017-08-13", "Cp1252 &#128; entity"), False),
        (event_text("2017-08-13", "Town").replace("1. [Reuters]", "\u0661. [Reuters]"), False),  # not an ASCII digit
        (event_text("2017-08-13", "Town", body="1. ### Source:"), False),
        (event_text("2017-08-13", "Town", body="Text\n===="), False),
        (event_text("2017-08-13", "Town", body="```\n### Source:\n```"), False),
        (event_text("2017-08-13", "Town", body="    indented"), False),
        (event_text("2017-08-13", "Town", body="A [link](/x.md)."), False),
        (event_text("2017-08-13", "Town", body="Snake_case, *stars*, `code`, & and \\ are prose."), True),
        (event_text("2017-08-13", "Town").replace("\n", "\r"), False),  # lone CR
        (event_text("2017-08-13", "Town", front_matter="title: Other"), False),
        (event_text("2017-02-28", "Wrong day town"), False),  # the folder says 2017-02-28? no: a mismatch
        ("# Headline only\n", True),
        ("", False),
        ("\n\n", False),
    ],
)
def test_chosen_files(text, taken):
    rel = "news/2017/08/13/x.md"
    assert check(text.encode(), rel) is taken


def test_day_page_and_its_links():
    page = "# 2017-08-13\n\n1. [A town ](/news/2017/08/13/a.md)\n1. [B &amp; C](/news/2017/08/13/b.md)\n"
    assert check(page.encode(), "news/2017/08/13/index.md")
    assert not check(page.replace("1. [A", "### Source:\n\n1. [A").encode(), "news/2017/08/13/index.md")
    assert not check((page + "Prose.\n").encode(), "news/2017/08/13/index.md")


@pytest.mark.parametrize(
    "data",
    [b"", b"plain", b"\x00\x00\x00binary", b"text with a stray \x00 NUL", b"\xff\xfeA\x00", b"\xff\xfe\x00\xd8",
     b"\xef\xbb\xbf\xff\xfe", "caf\u00e9".encode("utf-16"), b"\xe9 latin-1"],
)
def test_kind_alone(data):
    """A build that needs only each file's kind reads no text: skipped exactly when the parser skips."""
    seen = glance(data, "news/x.md", KIND)
    assert seen is not None and seen.skipped == parse_bytes(data, "news/x.md").skipped


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_kind_alone_on_any_bytes(data):
    for prefix in (b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        assert glance(prefix + data, "a.md", KIND).skipped == parse_bytes(prefix + data, "a.md").skipped


# -- mutations of usual-layout files ----------------------------------------------------------------

_BASES = [
    SAMPLE.read_text(),
    event_text("2017-08-13", "Army retakes the town", body="Syria&#x27;s army advanced.\n\nSecond paragraph.",
               sources=[("Reuters", "https://reuters.com/a"), ("Mail & Guardian", "https://mg.co.za/b")],
               cover="https://img.example/c.jpg",
               related=[("Rebels leave", "/news/2017/08/12/rebels-leave.md", ["Syrian Civil War", "Homs, 2017"])]),
    "# 2017-08-13\n\n1. [Army retakes the town ](/news/2017/08/13/army.md)\n1. [Other](/news/2017/08/13/o.md)\n",
]
_PIECES = st.sampled_from(
    list("[]()<>*_`~\\!#&=-+|>:.,;'\" \t\n\r") + ["\r\n", "\n\n", "   ", "    ", "# ", "## ", "### ", "### Source:", "### Related:",
    "\n### Source:\n", "1. ", "1) ", "- ", "* ", "---", "===", "```", "~~~", "&amp;", "&#x27;", "&#39;", "&nbsp;", "&ampx;",
    "&#128;", "&#0;", "&copy", "&foo;", "é", "\u00a0", "\u2028", "\u0661", "\ufeff", "\x0c", "\x00", "[x](/y.md)", "![i](/i.png)",
    "<a href='/z.md'>", "[r]: /r.md", "_Context: A, B_", " _Context: C_", "{#id}", "2017-08-14", "/news/2017/08/13/", "index.md"]
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(range(len(_BASES))), st.lists(st.tuples(st.floats(0, 1), _PIECES), min_size=1, max_size=4),
       st.booleans())
def test_mutated_files_agree_or_decline(base, edits, crlf):
    text = _BASES[base]
    for where, piece in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at:]
    if crlf:
        text = text.replace("\n", "\r\n")
    rel = "news/2017/08/13/index.md" if base == 2 else "news/2017/08/13/army-retakes-the-town.md"
    check(text.encode("utf-8", "surrogatepass"), rel)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(len(_BASES))), st.lists(st.tuples(st.floats(0, 1), st.text(max_size=6)), min_size=1, max_size=3))
def test_files_with_any_text_inserted_agree_or_decline(base, edits):
    text = _BASES[base]
    for where, piece in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at:]
    rel = "news/2017/08/13/index.md" if base == 2 else "news/2017/08/13/army-retakes-the-town.md"
    check(text.encode("utf-8", "surrogatepass"), rel)
