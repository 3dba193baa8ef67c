"""A 3-broker Kafka cluster (`windhash stack up --brokers 3`: replication factor 3, min.insync.replicas 2)
loses a broker to SIGKILL in the middle of a backfill: the pipeline keeps going on the other two, the broker
comes back and catches up, and every table equals an undisturbed run's on the same cluster, with nothing
dead-lettered.

Both runs are the real system as OS processes (windhash_testing.pipeline_runs) on a stack of the test's own.
Producers write with acks=all to partitions whose leaders move when the broker dies; consumers lose their
group coordinator when it was on that broker and find the new one. Which broker dies is drawn from the seed
(WINDHASH_CHAOS_SEED); `--full` backfills a month and kills a broker twice.
"""

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
from windhash_testing.pipeline_runs import Pipeline, dead_letters, prepare, run_until_caught_up
from windhash_testing.table_checksums import differing_rows, table_checksums


@dataclass(frozen=True)
class ClusterScale:
    first: date
    last: date
    kills: int
    sim_latency_s: float
    deadline_s: float


FULL = os.environ.get("WINDHASH_CHAOS_FULL") == "1"
SEED = int(os.environ.get("WINDHASH_CHAOS_SEED", "20240331"))
SCALE = (
    ClusterScale(date(2024, 3, 1), date(2024, 3, 31), 2, 0.05, 2400.0)
    if FULL
    else ClusterScale(date(2024, 3, 30), date(2024, 3, 31), 1, 0.2, 420.0)
)
LAYOUT = TopicLayout(partitions=3, replication_factor=3, min_insync_replicas=2)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3 * 3600 if FULL else 1200)]


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalStack]:
    async with dedicated_stack("cluster", brokers=3) as stack:
        yield stack


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer(latency_s=SCALE.sim_latency_s) as server:
        yield server


def start_backfill(pipeline: Pipeline) -> None:
    for name in ("calculator", "aggregator", "ingest"):
        pipeline.start(name)


async def lose_a_broker(cluster: LocalStack, pipeline: Pipeline, rng: random.Random) -> None:
    """SIGKILL a broker while data flows, run on two for a while, start it again."""
    for _ in range(SCALE.kills):
        await pipeline.idle(rng.uniform(3.0, 6.0))
        node = rng.randint(1, 3)
        assert await cluster.kill(Server.KAFKA, node=node), f"kafka-{node} was not running"
        pipeline.events.append(f"SIGKILL kafka-{node}")
        await pipeline.idle(rng.uniform(8.0, 12.0))
        await cluster.start_node(node)
        pipeline.events.append(f"kafka-{node} started again")


async def test_a_broker_killed_mid_backfill_changes_no_table_and_dead_letters_nothing(
    cluster: LocalStack, sim: ElexonSimServer, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    assert cluster.endpoints.kafka_bootstrap.count(",") == 2
    dates = (SCALE.first, SCALE.last)
    endpoints = cluster.endpoints
    reference = await prepare(endpoints, "undisturbed", sim.base_url, tmp_path, dates, LAYOUT)
    disturbed = await prepare(endpoints, "broker-lost", sim.base_url, tmp_path, dates, LAYOUT)
    try:
        start_backfill(reference)
        await run_until_caught_up(reference, SCALE.deadline_s)
    finally:
        reference.stop_all()
    try:
        start_backfill(disturbed)
        await lose_a_broker(cluster, disturbed, rng)
        assert not disturbed.ingest_done, "the backfill ended before the broker came back: slow it down"
        await run_until_caught_up(disturbed, SCALE.deadline_s)
    finally:
        disturbed.stop_all()
    print("\n3-broker cluster:\n  " + "\n  ".join(disturbed.events))

    assert not reference.events, f"the undisturbed run was disturbed: {reference.events}"
    assert await dead_letters(disturbed) == 0
    assert await dead_letters(reference) == 0
    expected = await table_checksums(reference.dsn, reference.topics.prefix)
    actual = await table_checksums(disturbed.dsn, disturbed.topics.prefix)
    assert int(expected["bitcoin_calculations"].split()[0]) > 0
    differing = sorted(table for table in expected if actual.get(table) != expected[table])
    runs = [(reference.dsn, reference.topics.prefix), (disturbed.dsn, disturbed.topics.prefix)]
    details = [await differing_rows(runs, table) for table in differing]
    assert actual == expected, "\n".join(details)
