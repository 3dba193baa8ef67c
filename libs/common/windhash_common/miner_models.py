"""ASIC miner models as data: what the calculator multiplies every curtailment record by.

A model is calculated for every record while it is `active`. Its efficiency (J/TH) is derived by the database
(`power_w / hashrate_ths`), so it can never disagree with the two specs it comes from.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import asyncpg

from windhash_common.input_values import InputRefused, bounded_decimal, checked_name


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


# Bounds on a model a person adds (`windhash miners add`). Today's best ASICs do ~500 TH/s at ~10 J/TH and
# draw ~5-15 kW; the bounds leave room for decades of progress and refuse what no machine can be, a figure
# that would overflow the BTC columns above all. Stored models are read as they are.
HASHRATE_THS_MAX = Decimal(100_000)
POWER_W_MAX = Decimal(1_000_000)
EFFICIENCY_J_PER_TH_MIN = Decimal("0.1")
NAME_MAX = 64
# A launch price beyond this is a typo, not a machine (the column holds cents up to ten digits).
MSRP_USD_MAX = Decimal(1_000_000)


def new_miner_model(
    name: str,
    manufacturer: str,
    hashrate_ths: object,
    power_w: object,
    release_date: date | None = None,
    active: bool = True,
    msrp_usd: object | None = None,
) -> MinerModel:
    """A model from what a person typed; InputRefused (one sentence) for a name that is not printable text
    or has surrounding spaces, and for figures that are not finite, not positive or beyond the bounds (the
    launch price, optional, in whole cents)."""
    hashrate = bounded_decimal(
        hashrate_ths, "the hashrate", above=Decimal(0), at_most=HASHRATE_THS_MAX, unit="TH/s"
    )
    power = bounded_decimal(power_w, "the power", above=Decimal(0), at_most=POWER_W_MAX, unit="W")
    if power / hashrate < EFFICIENCY_J_PER_TH_MIN:
        raise InputRefused(
            f"{power:f} W for {hashrate:f} TH/s is {power / hashrate:.4g} J/TH, below the "
            f"{EFFICIENCY_J_PER_TH_MIN} J/TH no machine reaches"
        )
    if hashrate != hashrate.quantize(Decimal("0.001")) or power != power.quantize(Decimal("0.001")):
        raise InputRefused("the hashrate and the power are kept to 3 decimal places: round them")
    price = None
    if msrp_usd is not None:
        price = bounded_decimal(
            msrp_usd, "the launch price", above=Decimal(0), at_most=MSRP_USD_MAX, unit="USD"
        )
        if price != price.quantize(Decimal("0.01")):
            raise InputRefused("the launch price is kept in cents: round it to 2 decimal places")
    return MinerModel(
        name=checked_name(name, "the model name", NAME_MAX),
        manufacturer=checked_name(manufacturer, "the manufacturer", NAME_MAX),
        hashrate_ths=hashrate,
        power_w=power,
        release_date=release_date,
        active=active,
        msrp_usd=price,
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
