"""Which stretch of the snapshot series a request reads, at which resolution: parsed and bounded once, pure.

A range is half-open, [start, end), in UTC, widened to whole buckets of its resolution (buckets start at
multiples of their length from 00:00 UTC, as slots do). A missing end is now; a missing start is the
resolution's default span before the end. Each resolution has a longest span, so one request reads at most a
few thousand buckets; a longer span is refused with the resolution that can answer it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

EARLIEST = datetime(2009, 1, 3, tzinfo=UTC)  # the genesis block: no market data before it
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
BUCKET_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


class Resolution(StrEnum):
    quarter_hour = "15min"
    hour = "hour"
    day = "day"


BUCKET = {
    Resolution.quarter_hour: timedelta(minutes=15),
    Resolution.hour: timedelta(hours=1),
    Resolution.day: timedelta(days=1),
}
MAX_SPAN = {
    Resolution.quarter_hour: timedelta(days=31),
    Resolution.hour: timedelta(days=366),
    Resolution.day: timedelta(days=3660),
}
DEFAULT_SPAN = {
    Resolution.quarter_hour: timedelta(days=1),
    Resolution.hour: timedelta(days=7),
    Resolution.day: timedelta(days=365),
}


class InvalidRange(ValueError):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class SeriesRange:
    start: datetime
    end: datetime
    resolution: Resolution

    @property
    def bucket(self) -> timedelta:
        return BUCKET[self.resolution]


def bucket_start(at: datetime, bucket: timedelta) -> datetime:
    return at - (at - BUCKET_ORIGIN) % bucket


def series_range(
    start: datetime | None, end: datetime | None, resolution: Resolution, now: datetime
) -> SeriesRange:
    """The whole buckets covering [start, end), or InvalidRange saying what to ask instead."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not EARLIEST <= value < LATEST:
            raise InvalidRange(
                f"{name} {value.isoformat()} is outside the market's history",
                f"give a time from {EARLIEST.date()} on, with its UTC offset",
            )
    last = (end or now).astimezone(UTC)
    first = (start or max(last - DEFAULT_SPAN[resolution], EARLIEST)).astimezone(UTC)
    if first >= last:
        raise InvalidRange("start must be before end", "give start < end (the range is [start, end))")
    if last - first > MAX_SPAN[resolution]:
        coarser = [r for r in Resolution if MAX_SPAN[r] >= last - first]
        suggestion = f"resolution={coarser[0]}" if coarser else "a shorter range"
        raise InvalidRange(
            f"a range of {(last - first).days} days is too long at resolution {resolution}"
            f" (at most {MAX_SPAN[resolution].days} days)",
            f"ask for {suggestion}, or a range of at most {MAX_SPAN[resolution].days} days",
        )
    bucket = BUCKET[resolution]
    aligned_end = bucket_start(last, bucket)
    if aligned_end < last:
        aligned_end += bucket
    return SeriesRange(bucket_start(first, bucket), aligned_end, resolution)
