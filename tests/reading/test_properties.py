"""Properties that must hold for any input (hypothesis), beyond tests/reading/test_parser.py and test_dates.py.

- the parser never raises, on Markdown-shaped text and bytes too, and what it
  returns is consistent (spans inside the file, JSON- and cache-safe records);
- date expressions round-trip, and any text gives a span or BadDate, nothing else;
- `search -F` finds exactly the events a naive substring scan of the decoded fields finds;
- after `validate-links --fix`, validate-links finds nothing fixable, and only
  link destinations changed.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import marshal
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from newsarc.index import cache
from newsarc.reading import dates
from newsarc.archive import day_spellings
from newsarc.cli import app
from newsarc.errors import BadDate
from newsarc.reading.parser import decode, parse_bytes, parse_text
from tests.conftest import ArchiveBuilder, event_text

PATH = "news/2017/08/13/x.md"
FILE_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cli(*args: str, cache_dir: str):
    env = {"COLUMNS": "100", "NO_COLOR": None, "NEWSARC_ARCHIVE": None, "NEWSARC_CACHE_DIR": cache_dir}
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


# -- the parser -------------------------------------------------------------------------------

# Pieces real files are made of, damaged ones included: st.text() alone rarely writes front matter or links.
PIECES = st.sampled_from(
    [
        "---\n", "---\r\n", "title: T\n", "date: 2017-08-13\n", "date: [\n", "tags: [a, b]\n", "- x\n",
        "a: &a [1,2]\nb: [*a,*a]\n", "!!python/name:os.system\n", "related:\n  - /news/a.md\n",
        "### [2017-08-13](/news/2017/08/13/index.md)\n", "### [2017-02-30](/news/2017/02/30/index.md)\n",
        "# Headline \n", "\n", "\r\n", "\r", "### Source:\n", "### Related:\n", "### Notes:\n",
        "1. [AP](https://apnews.com/x)\n", "1. [Cover Image](https://img/x.jpg)\n",
        "1. [Other ](/news/2017/08/12/o.md) _Context: A, B, 2015_\n", "1. nothing here\n",
        "[ref]: /news/x.md \"t\"\n", "[a][ref] ", "[b](<a b.md>) ", "[c](x.md#frag) ", "`[d](/code.md)` ",
        "<!-- [e](/c.md) -->", "```\n[f](/g.md)\n```\n", "![i](/img/é.png) ", '<a href="/news/&amp;é.md">', "<img src='x.png'\n>", "&amp; &#x27; &bogus; ", "\\[g](/h.md) ",
        "[h](/news/%2e%2e/x) ", "[i](../../../../x.md) ", "é", "\u2028", "\ufeff", "\x00", "\t",
    ]
)  # fmt: skip
MARKDOWNISH = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=30).map("".join)


def _consistent(event, raw_length: int) -> None:
    for link in event.links:
        assert link.line >= 0 and link.column >= 0
        assert 0 <= link.start <= link.end <= raw_length
        if link.dest_start >= 0:
            assert link.dest_start <= link.dest_end <= raw_length
    assert all(d.path == event.path and d.line >= 0 for d in event.diagnostics)
    json.dumps(event.to_dict(), allow_nan=False)  # --json prints any record as strict JSON (no NaN)
    row = cache.encode(event)
    again = cache.decode(marshal.loads(marshal.dumps(row)))  # the index cache keeps it as it was
    assert repr(cache.encode(again)) == repr(row)  # repr: nan == nan


@settings(max_examples=300, deadline=None)
@given(MARKDOWNISH)
def test_parser_never_raises_on_markdownish_text(text):
    event = parse_text(text, PATH)
    _consistent(event, len(text.encode()))


@settings(max_examples=200, deadline=None)
@given(MARKDOWNISH, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]), st.booleans())
def test_parser_never_raises_on_markdownish_bytes(text, encoding, crlf):
    if crlf:
        text = text.replace("\n", "\r\n")
    data = text.encode(encoding, "replace")
    event = parse_bytes(data, PATH)
    if not event.skipped:
        decoded = decode(data, PATH, [])
        _consistent(event, len(decoded.encode()))


CANONICAL = event_text(
    "2017-08-13",
    "Army retakes the town",
    body="Syria&#x27;s army advanced.",
    sources=[("AP", "https://apnews.com/x")],
    cover="https://img/x.jpg",
    related=[("Rebels leave", "/news/2017/08/12/rebels.md", ["Syrian Civil War", "Homs"]), ("Other", "/news/o.md", ["Washington, D.C.", "2015"])],
)
EDITS = st.sampled_from(["\r", "\r\n", "\n", " ", "*", "_", "`", "[", "]", "(", ")", "<", ">", "\\", "&amp;", "#", "1. ",
                         "- ", "---\n", "\t", "\u00a0", "é", "|", "![x](y)", "[x](y)", "<br>", "    ", "&#0;", "&nbsp;", "&copy", "  \n", "=\n", "1) ", "> ", "10. ", "### ", "# ", "\u2028",
                         "~~~", "***", " _", ":", ","])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(CANONICAL)), EDITS), min_size=1, max_size=3))
def test_a_damaged_canonical_file_reads_the_same_on_both_parser_paths(edits):
    """Hand edits to a canonical file (a link in the headline, an entity in the date line...) must not
    make the fast path (quickparse) read it differently from the CommonMark walker."""
    text = CANONICAL
    for position, insert in edits:
        text = text[:position] + insert + text[position:]
    fast, full = parse_text(text, PATH), parse_text(text, PATH, quick=False)
    assert _snapshot(fast) == _snapshot(full)


def _snapshot(event) -> tuple:
    links = [(k.target, k.text, k.line, k.column, k.role, k.start, k.end, k.dest_start, k.dest_end) for k in event.links]
    headings = [(h.level, h.text, h.anchor, h.line) for h in event.headings]
    return event.to_dict(), links, headings, event.body_raw, event.body_line


@settings(max_examples=150, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5) | st.dates(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=12))  # fmt: skip
def test_any_yaml_front_matter_is_kept_printable_and_cacheable(value):
    """Whatever YAML gives (dates, nested lists, odd keys), --json prints it and the cache keeps it."""
    import yaml

    block = yaml.safe_dump({"x": value, "title": "T"}, allow_unicode=True)
    event = parse_text(f"---\n{block}---\n# T\n", PATH)
    _consistent(event, 10**9)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1100), st.sampled_from(["[", "{a: "]))
def test_front_matter_nested_any_depth_is_kept_or_refused_never_a_crash(depth, opener):
    closer = "]" if opener == "[" else "}"
    event = parse_text(f"---\nx: {opener * depth}{closer * depth}\n---\n# T\n", PATH)
    _consistent(event, 10**9)
    assert event.title == "T"


# -- dates --------------------------------------------------------------------------------------

DAYS = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
TODAY = dt.date(2017, 8, 13)


@settings(max_examples=200)
@given(DAYS)
def test_year_round_trips(day):
    span = dates.parse_when(str(day.year), TODAY)
    assert (span.start, span.end, str(span)) == (dt.date(day.year, 1, 1), dt.date(day.year, 12, 31), str(day.year))


@settings(max_examples=200)
@given(st.one_of(st.none(), DAYS), st.one_of(st.none(), DAYS))
def test_open_and_closed_ranges_round_trip_through_their_text(a, b):
    if a and b and a > b:
        a, b = b, a
    span = dates.span_of(a, b)
    assert dates.parse_when(str(span), TODAY) == span if (a or b) else str(span) == ".."


@settings(max_examples=200)
@given(DAYS, st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%d %B %Y", "%B %d, %Y", "%b %d %Y", "%A, %d %B %Y"]))
def test_a_day_spelled_any_accepted_way_is_that_day(day, form):
    assert dates.parse_day(day.strftime(form)) == day
    assert dates.parse_when(day.strftime(form), TODAY) == dates.DateSpan(day, day, "day")


@settings(max_examples=200)
@given(DAYS, st.booleans())
def test_day_folder_spellings_name_the_same_day(day, padded):
    folder = f"{day.day:02d}" if padded else str(day.day)
    path = f"news/{day.year}/{day.month:02d}/{folder}/x.md"
    assert dates.date_from_path(path) == day
    others = day_spellings(path)
    assert [dates.date_from_path(p) for p in others] == [day] * len(others)
    assert all(day_spellings(p) == [path] for p in others)  # the other spelling's other spelling is this one


@settings(max_examples=150)
@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31)))
def test_month_day_round_trips_including_february_29(day):
    assert dates.parse_month_day(day.strftime("%m-%d")) == (day.month, day.day)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=30),
        st.from_regex(r"\A(\d{1,12}) (day|week|month|year)s? ago\Z"),
        st.from_regex(r"\A(last|past) \d{1,12} (day|week|month|year)s\Z"),
        st.from_regex(r"\A\d{4}(-\d{1,2}(-\d{1,2})?)?\.\.(\d{4}(-\d{1,2})?)?\Z"),
        st.sampled_from(["today", "tomorrow", "yesterday", "next year", "last month", "next week"]),
    ),
    st.dates(),
)
def test_any_text_is_a_span_or_bad_date_never_a_crash(expr, today):
    """Whatever the user types, on whatever day: a span or one BadDate sentence (exit 2), never a traceback."""
    try:
        span = dates.parse_when(expr, today)
    except BadDate as exc:
        assert exc.message
        return
    assert span.start is None or span.end is None or span.start <= span.end


# -- search -F ----------------------------------------------------------------------------------

# Text without Markdown syntax, so the decoded field is exactly the text with its entities decoded.
WORDS = st.lists(
    st.sampled_from(["Syria", "syria", "army", "Army's", "town", "Town", "&amp;", "&#x27;", "&quot;", "café",
                     "CAFÉ", "Straße", "İstanbul", "x", "42", "é", "ﬁre", "naïve"]),
    min_size=1, max_size=6,
).map(" ".join)  # fmt: skip


def _fields(title: str, body: str) -> list[str]:
    return [html.unescape(title), html.unescape(body)]


@FILE_SETTINGS
@given(
    st.lists(st.tuples(WORDS, WORDS), min_size=1, max_size=5),
    st.one_of(WORDS, st.sampled_from(["'", "&", "é", "e", "Army's", "ﬁ", " ", "ß", "-", "((", "\\"])),
)
def test_search_fixed_strings_equals_a_naive_substring_scan(events, pattern):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        b = ArchiveBuilder(root)
        expected = set()
        for i, (title, body) in enumerate(events):
            title = f"{title} {i}"  # unique slugs
            link = b.event("2017-08-13", title, body=body)
            if any(pattern in field for field in _fields(title, body)):
                expected.add(link.lstrip("/"))
        result = cli("search", "-F", "-l", "--json", "-e", pattern, "--archive", str(root), cache_dir=str(Path(tmp) / "c"))
        found = {json.loads(line)["path"] for line in result.stdout.splitlines()}
        assert found == expected
        assert result.exit_code == (0 if expected else 1), result.stderr


# -- --fix --------------------------------------------------------------------------------------

STYLES = st.sampled_from(["absolute", "relative", "reference"])
ENCODINGS = st.sampled_from(["utf-8", "crlf", "bom"])


@FILE_SETTINGS
@given(st.lists(st.tuples(st.integers(1, 12), st.booleans(), st.booleans(), STYLES, ENCODINGS), min_size=2, max_size=6))
def test_fix_then_validate_finds_nothing_fixable(specs):
    """Events on days 1-12 (folders padded or not), each linking the next in one of the ways
    a link is written, some under the other day spelling (the certain fix)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        b = ArchiveBuilder(root)
        folders = [f"{day:02d}" if padded else str(day) for day, padded, *_ in specs]
        targets = [f"/news/2017/08/{folder}/event-{i}.md" for i, folder in enumerate(folders)]
        before = {}
        for i, (day, _, wrong, style, encoding) in enumerate(specs):
            target = targets[(i + 1) % len(specs)]
            written = (day_spellings(target) or [target])[0] if wrong else target
            if style == "relative":
                written = "../" + "/".join(written.split("/")[-2:])
            body = f"See [the next one][n].\n\n[n]: {written}" if style == "reference" else f"See [the next one]({written})."
            text = event_text(f"2017-08-{day:02d}", f"Event {i}", body=body, day_folder=folders[i])
            data = text.replace("\n", "\r\n").encode() if encoding == "crlf" else text.encode()
            data = b"\xef\xbb\xbf" + data if encoding == "bom" else data
            before[b.write(targets[i].lstrip("/"), data)] = data
        cache_dir = str(Path(tmp) / "c")
        cli("validate-links", "--fix", "--archive", str(root), cache_dir=cache_dir)
        after = cli("validate-links", "--json", "--archive", str(root), cache_dir=cache_dir)
        fixable = [r for r in map(json.loads, after.stdout.splitlines()) if r.get("fixable")]
        assert fixable == []
        for path, data in before.items():
            assert _outside_links(path.read_bytes()) == _outside_links(data)  # only destinations changed


def _outside_links(data: bytes) -> bytes:
    """The file with every link destination blanked: what --fix must leave byte for byte."""
    return re.sub(rb"(\]\(|\]: )[^)\s]*", rb"\1", data)
