"""The wind BM unit registry (`wind_bm_units`): which units count as wind, with lead party, name and capacity.

Seeded from the packaged snapshot of Elexon's reference data (windhash_common/data/wind_bmu_units.json) and
refreshed from `/reference/bmunits/all` (fuelType WIND). Upstream names are stored as data, never trusted: a
unit whose id or names hold control characters (a NUL above all), or whose capacity is not a finite figure
from 0 to `CAPACITY_MW_MAX`, is skipped with its reason and the others are applied. Units are only ever
added or updated, never deleted, so history stays attributable; `first_seen` / `last_seen` say when a
source listed a unit. A unit the source stops listing is withdrawn from a settlement date on
(`counts_until`): it stops counting from that date, its history is kept; listed again, it counts again, and
the update says from which date it had stopped (`relisted_from`), so its gap can be fetched again.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

import asyncpg
from windhash_common.input_values import InputRefused, decimal_of, printable_problem

WIND_FUEL_TYPE = "WIND"


@dataclass(frozen=True)
class WindBmUnit:
    elexon_bm_unit: str
    national_grid_bm_unit: str | None
    bm_unit_name: str | None
    lead_party_name: str | None
    generation_capacity_mw: Decimal | None


@dataclass(frozen=True)
class RegistryUpdate:
    units: int
    added: int
    added_units: tuple[str, ...] = ()
    relisted_from: dict[str, date] = field(default_factory=dict)
    """Withdrawn units listed again, each with the date it had stopped counting from."""


@dataclass(frozen=True)
class WindUnits:
    """The registry as the ingestor applies it: every wind unit, and the date each withdrawn one stops
    counting from."""

    units: frozenset[str]
    counts_until: dict[str, date]

    def on(self, settlement_date: date) -> frozenset[str]:
        """The units whose curtailment counts on `settlement_date`."""
        stopped = {unit for unit, until in self.counts_until.items() if settlement_date >= until}
        return self.units - stopped if stopped else self.units


# The largest capacity a single BM unit can have (the column holds numeric(10, 3)); the largest wind units
# today are a few hundred MW. A larger, negative or non-finite figure is not a capacity.
CAPACITY_MW_MAX = Decimal(100_000)
ID_MAX = 64
NAME_MAX = 200


@dataclass(frozen=True)
class SkippedUnit:
    unit: str
    reason: str


@dataclass(frozen=True)
class ReferenceReading:
    units: list[WindBmUnit]
    skipped: list[SkippedUnit]


def _capacity(value: object) -> Decimal | None:
    """The capacity in MW; None when not given; InputRefused for a figure no unit can have."""
    if value is None or value == "":
        return None
    capacity = decimal_of(value, "generationCapacity")
    if not 0 <= capacity <= CAPACITY_MW_MAX:
        raise InputRefused(f"generationCapacity {capacity} MW is not between 0 and {CAPACITY_MW_MAX} MW")
    return capacity


def _text(value: object, what: str, max_length: int = NAME_MAX) -> str | None:
    """Upstream text stored as data: None when absent; InputRefused when it holds control or format
    characters (a NUL cannot even be stored) or is longer than any name."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) > max_length:
        raise InputRefused(f"{what} is {len(value)} characters long, more than {max_length}")
    problem = printable_problem(value)
    if problem is not None:
        raise InputRefused(f"{what} is not printable text: {problem}")
    return value


def _unit(unit: str, row: dict[str, Any]) -> WindBmUnit:
    capacity = _capacity(row.get("generationCapacity"))
    return WindBmUnit(
        elexon_bm_unit=unit,
        national_grid_bm_unit=_text(row.get("nationalGridBmUnit"), "nationalGridBmUnit", ID_MAX),
        bm_unit_name=_text(row.get("bmUnitName"), "bmUnitName"),
        lead_party_name=_text(row.get("leadPartyName"), "leadPartyName"),
        generation_capacity_mw=capacity,
    )


def read_reference(rows: Iterable[dict[str, Any]]) -> ReferenceReading:
    """The wind units among Elexon `BmUnitData` rows (other fuel types and rows without an id left out),
    and the wind units skipped, each with its reason: one bad unit never keeps the others out."""
    units: dict[str, WindBmUnit] = {}
    skipped = []
    for row in rows:
        if not isinstance(row.get("elexonBmUnit"), str) or not row.get("elexonBmUnit"):
            continue
        if str(row.get("fuelType") or "").upper() != WIND_FUEL_TYPE:
            continue
        raw_id = row["elexonBmUnit"]
        try:
            unit = _text(raw_id, "elexonBmUnit", ID_MAX)
            assert unit is not None
            units[unit] = _unit(unit, row)
        except InputRefused as refusal:
            skipped.append(SkippedUnit(repr(raw_id)[:80], str(refusal)))
    return ReferenceReading(list(units.values()), skipped)


def wind_units_from_reference(rows: Iterable[dict[str, Any]]) -> list[WindBmUnit]:
    """The wind units among Elexon `BmUnitData` rows that can be stored (see `read_reference`)."""
    return read_reference(rows).units


def packaged_wind_units() -> list[WindBmUnit]:
    text = resources.files("windhash_common.data").joinpath("wind_bmu_units.json").read_text()
    return wind_units_from_reference(json.loads(text))


# `withdrawn` reads the rows as they were before this statement (every part of a statement sees one snapshot).
_UPSERT = """
WITH withdrawn AS (
    SELECT elexon_bm_unit, counts_until FROM wind_bm_units
    WHERE counts_until IS NOT NULL AND elexon_bm_unit = ANY($1::text[])
)
INSERT INTO wind_bm_units AS unit (elexon_bm_unit, national_grid_bm_unit, bm_unit_name, lead_party_name,
                                   generation_capacity_mw, fuel_type, first_seen, last_seen)
SELECT u.unit, u.ng_unit, u.name, u.party, u.capacity, 'WIND', $6, $6
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[]) AS u(unit, ng_unit, name, party,
capacity) ON CONFLICT (elexon_bm_unit) DO UPDATE SET
    national_grid_bm_unit  = COALESCE(EXCLUDED.national_grid_bm_unit, unit.national_grid_bm_unit),
    bm_unit_name           = COALESCE(EXCLUDED.bm_unit_name, unit.bm_unit_name),
    lead_party_name        = COALESCE(EXCLUDED.lead_party_name, unit.lead_party_name),
    generation_capacity_mw = COALESCE(EXCLUDED.generation_capacity_mw, unit.generation_capacity_mw),
    fuel_type              = 'WIND',
    first_seen             = LEAST(unit.first_seen, EXCLUDED.first_seen),
    last_seen              = GREATEST(unit.last_seen, EXCLUDED.last_seen),
    counts_until           = NULL
RETURNING elexon_bm_unit, (xmax = 0) AS added,
    (SELECT w.counts_until FROM withdrawn AS w WHERE w.elexon_bm_unit = unit.elexon_bm_unit) AS relisted_from
"""


async def upsert_wind_units(
    pool: asyncpg.Pool, units: list[WindBmUnit], seen_at: datetime | None = None
) -> RegistryUpdate:
    """Add new units and refresh known ones (a missing field never erases a known value)."""
    if not units:
        return RegistryUpdate(units=0, added=0)
    rows = await pool.fetch(
        _UPSERT,
        [unit.elexon_bm_unit for unit in units],
        [unit.national_grid_bm_unit for unit in units],
        [unit.bm_unit_name for unit in units],
        [unit.lead_party_name for unit in units],
        [unit.generation_capacity_mw for unit in units],
        seen_at or datetime.now(UTC),
    )
    added = tuple(sorted(row["elexon_bm_unit"] for row in rows if row["added"]))
    relisted = {
        row["elexon_bm_unit"]: row["relisted_from"] for row in rows if row["relisted_from"] is not None
    }
    return RegistryUpdate(len(rows), len(added), added, dict(sorted(relisted.items())))


async def seed_if_empty(pool: asyncpg.Pool) -> RegistryUpdate:
    """Load the packaged snapshot into an empty registry; a registry with units is left alone."""
    if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM wind_bm_units)"):
        return RegistryUpdate(units=0, added=0)
    return await upsert_wind_units(pool, packaged_wind_units())


async def wind_unit_ids(pool: asyncpg.Pool) -> frozenset[str]:
    rows = await pool.fetch("SELECT elexon_bm_unit FROM wind_bm_units WHERE fuel_type = 'WIND'")
    return frozenset(row["elexon_bm_unit"] for row in rows)


async def wind_units_by_date(pool: asyncpg.Pool) -> WindUnits:
    rows = await pool.fetch("SELECT elexon_bm_unit, counts_until FROM wind_bm_units WHERE fuel_type = 'WIND'")
    return WindUnits(
        frozenset(row["elexon_bm_unit"] for row in rows),
        {row["elexon_bm_unit"]: row["counts_until"] for row in rows if row["counts_until"] is not None},
    )


_UNLISTED = """
SELECT elexon_bm_unit FROM wind_bm_units
WHERE counts_until IS NULL AND NOT (elexon_bm_unit = ANY($1::text[])) ORDER BY elexon_bm_unit
"""
_WITHDRAW = """
UPDATE wind_bm_units SET counts_until = $2
WHERE counts_until IS NULL AND elexon_bm_unit = ANY($1::text[])
RETURNING elexon_bm_unit
"""
# A source that suddenly lists far fewer units is more likely broken than a fleet retired overnight: past this
# many (or this share of the registry) a sync withdraws nothing and says so.
WITHDRAW_AT_MOST = 10
WITHDRAW_AT_MOST_SHARE = Decimal("0.05")


async def unlisted_units(pool: asyncpg.Pool, listed: Iterable[str]) -> tuple[str, ...]:
    """The units that count today but are not in `listed`."""
    rows = await pool.fetch(_UNLISTED, sorted(set(listed)))
    return tuple(row["elexon_bm_unit"] for row in rows)


def too_many_to_withdraw(unlisted: int, registry_size: int) -> bool:
    return unlisted > max(WITHDRAW_AT_MOST, int(registry_size * WITHDRAW_AT_MOST_SHARE))


async def withdraw_units(pool: asyncpg.Pool, units: Iterable[str], from_date: date) -> tuple[str, ...]:
    """The counting `units` stop counting from `from_date` (their history is kept); those withdrawn."""
    rows = await pool.fetch(_WITHDRAW, sorted(set(units)), from_date)
    return tuple(sorted(row["elexon_bm_unit"] for row in rows))


async def list_wind_units(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT elexon_bm_unit, bm_unit_name, lead_party_name, generation_capacity_mw, first_seen, last_seen,"
        " counts_until"
        " FROM wind_bm_units ORDER BY generation_capacity_mw DESC NULLS LAST, elexon_bm_unit"
    )
    return rows


class ReferenceDataError(Exception):
    """A BM unit reference response windhash will not load (it would shrink or corrupt the registry)."""


def read_reference_body(body: bytes) -> ReferenceReading:
    """`read_reference` of a `/reference/bmunits/all` answer; ReferenceDataError when it is not one, or when
    it lists no wind unit that can be stored (that would shrink nothing, but says the answer is wrong)."""
    try:
        rows = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nesting too deep
        raise ReferenceDataError(f"malformed BM unit reference JSON: {error}") from error
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ReferenceDataError("BM unit reference data is not an array of objects")
    reading = read_reference(rows)
    if not reading.units:
        raise ReferenceDataError("BM unit reference data lists no wind units that can be stored")
    return reading


def wind_units_from_reference_body(body: bytes) -> list[WindBmUnit]:
    return read_reference_body(body).units
