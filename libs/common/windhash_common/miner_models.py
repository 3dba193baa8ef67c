"""ASIC miner models as data: what the calculator multiplies every curtailment record by.

A model is calculated for every record while it is `active`. Its efficiency (J/TH) is derived by the database
(`power_w / hashrate_ths`), so it can never disagree with the two specs it comes from.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg


@dataclass(frozen=True)
class MinerModel:
    name: str
    manufacturer: str
    hashrate_ths: Decimal
    power_w: Decimal
    release_date: date | None = None
    active: bool = True
    msrp_usd: Decimal | None = None  # launch price; None when unknown, never a guess

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a miner model needs a name")
        if self.hashrate_ths <= 0 or self.power_w <= 0:
            raise ValueError(f"{self.name}: hashrate and power must be positive")
        if self.msrp_usd is not None and self.msrp_usd < 0:
            raise ValueError(f"{self.name}: a price cannot be negative")

    @property
    def efficiency_j_per_th(self) -> Decimal:
        return self.power_w / self.hashrate_ths

    def same_specs(self, other: "MinerModel") -> bool:
        return (self.manufacturer, self.hashrate_ths, self.power_w, self.release_date) == (
            other.manufacturer,
            other.hashrate_ths,
            other.power_w,
            other.release_date,
        )


_COLUMNS = "name, manufacturer, hashrate_ths, power_w, release_date, active, msrp_usd"


def _model(row: asyncpg.Record) -> MinerModel:
    return MinerModel(
        name=row["name"],
        manufacturer=row["manufacturer"],
        # Normalised so that 100.000 (numeric(12,3)) compares equal to a user's 100.
        hashrate_ths=row["hashrate_ths"].normalize(),
        power_w=row["power_w"].normalize(),
        release_date=row["release_date"],
        active=row["active"],
        msrp_usd=row["msrp_usd"],
    )


async def list_miner_models(connection: asyncpg.Connection) -> list[MinerModel]:
    rows = await connection.fetch(f"SELECT {_COLUMNS} FROM miner_models ORDER BY name")
    return [_model(row) for row in rows]


async def active_miner_models(connection: asyncpg.Connection) -> list[MinerModel]:
    rows = await connection.fetch(f"SELECT {_COLUMNS} FROM miner_models WHERE active ORDER BY name")
    return [_model(row) for row in rows]


async def find_miner_model(connection: asyncpg.Connection, name: str) -> MinerModel | None:
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM miner_models WHERE name = $1", name)
    return None if row is None else _model(row)


async def insert_miner_model(connection: asyncpg.Connection, model: MinerModel) -> None:
    await connection.execute(
        f"INSERT INTO miner_models ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        model.name,
        model.manufacturer,
        model.hashrate_ths,
        model.power_w,
        model.release_date,
        model.active,
        model.msrp_usd,
    )
