"""The one check of a span of settlement dates that someone asked for: every CLI range and every date the
API takes goes through `check_settlement_range` (or `check_settlement_date`, the same for one day).

Settlement data exists from `FIRST_SETTLEMENT_DATE`, the first settlement day of the Balancing Mechanism
(NETA went live on 27 March 2001), to tomorrow: Elexon publishes the next settlement day's periods as they
end, so nothing later can hold data. A span outside that window is refused with one sentence that says which
end is wrong and what is allowed, never scanned. A span may also be capped in length (`max_days`).

Long spans are processed in chunks (`date_chunks`), so that memory stays bounded however many years a
caller asks for.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from windhash_common.settlement_calendar import settlement_date_of

FIRST_SETTLEMENT_DATE = date(2001, 3, 27)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class SettlementRangeError(ValueError):
    """A span of dates windhash refuses; the message is one sentence saying why and what to send instead."""


@dataclass(frozen=True)
class SettlementRange:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def latest_settlement_date(now: datetime | None = None) -> date:
    """Tomorrow's settlement date (Europe/London): the last date that can hold settlement data."""
    return settlement_date_of(now or datetime.now(UTC)) + timedelta(days=1)


def check_settlement_range(
    first: date,
    last: date,
    *,
    now: datetime | None = None,
    max_days: int | None = None,
    partial: bool = False,
) -> SettlementRange:
    """`first..last` (both included) when it lies between the first settlement date and tomorrow, starts
    no later than it ends and spans at most `max_days`; SettlementRangeError otherwise.

    With `partial` (a calendar month or year asked for as a whole), the span need only overlap that window:
    `yearly/2001` and the current month are answered for the days that can hold data."""
    latest = latest_settlement_date(now)
    if first > last:
        raise SettlementRangeError(f"the range starts ({first}) after it ends ({last}); send FIRST <= LAST")
    early, late = (last, first) if partial else (first, last)
    if early < FIRST_SETTLEMENT_DATE:
        raise SettlementRangeError(
            f"{early} is before {FIRST_SETTLEMENT_DATE}, the first settlement date; "
            f"send dates from {FIRST_SETTLEMENT_DATE} to {latest}"
        )
    if late > latest:
        raise SettlementRangeError(
            f"{late} is after tomorrow ({latest}), so no settlement data can exist for it; "
            f"send dates from {FIRST_SETTLEMENT_DATE} to {latest}"
        )
    span = SettlementRange(first, last)
    if max_days is not None and span.days > max_days:
        raise SettlementRangeError(
            f"{first}..{last} covers {span.days} days, more than the {max_days} allowed; send a shorter range"
        )
    return span


def check_settlement_date(day: date, *, now: datetime | None = None) -> date:
    """`day` when it lies between the first settlement date and tomorrow; SettlementRangeError otherwise."""
    check_settlement_range(day, day, now=now)
    return day


def parse_iso_date(text: str, what: str = "date") -> date:
    """A YYYY-MM-DD date typed by a person; SettlementRangeError (one sentence) for anything else,
    impossible dates (2024-02-30) included."""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise SettlementRangeError(
            f"{what} {text!r} is not a calendar date; send YYYY-MM-DD, e.g. 2024-03-15"
        ) from None


def date_chunks(first: date, last: date, days: int) -> Iterator[SettlementRange]:
    """`first..last` cut into consecutive spans of at most `days` days, in order."""
    if days < 1:
        raise ValueError(f"a chunk holds at least one day, got {days}")
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=days - 1))
        yield SettlementRange(start, end)
        start = end + timedelta(days=1)
