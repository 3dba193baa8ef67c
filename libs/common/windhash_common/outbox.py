"""Events that must follow a database write: added to the `outbox` table in the writer's own transaction.

Any service can use it: add the messages with the rows they announce, and run the relay
(`windhash_common.outbox_relay`), which publishes them in id order. A rolled-back transaction leaves no
message behind and a committed one is never lost.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
from pydantic import BaseModel


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: bytes | None
    payload: str  # JSON


def outbox_message(topic: str, event: BaseModel, key: bytes | None) -> OutboxMessage:
    return OutboxMessage(topic, key, event.model_dump_json())


async def add_to_outbox(connection: asyncpg.Connection, messages: Sequence[OutboxMessage]) -> None:
    """Add `messages` in the transaction `connection` is in, in the order given (the order of publishing)."""
    if not messages:
        return
    # WITH ORDINALITY + ORDER BY: ids follow the order given, which is the order the relay publishes in.
    await connection.execute(
        "INSERT INTO outbox (topic, key, payload)"
        " SELECT topic, key, payload::jsonb FROM unnest($1::text[], $2::bytea[], $3::text[])"
        " WITH ORDINALITY AS message(topic, key, payload, position) ORDER BY position",
        [message.topic for message in messages],
        [message.key for message in messages],
        [message.payload for message in messages],
    )


class PostgresOutbox:
    """The outbox as a unit of work's repository."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def add(self, messages: Sequence[OutboxMessage]) -> None:
        await add_to_outbox(self._connection, messages)
