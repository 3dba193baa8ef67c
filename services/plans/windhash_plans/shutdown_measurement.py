"""Measuring a plan's shutdown from `miner_telemetry` (the readings the fleet's writer stores), through the
pure rules of `domain.power_measurement`: gathering each miner's readings before the plan started and after
its sleep command, and telling when there is enough to measure."""

from collections.abc import Sequence
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
    by_miner: dict[int, list[tuple[datetime, float]]] = {}
    for row in rows:
        by_miner.setdefault(row["miner_id"], []).append((row["recorded_at"], row["power_w"]))
    powers = []
    for miner in miners:
        readings = by_miner.get(miner.miner_id, [])
        before = [power for at, power in readings if at < started_at]
        after = [power for at, power in readings if at >= miner.slept_at + windows.settle]
        powers.append(MinerPower(miner.serial, before, after))
    every_one_read = all(power.after_w for power in powers)
    waited = now >= max(miner.slept_at for miner in miners) + windows.settle + windows.timeout
    return Gathered(tuple(powers), every_one_read or waited)
