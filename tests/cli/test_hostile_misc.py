"""Hostile archives, items 7 and 8: dates dateutil would guess, and link fragments that name HTML
anchors or heading ids. (Index files that are not files, and damage to the index, are
tests/index/test_index_crash.py's.)

Everything runs for real: archives in tmp_path, the CLI in-process (CliRunner).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ArchiveBuilder

TITLE = "Floods on the Amazonas displace thousands"


@pytest.fixture
def site(builder: ArchiveBuilder) -> Path:
    later = builder.event("2017-08-14", "Rains stop in the basin", body="Water levels fell.")
    builder.event("2017-08-13", TITLE, body="The river rose overnight.", related=[("Rains stop", later, ["Amazonas"])])
    return builder.root


# -- 7. --on-this-day reads a calendar day or nothing; a range needs an end ---------------------

import datetime as dt  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from newsarc.reading import dates  # noqa: E402
from newsarc.errors import BadDate  # noqa: E402

FORMS = "use MM-DD such as 08-13, or a month and a day such as 'Aug 13' or '13 August'"


@pytest.mark.parametrize(
    ("given_", "said"),
    [
        ("99", f"cannot read '99' as a calendar day; {FORMS}"),
        ("2017", f"cannot read '2017' as a calendar day; {FORMS}"),
        ("5", f"cannot read '5' as a calendar day; {FORMS}"),
        ("August", f"cannot read 'August' as a calendar day; {FORMS}"),
        ("13-08", f"'13-08' is not a calendar day: 13 is not a month; {FORMS}"),
        ("02-30", f"'02-30' is not a calendar day: February has no day 30; {FORMS}"),
        ("June 31", f"'June 31' is not a calendar day: June has no day 31; {FORMS}"),
    ],
)
def test_on_this_day_refuses_what_is_not_a_calendar_day(cli, site, given_, said):
    """dateutil's defaults made '99', '2017' and '5' mean January 1st (exit 0 or 1, a wrong answer)."""
    result = cli("list-by-date", "--on-this-day", given_, "-a", str(site))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"newsarc: {said}\n")


@pytest.mark.parametrize("given_", ["..", " .. ", "  ..  "])
def test_a_range_with_neither_end_is_refused(cli, site, given_):
    result = cli("list-by-date", given_, "-a", str(site))
    said = f"newsarc: the range '{given_}' has neither end; give at least one end: 2017.. or ..2016-04\n"
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", said)


DAYS_2000 = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31))


SPELLINGS = ["%m-%d", "%m/%d", "%b %d", "%B %d", "%d %B", "%d %b", "%b. %d", "%B %dth", "%dth of %b"]


@settings(max_examples=500)
@given(
    st.one_of(st.text(max_size=12), st.from_regex(r"\A\d{1,4}([-/ ]\d{0,3})?\Z"), st.integers(0, 9999).map(str)),
    DAYS_2000,
    st.sampled_from(SPELLINGS),
)
def test_any_text_is_a_real_calendar_day_or_one_clear_refusal(text, day, spelling):
    """Never a default filled in: what is accepted names both its month and its day, and every
    calendar day (02-29 too) spelled any accepted way is that day."""
    assert dates.parse_month_day(day.strftime(spelling)) == (day.month, day.day)
    try:
        month, day = dates.parse_month_day(text)
    except BadDate as error:
        assert error.message.endswith(FORMS)
        return
    dt.date(2000, month, day)
    names = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    assert str(day) in text and (str(month) in text or any(name in text.lower() for name in names))


# -- 8. fragments lychee accepts: HTML ids and names, heading ids ------------------------------

TARGET_BODY = """The river rose overnight.

<a id="explicit-fragment"></a>
Residents left by boat <a name="named-anchor">here</a>, and <span id=span-id>there</span>.

### Some heading {#custom-id}

More text."""

LINKS_BODY = """See [the anchor](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#explicit-fragment),
[the name](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#named-anchor),
[the span](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#span-id),
[the heading id](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#custom-id),
[the heading](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#some-heading),
[this anchor](#own-anchor) <a id="own-anchor"></a> and
[a missing one](/news/2017/08/13/floods-on-the-amazonas-displace-thousands.md#some-heading-custom-id)."""


@pytest.fixture
def anchored(builder: ArchiveBuilder) -> Path:
    builder.event("2017-08-13", TITLE, body=TARGET_BODY)
    builder.event("2017-08-14", "Rains stop in the basin", body=LINKS_BODY)
    return builder.root


@pytest.mark.parametrize("cache", ["cache", "no cache"])
def test_fragments_naming_html_anchors_and_heading_ids_are_found(cli, anchored, tmp_path, cache):
    """They were all `missing-heading`; a heading's slug drops its `{#id}` block (`#some-heading`)."""
    env = {"NEWSARC_CACHE_DIR": str(tmp_path / "c")} if cache == "cache" else {"NEWSARC_NO_CACHE": "1"}
    for _ in range(2):  # cold, then from the index
        result = cli("validate-links", "-a", str(anchored), "--format", "json", env=env)
        found = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(f["kind"], f["message"]) for f in found if f.get("type") != "summary"] == [
            ("missing-heading", "no heading '#some-heading-custom-id' in news/2017/08/13/floods-on-the-amazonas-displace-thousands.md")
        ]
        assert result.exit_code == 1


def test_a_heading_with_an_id_reads_as_its_text_on_both_parse_paths(builder):
    """quickparse hands a headline ending in `}` to the CommonMark walker, which drops an id block."""
    from newsarc.reading.parser import read_event

    path = builder.event("2017-08-13", "Floods on the Amazonas {#floods}")
    event = read_event(builder.root / path.lstrip("/"), path.lstrip("/"))
    assert event.title == "Floods on the Amazonas"
    assert [(h.text, h.anchor, h.id) for h in event.headings if h.level == 1] == [("Floods on the Amazonas", "floods-on-the-amazonas", "floods")]
    kept = builder.event("2017-08-14", "Floods recede {sic}")
    assert read_event(builder.root / kept.lstrip("/"), kept.lstrip("/")).title == "Floods recede {sic}"
