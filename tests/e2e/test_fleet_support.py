"""Shared pieces of the fleet tests: a simulator on a loopback block of its own, its miners registered at a
site, collectors as processes, and what reached Kafka."""

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.audit import Actor
from windhash_common.topics import Topics
from windhash_fleet.fleet_registry import NewMiner, ensure_site, register_miners
from windhash_fleet_sim.server import FleetSimServer


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
    return ServiceProcesses(env={**env, "WINDHASH_METRICS_PORT": "0", **settings}, log_dir=log_dir)


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
