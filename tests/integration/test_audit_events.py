"""The audit trail reaches Kafka: a change made through the API writes its audit_log row and, in the same
transaction, an AuditEvent in the outbox, which the outbox relay publishes on the audit topic."""

from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from test_accounts_support import Accounts, accounts_fixture, open_api  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.roles import Role
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.events_audit import AuditEvent
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.outbox_relay import relay_once
from windhash_common.topics import Topics
from windhash_stack import StackEndpoints

pytestmark = pytest.mark.integration


async def test_an_api_change_is_published_on_the_audit_topic_with_who_what_before_and_after(
    pg_dsn: str, accounts: Accounts, stack: StackEndpoints, topic_prefix: str
) -> None:
    await accounts.add("admin@example.com", Role.ADMIN)
    await accounts.add("guest@example.com", Role.GUEST)
    client, _ = await open_api(pg_dsn, topic_prefix=topic_prefix)
    target = accounts.ids["guest@example.com"]
    await accounts.session("guest@example.com")  # revoked by the suspension, which audits that too
    # Only this test's events go through the relay (the accounts were made with the support's topics).
    await accounts.superuser.execute("DELETE FROM outbox")
    try:
        token = await accounts.session("admin@example.com")
        response = await client.http.patch(
            f"/api/v1/users/{target}",
            headers={"Authorization": f"Bearer {token}"},
            json={"status": "suspended"},
        )
        assert response.status_code == 200
    finally:
        await client.http.aclose()
        await client.pool.close()
    row = await accounts.superuser.fetchrow("SELECT * FROM audit_log WHERE action = 'user.update'")
    assert (row["actor"], row["actor_user_id"], row["target_id"]) == (
        "user:admin@example.com",
        accounts.ids["admin@example.com"],
        str(target),
    )
    topics = Topics(topic_prefix)
    broker = await connected_kafka_broker(stack.kafka_bootstrap, "audit-test")
    calculator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.CALCULATOR))
    try:
        assert await relay_once(calculator, broker, 100) >= 1
    finally:
        await calculator.close()
        await broker.stop()
    events = await _read_all(stack.kafka_bootstrap, topics.audit)
    update = next(event for event in events if event.action == "user.update")
    assert update.audit_id == row["id"]
    assert update.actor_user_id == UUID(str(accounts.ids["admin@example.com"]))
    assert (update.before or {})["status"] == "active" and (update.after or {})["status"] == "suspended"
    assert {event.action for event in events} >= {"user.update", "session.revoke"}


async def _read_all(bootstrap: str, topic: str) -> list[AuditEvent]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return [
            AuditEvent.model_validate_json(message.value)
            for messages in batches.values()
            for message in messages
        ]
    finally:
        await consumer.stop()
