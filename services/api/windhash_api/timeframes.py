"""The span of settlement dates a request asks about: a day, a month, a year or an explicit range.

Every timeframe-based route takes `/{timeframe}/{value}`, e.g. `daily/2024-03-15`, `monthly/2024-03`,
`yearly/2024` or `range/2024-03-01..2024-04-30`. Parsing is strict; every refusal says what to send instead.
Dates outside the settlement window (before the first settlement date, after tomorrow) are refused by the
one rule every CLI range uses too (windhash_common.settlement_range); a month or a year is answered when any
of its days lies in the window.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from windhash_common.settlement_range import SettlementRangeError, check_settlement_range

from windhash_api.errors import InvalidParameter

_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_YEAR = re.compile(r"^([0-9]{4})$")


class TimeframeKind(StrEnum):
    daily = "daily"
    monthly = "monthly"
    yearly = "yearly"
    range = "range"


EXAMPLES = {
    TimeframeKind.daily: "2024-03-15",
    TimeframeKind.monthly: "2024-03",
    TimeframeKind.yearly: "2024",
    TimeframeKind.range: "2024-03-01..2024-04-30",
}


@dataclass(frozen=True)
class Timeframe:
    kind: TimeframeKind
    label: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def in_settlement_window(first: date, last: date, max_days: int | None = None, partial: bool = False) -> None:
    """The API's use of the one settlement-window rule (windhash_common.settlement_range): a refusal is a
    422 whose hint says which dates exist."""
    try:
        check_settlement_range(first, last, max_days=max_days, partial=partial)
    except SettlementRangeError as refusal:
        message, _, hint = str(refusal).partition("; ")
        raise InvalidParameter(message, hint or None) from None


def _calendar_day(text: str) -> date:
    match = _DAY.match(text)
    if not match:
        raise InvalidParameter(f"{text!r} is not a date", "send a date as YYYY-MM-DD, e.g. 2024-03-15")
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidParameter(
            f"{text!r} is not a calendar date ({exc})", "send an existing date as YYYY-MM-DD, e.g. 2024-03-15"
        ) from exc


def parse_day(text: str) -> date:
    """A settlement date, YYYY-MM-DD, within the settlement window."""
    day = _calendar_day(text)
    in_settlement_window(day, day)
    return day


def parse_month(text: str) -> date:
    match = _MONTH.match(text)
    if not match:
        raise InvalidParameter(f"{text!r} is not a month", "send a month as YYYY-MM, e.g. 2024-03")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidParameter(f"month {month} in {text!r} does not exist", "send a month from 01 to 12")
    if year < 1:
        raise InvalidParameter(f"year {year} in {text!r} does not exist", "send a year from 0001")
    return date(year, month, 1)


def parse_year(text: str) -> int:
    if not _YEAR.match(text):
        raise InvalidParameter(f"{text!r} is not a year", "send a four-digit year, e.g. 2024")
    year = int(text)
    if year < 1:
        raise InvalidParameter(f"year {year} does not exist", "send a four-digit year, e.g. 2024")
    return year


def month_end(first: date) -> date:
    if first.month == 12:  # computed as the day before the next month, December of 9999 would overflow
        return first.replace(day=31)
    return first.replace(month=first.month + 1) - timedelta(days=1)


def _parse_range(text: str, max_days: int) -> Timeframe:
    start_text, separator, end_text = text.partition("..")
    if not separator:
        raise InvalidParameter(
            f"{text!r} is not a date range", "send a range as FIRST..LAST, e.g. 2024-03-01..2024-04-30"
        )
    first, last = _calendar_day(start_text), _calendar_day(end_text)
    if last < first:
        raise InvalidParameter(f"range {text!r} ends before it starts", "send FIRST..LAST with FIRST <= LAST")
    span = Timeframe(TimeframeKind.range, text, first, last)
    if span.days > max_days:
        raise InvalidParameter(
            f"range {text!r} covers {span.days} days, more than the {max_days} one request may cover",
            f"send a range of at most {max_days} days, or ask for yearly/YYYY totals one year at a time",
        )
    in_settlement_window(first, last)
    return span


def parse_timeframe(kind: TimeframeKind, value: str, max_days: int) -> Timeframe:
    if kind is TimeframeKind.daily:
        day = parse_day(value)
        return Timeframe(kind, day.isoformat(), day, day)
    if kind is TimeframeKind.monthly:
        first = parse_month(value)
        span = Timeframe(kind, first.isoformat()[:7], first, month_end(first))
    elif kind is TimeframeKind.yearly:
        year = parse_year(value)
        span = Timeframe(kind, str(year), date(year, 1, 1), date(year, 12, 31))
    else:
        return _parse_range(value, max_days)
    # A whole month or year is answered when part of it can hold data (this month, this year, 2001).
    in_settlement_window(span.first, span.last, partial=True)
    return span
