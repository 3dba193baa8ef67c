"""Applying a status change: the miner's status, its operation-log row and the event in the outbox, in one
transaction, so the event exists exactly when the change does."""

import json
from datetime import UTC, datetime

import asyncpg
from windhash_common.events_fleet import MinerStatusChangedEvent
from windhash_common.outbox import add_to_outbox, outbox_message
from windhash_common.topics import Topics

from windhash_fleet import miner_queries as queries
from windhash_fleet.status_rules import StatusChange


async def apply_status_change(
    pool: asyncpg.Pool,
    topics: Topics,
    miner_id: int,
    serial: str,
    site_id: int,
    change: StatusChange,
    reason: str,
    consecutive_failures: int,
    actor: str,
) -> MinerStatusChangedEvent | None:
    """The event written, or None when the miner's status was no longer `change.before`."""
    event = MinerStatusChangedEvent(
        event_type=change.event_type,
        miner_serial=serial,
        site_id=site_id,
        status_before=change.before,
        status_after=change.after,
        reason=reason[:500],
        consecutive_failures=consecutive_failures,
        actor=actor,
        changed_at=datetime.now(UTC),
    )
    async with pool.acquire() as connection, connection.transaction():
        if await connection.fetchval(queries.CHANGE_STATUS, miner_id, change.before, change.after) is None:
            return None
        details = {"before": change.before, "after": change.after, "reason": event.reason}
        operation = "mark_offline" if change.event_type == "miner.offline" else "mark_online"
        await connection.execute(queries.LOG_OPERATION, miner_id, operation, actor, json.dumps(details))
        await add_to_outbox(connection, [outbox_message(topics.miner_status, event, event.kafka_key)])
    return event
