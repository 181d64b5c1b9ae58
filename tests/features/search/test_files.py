"""A first `search` with no index (search/files.py): the same answer as the index gives, and no index written.

The prefilter may drop a file only when its decoded text cannot match; these
tests compare it with parsing every file, on hand-made hostile files and on
files hypothesis writes from pieces of Markdown that change the decoded text
(markup inside words, links, entities, front matter, list items of several
blocks), and compare the CLI's output with and without an index.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarc.features.search import files as filesearch
from newsarc.reading.event_text import DEFAULT_FIELDS, FIELDS, event_text
from newsarc.reading.parser import parse_bytes
from newsarc.features.search.patterns import INSENSITIVE, SENSITIVE, compile_patterns
from newsarc.features.search import Query
from tests.conftest import EXAMPLES, event_text as event_file, run_newsarc

HOSTILE = {
    # decoded "Syrian Army" where the bytes never hold it
    "news/2020/01/1/emphasis.md": "### [2020-01-01](/news/2020/01/1/index.md)\n\n# Syr*ian* Army\n\nBody.\n",
    "news/2020/01/1/link.md": "### [2020-01-01](/news/2020/01/1/index.md)\n\n# Title\n\nThe Syr[ian](https://x.org) Army moved.\n",
    "news/2020/01/1/link-end.md": "# Title\n\nThe [Syr](https://x.org)ian Army moved.\n",
    "news/2020/01/1/emph-link.md": "# Title\n\nThe _Syr_[ian](https://x.org) Army moved.\n",
    "news/2020/01/1/entity.md": "# Title\n\nThe Syri&#97;n Army moved.\n",
    "news/2020/01/1/named.md": "# Title\n\nThe Syri&aacute;n and &Aring;rmy and Syrian Army.\n",
    "news/2020/01/1/code.md": "# Title\n\nThe Syr`ian` Army moved.\n",
    "news/2020/01/1/html.md": "# Title\n\nThe Syr<b>ian</b> Army moved.\n",
    "news/2020/01/1/escape.md": "# Title\n\nThe Syrian\\ Army moved.\n",
    "news/2020/01/1/front.md": "---\ntitle: \"Syr\\x69an Army\"\ntopics: [Syrian Army]\n---\n# Other\n\nBody.\n",
    "news/2020/01/1/item.md": "# Title\n\nBody.\n\n### Related:\n\n1. [x](/news/x.md) _Context: Syr_\n\n   ian Army_\n",
    "news/2020/01/1/wrapped.md": "# Syrian\nArmy\n===\n\nThe Syrian\nArmy moved &amp; stayed.\n",
    "news/2020/01/1/crlf.md": "# Syrian Army\r\n\r\nBody\r\n",
    "news/2020/01/1/image.md": "# Title\n\nSyr![ian](x.png) Army.\n",
    # not events, or not read
    "news/2020/01/1/index.md": "# 2020-01-01\n\n1. [Syrian Army](/news/2020/01/1/link.md)\n",
    "news/2020/01/1/empty.md": "",
    "news/2020/01/2/only-related.md": event_file("2020-01-02", "Quiet day", related=[("Syrian Army advances", "/news/2020/01/1/link.md", ["Syria"])]),
    "news/2020/01/2/plain.md": event_file("2020-01-02", "Syrian Army advances", related=[("x", "/news/x.md", ["Syrian Army", "Iran"])]),
    "news/2020/01/3/topic.md": event_file("2020-01-03", "Other", related=[("x", "/news/x.md", ["Syrian Army"])]),
    "news/2019/12/31/undated.md": "# Syrian Army, undated line\n\nBody.\n",
}
PATTERNS = ["Syrian Army", "Syrian", "syrian army", "Army", "ria", "Syr.an", "Sy(r)ian", r"\bArmy\b", "Árm", "åmy|army", "moved"]


@pytest.fixture
def hostile(builder):
    for relpath, text in HOSTILE.items():
        builder.write(relpath, text)
    builder.write("news/2020/01/3/binary.md", b"\x00\x01Syrian Army\x00\x00")
    return builder.root


def _query(pattern: str, *, case: str = SENSITIVE, raw: bool = False, fields=DEFAULT_FIELDS, fixed: bool = False) -> Query:
    return Query(compile_patterns([pattern], case=case, fixed=fixed), fields=fields, raw=raw, details=False)


def _exact(files: list[tuple[str, bytes]], query: Query) -> list[int]:
    """Which files match when every one is parsed (what the index's search text gives)."""
    texts = [event_text(parse_bytes(data, relpath), query.fields) for relpath, data in files]
    return list(query.matcher.select(texts, query.require_all))


def _prefiltered(files: list[tuple[str, bytes]], query: Query) -> list[int]:
    plan = filesearch._Plan(query)
    assert plan.usable
    return plan.select(files)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("case", [SENSITIVE, INSENSITIVE])
def test_prefilter_keeps_every_file_whose_decoded_text_matches(pattern, case):
    files = [(relpath, text.encode()) for relpath, text in HOSTILE.items() if not relpath.endswith("index.md") and text]
    query = _query(pattern, case=case)
    assert _prefiltered(files, query) == _exact(files, query)
    assert _exact(files, _query("Syrian Army"))  # the hostile files do match, decoded


# Pieces of Markdown that change the decoded text around a word, put together at random.
PIECES = [
    "Syr", "ian", "Army", "S", "yrian", "a", "é", "É", " ", "  ", "\n", "\n\n", "\n   ", "\r\n", "\t", "*", "**", "_", "__",
    "`", "[", "]", "(https://x.org)", "](u)", "![", "<b>", "</b>", "\\", "&#83;", "&#x27;", "&amp;", "&eacute;", "&Aring;",
    "# ", "### Related:\n\n", "1. [t](/news/t.md) _Context: ", "- ", "> ", "---\n", "title: ", "===", "\u00a0", "ſ", "K",
]
files_strategy = st.lists(st.lists(st.sampled_from(PIECES), max_size=30).map("".join), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=files_strategy, pattern=st.sampled_from(PATTERNS + ["Syrian", "Sa", "a", "ian Army", "yrianArmy", "Army.*Syr", "a S|r A"]), insensitive=st.booleans())
def test_prefilter_is_sound_on_random_markdown(texts, pattern, insensitive):
    files = [(f"news/2020/01/1/e{k}.md", ("# " + text if k % 2 else text).encode()) for k, text in enumerate(texts)]
    query = _query(pattern, case=INSENSITIVE if insensitive else SENSITIVE)
    assert _prefiltered(files, query) == _exact(files, query)


# Pieces of the sections whose fields are not the default ones (sources: publisher and URL; related:
# headline and topics), put together at random with the pieces above.
SECTION_PIECES = [
    "### Source:\n\n", "### Sources:\n\n", "1. [", "](https://www.reuters.com/Syr", "ian)", "](<https://x.org/Army>)",
    "](https://x.org/a&#x27;b)", "](/news/Syr\\ian.md)", "### Related:\n\n", "_Context: ", "_\n", ", ", "Reuters", "AP",
]
sections_strategy = st.lists(st.lists(st.sampled_from(PIECES + SECTION_PIECES), max_size=30).map("".join), min_size=1, max_size=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=sections_strategy,
    pattern=st.sampled_from(PATTERNS + ["Syrian", "Reuters", "reuters.com/Syrian", "x.org/Army", "a'b", "Army, AP", "https"]),
    fields=st.sampled_from([FIELDS, ("sources",), ("related",), ("title", "sources"), ("related", "topics")]),
    insensitive=st.booleans(),
)
def test_prefilter_is_sound_on_every_field(texts, pattern, fields, insensitive):
    """Sources and related are found by the same byte candidates as the default fields, then parsed."""
    files = [(f"news/2020/01/1/e{k}.md", ("# Title\n\n" + text if k % 2 else text).encode()) for k, text in enumerate(texts)]
    query = _query(pattern, case=INSENSITIVE if insensitive else SENSITIVE, fields=fields)
    assert _prefiltered(files, query) == _exact(files, query)


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(st.sampled_from("Syrian Army &#x27;;é,. "), min_size=1, max_size=30),
    body=st.lists(st.text(st.sampled_from("Syrian Army &quot;;é,. ab"), min_size=1, max_size=40), min_size=1, max_size=3),
    topics=st.lists(st.text(st.sampled_from("SyrianArmy, ab.2015"), min_size=1, max_size=20), max_size=3),
)
def test_canonical_fields_equal_the_parser(title, body, topics):
    text = event_file("2020-01-02", title, body="\n\n".join(body), related=[("x", "/news/x.md", topics)] if topics else None)
    _agrees(text.encode(), "news/2020/01/2/e.md")


def test_canonical_fields_equal_the_parser_on_the_examples():
    taken = 0
    for path in sorted(EXAMPLES.rglob("*.md")):
        taken += _agrees(path.read_bytes(), path.relative_to(EXAMPLES).as_posix())
    assert taken > 10  # the canonical layout is the common case


def _agrees(data: bytes, relpath: str) -> bool:
    found = filesearch.canonical(data, relpath)
    if found is None:
        return False
    event = parse_bytes(data, relpath)
    assert (found.title, found.body, found.topics) == (event.title, event.body, event.topics)
    assert found.ordinal(relpath) == (event.date.toordinal() if event.date else 0)
    return True


# -- the plain layout: candidates ruled out or cut from their bytes --------------------------------

# Files near the plain layout's edges: clean lines, and now and then a piece that bends one.
WORDS = ["Syrian", "Army", "Syrian Army", "Iran", "ſyrian", "SYRIAN", "Árm", "2015", "é", "a"]
CLEAN = [*WORDS, " ", ",", ".", ". ", "'", '"', "(", ")", "!", ":", "-", "&amp;", "&quot;", "&#x27;", "&nbsp;", "&lt;", "&amp;quot;", "&amp;amp;"]
BENT = [
    "1. ", "2)", "12", "#", "}", "+", "=", "|", "  ", "& ", "&", "&#97;", "&eacute;", "&Amp;", "&#0;", "_", "[", "]", "*", "`", "\\", "<", "~",
    "\t", "\r", "\n", "\n\n", "\u00a0", "\u2003", "\u0663", "\u0663. ", "\ufeff", "\x85", "\x0b", "\udc80",
]
DATE_LINES = ["### [2020-01-02](/news/2020/01/2/index.md)", "### [2020-01-02](/news/2020/01/2/index.md) ", "### [2020&#x27;01](/x.md)", "### [](/x.md)", "### [x](/x.md)\n", ""]
HEADINGS = ["### Source:", "### Related:", "### Source:  ", "### Related: ", "### Notes", "### Source"]
ITEMS = [
    "1. [{t}](https://x.org/a)", "1. [Mail & Guardian](https://x.org/{t})", "1. [{t}](/news/x.md) _Context: {t}_", "2. [{t}](/news/x.md) _Contexts: {t}, 2015_",
    "3. [t](/a_Context:{t}_b.md)", "1. [t](/x.md) _Context: {t}_ ", "1) [t](/x.md)", "1234567890. [t](/x.md)", "1. [{t}](/x.md) _Context: a_b_", "1. [t](/x y.md)",
]

# Front matter lines: values YAML reads as written, and values it reads otherwise (escapes, other
# types, aliases, folded lines, entities the parser unescapes in a title).
FRONT_MATTER = [
    'title: "{t}"', "date: 2020-01-02", 'tags: ["{t}", Syrian Army]', "tags: [Iran, {t}]", "tags: []", 'title: "Syr\\x69an Army"', "title: 'Syr''ian'",
    'title: "Syr&#105;an Army"', 'title: "Syri&aacuten"', "tags: [yes, off, null, 1_000, 0x1F, 1:30, .inf, 2015-01-02 10:00:00]", "tags: [a: b, {{a: b}}]",
    "tags: [&x Syrian, *x]", "tags: [!!str 12]", "tags: Syrian, Army", "title: Syrian\n  Army", "topics: [True]", "contexts: [Syrian Army]", "title: >\n  Syrian Army",
    'tags: ["Syr\\u0069an"]', "tags: [Syrian Army, ]", "tags: [On]", "tags: [ yes ]",
    "tags: [yes]", "tags: [NULL]", "tags: [Off, Iran]", "tags: [y]", "tags: [Syrian Army #x]", "tags: [Syrian Army] #x", "tags: [~]",
]
@st.composite
def texts(draw, start: str = "") -> str:
    pieces = [draw(st.sampled_from(WORDS)), *draw(st.lists(st.sampled_from(CLEAN), max_size=6))]
    if draw(st.integers(0, 11)) == 0:
        pieces.insert(draw(st.integers(0, len(pieces))), draw(st.sampled_from(BENT)))
    return start + "".join(pieces)


@st.composite
def plain_files(draw) -> bytes:
    """A file in or near the plain layout: a date line, a headline, paragraphs, sections and items,
    a line bent now and then (entities, digits, spaces, markup, other whitespace, "&")."""
    def bent(clean: str, *others: str) -> str:
        return draw(st.sampled_from(others)) if others and draw(st.integers(0, 11)) == 0 else clean

    rows = []
    if draw(st.integers(0, 3)) == 0:
        rows += ["---", *draw(st.lists(st.sampled_from(FRONT_MATTER).map(lambda line: line.format(t=draw(texts()))), max_size=3)), bent("---", "--- ", "...")]
    date = draw(st.sampled_from(DATE_LINES))
    if date:
        rows += [date, ""] if draw(st.booleans()) else [date]
    rows.append(bent("# ", "#", "  # ", "# #") + draw(texts()) + bent(draw(st.sampled_from(["", " ", "."])), " #", "}", "  "))
    for _ in range(draw(st.integers(0, 4))):
        rows.append(draw(texts(bent("", " ", "1. ", "12 ", "3.5 ", "9) ", "- ", "# ", "=", "\u0663. "))) + bent("", " ", "  "))
        if draw(st.booleans()):
            rows.append(bent("", " ", "  "))
    headings = draw(st.sampled_from([["### Source:", "### Related:"], ["### Source:"], ["### Related:"], []]))
    for heading in headings:
        rows += [bent(heading, *HEADINGS)] + ([""] if draw(st.booleans()) else [])
        for _ in range(draw(st.integers(0, 3))):
            item = draw(st.sampled_from(ITEMS[:2] if heading == "### Source:" else ITEMS[2:4]))
            rows.append(bent(item, *ITEMS).format(t=draw(texts())))
    return ("\n".join(rows) + bent("\n", "", "\n\n", " ")).encode("utf-8", "surrogatepass")


def _plain_layout(data: bytes) -> bool:
    import re2

    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    program = re2.compile(filesearch.plain_layout(), options)._regexp
    text = data + b"\n"
    return program.Match(re2._re2.RE2.Anchor.ANCHOR_BOTH, text, 0, len(text))[0][0] >= 0


# Front matter YAML reads otherwise than written: each line gives a name that is not in its bytes.
FRONT_MATTER_READ_OTHERWISE = [
    "tags: [yes]", "tags: [Iran, off]", "tags: [ON]", "tags: [1_000]", "tags: [0x1F]", "tags: [1:30]", "tags: [.inf]", "tags: [-.INF]",
    "tags: [2015-01-02 10:00:00]", 'title: "Syr\\x69an Army"', 'title: "Syr\\u0069an"', 'tags: ["Syr\\x69an"]', 'title: "Syr&#105;an Army"',
    'title: "Syri&aacuten"', "tags: [&x Syrian, *x]", "tags: [!!str 0x1F]", "tags: [Syr\\x69an]", "title: Syr\\x69an", "tags: [{{Syrian: True}}]",
    "tags: [Syrian: Army]", "tags: [? Syrian]", "tags: [True]", "tags: [false]",
]
PATTERNS_YAML = ["True", "False", "1000", "31", "90", "inf", "None", "Syrian", "Syria", "Syrian Army", "12", "10:00:00"]
QUIET = "### [2020-01-02](/news/2020/01/2/index.md)\n\n# Quiet\n\nNothing.\n\n### Related:\n\n1. [x](/x.md) _Context: Iraq_\n"


def test_front_matter_read_otherwise_is_never_taken():
    for line in FRONT_MATTER_READ_OTHERWISE:
        block = f"---\n{line.format()}\n---\n".encode()
        assert filesearch._FRONT_MATTER.match(block) is None, line
        files = [("news/2020/01/2/e.md", block + QUIET.encode())]
        for pattern in PATTERNS_YAML:
            query = _query(pattern)
            assert _prefiltered(files, query) == _exact(files, query), (line, pattern)
    assert filesearch._FRONT_MATTER.match(b'---\ntitle: "Syria&#x27;s Army &amp; Iran"\ndate: 2020-01-02\ntags: ["A, b", Syrian Army, Hurricane Maria]\n---\n')


@pytest.mark.parametrize("date", ["2019-02-30", "0000-01-01", "2019-13-01", "2019-2-3"])
def test_front_matter_with_a_date_yaml_cannot_read_is_parsed(date):
    """The parser fails on such a file (YAML raises ValueError): it must fail as it did, not be ruled out."""
    data = f"---\ndate: {date}\n---\n{QUIET}".encode()
    plan = filesearch._Plan(_query("Zebra"))
    buf = bytearray(data + b"\n")
    assert plan._plain(buf, 0, len(data), "news/2019/02/3/e.md") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.sampled_from(FRONT_MATTER + FRONT_MATTER_READ_OTHERWISE), min_size=1, max_size=3),
    title=texts(),
    pattern=st.sampled_from(PATTERNS_YAML),
    insensitive=st.booleans(),
)
def test_prefilter_is_sound_on_front_matter(lines, title, pattern, insensitive):
    front = "---\n" + "\n".join(line.format(t=title) for line in lines) + "\n---\n"
    files = [(f"news/2020/01/2/e{k}.md", (front + body).encode("utf-8", "surrogatepass")) for k, body in enumerate([QUIET, "# Quiet\n"])]
    for fields in (DEFAULT_FIELDS, ("title",), ("topics",)):
        query = _query(pattern, case=INSENSITIVE if insensitive else SENSITIVE, fields=fields)
        assert _prefiltered(files, query) == _exact(files, query)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=plain_files())
def test_the_plain_layout_is_never_wider_than_canonical(data):
    """Every file the layout takes is one `canonical` takes (or one with "& " in a source, which the
    parser reads alike), with the fields `plain_fields` cuts."""
    relpath = "news/2020/01/2/e.md"
    if not _plain_layout(data):
        return
    text = data.decode()  # the layout takes UTF-8 only
    found = filesearch.plain_fields(text)
    event = parse_bytes(data, relpath)
    assert (found.title, found.body, found.topics) == (event.title, event.body, event.topics)
    assert found.ordinal(relpath) == (event.date.toordinal() if event.date else 0)
    for prose, topical in ((False, True), (True, False)):  # what a candidate needs of them
        part = filesearch.plain_fields(text, prose, topical)
        assert (part.title, part.body, part.topics, part.date_text) == (
            found.title if prose else "", found.body if prose else "", found.topics if topical else [], found.date_text
        )
    cut = filesearch.canonical(data, relpath)
    if cut is None:
        assert "& " in text.split("\n### Source:", 1)[1].split("\n### Related:", 1)[0]
    else:
        assert (cut.title, cut.body, cut.topics, cut.date_text) == (found.title, found.body, found.topics, found.date_text)


def test_the_plain_layout_takes_the_archive_layout():
    plain = [
        event_file("2020-01-02", "Syrian Army&#x27;s day.", body="3.5 million &amp; more.\n2015 was &quot;calm&quot;.\n\nAnother.", sources=[("Mail & Guardian", "https://x.org/a")], related=[("Syrian Army", "/news/x.md", ["Syria", "Faroese general election, 2015"])]),
        "# Title\n\nBody.\n",
        "\n\n### [2020-01-02](/news/2020/01/2/index.md)\n# Title\nBody\n### Related:\n1. [x](/y.md)",
    ]
    bent = [
        "# Title\n\n1. Body.\n",  # a list
        "# Title\n\n\u0663. Body.\n",  # a list, with an Arabic-Indic digit
        "# Title\n\nBody  \nmore.\n",  # a hard break
        "# Title\n\nBody & more.\n",  # a bare "&" in a searched field
        "# Title\n\nSyri&#97;n.\n",  # an entity that decodes to a letter
        "# Title\r\n\r\nBody.\r\n",
        "---\ntitle: x\n---\n# Title\n",
        "# Title\n\nBody.\n\n### Related:\n\n1. [x](/y.md) _Context: Iran_\n1. [x & y](/y.md)\n",  # "&" in a Related headline
        "# Title\n\nBody.\n\n### Source:\n\n1. [x](/y.md) _Context: Iran_\n",
        "# Title\n\nBody.\n\n### Related:\n\n### Related:\n",
        "# Title\n\nBody \xa0.\n",
    ]
    assert all(_plain_layout(text.encode()) for text in plain)
    assert [text for text in bent if _plain_layout(text.encode())] == []
    assert not _plain_layout(b"# Title\xff\n") and not _plain_layout(b"# Title \xed\xa0\x80\n")


def test_the_plain_layout_takes_only_well_formed_safe_utf8():
    """RE2 matches the layout's classes on well-formed UTF-8 only: every sequence of up to 4 bytes
    (all leads, continuations at their edges) a title of the layout takes decodes, with no character
    quickparse calls unsafe."""
    import re2
    from newsarc.reading import fastpath as quickparse

    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    program = re2.compile(filesearch.plain_layout(), options)._regexp
    edges = [0x00, 0x0A, 0x41, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F, 0xA0, 0xBE, 0xBF, 0xC0, 0xFF]
    tails = [bytes([b]) for b in range(256)]
    tails += [bytes([a, b]) for a in range(0xC0, 0x100) for b in range(256)]
    tails += [bytes([a, b, c]) for a in range(0xE0, 0x100) for b in edges + list(range(0x80, 0xC0, 7)) for c in edges]
    tails += [bytes([a, b, c, d]) for a in range(0xF0, 0x100) for b in edges for c in edges[4:10] for d in edges[4:10]]
    tails += [s.encode() for s in "\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\U0010ffff\u00e9\u2013"]
    taken = 0
    for tail in tails:
        text = b"# T" + tail + b".\n"
        if program.Match(re2._re2.RE2.Anchor.ANCHOR_BOTH, text, 0, len(text))[0][0] >= 0:
            taken += 1
            decoded = tail.decode()  # raises on anything not UTF-8
            assert not quickparse._UNSAFE.search(decoded) and "&" not in decoded, tail
    assert taken > 1000


def test_safe_entities_decode_to_no_word_character():
    from newsarc.reading import fastpath as quickparse

    for name in filesearch._SAFE_ENTITIES:
        assert not filesearch._decodes_to_word(f"&{name};".encode())
    pieces = [f"&{name};" for name in filesearch._SAFE_ENTITIES] + ["amp;", "quot;", "x", "&amp;", "#x27;", " "]
    for a in pieces:
        for b in pieces:
            for c in pieces:
                text = "x" + a + b + c
                if text.count("&") == len([p for p in (a, b, c) if p.startswith("&")]):
                    assert filesearch._decoded(text) == quickparse.decode_entities(text), text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(plain_files(), min_size=1, max_size=6), pattern=st.sampled_from(PATTERNS + PATTERNS_YAML + ["ian Army", "a S|r A", "2015", "Iran"]), insensitive=st.booleans())
def test_prefilter_is_sound_on_plain_layouts(files, pattern, insensitive):
    files = [(f"news/2020/01/2/e{k}.md", data) for k, data in enumerate(files)]
    for fields in (DEFAULT_FIELDS, ("title",), ("topics",)):
        query = _query(pattern, case=INSENSITIVE if insensitive else SENSITIVE, fields=fields)
        assert _prefiltered(files, query) == _exact(files, query)


def test_a_name_only_in_related_headlines_is_ruled_out_uncut(monkeypatch):
    related = [("The Syrian Army moves", "/news/x.md", ["Iran"]), ("x", "/news/syrian-army.md", ["Iraq"])]
    files = [
        ("news/2020/01/2/a.md", event_file("2020-01-02", "Quiet day", related=related).encode()),
        ("news/2020/01/2/b.md", event_file("2020-01-02", "Syrian Army moves", related=related).encode()),
        ("news/2020/01/2/c.md", event_file("2020-01-02", "Quiet", related=[("x", "/news/x.md", ["Syrian Army"])]).encode()),
        ("news/2020/01/2/d.md", event_file("2020-01-02", "Quiet", sources=[("Syrian Army & Co", "https://x.org")]).encode()),
    ]
    monkeypatch.setattr(filesearch, "canonical", lambda *a: pytest.fail("a plain file was cut by canonical"))
    cut = filesearch.plain_fields
    calls = []

    def plain_fields(text, prose, topical):
        calls.append((text.split("\n")[2], prose, topical))
        return cut(text, prose, topical)

    monkeypatch.setattr(filesearch, "plain_fields", plain_fields)
    assert _prefiltered(files, _query("Syrian Army")) == [1, 2]
    assert calls == [("# Syrian Army moves ", True, False), ("# Quiet ", False, True)]
    assert _prefiltered(files, _query("syrian army", case=INSENSITIVE)) == [1, 2]


def test_only_long_s_and_kelvin_fold_to_ascii_letters_or_digits():
    """`_folded_needles` writes each case of a token's first character: RE2 folds no other
    character to an ASCII letter or digit."""
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    chars = [chr(code) for code in (*range(0xD800), *range(0xE000, 0x110000)) if code != 10]
    blob, offsets = filesearch._joined([char.encode() for char in chars])  # every character, a line each
    for char in "abcdefghijklmnopqrstuvwxyz0123456789":
        program = re2.compile(re2.escape(char), options)._regexp
        found = {chars[k] for k in filesearch._hits(program, blob, offsets)}
        assert found == {char, char.upper(), *filesearch._OTHER_CASES.get(char, "")}, char


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=files_strategy, tokens=st.lists(st.sampled_from(["syrian", "army", "ria", "s", "k", "kyiv", "a", "2015", "x1", "sa"]), min_size=1, max_size=3))
def test_folded_needles_find_what_one_case_insensitive_needle_finds(texts, tokens):
    import re2

    options = re2.Options()
    options.never_capture = True
    options.case_sensitive = False
    one = re2.compile("|".join(filesearch._needle(t, re2) for t in tokens), options)._regexp
    options.case_sensitive = True
    each = [re2.compile(pattern, options)._regexp for pattern in filesearch._folded_needles(tokens, re2)]
    blob, offsets = filesearch._joined([text.encode("utf-8", "surrogatepass") for text in texts])
    assert set().union(*(filesearch._hits(program, blob, offsets) for program in each)) == filesearch._hits(one, blob, offsets)


@pytest.mark.parametrize(
    "pattern, runs",
    [
        ("Syrian Army", ["Syrian"]),
        ("Palmy?ra", ["Palm"]),
        ("a|bc", ["a", "bc"]),
        (r"\bceasefire\b", ["ceasefire"]),
        (r"S\x79ria", ["Syria"]),
        (r"\QSyr.ian\E", ["Syr"]),
        ("ab+c", ["a"]),
        ("x(abc)?yz", ["yz"]),
        ("São Paulo", ["Paulo"]),
    ],
)
def test_required_runs(pattern, runs):
    assert filesearch.required(compile_patterns([pattern])) == runs


@pytest.mark.parametrize(
    "pattern, runs",
    [
        ("Syrian Army", [["Syrian", "Army"]]),
        ("Palmy?ra", [["Palm", "ra"]]),
        ("a|bc d", [["a"], ["bc", "d"]]),
        ("x(abc)?yz", [["yz", "x"]]),
        (r"Syr.an \bArmy\b", [["Army", "Syr", "an"]]),
    ],
)
def test_every_run_of_an_alternative_is_required(pattern, runs):
    assert filesearch.required_runs(compile_patterns([pattern])) == runs


def test_a_file_must_hold_every_run_of_an_alternative():
    files = [("news/2020/01/1/a.md", b"# Syrian news\n\nNo army here.\n"), ("news/2020/01/1/b.md", b"# Syrian and Army\n")]
    plan = filesearch._Plan(_query("Syrian.*Army"))
    assert plan.select(files) == [1]
    a, b = (bytearray(data) for _, data in files)
    assert not plan._holds(a, 0, len(a)) and plan._holds(b, 0, len(b))


@pytest.mark.parametrize("pattern", [".", r"\w+", "(?i)syrian", "a|.", "[abc]", "x?"])
def test_patterns_without_a_required_run_make_every_file_a_candidate(pattern):
    assert filesearch.required(compile_patterns([pattern])) is None


def test_fixed_strings_are_not_read_as_regexes():
    assert filesearch.required(compile_patterns([r"\x41b.c"], fixed=True)) == ["x41b"]
    assert filesearch.required(compile_patterns(["São Paulo"], fixed=True, case=INSENSITIVE)) == ["Paulo"]


# -- the CLI: the same output as the index gives, and no index written ------------------------

COMMANDS = [
    ["search", "Syrian Army"],
    ["search", "-l", "Syrian Army"],
    ["search", "-l", "-i", "syrian army", "--sort", "path"],
    ["search", "-c", "Army"],
    ["search", "--json", "Syrian"],
    ["search", "-C", "1", "Army"],
    ["search", "-l", "--limit", "2", "Army"],
    ["search", "--limit", "1", "--pretty", "Army"],
    ["search", "--pretty", "Syrian Army"],
    ["search", "-m", "1", "-w", "Army"],
    ["search", "-x", "Syrian Army"],
    ["search", "-q", "Army"],
    ["search", "-m", "0", "Army"],
    ["search", "--all", "-l", "Syrian", "moved"],
    ["search", "--in", "title", "-l", "Syrian"],
    ["search", "--raw", "--in", "all", "-l", "Syrian Army"],
    ["search", "--raw", "-l", "Syr"],
    ["search", "--raw", "--in", "body,sources", "x.org"],
    ["search", "-l", "zugzwang"],
    ["search", "--pretty", "zugzwang"],
    ["search", "-F", "-l", "Syr.an"],
    ["search", "-l", "Syr.an"],
    ["search", "-l", "--in", "related", "Syrian"],  # parsed, event by event
    ["search", "-l", r"\w+ Army"],  # no required run: every file a candidate
]


def _catalogued(root: Path, cache: Path) -> None:
    """The catalogue built (as show or topics builds it): a search with no filter reads the files all the same."""
    from newsarc.archive import Archive
    from newsarc.features.catalog import Catalog

    Catalog(Archive.open(root, cache_dir=cache), cache_dir=cache).database.close()


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_first_search_answers_as_the_index_does(cli, hostile, tmp_path, args):
    cache = tmp_path / "cache"
    cold = cli("--cache-dir", str(cache), *args, "--archive", str(hostile))
    _catalogued(hostile, cache)  # now an index exists
    warm = cli("--cache-dir", str(cache), *args, "--archive", str(hostile))
    nocache = cli("--no-cache", *args, "--archive", str(hostile))
    assert (cold.stdout, cold.stderr, cold.exit_code) == (warm.stdout, warm.stderr, warm.exit_code)
    assert (nocache.stdout, nocache.stderr, nocache.exit_code) == (warm.stdout, warm.stderr, warm.exit_code)


def test_first_search_writes_no_index(cli, hostile, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    result = cli("--cache-dir", str(cache), "search", "-l", "Syrian Army", "--archive", str(hostile))
    assert result.exit_code == 0
    assert sorted(Path(line).name for line in result.stdout.splitlines()) == sorted(
        ["emphasis.md", "link.md", "link-end.md", "emph-link.md", "entity.md", "code.md", "html.md", "front.md", "item.md", "crlf.md", "image.md", "plain.md", "topic.md", "undated.md", "named.md"]
    )
    assert "binary file" in result.stderr
    assert list(cache.iterdir()) == []  # an accelerator, not a toll: nothing was built


def test_first_search_counts_events_exactly(cli, hostile):
    # 21 files: one day page and one binary file are not events; the empty file is one
    result = cli("--no-cache", "search", "--pretty", "nowhere", "--archive", str(hostile))
    assert result.exit_code == 1
    assert "no match in 19 events (searched: title, body, topics)" in result.stderr


def test_first_search_as_a_subprocess_writes_no_index(hostile, tmp_path):
    cache = tmp_path / "cache"
    done = run_newsarc("search", "-l", "--sort", "path", "Syrian Army", "--archive", str(hostile), cwd=hostile, env={"NEWSARC_CACHE_DIR": str(cache)})
    assert done.returncode == 0
    assert done.stdout.splitlines()[:3] == ["news/2019/12/31/undated.md", "news/2020/01/1/code.md", "news/2020/01/1/crlf.md"]
    assert not cache.exists() or list(cache.iterdir()) == []
    again = run_newsarc("stats", "--archive", str(hostile), cwd=hostile, env={"NEWSARC_CACHE_DIR": str(cache)})
    assert again.returncode == 0 and list(cache.iterdir())  # other commands still build it


def test_every_file_is_read_on_every_core(cli, builder, monkeypatch):
    monkeypatch.setattr(filesearch, "PARALLEL_FILES", 2)
    for k in range(7):
        builder.event(f"2021-03-{k + 1:02d}", f"Syrian Army day {k}" if k % 2 else f"Other {k}")
    many = cli("--no-cache", "search", "-c", "Army", "--archive", str(builder.root))
    monkeypatch.setenv("NEWSARC_WORKERS", "1")
    one = cli("--no-cache", "search", "-c", "Army", "--archive", str(builder.root))
    assert many.stdout == one.stdout and many.stdout.count("\n") == 3


def test_files_over_the_size_limit_are_named_as_the_index_names_them(cli, hostile, tmp_path, monkeypatch):
    (hostile / "news/2020/01/3/big.md").write_text("# Syrian Army\n\n" + "x" * 3000)
    env = {"NEWSARC_MAX_FILE_SIZE": "2k"}
    first = cli("--no-cache", "search", "-l", "Army", "--archive", str(hostile), env=env)
    cache = tmp_path / "c"
    monkeypatch.setenv("NEWSARC_MAX_FILE_SIZE", "2k")
    _catalogued(hostile, cache)
    warm = cli("--cache-dir", str(cache), "search", "-l", "Army", "--archive", str(hostile), env=env)
    assert "over the 2 KB limit" in first.stderr
    assert (first.stdout, first.stderr) == (warm.stdout, warm.stderr)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_skipped_links_are_named_as_the_index_names_them(cli, hostile, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("# Syrian Army\n")
    (hostile / "news/2020/01/3/out.md").symlink_to(outside)
    first = cli("--no-cache", "search", "-l", "Army", "--archive", str(hostile))
    cache = tmp_path / "c"
    _catalogued(hostile, cache)
    warm = cli("--cache-dir", str(cache), "search", "-l", "Army", "--archive", str(hostile))
    assert "outside the archive root" in first.stderr
    assert (first.stdout, first.stderr) == (warm.stdout, warm.stderr)


def test_raw_whole_files_equal_the_file_bytes(cli, hostile):
    result = cli("--no-cache", "search", "--raw", "--in", "all", "-l", "&#97;", "--archive", str(hostile))
    assert [Path(p).name for p in result.stdout.splitlines()] == ["entity.md"]
    assert FIELDS  # --in all means every field


@pytest.mark.parametrize("wanted", [1, 2, 3, 64])
def test_walk_pieces_joined_are_the_one_walk(hostile, wanted):
    from newsarc.archive import Archive

    (hostile / "news/2020/01/1/fifo.md").mkdir()  # a folder named like a file
    (hostile / "news/2020/01/1/.hidden.md").write_text("# Hidden\n")
    archive = Archive(hostile, hostile, use_cache=False)
    walk = archive.walk_pieces(wanted)
    files, notes, walked = [], list(archive.scan_diagnostics), []
    for folder, known, noted in walk.pieces:
        if folder is not None:
            known, noted, keys, repeated = archive.walk_piece(folder)
            walked.append((keys, repeated))
        files.extend(known)
        notes.extend(noted)
    assert walk.exact(walked)
    assert files == archive.walk_unindexed()
    assert notes == archive.scan_diagnostics


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_folder_reached_twice_makes_the_pieces_inexact(hostile):
    from newsarc.archive import Archive

    (hostile / "news/2020/02").symlink_to(hostile / "news/2020/01")
    archive = Archive(hostile, hostile, use_cache=False)
    walk = archive.walk_pieces(2)
    walked = [archive.walk_piece(folder)[2:] for folder, _, _ in walk.pieces if folder is not None]
    assert not walk.exact(walked)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_folder_reached_twice_answers_as_the_index_does(cli, hostile, tmp_path):
    (hostile / "news/2020/02").symlink_to(hostile / "news/2020/01")
    first = cli("--no-cache", "search", "-l", "Army", "--archive", str(hostile))
    cache = tmp_path / "c"
    _catalogued(hostile, cache)
    warm = cli("--cache-dir", str(cache), "search", "-l", "Army", "--archive", str(hostile))
    assert (first.stdout, first.stderr) == (warm.stdout, warm.stderr)


# -- with filters, -v and relevance: the catalogue's events, their files read -------------------

ORACLE = [
    {"patterns": ["Syrian Army"]},
    {"patterns": [r"\w+ Army"]},  # no required run: every file a candidate
    {"patterns": ["."], "invert": True},
    {"patterns": ["Army"], "invert": True},
    {"patterns": ["Army"], "span": "2020-01"},
    {"patterns": ["syrian"], "case": INSENSITIVE, "span": "2020-01-02..2020-01-03"},
    {"patterns": ["Army"], "topics": ("syrian army",)},
    {"patterns": ["Syrian", "moved"], "require_all": True, "span": "2019..2020"},
    {"patterns": ["Syrian"], "fields": ("related",)},
    {"patterns": ["reuters"], "case": INSENSITIVE, "fields": ("sources",), "topics": ("syria",)},
    {"patterns": ["Army"], "fields": FIELDS, "invert": True, "span": "2020"},
    {"patterns": ["x.org"], "fields": ("sources", "body"), "raw": True, "span": "2020"},
    {"patterns": ["Syria"], "fields": FIELDS, "raw": True, "topics": ("syria", "Iran")},
    {"patterns": ["Army"], "sort": "relevance"},
    {"patterns": ["Syrian", "Army"], "sort": "relevance", "case": INSENSITIVE, "span": "2020"},
    {"patterns": ["Army"], "sort": "path", "span": "2020"},
]


@pytest.mark.parametrize("spec", ORACLE, ids=lambda spec: " ".join(f"{k}={v}" for k, v in spec.items()))
def test_search_through_the_catalogue_equals_matching_every_parsed_event(hostile, tmp_path, spec):
    """The events a filter leaves come from the catalogue and their files are read (filesearch.among,
    or each parsed): the answer is the matcher's over the parser's text of each of them."""
    from newsarc.archive import Archive, sort_key
    from newsarc.features import search as core
    from newsarc.features.catalog import Catalog
    from newsarc.reading.dates import parse_when
    from newsarc.reading.event_text import read_raw
    from newsarc.reading.parser import read_event
    from newsarc.reading.topic_names import with_topics

    spec = dict(spec)
    matcher = compile_patterns(spec.pop("patterns"), case=spec.pop("case", SENSITIVE))
    span = parse_when(spec.pop("span")) if "span" in spec else None
    query = Query(matcher, span=span, **spec)
    docs = [read_event(path, path.relative_to(hostile).as_posix()) for path in sorted(hostile.rglob("*.md"))]
    events = sorted((d for d in docs if not d.skipped and not d.is_day_page), key=sort_key)
    events = [e for e in events if span is None or (e.date in span and e.date is not None)]
    events = with_topics(events, query.topics) if query.topics else events
    texts = [event_text(e, query.fields, read_raw(hostile, e) if query.raw else None) for e in events]
    chosen = set(matcher.select(texts, query.require_all))
    if query.invert:
        chosen = set(range(len(events))) - chosen
    expected = sorted(events[k].path for k in chosen)

    catalog = Catalog(Archive.open(hostile, cache_dir=tmp_path), cache_dir=tmp_path, more=(core.LENGTHS.name,))
    if span is None and not query.topics:
        catalog.view()  # the catalogue built: the events come from it
    result = core.search(catalog, query)
    found = [f.event.path for f in result.found]
    assert sorted(found) == expected and result.searched == len(events)
    assert expected or query.invert, "a form that finds nothing tests little"
    if query.sort == "path":
        assert found == sorted(found)
    elif query.sort == "date":
        assert found == [e.path for e in events if e.path in set(found)]
    catalog.close()
