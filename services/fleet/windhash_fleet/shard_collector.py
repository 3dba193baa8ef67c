"""Polling one shard of the fleet (miners with miner_id mod shard_count = shard), once per interval.

Each cycle reloads the shard's telemetry-enabled miners (new and retired miners take effect within a cycle)
and spreads their polls evenly over the first 80 % of the interval, at most `fleet_concurrency` in flight;
the rest of the interval leaves room for the slowest polls (deadline × attempts) to end before the next cycle.
A poll that gets no answer is retried after a backoff (doubling, with jitter) — except for a miner already
offline, which gets one try a cycle so dead miners cost one connection attempt each.

Every reading goes to Kafka keyed by serial; a reading outside the schema goes to the dead-letter topic with
the reason; status changes (status_rules.py) are written with their event through the outbox.
"""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import stamina
import structlog
from aiokafka.errors import KafkaError
from windhash_common.events import DeadLetter
from windhash_common.events_fleet import MinerStatus, MinerTelemetryEvent
from windhash_common.miner_rpc import CgminerRpc, MinerEndpoint, RpcError

from windhash_fleet import metrics
from windhash_fleet import miner_queries as queries
from windhash_fleet.miner_reading import POLL_COMMANDS, ReadingError, read_telemetry
from windhash_fleet.settings import FleetSettings
from windhash_fleet.status_changes import apply_status_change
from windhash_fleet.status_rules import NO_ANSWER, status_change

log = structlog.get_logger(__name__)
SPREAD_FRACTION = 0.8
SERVICE = "fleet-collector"


@dataclass(frozen=True)
class HostedMiner:
    miner_id: int
    serial: str
    site_id: int
    status: MinerStatus
    endpoint: MinerEndpoint


class TelemetrySink(Protocol):
    async def publish_telemetry(self, event: MinerTelemetryEvent) -> None: ...

    async def publish_dead_letter(self, letter: DeadLetter, key: bytes) -> None: ...


@dataclass(frozen=True)
class PollResult:
    outcome: str
    answered: bool
    detail: str = ""
    asleep: bool = False
    """The reading says the miner is curtailed (asleep)."""


class ShardCollector:
    def __init__(
        self,
        settings: FleetSettings,
        pool: asyncpg.Pool,
        sink: TelemetrySink,
        shard: int,
        relay_wake: asyncio.Event | None = None,
        rpc: CgminerRpc | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.sink = sink
        self.shard = shard
        self.actor = f"{SERVICE}/shard-{shard}"
        self.rpc = rpc or CgminerRpc(settings.fleet_rpc_timeout_s, settings.fleet_rpc_max_reply_bytes)
        self.relay_wake = relay_wake or asyncio.Event()
        self.failures: dict[int, int] = {}
        self._label = str(shard)

    async def run(self) -> None:
        """Cycle until cancelled (the lease holder cancels it when the lease is lost or the service stops)."""
        interval = self.settings.fleet_poll_interval_s
        next_start = time.monotonic()
        while True:
            miners = await self.load_miners()
            await self.cycle(miners, next_start)
            next_start += interval
            now = time.monotonic()
            if next_start < now:  # a cycle overran: start the next one now, the lag metric shows it
                next_start = now
            await asyncio.sleep(next_start - now)

    async def load_miners(self) -> list[HostedMiner]:
        async with self.pool.acquire() as connection:
            rows = await connection.fetch(queries.SHARD_MINERS, self.settings.fleet_shard_count, self.shard)
        return [
            HostedMiner(
                row["miner_id"],
                row["serial_number"],
                row["site_id"],
                row["status"],
                MinerEndpoint(row["api_host"], row["api_port"]),
            )
            for row in rows
        ]

    async def cycle(self, miners: list[HostedMiner], start: float) -> None:
        """Poll every miner once, the i-th of n at start + i/n × 80 % of the interval."""
        gate = asyncio.Semaphore(self.settings.fleet_concurrency)
        spread = self.settings.fleet_poll_interval_s * SPREAD_FRACTION
        running: set[asyncio.Task[None]] = set()
        lag = 0.0
        for position, miner in enumerate(miners):
            slot = start + spread * position / len(miners)
            if (wait := slot - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            await gate.acquire()
            lag = max(lag, time.monotonic() - slot)
            task = asyncio.create_task(self._poll_and_release(miner, gate))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.gather(*running)
        metrics.COLLECTOR_LAG.labels(self._label).set(lag)
        metrics.CYCLE_SECONDS.labels(self._label).set(time.monotonic() - start)
        metrics.MINERS_POLLED.labels(self._label).set(len(miners))
        known = {miner.miner_id for miner in miners}
        self.failures = {key: count for key, count in self.failures.items() if key in known}
        metrics.MINERS_UNREACHABLE.labels(self._label).set(
            sum(1 for count in self.failures.values() if count)
        )

    async def _poll_and_release(self, miner: HostedMiner, gate: asyncio.Semaphore) -> None:
        try:
            await self.poll(miner)
        except (OSError, asyncpg.PostgresError, KafkaError) as error:  # PostgreSQL or Kafka away: next cycle
            log.warning("poll not recorded", serial=miner.serial, error=str(error))
            metrics.POLLS.labels("not_recorded").inc()
        finally:
            gate.release()

    async def poll(self, miner: HostedMiner) -> PollResult:
        started = time.monotonic()
        result = await self._read(miner)
        metrics.POLL_SECONDS.observe(time.monotonic() - started)
        metrics.POLLS.labels(result.outcome).inc()
        failures = 0 if result.answered else self.failures.get(miner.miner_id, 0) + 1
        self.failures[miner.miner_id] = failures
        offline_after = self.settings.fleet_offline_after_failures
        change = status_change(miner.status, result.answered, failures, offline_after, result.asleep)
        if change is not None:
            reason = result.detail or "answered"
            event = await apply_status_change(
                self.pool,
                self.settings.topics,
                miner.miner_id,
                miner.serial,
                miner.site_id,
                change,
                reason,
                failures,
                self.actor,
            )
            if event is not None:
                self.relay_wake.set()
                metrics.STATUS_CHANGES.labels(event.event_type).inc()
                log.info(event.event_type, serial=miner.serial, reason=reason)
        return result

    async def _read(self, miner: HostedMiner) -> PollResult:
        """One poll; a miner that did not answer is tried again (stamina: jittered doubling backoff), one
        already offline is not; any other failure (a malformed or oversized reply) is final at once."""
        attempts = 1 if miner.status == "offline" else self.settings.fleet_rpc_attempts
        backoff = self.settings.fleet_rpc_backoff_s
        try:
            async for attempt in stamina.retry_context(
                on=_no_answer,
                attempts=attempts,
                timeout=None,
                wait_initial=backoff,
                wait_max=backoff * 2**attempts,
                wait_jitter=backoff / 2,
            ):
                with attempt:
                    replies = await self.rpc.commands(miner.endpoint, POLL_COMMANDS)
        except RpcError as error:
            return PollResult(error.reason, error.reason not in NO_ANSWER, str(error))
        return await self._publish(miner, replies)

    async def _publish(self, miner: HostedMiner, replies: dict[str, dict[str, Any]]) -> PollResult:
        try:
            event = read_telemetry(miner.serial, replies, datetime.now(UTC))
        except ReadingError as error:
            letter = DeadLetter(
                service=SERVICE,
                reason=f"{miner.serial}: {error}",
                payload=json.dumps(replies)[:100_000],
                failed_at=datetime.now(UTC),
            )
            await self.sink.publish_dead_letter(letter, miner.serial.encode())
            return PollResult(error.outcome, True, str(error))
        await self.sink.publish_telemetry(event)
        metrics.TELEMETRY_PUBLISHED.inc()
        return PollResult("ok", True, asleep=event.sleeping)


def _no_answer(error: Exception) -> bool:
    return isinstance(error, RpcError) and error.reason in NO_ANSWER
