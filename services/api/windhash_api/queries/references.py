"""Checks that a filter names something windhash knows, so a typo gets a hint instead of silent zeros."""

import asyncpg

from windhash_api.errors import InvalidParameter
from windhash_api.models.common import Filters

_MODEL_EXISTS = "SELECT EXISTS (SELECT 1 FROM miner_models WHERE name = $1)"
_MODEL_NAMES = "SELECT name FROM miner_models ORDER BY active DESC, name"
_LEAD_PARTY_EXISTS = """
SELECT EXISTS (SELECT 1 FROM wind_bm_units WHERE lead_party_name = $1)
    OR EXISTS (SELECT 1 FROM bm_unit_daily WHERE lead_party_name = $1)
"""
_BM_UNIT_EXISTS = """
SELECT EXISTS (SELECT 1 FROM wind_bm_units WHERE elexon_bm_unit = $1)
    OR EXISTS (SELECT 1 FROM bm_unit_daily WHERE bm_unit = $1)
"""


async def check_miner_model(connection: asyncpg.Connection, name: str) -> None:
    if await connection.fetchval(_MODEL_EXISTS, name):
        return
    names = [row["name"] for row in await connection.fetch(_MODEL_NAMES)]
    known = ", ".join(names[:20]) if names else "none are loaded yet"
    raise InvalidParameter(
        f"unknown miner model {name!r}", f"send one of: {known} (see /api/v1/miner-models)"
    )


async def check_filters(connection: asyncpg.Connection, filters: Filters) -> None:
    if filters.miner_model is not None:
        await check_miner_model(connection, filters.miner_model)
    if filters.lead_party is not None and not await connection.fetchval(
        _LEAD_PARTY_EXISTS, filters.lead_party
    ):
        raise InvalidParameter(
            f"unknown lead party {filters.lead_party!r}",
            "send a lead party name exactly as /api/v1/lead-parties lists it",
        )
    if filters.bm_unit is not None and not await connection.fetchval(_BM_UNIT_EXISTS, filters.bm_unit):
        raise InvalidParameter(
            f"unknown BM unit {filters.bm_unit!r}",
            "send an Elexon BM unit code as /api/v1/bm-units lists it, e.g. T_SGRWO-1",
        )
