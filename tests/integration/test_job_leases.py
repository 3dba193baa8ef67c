"""Job leases on the real PostgreSQL: one holder at a time, takeover on expiry, fencing, loss stops work."""

import asyncio
import csv
import io
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from windhash_common.db import create_pool
from windhash_common.job_leases import JobLease, LeaseLost, job_holders, run_while_holding

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(pg_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(pg_dsn, max_size=4)
    yield pool
    await pool.close()


async def test_a_held_job_cannot_be_taken_by_a_second_holder_until_it_expires(pool: asyncpg.Pool) -> None:
    first = JobLease(pool, "market-poller", ttl_seconds=0.5)
    second = JobLease(pool, "market-poller", ttl_seconds=0.5)
    assert await first.try_take()
    assert not await second.try_take()
    assert await first.try_take()  # our own re-take keeps the tenure
    assert first.version == 1

    await asyncio.sleep(0.6)
    assert await second.try_take()
    assert second.version == 2  # a new holder, a new fencing token
    assert not await first.renew()
    assert first.version is None


async def test_release_frees_the_job_and_only_the_holder_can_release(pool: asyncpg.Pool) -> None:
    holder = JobLease(pool, "self-check", ttl_seconds=30)
    other = JobLease(pool, "self-check", ttl_seconds=30)
    assert await holder.try_take()
    await other.release()  # not the holder: nothing happens
    assert not await other.try_take()
    await holder.release()
    assert await other.try_take()


async def test_holders_are_listed_with_host_and_heartbeat(pool: asyncpg.Pool) -> None:
    shard = JobLease(pool, "fleet-collector/shard-0", ttl_seconds=30)
    assert await shard.try_take()
    assert await JobLease(pool, "market-poller", ttl_seconds=30).try_take()
    async with pool.acquire() as connection:
        every = await job_holders(connection)
        fleet = await job_holders(connection, "fleet-collector/")
    assert [row.job_key for row in every] == ["fleet-collector/shard-0", "market-poller"]
    assert [row.job_key for row in fleet] == ["fleet-collector/shard-0"]
    row = fleet[0]
    assert row.holder == shard.holder and row.live and row.version == 1
    assert row.acquired_at <= row.heartbeat_at < row.expires_at


async def test_work_runs_while_the_lease_is_held_and_the_lease_is_released_after(pool: asyncpg.Pool) -> None:
    ran: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0.3)  # spans several renewals
        ran.append("done")

    lease = JobLease(pool, "job", ttl_seconds=0.3)
    assert await run_while_holding(lease, work, renew_every_seconds=0.05)
    assert ran == ["done"]
    async with pool.acquire() as connection:
        assert await job_holders(connection) == []


async def test_a_second_runner_does_not_run_while_the_first_holds_the_job(pool: asyncpg.Pool) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def long_work() -> None:
        started.set()
        await release.wait()

    async def never() -> None:
        raise AssertionError("a second runner ran the job")

    first = asyncio.create_task(run_while_holding(JobLease(pool, "job", ttl_seconds=5), long_work))
    await started.wait()
    assert not await run_while_holding(JobLease(pool, "job", ttl_seconds=5), never)
    release.set()
    assert await first


async def test_work_is_cancelled_when_the_lease_is_lost(pool: asyncpg.Pool) -> None:
    cancelled = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    lease = JobLease(pool, "job", ttl_seconds=5)

    async def steal() -> None:
        await asyncio.sleep(0.1)
        async with pool.acquire() as connection:
            await connection.execute("UPDATE scheduler_locks SET holder = 'thief' WHERE job_key = 'job'")

    thief = asyncio.create_task(steal())
    with pytest.raises(LeaseLost):
        await run_while_holding(lease, work, renew_every_seconds=0.05)
    await thief
    assert cancelled.is_set()


def test_a_lease_needs_a_key_and_a_positive_time_to_live() -> None:
    with pytest.raises(ValueError, match="1 to 200"):
        JobLease(None, "", 1)
    with pytest.raises(ValueError, match="positive"):
        JobLease(None, "job", 0)


async def test_windhash_jobs_lists_the_holders_as_csv(pool: asyncpg.Pool, pg_dsn: str) -> None:
    lease = JobLease(pool, "market-poller", ttl_seconds=60)
    assert await lease.try_take()
    windhash = str(Path(sys.executable).with_name("windhash"))
    done = await asyncio.create_subprocess_exec(
        windhash,
        "jobs",
        "--csv",
        env={**os.environ, "WINDHASH_DATABASE_URL": pg_dsn},
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await done.communicate()
    assert done.returncode == 0
    header, row = list(csv.reader(io.StringIO(output.decode())))
    assert header == ["job", "holder", "host", "pid", "since", "heartbeat", "expires", "version", "live"]
    assert row[0] == "market-poller" and row[1] == lease.holder and row[-1] == "yes"
