"""Every date form list-by-date accepts, and the errors for the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarc.reading.dates import DateSpan, parse_day, parse_month_day, parse_when
from newsarc.errors import BadDate

TODAY = dt.date(2026, 11, 25)  # a Wednesday
D = dt.date


@pytest.mark.parametrize(
    "expr, start, end, granularity",
    [
        ("2017-08-13", D(2017, 8, 13), D(2017, 8, 13), "day"),
        ("2017-8-3", D(2017, 8, 3), D(2017, 8, 3), "day"),
        ("2017/08/13", D(2017, 8, 13), D(2017, 8, 13), "day"),
        ("2017-08", D(2017, 8, 1), D(2017, 8, 31), "month"),
        ("2016-02", D(2016, 2, 1), D(2016, 2, 29), "month"),
        ("2017", D(2017, 1, 1), D(2017, 12, 31), "year"),
        ("Aug 2017", D(2017, 8, 1), D(2017, 8, 31), "month"),
        ("August 2017", D(2017, 8, 1), D(2017, 8, 31), "month"),
        ("13 August 2017", D(2017, 8, 13), D(2017, 8, 13), "day"),
        ("September 4, 2015", D(2015, 9, 4), D(2015, 9, 4), "day"),
        ("  SEPTEMBER   4, 2015 ", D(2015, 9, 4), D(2015, 9, 4), "day"),
        ("2017-08-01..2017-08-31", D(2017, 8, 1), D(2017, 8, 31), "range"),
        ("2017-08..2017-09", D(2017, 8, 1), D(2017, 9, 30), "range"),
        ("2017..", D(2017, 1, 1), None, "range"),
        ("..2017-08", None, D(2017, 8, 31), "range"),
        ("today", TODAY, TODAY, "day"),
        ("yesterday", D(2026, 11, 24), D(2026, 11, 24), "day"),
        ("3 days ago", D(2026, 11, 22), D(2026, 11, 22), "day"),
        ("1 week ago", D(2026, 11, 18), D(2026, 11, 18), "day"),
        ("2 months ago", D(2026, 9, 25), D(2026, 9, 25), "day"),
        ("last week", D(2026, 11, 16), D(2026, 11, 22), "range"),
        ("this week", D(2026, 11, 23), D(2026, 11, 29), "range"),
        ("last month", D(2026, 10, 1), D(2026, 10, 31), "month"),
        ("this year", D(2026, 1, 1), D(2026, 12, 31), "year"),
        ("last 7 days", D(2026, 11, 19), TODAY, "range"),
        ("yesterday..today", D(2026, 11, 24), TODAY, "range"),
    ],
)
def test_accepted_forms(expr, start, end, granularity):
    assert parse_when(expr, TODAY) == DateSpan(start, end, granularity)


@pytest.mark.parametrize(
    "expr, fragment",
    [
        ("2017-02-30", "is not a real date"),
        ("2017-13", "is not a real date"),
        ("0000-01-01", "is not a real date"),
        ("Aug 13", "has no four-digit year"),
        ("banana", "has no four-digit year"),
        ("2017-09..2017-08", "ends before it starts"),
        ("", "empty date"),
        ("soonish 2017", "cannot read"),
    ],
)
def test_rejected_forms_say_what_is_accepted(expr, fragment):
    with pytest.raises(BadDate) as info:
        parse_when(expr, TODAY)
    assert fragment in info.value.message


def test_month_ago_clamps_to_month_end():
    assert parse_when("1 month ago", D(2017, 3, 31)).start == D(2017, 2, 28)


def test_parse_day_and_month_day():
    assert parse_day("2017-08-13") == D(2017, 8, 13)
    assert parse_day("2017-08") is None
    assert parse_day("2017-02-30") is None
    assert parse_month_day("08-13") == (8, 13)
    assert parse_month_day("02-29") == (2, 29)
    with pytest.raises(BadDate):
        parse_month_day("02-30")


days = st.dates(min_value=D(1000, 1, 1), max_value=D(9999, 12, 31))


@settings(max_examples=300)
@given(days)
def test_iso_day_round_trips(day):
    span = parse_when(day.isoformat(), TODAY)
    assert (span.start, span.end, str(span)) == (day, day, day.isoformat())


@settings(max_examples=200)
@given(days)
def test_spelled_day_round_trips(day):
    assert parse_when(day.strftime("%d %B %Y"), TODAY).start == day
    assert parse_when(day.strftime("%B %-d, %Y"), TODAY).start == day


@settings(max_examples=200)
@given(days)
def test_month_round_trips_and_contains_its_days(day):
    span = parse_when(day.strftime("%Y-%m"), TODAY)
    assert day in span and str(span) == day.strftime("%Y-%m")
    assert parse_when(day.strftime("%b %Y"), TODAY) == span


@settings(max_examples=200)
@given(days, days)
def test_ranges_are_inclusive(a, b):
    lo, hi = min(a, b), max(a, b)
    span = parse_when(f"{lo}..{hi}", TODAY)
    assert lo in span and hi in span
    assert parse_when(str(span), TODAY) == span


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=3000))
def test_days_ago(n):
    assert parse_when(f"{n} days ago", TODAY).start == TODAY - dt.timedelta(days=n)


def test_window_spans_whole_expressions():
    from newsarc.reading.dates import window

    assert window(None, None) is None
    assert window("2016", "2017-02") == DateSpan(D(2016, 1, 1), D(2017, 2, 28))
    assert window("2016-04-05", None) == DateSpan(D(2016, 4, 5), None)
    with pytest.raises(BadDate, match="is after"):
        window("2017", "2016")
