"""Creating, changing, moving and retiring miners: each in the caller's transaction, each recorded
(`registry_changes`: audit, operation log, event). The fleet HTTP app runs them under the request's identity
(row-level security), the CLI as the operator.

A move or a retirement closes the miner's placement and opens the next (`hosting_miner_placements`) at an
instant no reading already stored can be at or after: ACCESS EXCLUSIVE on the placements waits for every
writer transaction that has read them, and the instant is after the miner's newest stored reading. So the
site rollups the writer made before the move and a recompute after it attribute every reading alike.
"""

from dataclasses import dataclass
from typing import Any

import asyncpg
from windhash_common.audit import Actor
from windhash_common.topics import Topics

from windhash_fleet.miner_inputs import MinerCreate, MinerMove, MinerUpdate
from windhash_fleet.registry_changes import record_change

MINER_FIELDS = (
    "serial_number",
    "miner_model",
    "site_id",
    "status",
    "api_host",
    "api_port",
    "telemetry_enabled",
    "client_id",
    "purchase_date",
    "warranty_expires",
)
_RETURNING = "miner_id, " + ", ".join(MINER_FIELDS)
INSERT_MINER = f"""
INSERT INTO hosting_miners (serial_number, miner_model, site_id, api_host, api_port, telemetry_enabled,
                            client_id, purchase_date, warranty_expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING {_RETURNING}"""
# NO KEY UPDATE: the writer's foreign-key checks (KEY SHARE) on the same miner never wait for a change.
MINER_FOR_UPDATE = f"SELECT {_RETURNING} FROM hosting_miners WHERE serial_number = $1 FOR NO KEY UPDATE"
UPDATE_MINER = f"""
UPDATE hosting_miners
   SET miner_model = $2, api_host = $3, api_port = $4, telemetry_enabled = $5, client_id = $6,
       purchase_date = $7, warranty_expires = $8, status = $9,
       status_changed_at = CASE WHEN status = $9 THEN status_changed_at ELSE now() END, updated_at = now()
 WHERE miner_id = $1
RETURNING {_RETURNING}"""
SET_SITE = f"""
UPDATE hosting_miners SET site_id = $2, updated_at = now() WHERE miner_id = $1 RETURNING {_RETURNING}"""
RETIRE = f"""
UPDATE hosting_miners
   SET status = 'retired', telemetry_enabled = false, status_changed_at = now(), updated_at = now()
 WHERE miner_id = $1
RETURNING {_RETURNING}"""
FIRST_PLACEMENT = (
    "INSERT INTO hosting_miner_placements (miner_id, site_id, placed_at) VALUES ($1, $2, '-infinity')"
)
LOCK_PLACEMENTS = "LOCK TABLE hosting_miner_placements IN ACCESS EXCLUSIVE MODE"
# After every reading of the miner already stored and after its current placement began, and not before now.
CHANGE_INSTANT = """
SELECT greatest(
    clock_timestamp(),
    (SELECT recorded_at + interval '1 microsecond' FROM miner_telemetry_latest WHERE miner_id = $1),
    (SELECT placed_at + interval '1 microsecond' FROM hosting_miner_placements
      WHERE miner_id = $1 AND removed_at IS NULL)
)"""
CLOSE_PLACEMENT = (
    "UPDATE hosting_miner_placements SET removed_at = $2 WHERE miner_id = $1 AND removed_at IS NULL"
)
OPEN_PLACEMENT = "INSERT INTO hosting_miner_placements (miner_id, site_id, placed_at) VALUES ($1, $2, $3)"


class MinerNotFound(LookupError):
    """No such miner, or not one the caller may see (row-level security makes the two the same)."""


class MinerRetired(ValueError):
    """A retired miner is history: it cannot be changed or moved."""


@dataclass(frozen=True)
class MinerChange:
    miner: dict[str, Any]
    changed: bool


def _state(row: asyncpg.Record) -> dict[str, Any]:
    return {field: row[field] for field in MINER_FIELDS}


async def create_miner(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, new: MinerCreate
) -> dict[str, Any]:
    row = await connection.fetchrow(
        INSERT_MINER,
        new.serial_number,
        new.miner_model,
        new.site_id,
        new.api_host,
        new.api_port,
        new.telemetry_enabled,
        new.client_id,
        new.purchase_date,
        new.warranty_expires,
    )
    await connection.execute(FIRST_PLACEMENT, row["miner_id"], new.site_id)
    state = _state(row)
    await record_change(
        connection, topics, actor, "miner.created", new.serial_number, None, state, row["miner_id"]
    )
    return {"miner_id": row["miner_id"], **state}


async def _locked(connection: asyncpg.Connection, serial: str) -> asyncpg.Record:
    row = await connection.fetchrow(MINER_FOR_UPDATE, serial)
    if row is None:
        raise MinerNotFound(serial)
    if row["status"] == "retired":
        raise MinerRetired(f"{serial} is retired")
    return row


async def update_miner(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, serial: str, update: MinerUpdate
) -> MinerChange:
    """The fields given change (the rest stay); no change recorded when nothing differs."""
    row = await _locked(connection, serial)
    before = _state(row)
    after = {**before, **{field: getattr(update, field) for field in update.model_fields_set}}
    if after == before:
        return MinerChange({"miner_id": row["miner_id"], **before}, False)
    updated = await connection.fetchrow(
        UPDATE_MINER,
        row["miner_id"],
        after["miner_model"],
        after["api_host"],
        after["api_port"],
        after["telemetry_enabled"],
        after["client_id"],
        after["purchase_date"],
        after["warranty_expires"],
        after["status"],
    )
    state = _state(updated)
    await record_change(connection, topics, actor, "miner.updated", serial, before, state, row["miner_id"])
    return MinerChange({"miner_id": row["miner_id"], **state}, True)


async def _next_placement(connection: asyncpg.Connection, miner_id: int, site_id: int | None) -> None:
    await connection.execute(LOCK_PLACEMENTS)
    instant = await connection.fetchval(CHANGE_INSTANT, miner_id)
    await connection.execute(CLOSE_PLACEMENT, miner_id, instant)
    if site_id is not None:
        await connection.execute(OPEN_PLACEMENT, miner_id, site_id, instant)


async def move_miner(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, serial: str, move: MinerMove
) -> MinerChange:
    row = await _locked(connection, serial)
    before = _state(row)
    if row["site_id"] == move.site_id:
        return MinerChange({"miner_id": row["miner_id"], **before}, False)
    await _next_placement(connection, row["miner_id"], move.site_id)
    state = _state(await connection.fetchrow(SET_SITE, row["miner_id"], move.site_id))
    await record_change(connection, topics, actor, "miner.moved", serial, before, state, row["miner_id"])
    return MinerChange({"miner_id": row["miner_id"], **state}, True)


async def retire_miner(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, serial: str
) -> MinerChange:
    """No longer polled, its placement closed; its telemetry and log are kept."""
    row = await _locked(connection, serial)
    before = _state(row)
    await _next_placement(connection, row["miner_id"], None)
    state = _state(await connection.fetchrow(RETIRE, row["miner_id"]))
    await record_change(connection, topics, actor, "miner.retired", serial, before, state, row["miner_id"])
    return MinerChange({"miner_id": row["miner_id"], **state}, True)
