"""Shared pieces of the fleet's end-to-end and chaos tests: a simulator on a loopback block of its own, its
miners registered at a site, the collector and the writer as processes, what reached Kafka, whether the
writer has caught up, and whether the stored rows are what the simulator served."""

import asyncio
import random
import struct
import uuid
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.audit import Actor
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import Reading

WRITER_GROUP = "windhash-fleet-writer"


def loopback_block() -> str:
    """A base address in 127.0.0.0/8 that concurrent test sessions are unlikely to share."""
    return f"127.{random.randint(64, 250)}.{random.randint(0, 200)}.1"


async def register_fleet(dsn: str, sim: FleetSimServer, topics: Topics, site: str = "Test site") -> int:
    connection = await asyncpg.connect(dsn)
    try:
        actor = Actor("test")
        site_id = await ensure_site(connection, topics, actor, f"{site} (SYNTHETIC)", "nowhere", Decimal(5))
        miners = [NewMiner(miner.serial, miner.model.name, miner.host, miner.port) for miner in sim.miners]
        assert await register_miners(connection, topics, site_id, miners, actor) == len(miners)
        return site_id
    finally:
        await connection.close()


def collectors(env: dict[str, str], log_dir: Path, settings: dict[str, str]) -> ServiceProcesses:
    """The fleet's processes (collectors, writers) on no fixed port, so parallel test sessions never clash."""
    quiet = {"WINDHASH_METRICS_PORT": "0", "WINDHASH_FLEET_WRITER_METRICS_PORT": "0"}
    return ServiceProcesses(env={**env, **quiet, **settings}, log_dir=log_dir)


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float, processes: ServiceProcesses) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        processes.check_alive()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {seconds} s")
        await asyncio.sleep(0.2)


class TopicReader:
    """Everything on a topic from its beginning, as it arrives (no consumer group)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
            client_id=f"test-{uuid.uuid4().hex[:6]}",
        )
        self.messages: list[tuple[bytes, bytes]] = []

    async def __aenter__(self) -> "TopicReader":
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def read_until(self, enough: Callable[[list[tuple[bytes, bytes]]], bool], seconds: float) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not enough(self.messages):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"only {len(self.messages)} messages within {seconds} s")
            batches = await self.consumer.getmany(timeout_ms=500)
            for records in batches.values():
                self.messages.extend((record.key or b"", record.value or b"") for record in records)


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, partition) for partition in partitions])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def writer_caught_up(dsn: str, bootstrap: str, topic: str, group: str = WRITER_GROUP) -> bool:
    """The writer's stored positions have reached the end of every partition of the telemetry topic."""
    ends = await end_offsets(bootstrap, topic)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT partition, next_offset FROM consumer_positions WHERE consumer_group = $1 AND topic = $2",
            group,
            topic,
        )
    finally:
        await connection.close()
    stored = {row["partition"]: row["next_offset"] for row in rows}
    return all(stored.get(partition, 0) >= end for partition, end in ends.items())


def as_real(value: float) -> float:
    """What a `real` column gives back for `value`."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def unmatched_rows(rows: Sequence[asyncpg.Record], served: Sequence[Reading]) -> list[str]:
    """The stored rows of one miner that are not exactly one reading it served (times within 5 s)."""
    problems = []
    for row in rows:
        matches = [
            reading
            for reading in served
            if abs(row["hashrate_ths"] - reading.hashrate_ths) < 1e-6
            and row["power_w"] == reading.power_w
            and row["temperature_c"] == as_real(reading.temperature_c)
            and row["fan_rpm"] == round(sum(reading.fan_rpms) / len(reading.fan_rpms))
            and row["sleeping"] == reading.sleeping
            and abs(row["recorded_at"].timestamp() - reading.at) < 5
        ]
        if len(matches) != 1:
            problems.append(f"{dict(row)} matches {len(matches)} served readings")
    return problems
