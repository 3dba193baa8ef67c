"""The fleet benchmarks' registry: sites made (if missing) and their miners registered in a scratch database,
as an operator would (`windhash_fleet.fleet_registry`, recorded as the actor "bench")."""

from collections.abc import Mapping, Sequence
from decimal import Decimal

import asyncpg
from windhash_common.audit import Actor
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners


async def register_sites(
    dsn: str, topics: Topics, sites: Mapping[str, Sequence[NewMiner]], capacity_mw: Decimal
) -> None:
    """Each site (its name → its miners), with `capacity_mw` of power, on one short connection."""
    connection = await asyncpg.connect(dsn)
    try:
        actor = Actor("bench")
        for name, miners in sites.items():
            site = await ensure_site(connection, topics, actor, name, "-", capacity_mw)
            await register_miners(connection, topics, site, list(miners), actor)
    finally:
        await connection.close()
