"""Date expressions people type, and dates read from files and folders.

`parse_when` turns "2017-08", "Aug 2017", "13 August 2017", "last week",
"3 days ago" or "2017-08-01..2017-09" into an inclusive `DateSpan`. ISO forms
and the relative grammar are handled here; other spellings go to dateutil,
imported only then because it costs start-up time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from newsarc.errors import BadDate

FORMS = (
    "2017-08-13, 2017-08, 2017, 'Aug 2017', '13 August 2017', 'September 4, 2015', "
    "a range like 2017-08-01..2017-08-31 (either end may be left open), "
    "or today, yesterday, 'last week', 'this month', '3 days ago', 'last 10 days'"
)

_ISO = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")
_AGO = re.compile(r"^(\d+)\s+(day|week|month|year)s?\s+ago$")
_LAST_N = re.compile(r"^(?:last|past)\s+(\d+)\s+(day|week|month|year)s?$")
_NAMED = re.compile(r"^(this|last|next)\s+(week|month|year)$")
_YEAR_PART = re.compile(r"(?<![\d:])\d{4}(?![\d:])")
_MONTH_DAY = re.compile(r"^([0-9]{1,2})[-/]([0-9]{1,2})$")


@dataclass(frozen=True, slots=True)
class DateSpan:
    """Inclusive range of days; None means open on that side."""

    start: dt.date | None
    end: dt.date | None
    granularity: str = "range"  # "day", "month", "year" or "range"

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, dt.date):
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        if self.granularity == "day" and self.start:
            return self.start.isoformat()
        if self.granularity == "month" and self.start:
            return self.start.strftime("%Y-%m")
        if self.granularity == "year" and self.start:
            return str(self.start.year)
        left = self.start.isoformat() if self.start else ""
        right = self.end.isoformat() if self.end else ""
        return f"{left}..{right}"


def parse_when(expr: str, today: dt.date | None = None) -> DateSpan:
    """Parse a day, month, year, range or relative expression; raise BadDate."""
    today = today or dt.date.today()
    text = " ".join(expr.strip().lower().split())
    if ".." in text:
        left, _, right = text.partition("..")
        if not left.strip() and not right.strip():
            raise BadDate(f"the range '{expr}' has neither end; give at least one end: 2017.. or ..2016-04")
        start = parse_when(left, today).start if left.strip() else None
        end = parse_when(right, today).end if right.strip() else None
        if start and end and start > end:
            raise BadDate(f"the range '{expr}' ends before it starts; put the earlier date first")
        return DateSpan(start, end)
    if not text:
        raise BadDate(f"empty date; use {FORMS}")
    try:
        relative = _relative(text, today)
    except OverflowError:  # "3000000 days ago", "tomorrow" on 9999-12-31
        raise BadDate(f"'{expr}' falls outside the years 1 to 9999; use {FORMS}") from None
    return relative or _iso(text, expr) or _spelled(expr)


def span_of(start: dt.date | None, end: dt.date | None) -> DateSpan:
    """Build a range from --from/--to values; same validation as a written range."""
    if start and end and start > end:
        raise BadDate(f"--from {start} is after --to {end}; swap them")
    return DateSpan(start, end)


def window(start: str | None, end: str | None, today: dt.date | None = None) -> DateSpan | None:
    """--from/--to as one inclusive span (from the start of one expression to
    the end of the other: --from 2016 --to 2017 is two whole years), or None."""
    if not (start or end):
        return None
    first = parse_when(start, today).start if start else None
    last = parse_when(end, today).end if end else None
    return span_of(first, last)


def _day(year: int, month: int, day: int, expr: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise BadDate(f"'{expr}' is not a real date ({exc}); use {FORMS}") from None


def _month_span(year: int, month: int, expr: str) -> DateSpan:
    first = _day(year, month, 1, expr)
    last = first.replace(day=calendar.monthrange(year, month)[1])
    return DateSpan(first, last, "month")


def _year_span(year: int, expr: str) -> DateSpan:
    return DateSpan(_day(year, 1, 1, expr), _day(year, 12, 31, expr), "year")


def _iso(text: str, expr: str) -> DateSpan | None:
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day = match.groups()
    if day:
        found = _day(int(year), int(month), int(day), expr)
        return DateSpan(found, found, "day")
    if month:
        return _month_span(int(year), int(month), expr)
    return _year_span(int(year), expr)


def _shift(day: dt.date, unit: str, n: int) -> dt.date:
    """Move back n units; months and years clamp to the month's last day."""
    if unit == "day":
        return day - dt.timedelta(days=n)
    if unit == "week":
        return day - dt.timedelta(weeks=n)
    months = n * (12 if unit == "year" else 1)
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        raise BadDate(f"that is before year 1; use {FORMS}")
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _relative(text: str, today: dt.date) -> DateSpan | None:
    if text in ("today", "now"):
        return DateSpan(today, today, "day")
    if text == "yesterday":
        day = today - dt.timedelta(days=1)
        return DateSpan(day, day, "day")
    if text == "tomorrow":
        day = today + dt.timedelta(days=1)
        return DateSpan(day, day, "day")
    if match := _AGO.match(text):
        day = _shift(today, match.group(2), int(match.group(1)))
        return DateSpan(day, day, "day")
    if match := _LAST_N.match(text):
        n = int(match.group(1))
        if n < 1:
            raise BadDate(f"'{text}' covers no days; use a number of at least 1")
        start = _shift(today, match.group(2), n) + dt.timedelta(days=1)
        return DateSpan(start, today)
    if match := _NAMED.match(text):
        return _named(match.group(1), match.group(2), today)
    return None


def _named(which: str, unit: str, today: dt.date) -> DateSpan:
    step = {"this": 0, "last": -1, "next": 1}[which]
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=step)
        return DateSpan(monday, monday + dt.timedelta(days=6))
    if unit == "month":
        index = today.year * 12 + today.month - 1 + step
        year, month = divmod(index, 12)
        return _month_span(year, month + 1, f"{which} month")
    return _year_span(today.year + step, f"{which} year")


def _spelled(expr: str) -> DateSpan:
    """'Aug 2017', '13 August 2017', 'September 4, 2015' via dateutil.

    Parsing twice with different defaults tells which fields were written,
    and so whether the user meant a day, a month or a year.
    """
    from dateutil import parser as dateparser

    if not _YEAR_PART.search(expr):
        raise BadDate(f"'{expr}' has no four-digit year; use {FORMS} (for a day in every year: --on-this-day)")
    try:
        first = dateparser.parse(expr, default=dt.datetime(2000, 1, 1))
        second = dateparser.parse(expr, default=dt.datetime(2004, 2, 2))
    except (ValueError, OverflowError) as exc:
        reason = str(exc).split(":")[0]
        raise BadDate(f"cannot read '{expr}' as a date ({reason}); use {FORMS}") from None
    if first.year != second.year:
        raise BadDate(f"'{expr}' has no year; use {FORMS}")
    if first.month != second.month:
        if first.day != second.day:
            return _year_span(first.year, expr)
        raise BadDate(f"'{expr}' names a day but no month; use {FORMS}")
    if first.day != second.day:
        return _month_span(first.year, first.month, expr)
    day = first.date()
    return DateSpan(day, day, "day")


def parse_day(text: str) -> dt.date | None:
    """A single exact day, as in a date line; None when it is not one."""
    text = text.strip()
    match = _ISO.match(text)
    if match and match.group(3):
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            return None
    if not text or match:
        return None
    try:
        span = _spelled(text)
    except BadDate:
        return None
    return span.start if span.granularity == "day" else None


def coerce_day(value: object) -> dt.date | None:
    """A front matter `date`: YAML gives a date, a datetime or a string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_day(value)
    return None


def date_from_parts(parts: list[str]) -> dt.date | None:
    """The day a `.../YYYY/MM/D/...` folder names; days padded or not."""
    for i in range(len(parts) - 2):
        year, month, day = parts[i : i + 3]
        if len(year) == 4 and year.isdigit() and month.isdigit() and day.isdigit() and len(month) <= 2 and len(day) <= 2:
            try:
                return dt.date(int(year), int(month), int(day))
            except ValueError:
                return None
    return None


def date_from_path(path: str) -> dt.date | None:
    return date_from_parts(path.split("/")[:-1])


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")  # English whatever the locale: what the archive's pages are written in
_NAME = r"([a-z]+)\.?"
_DAY = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_NAME_DAY = re.compile(rf"^{_NAME},?\s*{_DAY}$")  # Aug 13, August 13th, Aug. 13
_DAY_NAME = re.compile(rf"^{_DAY}\s*(?:of\s+)?{_NAME}$")  # 13 August, 13th of Aug
MONTH_DAY_FORMS = "MM-DD such as 08-13, or a month and a day such as 'Aug 13' or '13 August'"


def parse_month_day(text: str) -> tuple[int, int]:
    """`--on-this-day` takes MM-DD, or a month's name with a day; Feb 29 is allowed.

    Nothing else: dateutil read '99', '2017' and '5' with its defaults and
    answered for January 1st. A calendar day needs both a month and a day."""
    written = " ".join(text.strip().lower().split())
    month, day = _month_and_day(written)
    if month is None:
        raise BadDate(f"cannot read '{text}' as a calendar day; use {MONTH_DAY_FORMS}")
    if not 1 <= month <= 12:
        raise BadDate(f"'{text}' is not a calendar day: {month} is not a month; use {MONTH_DAY_FORMS}")
    try:
        dt.date(2000, month, day)  # a leap year admits every real calendar day
    except ValueError:
        raise BadDate(f"'{text}' is not a calendar day: {_MONTHS[month - 1].title()} has no day {day}; use {MONTH_DAY_FORMS}") from None
    return month, day


def _month_and_day(text: str) -> tuple[int | None, int]:
    """(month, day) as written (either may be out of range), (None, 0) when it is no accepted form."""
    if match := _MONTH_DAY.match(text):
        return int(match.group(1)), int(match.group(2))
    if match := _NAME_DAY.match(text):
        name, day = match.groups()
    elif match := _DAY_NAME.match(text):
        day, name = match.groups()
    else:
        return None, 0
    month = _month_named(name)
    return (month, int(day)) if month else (None, 0)


def _month_named(name: str) -> int | None:
    """1-12 for a month's English name or an abbreviation of at least three letters (Sept too)."""
    if len(name) >= 3:
        for number, full in enumerate(_MONTHS, 1):
            if full.startswith(name):
                return number
    return None
