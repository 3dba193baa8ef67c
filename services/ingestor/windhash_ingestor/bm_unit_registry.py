"""The wind BM unit registry (`wind_bm_units`): which units count as wind, with lead party, name and capacity.

Seeded from the packaged snapshot of Elexon's reference data (windhash_common/data/wind_bmu_units.json) and
refreshed from `/reference/bmunits/all` (fuelType WIND). Units are only ever added or updated, never
removed, so history stays attributable; `first_seen` / `last_seen` say when a source listed a unit.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import asyncpg

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


def _capacity(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def wind_units_from_reference(rows: Iterable[dict[str, Any]]) -> list[WindBmUnit]:
    """The wind units among Elexon `BmUnitData` rows (other fuel types and rows without an id left out)."""
    units = {}
    for row in rows:
        unit = _text(row.get("elexonBmUnit"))
        if unit is None or str(row.get("fuelType") or "").upper() != WIND_FUEL_TYPE:
            continue
        units[unit] = WindBmUnit(
            elexon_bm_unit=unit,
            national_grid_bm_unit=_text(row.get("nationalGridBmUnit")),
            bm_unit_name=_text(row.get("bmUnitName")),
            lead_party_name=_text(row.get("leadPartyName")),
            generation_capacity_mw=_capacity(row.get("generationCapacity")),
        )
    return list(units.values())


def packaged_wind_units() -> list[WindBmUnit]:
    text = resources.files("windhash_common.data").joinpath("wind_bmu_units.json").read_text()
    return wind_units_from_reference(json.loads(text))


_UPSERT = """
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
    last_seen              = GREATEST(unit.last_seen, EXCLUDED.last_seen)
RETURNING (xmax = 0) AS added
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
    return RegistryUpdate(units=len(rows), added=sum(1 for row in rows if row["added"]))


async def seed_if_empty(pool: asyncpg.Pool) -> RegistryUpdate:
    """Load the packaged snapshot into an empty registry; a registry with units is left alone."""
    if await pool.fetchval("SELECT EXISTS (SELECT 1 FROM wind_bm_units)"):
        return RegistryUpdate(units=0, added=0)
    return await upsert_wind_units(pool, packaged_wind_units())


async def wind_unit_ids(pool: asyncpg.Pool) -> frozenset[str]:
    rows = await pool.fetch("SELECT elexon_bm_unit FROM wind_bm_units WHERE fuel_type = 'WIND'")
    return frozenset(row["elexon_bm_unit"] for row in rows)


async def list_wind_units(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT elexon_bm_unit, bm_unit_name, lead_party_name, generation_capacity_mw, first_seen, last_seen"
        " FROM wind_bm_units ORDER BY generation_capacity_mw DESC NULLS LAST, elexon_bm_unit"
    )
    return rows


class ReferenceDataError(Exception):
    """A BM unit reference response windhash will not load (it would shrink or corrupt the registry)."""


def wind_units_from_reference_body(body: bytes) -> list[WindBmUnit]:
    try:
        rows = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # RecursionError: nesting too deep
        raise ReferenceDataError(f"malformed BM unit reference JSON: {error}") from error
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ReferenceDataError("BM unit reference data is not an array of objects")
    units = wind_units_from_reference(rows)
    if not units:
        raise ReferenceDataError("BM unit reference data lists no wind units")
    return units
