"""Chaos: a backfill during which the ingestor, the calculator and the aggregator are SIGKILLed at random
moments and restarted, and Kafka and PostgreSQL are each restarted once. Afterwards every table must equal, by
checksum, the tables of an undisturbed run on the same input.

Both runs use the real system, one OS process per service (windhash_cli.service_processes), on a dedicated
stack (own state dir and ports, shared jars) so restarting its servers disturbs no other test; each run has
its own database and topic prefix. The undisturbed run goes first, then the chaos run on a slowed-down
synthetic Elexon server, so the kills land while data is flowing. A seeded RNG (WINDHASH_CHAOS_SEED) picks the
order and the moments; the outcome must not depend on them. Services that die on their own (e.g. while a
server is restarting) are restarted as a supervisor would, and listed in the output.

Size: 5 days around the spring clock change by default; `pytest tests/stress/test_chaos.py --full` (or
WINDHASH_CHAOS_FULL=1) runs the year 2024.

What "equal" means: every column of every table, except those that record when or how often something
happened (updated_at and the like, fetched_at, attempts, outbox ids), Kafka topic prefixes, and Kafka offsets,
which a crash legitimately moves (a republished period is a new message); instead, the stored positions must
have reached the end of each topic. The outbox is compared as a set: delivery is at least once."""

import asyncio
import os
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from windhash_common.topics import TopicLayout
from windhash_elexon_sim.server import ElexonSimServer
from windhash_stack import LocalStack, Server
from windhash_testing.dedicated_stack import dedicated_stack
from windhash_testing.pipeline_runs import Pipeline, prepare, run_until_caught_up
from windhash_testing.table_checksums import differing_rows, table_checksums


@dataclass(frozen=True)
class ChaosScale:
    first: date
    last: date
    kills_per_service: int
    gap_s: tuple[float, float]  # seconds between two blows, drawn uniformly
    sim_latency_s: float  # per Elexon request, so a small backfill lasts long enough to be hit
    deadline_s: float


FULL = os.environ.get("WINDHASH_CHAOS_FULL") == "1"
SEED = int(os.environ.get("WINDHASH_CHAOS_SEED", "20240331"))
SCALE = (
    ChaosScale(date(2024, 1, 1), date(2024, 12, 31), 8, (5.0, 20.0), 0.0, 3000.0)
    if FULL
    else ChaosScale(date(2024, 3, 29), date(2024, 4, 2), 4, (1.0, 3.5), 0.2, 400.0)
)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(4 * 3600 if FULL else 900)]

PARTITIONS = 3
CRASH_POINTS = ("mid_batch", "after_db_commit", "during_relay")


@pytest.fixture(scope="module")
async def chaos_stack() -> AsyncIterator[LocalStack]:
    """A stack of our own: restarting its Kafka and PostgreSQL cannot disturb the session's."""
    async with dedicated_stack("chaos") as stack:
        yield stack


@pytest.fixture
def reference_sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer() as server:
        yield server


@pytest.fixture
def chaos_sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer(latency_s=SCALE.sim_latency_s) as server:
        yield server


async def kill_and_restart(pipeline: Pipeline, name: str, rng: random.Random) -> None:
    if name == "ingest" and pipeline.ingest_done:
        # The backfill has finished: a forced re-run (every period republished) is what gets killed.
        pipeline.ingests_done.discard("ingest")
        pipeline.start("ingest", force=True)
        pipeline.events.append("ingest --force started (the backfill had finished)")
        await pipeline.idle(rng.uniform(0.5, 2.0))
    service = pipeline.services[name]
    if not service.running:
        pipeline.supervise()
        service = pipeline.services[name]
    if service.running:
        service.kill()
        pipeline.kills.append(name)
    crash_at = None
    if name == "calculator" and rng.random() < 0.5:
        # Half the calculator's restarts also kill it at the worst moment it knows, from the inside.
        crash_at = f"{rng.choice(CRASH_POINTS)}:{rng.randint(1, 3)}"
    pipeline.start(name, crash_at=crash_at)
    pipeline.events.append(
        f"SIGKILL {name}" + (f", restarted with crash point {crash_at}" if crash_at else "")
    )


async def prepare_run(stack: LocalStack, name: str, sim: ElexonSimServer, log_dir: Path) -> Pipeline:
    dates = (SCALE.first, SCALE.last)
    return await prepare(stack.endpoints, name, sim.base_url, log_dir, dates, TopicLayout(PARTITIONS))


async def unleash_chaos(pipeline: Pipeline, stack: LocalStack, rng: random.Random) -> None:
    blows = ["ingest", "calculator", "aggregator"] * SCALE.kills_per_service
    rng.shuffle(blows)
    blows.insert(rng.randint(2, len(blows) // 2), "kafka")
    blows.insert(rng.randint(len(blows) // 2 + 1, len(blows) - 1), "postgres")
    for blow in blows:
        await pipeline.idle(rng.uniform(*SCALE.gap_s))
        if blow in ("kafka", "postgres"):
            server = Server.KAFKA if blow == "kafka" else Server.POSTGRES
            began = asyncio.get_running_loop().time()
            await stack.restart(server)
            took = asyncio.get_running_loop().time() - began
            pipeline.events.append(f"restarted {blow} ({took:.1f} s)")
        else:
            await kill_and_restart(pipeline, blow, rng)


async def start_backfill(pipeline: Pipeline) -> None:
    for name in ("calculator", "aggregator", "ingest"):
        pipeline.start(name)


async def test_chaos_leaves_every_table_as_an_undisturbed_run_does(
    chaos_stack: LocalStack, reference_sim: ElexonSimServer, chaos_sim: ElexonSimServer, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    reference = await prepare_run(chaos_stack, "reference", reference_sim, tmp_path)
    chaos = await prepare_run(chaos_stack, "chaos", chaos_sim, tmp_path)
    try:
        await start_backfill(reference)
        await run_until_caught_up(reference, SCALE.deadline_s)
    finally:
        reference.stop_all()
    try:
        await start_backfill(chaos)
        await unleash_chaos(chaos, chaos_stack, rng)
        await run_until_caught_up(chaos, SCALE.deadline_s)
    finally:
        chaos.stop_all()
    print(f"\nchaos (seed {SEED}), {len(chaos.kills)} SIGKILLs by the test:\n  " + "\n  ".join(chaos.events))

    assert len(chaos.kills) >= 10 and set(chaos.kills) == {"ingest", "calculator", "aggregator"}, chaos.kills
    assert not reference.events, f"the undisturbed run was disturbed: {reference.events}"
    expected = await table_checksums(reference.dsn, reference.topics.prefix)
    actual = await table_checksums(chaos.dsn, chaos.topics.prefix)
    assert int(expected["curtailment_records"].split()[0]) > 0
    assert int(expected["bitcoin_calculations"].split()[0]) > 0
    print("\n".join(f"  {table:24} {checksum}" for table, checksum in sorted(actual.items())))
    differing = sorted(table for table in expected if actual.get(table) != expected[table])
    runs = [(reference.dsn, reference.topics.prefix), (chaos.dsn, chaos.topics.prefix)]
    details = [await differing_rows(runs, table) for table in differing]
    assert actual == expected, "\n".join(details)
