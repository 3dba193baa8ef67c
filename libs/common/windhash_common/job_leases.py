"""One runner per background job, across processes and hosts: a lease in PostgreSQL (`scheduler_locks`).

A job (the market poller, the reconcile self-check, a telemetry collector's shard, ...) runs only while its
process holds the job's lease. The holder renews the lease every `ttl/3`; a holder that crashes or loses
PostgreSQL stops renewing, its lease expires after `ttl`, and another process takes over. A holder that fails
to renew stops its work at once (`run_while_holding` cancels it), so two runners never overlap for longer than
the time a renewal takes to fail. `version` changes with every change of holder: a job can write it next to
its effects as a fencing token. `windhash jobs` and the admin API list the holders.
"""

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import structlog

from windhash_common import job_lease_queries as queries

log = structlog.get_logger(__name__)


def holder_identity() -> str:
    """Unique per process start: a restarted process on the same host and pid is a new holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class JobHolder:
    job_key: str
    holder: str
    hostname: str
    pid: int
    acquired_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    version: int
    live: bool


class JobLease:
    """The lease of one job key for one holder. `version` is the fencing token of the current tenure."""

    def __init__(
        self, pool: asyncpg.Pool, job_key: str, ttl_seconds: float, holder: str | None = None
    ) -> None:
        if not job_key or len(job_key) > 200:
            raise ValueError("a job key has 1 to 200 characters")
        if ttl_seconds <= 0:
            raise ValueError("a lease's time to live must be positive")
        self.pool = pool
        self.job_key = job_key
        self.ttl_seconds = ttl_seconds
        self.holder = holder or holder_identity()
        self.version: int | None = None

    async def try_take(self) -> bool:
        async with self.pool.acquire() as connection:
            version = await connection.fetchval(
                queries.TAKE, self.job_key, self.holder, socket.gethostname(), os.getpid(), self.ttl_seconds
            )
        self.version = int(version) if version is not None else None
        return self.version is not None

    async def renew(self) -> bool:
        """False when the lease was lost (expired and taken, or deleted): the job must stop."""
        async with self.pool.acquire() as connection:
            version = await connection.fetchval(queries.RENEW, self.job_key, self.holder, self.ttl_seconds)
        if version is None or int(version) != self.version:
            self.version = None
            return False
        return True

    async def release(self) -> None:
        async with self.pool.acquire() as connection:
            await connection.execute(queries.RELEASE, self.job_key, self.holder)
        self.version = None


async def job_holders(connection: asyncpg.Connection, key_prefix: str | None = None) -> list[JobHolder]:
    rows = await connection.fetch(queries.HOLDERS, key_prefix)
    return [JobHolder(**dict(row)) for row in rows]


async def run_while_holding(
    lease: JobLease, work: Callable[[], Awaitable[None]], renew_every_seconds: float | None = None
) -> bool:
    """Run `work` while holding `lease`; returns False at once if the lease is held by someone else.

    The lease is renewed every `renew_every_seconds` (default ttl/3). If a renewal fails (lost lease, or
    PostgreSQL unreachable for long enough that the lease may have expired) the work is cancelled and
    `LeaseLost` is raised; otherwise the lease is released when the work ends, however it ends.
    """
    if not await lease.try_take():
        return False
    interval = renew_every_seconds or lease.ttl_seconds / 3
    task = asyncio.ensure_future(work())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=interval)
            if task.done():
                break
            try:
                still_held = await asyncio.wait_for(lease.renew(), timeout=interval)
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.warning("job lease renewal failed", job=lease.job_key, error=str(error))
                still_held = False
            if not still_held:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                raise LeaseLost(lease.job_key)
        await task
        return True
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if lease.version is not None:
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await lease.release()


class LeaseLost(RuntimeError):
    def __init__(self, job_key: str) -> None:
        super().__init__(f"the lease of job {job_key!r} was lost; its work was stopped")
        self.job_key = job_key
