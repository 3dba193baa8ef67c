"""The span of settlement dates a request asks about: a day, a month, a year or an explicit range.

Every timeframe-based route takes `/{timeframe}/{value}`, e.g. `daily/2024-03-15`, `monthly/2024-03`,
`yearly/2024` or `range/2024-03-01..2024-04-30`. Parsing is strict; every refusal says what to send instead.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from windhash_api.errors import InvalidParameter

FIRST_YEAR = 2000
LAST_YEAR = 2099
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


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


def _check_year(year: int, text: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidParameter(
            f"year {year} in {text!r} is outside the years windhash serves",
            f"send a year from {FIRST_YEAR} to {LAST_YEAR}",
        )


def parse_day(text: str) -> date:
    match = _DAY.match(text)
    if not match:
        raise InvalidParameter(f"{text!r} is not a date", "send a date as YYYY-MM-DD, e.g. 2024-03-15")
    year, month, day = (int(part) for part in match.groups())
    _check_year(year, text)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidParameter(
            f"{text!r} is not a calendar date ({exc})", "send an existing date as YYYY-MM-DD, e.g. 2024-03-15"
        ) from exc


def parse_month(text: str) -> date:
    match = _MONTH.match(text)
    if not match:
        raise InvalidParameter(f"{text!r} is not a month", "send a month as YYYY-MM, e.g. 2024-03")
    year, month = int(match.group(1)), int(match.group(2))
    _check_year(year, text)
    if not 1 <= month <= 12:
        raise InvalidParameter(f"month {month} in {text!r} does not exist", "send a month from 01 to 12")
    return date(year, month, 1)


def parse_year(text: str) -> int:
    if not _YEAR.match(text):
        raise InvalidParameter(f"{text!r} is not a year", "send a four-digit year, e.g. 2024")
    year = int(text)
    _check_year(year, text)
    return year


def month_end(first: date) -> date:
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _parse_range(text: str, max_days: int) -> Timeframe:
    start_text, separator, end_text = text.partition("..")
    if not separator:
        raise InvalidParameter(
            f"{text!r} is not a date range", "send a range as FIRST..LAST, e.g. 2024-03-01..2024-04-30"
        )
    first, last = parse_day(start_text), parse_day(end_text)
    if last < first:
        raise InvalidParameter(f"range {text!r} ends before it starts", "send FIRST..LAST with FIRST <= LAST")
    span = Timeframe(TimeframeKind.range, text, first, last)
    if span.days > max_days:
        raise InvalidParameter(
            f"range {text!r} covers {span.days} days, more than the {max_days} one request may cover",
            f"send a range of at most {max_days} days, or ask for yearly/YYYY totals one year at a time",
        )
    return span


def parse_timeframe(kind: TimeframeKind, value: str, max_days: int) -> Timeframe:
    if kind is TimeframeKind.daily:
        day = parse_day(value)
        return Timeframe(kind, day.isoformat(), day, day)
    if kind is TimeframeKind.monthly:
        first = parse_month(value)
        return Timeframe(kind, first.isoformat()[:7], first, month_end(first))
    if kind is TimeframeKind.yearly:
        year = parse_year(value)
        return Timeframe(kind, str(year), date(year, 1, 1), date(year, 12, 31))
    return _parse_range(value, max_days)
