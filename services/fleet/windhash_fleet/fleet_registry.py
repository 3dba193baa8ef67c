"""Registering a fleet in bulk: a site and the miners of a running simulator (`windhash fleet register-sim`),
thousands at a time. Each new miner gets its first placement, its `create` row in the operation log and its
`miner.created` event; the registration as a whole is one audit record (the fleet HTTP app's single changes
go through `miner_registry` and are audited one by one)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
from windhash_common.audit import Actor, record_audit
from windhash_common.events_fleet import FleetChangedEvent
from windhash_common.outbox import add_to_outbox, outbox_message
from windhash_common.topics import Topics

from windhash_fleet.registry_changes import record_change

SITE_BY_NAME = "SELECT site_id, name, location, power_capacity_mw FROM hosting_sites WHERE name = $1"
INSERT_SITE = """
INSERT INTO hosting_sites (name, location, power_capacity_mw) VALUES ($1, $2, $3) RETURNING site_id"""

INSERT_MINERS = """
INSERT INTO hosting_miners (serial_number, miner_model, site_id, api_host, api_port)
SELECT serial, model, $1, host, port
  FROM unnest($2::text[], $3::text[], $4::text[], $5::int[]) AS m(serial, model, host, port)
ON CONFLICT (serial_number) DO NOTHING
RETURNING miner_id, serial_number, miner_model, api_host, api_port
"""

# A miner's first placement starts at -infinity: no reading of it can predate it (migration 1210).
PLACE_NEW = """
INSERT INTO hosting_miner_placements (miner_id, site_id, placed_at)
SELECT miner_id, $1, '-infinity' FROM unnest($2::bigint[]) AS m(miner_id)
"""

LOG_CREATED = """
INSERT INTO miner_operation_log (miner_id, operation, performed_by, actor, details)
SELECT miner_id, 'create', $1, $2, jsonb_build_object('site_id', $3::bigint)
  FROM unnest($4::bigint[]) AS m(miner_id)
"""


@dataclass(frozen=True)
class NewMiner:
    serial: str
    model: str
    host: str
    port: int = 4028


async def ensure_site(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    name: str,
    location: str,
    capacity_mw: Decimal,
) -> int:
    """The site's id, creating it (recorded) when no site has that name; an existing site is kept as it is."""
    async with connection.transaction():
        row = await connection.fetchrow(SITE_BY_NAME, name)
        if row is not None:
            return int(row["site_id"])
        site_id = int(await connection.fetchval(INSERT_SITE, name, location, capacity_mw))
        after = {"name": name, "location": location, "power_capacity_mw": capacity_mw}
        await record_change(connection, topics, actor, "site.created", name, None, after)
        return site_id


async def register_miners(
    connection: asyncpg.Connection, topics: Topics, site_id: int, miners: list[NewMiner], actor: Actor
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
        if not added:
            return 0
        await connection.execute(PLACE_NEW, site_id, added)
        await connection.execute(LOG_CREATED, actor.user_id, actor.name, site_id, added)
        now = datetime.now(UTC)
        events = [
            FleetChangedEvent(
                event_type="miner.created",
                subject=row["serial_number"],
                after={
                    "site_id": site_id,
                    "miner_model": row["miner_model"],
                    "api_host": row["api_host"],
                    "api_port": row["api_port"],
                },
                actor=actor.name,
                actor_user_id=actor.user_id,
                changed_at=now,
            )
            for row in rows
        ]
        await add_to_outbox(
            connection, [outbox_message(topics.fleet_changes, event, event.kafka_key) for event in events]
        )
        serials = sorted(row["serial_number"] for row in rows)
        summary = {"site_id": site_id, "miners": len(serials), "first": serials[0], "last": serials[-1]}
        await record_audit(connection, topics, actor, "miner.register", "site", str(site_id), None, summary)
    return len(rows)
