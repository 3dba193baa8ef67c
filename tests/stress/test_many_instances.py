"""Many instances of every service: 3 calculators, 2 aggregators and 2 ingestors in their consumer groups,
started and stopped during a backfill (each start or stop rebalances the groups mid-batch), leave every
table equal to a single-instance run's, with nothing dead-lettered.

The consumers (the calculator's and the aggregator's groups: the consumers on main) scale by partitions; the
ingestors by date range (`windhash ingest range` each over its own dates, which overlap by a day so one day is
published twice, as two operators' backfills would). Both runs share the session's stack, each with its own
database and topics (6 partitions). `--full` backfills a quarter with more starts and stops.
"""

import os
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from windhash_common.topics import TopicLayout
from windhash_elexon_sim.server import ElexonSimServer
from windhash_stack import StackEndpoints
from windhash_testing.pipeline_runs import (
    Pipeline,
    caught_up,
    dead_letters,
    drop_database,
    prepare,
    run_until_caught_up,
)
from windhash_testing.table_checksums import differing_rows, table_checksums


@dataclass(frozen=True)
class Scale:
    first: date
    last: date
    changes: int  # instance starts and stops during the backfill
    sim_latency_s: float
    deadline_s: float


FULL = os.environ.get("WINDHASH_CHAOS_FULL") == "1"
SEED = int(os.environ.get("WINDHASH_CHAOS_SEED", "20240331"))
SCALE = (
    Scale(date(2024, 1, 1), date(2024, 3, 31), 24, 0.02, 2400.0)
    if FULL
    else Scale(date(2024, 3, 27), date(2024, 3, 31), 6, 0.3, 420.0)
)
LAYOUT = TopicLayout(partitions=6)
INSTANCES = {"calculator": 3, "aggregator": 2}
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3 * 3600 if FULL else 1200)]


@pytest.fixture
def sim() -> Iterator[ElexonSimServer]:
    with ElexonSimServer(latency_s=SCALE.sim_latency_s) as server:
        yield server


@pytest.fixture
async def runs(stack: StackEndpoints, sim: ElexonSimServer, tmp_path: Path) -> AsyncIterator[list[Pipeline]]:
    dates = (SCALE.first, SCALE.last)
    made = [
        await prepare(stack, name, sim.base_url, tmp_path, dates, LAYOUT) for name in ("single", "scaled")
    ]
    try:
        yield made
    finally:
        for pipeline in made:
            pipeline.stop_all()
            await drop_database(stack, pipeline)


def split_ingest(pipeline: Pipeline) -> None:
    """Two ingestors over the two halves of the range, overlapping by one day."""
    middle = SCALE.first + (SCALE.last - SCALE.first) / 2
    pipeline.ranges = {"ingest#1": (SCALE.first, middle), "ingest#2": (middle, SCALE.last)}
    assert middle - SCALE.first >= timedelta(0)


async def scale_up_and_down(pipeline: Pipeline, rng: random.Random) -> None:
    """Start the instances one by one while data flows, then stop and restart some: every change is a
    rebalance of a group in the middle of its batches."""
    pipeline.start("calculator#1")
    pipeline.start("aggregator#1")
    split_ingest(pipeline)
    pipeline.start("ingest#1")
    pipeline.start("ingest#2")
    for service, count in INSTANCES.items():
        for number in range(2, count + 1):
            await pipeline.idle(rng.uniform(1.0, 3.0))
            pipeline.start(f"{service}#{number}")
            pipeline.events.append(f"started {service}#{number}")
    for _ in range(SCALE.changes):
        await pipeline.idle(rng.uniform(1.0, 2.5))
        service = rng.choice(sorted(INSTANCES))
        name = f"{service}#{rng.randint(1, INSTANCES[service])}"
        if pipeline.services[name].running:
            how = rng.choice(["stop", "kill"])
            if how == "stop":
                pipeline.stop(name)
            else:
                pipeline.services[name].kill()
                pipeline.stopped.add(name)
            pipeline.events.append(f"{how} {name}")
        else:
            pipeline.start(name)
            pipeline.events.append(f"started {name} again")
    for name in sorted(pipeline.stopped):  # every instance back for the end of the run
        pipeline.start(name)
        pipeline.events.append(f"started {name} again")


async def test_many_instances_started_and_stopped_mid_backfill_leave_every_table_as_one_instance_does(
    runs: list[Pipeline],
) -> None:
    single, scaled = runs
    for name in ("calculator", "aggregator", "ingest"):
        single.start(name)
    await run_until_caught_up(single, SCALE.deadline_s)
    single.stop_all()

    await scale_up_and_down(scaled, random.Random(SEED))
    assert await caught_up(scaled) is not None, "the pipeline caught up before the instances changed"
    await run_until_caught_up(scaled, SCALE.deadline_s)
    scaled.stop_all()
    print("\nmany instances:\n  " + "\n  ".join(scaled.events))

    assert await dead_letters(scaled) == 0 and await dead_letters(single) == 0
    assert sum(event.startswith(("stop", "kill")) for event in scaled.events) >= 1
    expected = await table_checksums(single.dsn, single.topics.prefix)
    actual = await table_checksums(scaled.dsn, scaled.topics.prefix)
    assert int(expected["bitcoin_calculations"].split()[0]) > 0
    differing = sorted(table for table in expected if actual.get(table) != expected[table])
    pairs = [(single.dsn, single.topics.prefix), (scaled.dsn, scaled.topics.prefix)]
    details = [await differing_rows(pairs, table) for table in differing]
    assert actual == expected, "\n".join(details)
