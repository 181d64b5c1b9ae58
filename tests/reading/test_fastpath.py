"""The fast path must build exactly the Event the CommonMark walker builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.reading import fastpath
from newsarc.model import Event
from newsarc.reading.parser import decode, parse_text
from tests.conftest import EXAMPLES, SAMPLE, event_text, generated_archive


def snapshot(event) -> dict:
    record = event.to_dict()
    record["body_raw"] = event.body_raw
    record["body_line"] = event.body_line
    record["links"] = [
        (k.target, k.text, k.line, k.column, k.role, k.start, k.end, k.dest_start, k.dest_end, k.label) for k in event.links
    ]
    record["headings"] = [(h.level, h.text, h.anchor, h.line) for h in event.headings]
    return record


def agree(text: str, relpath: str = "news/2017/08/13/x.md") -> bool:
    """Assert both paths agree; return whether the fast path took the file."""
    fast = parse_text(text, relpath)
    full = parse_text(text, relpath, quick=False)
    assert snapshot(fast) == snapshot(full)
    return fastpath.parse(Event(path=relpath), text, 0, 1) is not None


def read(path: Path) -> str:
    return decode(path.read_bytes(), "x", [])


def test_sample_takes_the_fast_path_and_agrees():
    assert agree(read(SAMPLE), "news/2017/08/13/sample.md")


def test_every_example_agrees_and_most_take_the_fast_path():
    files = [p for p in EXAMPLES.rglob("*.md") if p.name != "index.md"]
    fast = [agree(read(p), p.relative_to(EXAMPLES).as_posix()) for p in files]
    assert sum(fast) >= len(files) * 0.9


def test_generated_archive_agrees(tmp_path):
    generated_archive(tmp_path / "g", 600, 7)
    files = [p for p in (tmp_path / "g" / "news").rglob("*.md") if p.name != "index.md"]
    fast = [agree(read(p), p.relative_to(tmp_path / "g").as_posix()) for p in files]
    assert sum(fast) >= len(files) * 0.9


@pytest.mark.parametrize(
    "body",
    [
        "Plain text with Syria&#x27;s &amp; more.",
        "Two lines\nof one paragraph.",
        "Trailing space \nthen more.",
        "First paragraph.\n\nSecond paragraph.",
        "Numbers 2015. and 3) in prose.",
        "Has a [link](/news/x.md) inside.",
        "Has `code` inside.",
        "Has *emphasis* inside.",
        "snake_case and _emphasis_ too.",
        "An &unknown; entity and a bare & sign.",
        "Ends with a hard break  \nnext line.",
        "1. A list\n2. in the body",
        "Setext\n---",
        "    indented code",
        "<div>html</div>",
        "Tab\tinside.",
        "Line\r\nwith CR",
        "Entity &#0; and &#x110000; and &Aacute;",
    ],
)
def test_bodies_agree(body):
    agree(event_text("2017-08-13", "A headline &amp; more", body=body, related=[("Other", "/news/2017/08/12/o.md", ["A, 2015", "B"])]))


_tokens = st.sampled_from(list("abc XYZ 09.,:;'\"&#()[]_*`<>!\\-=\n\t\r|~") + ["&amp;", "&#39;", "&#x27;", "é", "\u00a0", "# ", "1. ", "  \n"])
_chunk = st.lists(_tokens, max_size=20).map("".join)


@settings(max_examples=400, deadline=None)
@given(_chunk, _chunk, _chunk, _chunk, _chunk)
def test_fuzzed_canonical_files_agree(title, body, source, related, topic):
    text = (
        f"### [2017-08-13](/news/2017/08/13/index.md)\n\n# {title}\n\n{body}\n\n"
        f"### Source:\n\n1. [{source}](https://x.org/a)\n1. [Cover Image](https://x.org/c.jpg)\n\n"
        f"### Related:\n\n1. [{related}](/news/2017/08/12/o.md) _Context: {topic}_\n"
    )
    fast = parse_text(text, "news/2017/08/13/x.md")
    full = parse_text(text, "news/2017/08/13/x.md", quick=False)
    assert snapshot(fast) == snapshot(full)


_safe = st.sampled_from(list("abc XYZ 09.,:;'\"#()-=!|\n") + ["&amp;", "&#39;", "&#x27;", "é", "# ", "1. ", "  \n", "\n\n", "2015", ", "])
_prose = st.lists(_safe, max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(_prose, _prose, _prose, _prose, _prose)
def test_fuzzed_plain_files_agree(title, body, source, related, topic):
    """Mostly characters the fast path accepts, so it is the one exercised."""
    test_fuzzed_canonical_files_agree.hypothesis.inner_test(title, body, source, related, topic)
