"""A site's miners as candidates for a plan (`domain.miner_choice`): their status, client, model nameplate and
newest reading (when it is recent and the miner was hashing), and the site's client minimums."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import asyncpg

from windhash_plans.domain.miner_choice import Candidate, MinerChoice, choose_miners
from windhash_plans.queries import telemetry as queries

READING_MAX_AGE = timedelta(minutes=10)


@dataclass(frozen=True)
class SiteMiners:
    candidates: tuple[Candidate, ...]
    client_minimums: dict[UUID, int]

    def of_model(self, model: str) -> "SiteMiners":
        return SiteMiners(tuple(c for c in self.candidates if c.model == model), self.client_minimums)

    def choose(self, target_mw: Decimal) -> MinerChoice:
        return choose_miners(self.candidates, target_mw, self.client_minimums)

    def choose_all(self) -> MinerChoice | None:
        """Every miner the rules let a plan take (None when there is none)."""
        total = sum((c.drawing_w for c in self.candidates if c.status == "active"), Decimal(0))
        return None if total == 0 else self.choose(total / Decimal(1_000_000))


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def site_miners(connection: asyncpg.Connection, site_id: int, now: datetime) -> SiteMiners:
    rows = await connection.fetch(queries.SITE_CANDIDATES, site_id, now - READING_MAX_AGE)
    candidates = tuple(
        Candidate(
            miner_id=row["miner_id"],
            serial=row["serial_number"],
            model=row["miner_model"],
            status=row["status"],
            client_id=row["client_id"],
            nameplate_power_w=row["nameplate_power_w"],
            nameplate_hashrate_ths=row["nameplate_hashrate_ths"],
            power_w=_decimal(row["power_w"]),
            hashrate_ths=_decimal(row["hashrate_ths"]),
            temperature_c=_decimal(row["temperature_c"]),
        )
        for row in rows
    )
    minimums = {
        row["client_id"]: row["min_running_miners"]
        for row in await connection.fetch(queries.CLIENT_MINIMUMS, site_id)
    }
    return SiteMiners(candidates, minimums)
