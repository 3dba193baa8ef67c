"""Recording a change to the fleet's registry, in the transaction of the change: the audit row (who, what,
before, after), the miner's operation-log row (for a miner), and the `FleetChangedEvent` in the outbox. One
place, so no change can be made with one of the three and without the others."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
from windhash_common.audit import Actor, record_audit, redacted
from windhash_common.events_fleet import FleetChange, FleetChangedEvent
from windhash_common.outbox import add_to_outbox, outbox_message
from windhash_common.topics import Topics

# The verb of each change, as the audit trail (`miner.move`) and the operation log (`move`) name it.
VERBS = {"created": "create", "updated": "update", "moved": "move", "retired": "retire"}

LOG_OPERATION = """
INSERT INTO miner_operation_log (miner_id, operation, performed_by, actor, details)
VALUES ($1, $2, $3, $4, $5::jsonb)
"""


async def record_change(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    change: FleetChange,
    subject: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    miner_id: int | None = None,
) -> FleetChangedEvent:
    """Audit, log (when `miner_id` is given) and announce one change; refused outside a transaction."""
    kind, done = change.split(".")
    operation = VERBS[done]
    await record_audit(connection, topics, actor, f"{kind}.{operation}", kind, subject, before, after)
    if miner_id is not None:
        details = {"before": redacted(before), "after": redacted(after)}
        await connection.execute(
            LOG_OPERATION, miner_id, operation, actor.user_id, actor.name[:200], json.dumps(details)
        )
    event = FleetChangedEvent(
        event_type=change,
        subject=subject,
        before=redacted(before),
        after=redacted(after),
        actor=actor.name[:200],
        actor_user_id=actor.user_id,
        changed_at=datetime.now(UTC),
    )
    await add_to_outbox(connection, [outbox_message(topics.fleet_changes, event, event.kafka_key)])
    return event
