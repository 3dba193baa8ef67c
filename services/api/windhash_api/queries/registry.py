"""The wind BM unit registry, its lead parties, and the miner models."""

import asyncpg

_UNIT_COLUMNS = (
    "elexon_bm_unit, national_grid_bm_unit, bm_unit_name, lead_party_name, generation_capacity_mw, "
    "fuel_type, first_seen, last_seen"
)
# `search` is matched with strpos rather than LIKE so that % and _ in it are plain text.
_UNITS = f"""
SELECT {_UNIT_COLUMNS}, count(*) OVER ()::int AS total
FROM wind_bm_units
WHERE ($1::text IS NULL OR lead_party_name = $1)
  AND ($2::text IS NULL OR strpos(lower(concat_ws(' ', elexon_bm_unit, national_grid_bm_unit, bm_unit_name,
                                                   lead_party_name)), lower($2)) > 0)
ORDER BY elexon_bm_unit
LIMIT $3 OFFSET $4
"""
_UNIT_COUNT = """
SELECT count(*)::int FROM wind_bm_units
WHERE ($1::text IS NULL OR lead_party_name = $1)
  AND ($2::text IS NULL OR strpos(lower(concat_ws(' ', elexon_bm_unit, national_grid_bm_unit, bm_unit_name,
                                                   lead_party_name)), lower($2)) > 0)
"""
_UNIT = f"SELECT {_UNIT_COLUMNS} FROM wind_bm_units WHERE elexon_bm_unit = $1"
_LEAD_PARTIES = """
SELECT lead_party_name, count(*)::int AS bm_units, sum(generation_capacity_mw) AS generation_capacity_mw,
       count(*) OVER ()::int AS total
FROM wind_bm_units WHERE lead_party_name IS NOT NULL
GROUP BY lead_party_name
ORDER BY lead_party_name
LIMIT $1 OFFSET $2
"""
_LEAD_PARTY_COUNT = "SELECT count(DISTINCT lead_party_name)::int FROM wind_bm_units"
_MINER_MODELS = """
SELECT name, manufacturer, hashrate_ths, power_w, efficiency_j_per_th, release_date, active
FROM miner_models WHERE active OR NOT $1
ORDER BY efficiency_j_per_th, name
"""


async def bm_units(
    connection: asyncpg.Connection, lead_party: str | None, search: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows: list[asyncpg.Record] = await connection.fetch(_UNITS, lead_party, search, limit, offset)
    total: int = rows[0]["total"] if rows else await connection.fetchval(_UNIT_COUNT, lead_party, search)
    return rows, total


async def bm_unit(connection: asyncpg.Connection, elexon_bm_unit: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await connection.fetchrow(_UNIT, elexon_bm_unit)
    return row


async def lead_parties(
    connection: asyncpg.Connection, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows: list[asyncpg.Record] = await connection.fetch(_LEAD_PARTIES, limit, offset)
    total: int = rows[0]["total"] if rows else await connection.fetchval(_LEAD_PARTY_COUNT)
    return rows, total


async def miner_models(connection: asyncpg.Connection, active_only: bool) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await connection.fetch(_MINER_MODELS, active_only)
    return rows
