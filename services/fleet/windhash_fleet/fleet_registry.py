"""Registering sites and miners (the API's create/edit/move/retire come with the HTTP routes); each new miner
gets its `create` row in the operation log, in the same transaction."""

from dataclasses import dataclass
from decimal import Decimal

import asyncpg

UPSERT_SITE = """
INSERT INTO hosting_sites (name, location, power_capacity_mw) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET location = EXCLUDED.location, power_capacity_mw = EXCLUDED.power_capacity_mw,
                                 updated_at = now()
RETURNING site_id
"""

INSERT_MINERS = """
INSERT INTO hosting_miners (serial_number, miner_model, site_id, api_host, api_port)
SELECT serial, model, $1, host, port
  FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) AS m(serial, model, host, port)
ON CONFLICT (serial_number) DO NOTHING
RETURNING miner_id, serial_number
"""

# A miner's first placement starts at -infinity: no reading of it can predate it (migration 1210).
PLACE_NEW = """
INSERT INTO hosting_miner_placements (miner_id, site_id, placed_at)
SELECT miner_id, $1, '-infinity' FROM unnest($2::bigint[]) AS m(miner_id)
"""

LOG_CREATED = """
INSERT INTO miner_operation_log (miner_id, operation, actor, details)
SELECT miner_id, 'create', $1, jsonb_build_object('site_id', $2::bigint)
  FROM unnest($3::bigint[]) AS m(miner_id)
"""


@dataclass(frozen=True)
class NewMiner:
    serial: str
    model: str
    host: str
    port: int = 4028


async def upsert_site(connection: asyncpg.Connection, name: str, location: str, capacity_mw: Decimal) -> int:
    return int(await connection.fetchval(UPSERT_SITE, name, location, capacity_mw))


async def register_miners(
    connection: asyncpg.Connection, site_id: int, miners: list[NewMiner], actor: str
) -> int:
    """Add the miners not yet registered (by serial) to the site; returns how many were added."""
    async with connection.transaction():
        rows = await connection.fetch(
            INSERT_MINERS,
            site_id,
            [miner.serial for miner in miners],
            [miner.model for miner in miners],
            [miner.host for miner in miners],
            [miner.port for miner in miners],
        )
        added = [row["miner_id"] for row in rows]
        await connection.execute(PLACE_NEW, site_id, added)
        await connection.execute(LOG_CREATED, actor, site_id, added)
    return len(rows)
