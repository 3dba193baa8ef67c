"""THE audit helper every service and command calls for a state change: who, what, when, before, after.

`record_audit` writes an `audit_log` row and its `AuditEvent` into the outbox, both in the caller's open
transaction, so the record exists exactly when the change committed and the event follows it to the audit
topic (the outbox relay publishes every topic's rows). Text under secret-looking keys (password, hash,
token, key, secret) is replaced before anything is written: the trail never holds a secret.
"""

import getpass
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from windhash_common.events_audit import AuditEvent
from windhash_common.topics import Topics

REDACTED = "[redacted]"
_SECRET_WORDS = ("password", "hash", "token", "secret")
_SECRET_NAMES = frozenset({"key", "api_key"})


@dataclass(frozen=True)
class Actor:
    name: str
    """`user:<email>`, `cli:<account>@<host>` or `system`."""
    user_id: UUID | None = None
    ip: str | None = None


SYSTEM = Actor("system")


def cli_actor() -> Actor:
    """The operator running a `windhash` command, as the trail names them."""
    return Actor(f"cli:{getpass.getuser()}@{socket.gethostname()}")


def redacted(state: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`state` as JSON-ready values, with the value of every secret-looking key replaced."""
    if state is None:
        return None
    clean: dict[str, Any] = {}
    for name, value in state.items():
        secret_name = name.lower() in _SECRET_NAMES or any(word in name.lower() for word in _SECRET_WORDS)
        if secret_name and isinstance(value, str | bytes):  # flags like must_change_password stay
            clean[name] = REDACTED
        else:
            clean[name] = _plain(value)
    return clean


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return redacted(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


_INSERT = """
INSERT INTO audit_log (actor_user_id, actor, action, target_type, target_id, before, after, ip)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::inet)
RETURNING id, occurred_at
"""


async def record_audit(
    connection: asyncpg.Connection,
    topics: Topics,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditEvent:
    """Record one change inside the caller's transaction (refused outside one: the record must commit or
    roll back with the change it describes)."""
    if not connection.is_in_transaction():
        raise RuntimeError("record_audit must run in the transaction of the change it records")
    before_clean, after_clean = redacted(before), redacted(after)
    row = await connection.fetchrow(
        _INSERT,
        actor.user_id,
        actor.name,
        action,
        target_type,
        target_id,
        None if before_clean is None else json.dumps(before_clean),
        None if after_clean is None else json.dumps(after_clean),
        actor.ip,
    )
    event = AuditEvent(
        audit_id=row["id"],
        occurred_at=row["occurred_at"],
        actor=actor.name,
        actor_user_id=actor.user_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before_clean,
        after=after_clean,
        ip=actor.ip,
    )
    await _add_to_outbox(connection, topics.audit, event.kafka_key, event.model_dump_json())
    return event


async def _add_to_outbox(connection: asyncpg.Connection, topic: str, key: bytes, payload: str) -> None:
    # A local INSERT into the shared outbox table until the outbox writer moves into libs/common (the relay
    # in the calculator publishes rows of every topic in id order).
    await connection.execute(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3::jsonb)", topic, key, payload
    )
