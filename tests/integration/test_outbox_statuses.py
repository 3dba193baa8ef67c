"""Outbox rows say where they stand: a message Kafka refuses for good is set aside as `failed` with the reason
while the rows around it are published; settled rows are pruned after the retention by whichever relay holds
the `outbox/prune` job lease, pending rows never. As the calculator's database role, which runs both."""

import asyncio
import json

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from windhash_common.db import create_pool
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.job_leases import job_holders
from windhash_common.kafka_broker import connected_kafka_broker
from windhash_common.outbox import OutboxMessage, add_to_outbox
from windhash_common.outbox_pruning import PRUNE_JOB, run_outbox_pruning
from windhash_common.outbox_relay import relay_once
from windhash_common.topics import Topics
from windhash_stack import StackEndpoints

pytestmark = pytest.mark.integration


async def test_a_message_kafka_refuses_is_failed_with_its_reason_and_the_others_are_published(
    pg_dsn: str, stack: StackEndpoints, topic_prefix: str
) -> None:
    topic = Topics(topic_prefix).audit
    too_big = json.dumps({"blob": "x" * 2_000_000})  # over the producer's and broker's 1 MB limit
    calculator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.CALCULATOR))
    broker = await connected_kafka_broker(stack.kafka_bootstrap, "outbox-test")
    try:
        async with calculator.transaction():
            await add_to_outbox(
                calculator,
                [
                    OutboxMessage(topic, b"a", '{"n": 1}'),
                    OutboxMessage(topic, b"b", too_big),
                    OutboxMessage(topic, b"c", '{"n": 3}'),
                ],
            )
        assert await relay_once(calculator, broker, 100, service="outbox-test") == 3
        rows = await calculator.fetch("SELECT key, status, failure_reason FROM outbox ORDER BY id")
        assert await relay_once(calculator, broker, 100) == 0  # nothing pending is left
    finally:
        await broker.stop()
        await calculator.close()
    assert [(row["key"], row["status"]) for row in rows] == [
        (b"a", "published"),
        (b"b", "failed"),
        (b"c", "published"),
    ]
    assert "MessageSizeTooLarge" in rows[1]["failure_reason"]
    assert sorted(await _keys_on(stack.kafka_bootstrap, topic)) == [b"a", b"c"]


async def test_settled_rows_are_pruned_after_the_retention_by_the_lease_holder(pg_dsn: str) -> None:
    admin = await asyncpg.connect(pg_dsn)
    try:
        await admin.execute(
            "INSERT INTO outbox (topic, key, payload, status, published_at, failed_at, failure_reason) VALUES"
            " ('t', 'old-published', '{}', 'published', now() - interval '31 days', NULL, NULL),"
            " ('t', 'old-failed', '{}', 'failed', NULL, now() - interval '40 days', 'refused'),"
            " ('t', 'recent', '{}', 'published', now() - interval '29 days', NULL, NULL),"
            " ('t', 'pending', '{}', 'pending', NULL, NULL, NULL)"
        )
        await admin.execute("UPDATE outbox SET created_at = now() - interval '60 days' WHERE key = 'pending'")
    finally:
        await admin.close()
    pool = await create_pool(dsn_as(pg_dsn, DatabaseRole.CALCULATOR), min_size=1, max_size=2)
    stop = asyncio.Event()
    pruning = asyncio.create_task(run_outbox_pruning(pool, stop, retention_days=30, interval_seconds=3600))
    try:
        for _ in range(300):
            if await pool.fetchval("SELECT count(*) FROM outbox") <= 2:
                break
            await asyncio.sleep(0.1)
        left = sorted(row[0] for row in await pool.fetch("SELECT key FROM outbox"))
        holders = [holder.job_key for holder in await _holders(pool)]
    finally:
        stop.set()
        await pruning
        await pool.close()
    assert left == [b"pending", b"recent"]
    assert PRUNE_JOB not in holders  # released once the work was done


async def _holders(pool: asyncpg.Pool) -> list:  # type: ignore[type-arg]
    async with pool.acquire() as connection:
        return await job_holders(connection)


async def _keys_on(bootstrap: str, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        keys: list[bytes] = []
        while len(keys) < sum(ends.values()):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                keys += [record.key for record in records]
        return keys
    finally:
        await consumer.stop()
