"""Creating and changing hosting sites and miner models, each recorded (`registry_changes`: audit, event).

Models live in the one registry both halves of the platform share (`miner_models`). A model added here is
recorded but not calculated (`active = false`): calculating a model means computing its whole history,
which `windhash miners add` does. Only what no calculation depends on can change here: the nominal hashrate
and power are fixed once a model exists.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import BaseModel
from windhash_common.audit import Actor
from windhash_common.events_fleet import FleetChange
from windhash_common.topics import Topics

from windhash_fleet.miner_inputs import ModelCreate, ModelUpdate, SiteCreate, SiteUpdate
from windhash_fleet.registry_changes import record_change

SITE_FIELDS = ("name", "location", "power_capacity_mw")
MODEL_FIELDS = ("name", "manufacturer", "hashrate_ths", "power_w", "release_date", "msrp_usd", "active")

INSERT_SITE = """
INSERT INTO hosting_sites (name, location, power_capacity_mw) VALUES ($1, $2, $3)
RETURNING site_id, name, location, power_capacity_mw"""
SITE_FOR_UPDATE = """
SELECT site_id, name, location, power_capacity_mw FROM hosting_sites WHERE site_id = $1 FOR NO KEY UPDATE"""
UPDATE_SITE = """
UPDATE hosting_sites SET name = $2, location = $3, power_capacity_mw = $4, updated_at = now()
 WHERE site_id = $1
RETURNING site_id, name, location, power_capacity_mw"""

_MODEL_COLUMNS = ", ".join(MODEL_FIELDS)
INSERT_MODEL = f"""
INSERT INTO miner_models (name, manufacturer, hashrate_ths, power_w, release_date, msrp_usd, active)
VALUES ($1, $2, $3, $4, $5, $6, false)
RETURNING {_MODEL_COLUMNS}"""
MODEL_FOR_UPDATE = f"SELECT {_MODEL_COLUMNS} FROM miner_models WHERE name = $1 FOR NO KEY UPDATE"
UPDATE_MODEL = f"""
UPDATE miner_models SET manufacturer = $2, release_date = $3, msrp_usd = $4 WHERE name = $1
RETURNING {_MODEL_COLUMNS}"""


class NotFound(LookupError):
    pass


def _state(row: asyncpg.Record, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: row[field] for field in fields}


@dataclass(frozen=True)
class _Updated:
    """Changing one kind of record (`change`: "site.updated", "model.updated"): read locked by `lock_query`,
    the update's fields set over `fields`, written and recorded only when something changed."""

    connection: asyncpg.Connection
    topics: Topics
    actor: Actor
    change: FleetChange
    lock_query: str
    fields: tuple[str, ...]

    async def apply(
        self,
        key: int | str,
        update: BaseModel,
        write: Callable[[dict[str, Any]], Awaitable[asyncpg.Record]],
    ) -> dict[str, Any]:
        row = await self.connection.fetchrow(self.lock_query, key)
        if row is None:
            raise NotFound(f"{self.change.split('.')[0]} {key}")
        before = _state(row, self.fields)
        after = {**before, **{field: getattr(update, field) for field in update.model_fields_set}}
        if after != before:
            after = _state(await write(after), self.fields)
            await record_change(
                self.connection, self.topics, self.actor, self.change, after["name"], before, after
            )
        return after


async def create_site(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, new: SiteCreate
) -> dict[str, Any]:
    row = await connection.fetchrow(INSERT_SITE, new.name, new.location, new.power_capacity_mw)
    state = _state(row, SITE_FIELDS)
    await record_change(connection, topics, actor, "site.created", new.name, None, state)
    return {"site_id": row["site_id"], **state}


async def update_site(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, site_id: int, update: SiteUpdate
) -> dict[str, Any]:
    def write(after: dict[str, Any]) -> Awaitable[asyncpg.Record]:
        values = after["name"], after["location"], after["power_capacity_mw"]
        return connection.fetchrow(UPDATE_SITE, site_id, *values)  # type: ignore[no-any-return]

    updated = _Updated(connection, topics, actor, "site.updated", SITE_FOR_UPDATE, SITE_FIELDS)
    return {"site_id": site_id, **await updated.apply(site_id, update, write)}


async def create_model(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, new: ModelCreate
) -> dict[str, Any]:
    row = await connection.fetchrow(
        INSERT_MODEL,
        new.name,
        new.manufacturer,
        new.hashrate_ths,
        new.power_w,
        new.release_date,
        new.msrp_usd,
    )
    state = _state(row, MODEL_FIELDS)
    await record_change(connection, topics, actor, "model.created", new.name, None, state)
    return state


async def update_model(
    connection: asyncpg.Connection, topics: Topics, actor: Actor, name: str, update: ModelUpdate
) -> dict[str, Any]:
    def write(after: dict[str, Any]) -> Awaitable[asyncpg.Record]:
        values = after["manufacturer"], after["release_date"], after["msrp_usd"]
        return connection.fetchrow(UPDATE_MODEL, name, *values)  # type: ignore[no-any-return]

    updated = _Updated(connection, topics, actor, "model.updated", MODEL_FOR_UPDATE, MODEL_FIELDS)
    return await updated.apply(name, update, write)
