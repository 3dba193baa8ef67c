"""Which telemetry readings the writer keeps (pure; the writer applies it, see `telemetry_writer.py`).

The event schema (`windhash_common.events_fleet`) already refused what no reading can be: NaN, negative,
mistyped or absurd values. What is left to judge needs the system's state:
- the miner must be registered (its serial known to `hosting_miners`): `unknown_miner`;
- the reading must be newer than the retention period (its UTC day's partition is, or will be, dropped):
  `past_retention`;
- it cannot come from the future: the collector stamps a reading when the reply arrives, so a time ahead of
  the writer's clock by more than the allowed skew is a broken clock: `in_future`.
Each refusal becomes a dead letter with its reason; the rest of the batch is written.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from windhash_common.dead_letters import Rejection
from windhash_common.events_fleet import MinerTelemetryEvent


@dataclass(frozen=True)
class KeepWindow:
    """Readings of UTC days from `first_day` on, recorded no later than `latest`."""

    first_day: date
    latest: datetime

    @classmethod
    def at(cls, now: datetime, retention_days: int, clock_skew: timedelta) -> "KeepWindow":
        """The partitions of days before today − retention are dropped (telemetry_partitions), so that day
        is the first one kept."""
        today = now.astimezone(UTC).date()
        return cls(today - timedelta(days=retention_days), now + clock_skew)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def judge(event: MinerTelemetryEvent, day: date, known: bool, window: KeepWindow) -> Rejection | None:
    """None to keep the reading (of UTC day `day`), or why not."""
    if not known:
        return Rejection("unknown_miner", f"no miner with serial {event.miner_serial} is registered")
    if day < window.first_day:
        return Rejection(
            "past_retention",
            f"recorded {event.recorded_at.isoformat()}, before {window.first_day} (the oldest day kept)",
        )
    if event.recorded_at > window.latest:
        return Rejection(
            "in_future",
            f"recorded {event.recorded_at.isoformat()}, after {window.latest.isoformat()} (the writer's clock"
            " plus the allowed skew): the collector's clock is wrong",
        )
    return None
