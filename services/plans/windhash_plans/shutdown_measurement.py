"""Measuring a plan's shutdown from `miner_telemetry` (the readings the fleet's writer stores), through the
pure rules of `domain.power_measurement`: gathering each miner's readings before the plan started and after
its sleep command, and telling when there is enough to measure.

"Before" counts only readings of the miner awake: a miner an earlier plan slept inside the window would
otherwise lower its power before, understate the reduction and could fail a plan that did its job."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from windhash_plans.domain.power_measurement import MinerPower
from windhash_plans.queries import telemetry as queries


@dataclass(frozen=True)
class SleptMiner:
    miner_id: int
    serial: str
    slept_at: datetime
    """When its sleep command was confirmed."""


@dataclass(frozen=True)
class Windows:
    before: timedelta
    settle: timedelta
    timeout: timedelta


@dataclass(frozen=True)
class Gathered:
    powers: tuple[MinerPower, ...]
    complete: bool
    """Every miner has a reading after its sleep, or the wait for them is over."""


@dataclass(frozen=True)
class Reading:
    recorded_at: datetime
    power_w: float
    sleeping: bool


def miner_powers(
    readings: Mapping[int, Sequence[Reading]],
    miners: Sequence[SleptMiner],
    started_at: datetime,
    settle: timedelta,
) -> list[MinerPower]:
    """Each miner's power before the plan (its awake readings before `started_at`) and after its sleep
    (readings from `settle` after its sleep command)."""
    powers = []
    for miner in miners:
        own = readings.get(miner.miner_id, ())
        before = [r.power_w for r in own if r.recorded_at < started_at and not r.sleeping]
        after = [r.power_w for r in own if r.recorded_at >= miner.slept_at + settle]
        powers.append(MinerPower(miner.serial, before, after))
    return powers


async def gather(
    connection: asyncpg.Connection,
    miners: Sequence[SleptMiner],
    started_at: datetime,
    windows: Windows,
    now: datetime,
) -> Gathered:
    rows = await connection.fetch(
        queries.READINGS_SINCE, [miner.miner_id for miner in miners], started_at - windows.before, now
    )
    by_miner: dict[int, list[Reading]] = {}
    for row in rows:
        reading = Reading(row["recorded_at"], row["power_w"], row["sleeping"])
        by_miner.setdefault(row["miner_id"], []).append(reading)
    powers = miner_powers(by_miner, miners, started_at, windows.settle)
    every_one_read = all(power.after_w for power in powers)
    waited = now >= max(miner.slept_at for miner in miners) + windows.settle + windows.timeout
    return Gathered(tuple(powers), every_one_read or waited)
