"""When each miner of a plan gets its command (pure): shutdowns staggered in shutdown order, recoveries
staggered in the reverse order.

A site does not take a step change of megawatts at once: neither its supply (a sudden drop looks like a
fault to the grid connection's protection) nor, on the way back, its cooling and breakers (a whole site's
inrush). So the i-th miner (from 0) of a shutdown is due at start + i × stagger, and the i-th miner of a
recovery, counted from the last one shut down, at start + i × stagger.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Command = Literal["sleep", "wakeup"]


@dataclass(frozen=True)
class ScheduledCommand:
    miner_id: int
    command: Command
    sequence: int
    """1-based position among the plan's commands of this kind (and round)."""
    due_at: datetime


def shutdown_schedule(
    miners_in_shutdown_order: Sequence[int], start: datetime, stagger: timedelta
) -> list[ScheduledCommand]:
    return [
        ScheduledCommand(miner_id, "sleep", index + 1, start + index * stagger)
        for index, miner_id in enumerate(miners_in_shutdown_order)
    ]


def recovery_schedule(
    miners_in_shutdown_order: Sequence[int], start: datetime, stagger: timedelta
) -> list[ScheduledCommand]:
    """The miners to wake, last shut down first."""
    return [
        ScheduledCommand(miner_id, "wakeup", index + 1, start + index * stagger)
        for index, miner_id in enumerate(reversed(miners_in_shutdown_order))
    ]


def next_send_at(due_at: datetime, last_sent_at: datetime | None, stagger: timedelta) -> datetime:
    """When a command may go: at its due time, and never sooner than `stagger` after the plan's previous
    command of the same kind (after an outage, overdue commands still go out one stagger apart)."""
    if last_sent_at is None:
        return due_at
    return max(due_at, last_sent_at + stagger)
