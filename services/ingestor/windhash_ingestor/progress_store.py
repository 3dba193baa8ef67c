"""`ingestion_progress`: what the ingestor last did with each settlement period, and whether it succeeded.

A period is marked ok only after Kafka acknowledged its event, so an ok row always means "published". A
failure keeps the counts and hash of the last good publish (the event downstream is still that one) and says
why it failed; `attempts` counts the runs that tried the period.

Ok rows are written in batches: `record_ok` queues the period (its event is already acknowledged) and one
statement writes the queue when it holds `batch_periods` periods, when its oldest has waited
`batch_seconds` (checked at the next `record_ok`), and always in `flush`, which every run calls before it
ends or reports (backfill.run_periods). Reads flush first (`get` when it asks about a queued period), so they
always see the latest state, and a failure of a queued period is written after its ok, in order. A crash
before a flush, or a batch PostgreSQL never took, loses only those ok rows: their periods are not ok, so the
next run fetches and publishes them again, which downstream absorbs (its writes are idempotent; an unchanged
period has the same content hash).

PostgreSQL going away (a restart) is retried with backoff on a fresh pool connection; if it does not come
back, `ProgressUnavailable` ends the run. A period whose progress was not written is not ok, so the next run
fetches and publishes it again (downstream writes are idempotent): the run stays resumable.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

import asyncpg
from windhash_common.dependency_retries import POSTGRESQL, is_postgresql_outage, through_outages

from windhash_ingestor.metrics import DB_RETRIES

ProgressStatus = Literal["ok", "failed"]
PeriodKey = tuple[date, int]
T = TypeVar("T")

# One statement per 100 periods instead of one per period: the round trip and the per-statement work on both
# sides (and PostgreSQL's commit) are paid once a batch. About 0.4 ms of the ingestor's CPU per period before.
OK_BATCH_PERIODS = 100
OK_BATCH_SECONDS = 1.0


class ProgressUnavailable(Exception):
    """PostgreSQL did not answer (after retries) while reading or recording ingestion progress."""


@dataclass(frozen=True)
class ProgressRow:
    settlement_date: date
    settlement_period: int
    status: ProgressStatus
    record_count: int | None
    energy_mwh: Decimal | None
    content_hash: str | None
    error: str | None
    attempts: int


class ProgressStore(Protocol):
    async def rows_between(self, first: date, last: date) -> dict[PeriodKey, ProgressRow]: ...

    async def get(self, settlement_date: date, settlement_period: int) -> ProgressRow | None: ...

    async def record_ok(
        self,
        settlement_date: date,
        settlement_period: int,
        record_count: int,
        energy_mwh: Decimal,
        content_hash: str,
    ) -> None: ...

    async def record_failure(self, settlement_date: date, settlement_period: int, error: str) -> None: ...

    async def failed_since(self, first: date) -> list[PeriodKey]: ...

    async def flush(self) -> None:
        """Write every ok recorded so far; a run calls it before it ends or reports."""
        ...


@dataclass(frozen=True)
class _QueuedOk:
    record_count: int
    energy_mwh: Decimal
    content_hash: str
    times: int  # record_ok calls for the period since the last flush: each counts as an attempt


_RECORD_OK_BATCH = (
    "INSERT INTO ingestion_progress AS p (settlement_date, settlement_period, status, record_count,"
    " energy_mwh, content_hash, error, attempts, updated_at)"
    " SELECT d, n, 'ok', c, e, h, NULL, t, now()"
    " FROM unnest($1::date[], $2::smallint[], $3::integer[], $4::numeric[], $5::text[], $6::integer[])"
    " AS u(d, n, c, e, h, t)"
    " ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET status = 'ok',"
    " record_count = EXCLUDED.record_count, energy_mwh = EXCLUDED.energy_mwh,"
    " content_hash = EXCLUDED.content_hash, error = NULL, attempts = p.attempts + EXCLUDED.attempts,"
    " updated_at = now()"
)


_COLUMNS = (
    "settlement_date, settlement_period, status, record_count, energy_mwh, content_hash, error, attempts"
)


def _row(record: asyncpg.Record) -> ProgressRow:
    return ProgressRow(
        settlement_date=record["settlement_date"],
        settlement_period=record["settlement_period"],
        status=record["status"],
        record_count=record["record_count"],
        energy_mwh=record["energy_mwh"],
        content_hash=record["content_hash"],
        error=record["error"],
        attempts=record["attempts"],
    )


class PostgresProgressStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        db_attempts: int = 8,
        batch_periods: int = OK_BATCH_PERIODS,
        batch_seconds: float = OK_BATCH_SECONDS,
    ) -> None:
        self._pool = pool
        self._attempts = db_attempts
        self._batch_periods = batch_periods
        self._batch_seconds = batch_seconds
        self._queued: dict[PeriodKey, _QueuedOk] = {}
        self._queued_since = 0.0  # loop time of the oldest queued ok
        self._writing: frozenset[PeriodKey] = frozenset()  # the batch being written
        self._flushing = asyncio.Lock()

    async def _retried(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        async def counted() -> T:
            try:
                return await operation()
            except Exception as error:
                if is_postgresql_outage(error):
                    DB_RETRIES.inc()
                raise

        try:
            return await through_outages(counted, what, [POSTGRESQL], attempts=self._attempts)
        except Exception as error:
            if not is_postgresql_outage(error):
                raise
            raise ProgressUnavailable(
                f"PostgreSQL did not answer to {what} after {self._attempts} attempts: {error!r}"
            ) from error

    async def rows_between(self, first: date, last: date) -> dict[PeriodKey, ProgressRow]:
        await self.flush()
        records = await self._retried(
            lambda: self._pool.fetch(
                f"SELECT {_COLUMNS} FROM ingestion_progress WHERE settlement_date BETWEEN $1 AND $2",
                first,
                last,
            ),
            f"read the progress of {first}..{last}",
        )
        rows = [_row(record) for record in records]
        return {(row.settlement_date, row.settlement_period): row for row in rows}

    async def get(self, settlement_date: date, settlement_period: int) -> ProgressRow | None:
        await self._flush_if_queued((settlement_date, settlement_period))
        record = await self._retried(
            lambda: self._pool.fetchrow(
                f"SELECT {_COLUMNS} FROM ingestion_progress"
                " WHERE settlement_date = $1 AND settlement_period = $2",
                settlement_date,
                settlement_period,
            ),
            f"read the progress of {settlement_date} P{settlement_period}",
        )
        return None if record is None else _row(record)

    async def record_ok(
        self,
        settlement_date: date,
        settlement_period: int,
        record_count: int,
        energy_mwh: Decimal,
        content_hash: str,
    ) -> None:
        """Queue the period as ok (its event is acknowledged); written by the next flush."""
        now = asyncio.get_running_loop().time()
        if not self._queued:
            self._queued_since = now
        key = (settlement_date, settlement_period)
        earlier = self._queued.get(key)
        times = 1 if earlier is None else earlier.times + 1
        self._queued[key] = _QueuedOk(record_count, energy_mwh, content_hash, times)
        if len(self._queued) >= self._batch_periods or now - self._queued_since >= self._batch_seconds:
            await self.flush()

    async def flush(self) -> None:
        async with self._flushing:
            if not self._queued:
                return
            batch = sorted(self._queued.items())  # one lock order for every writer: no deadlocks
            self._queued = {}
            self._writing = frozenset(key for key, _ in batch)
            first, last = batch[0][0], batch[-1][0]
            try:
                await self._retried(
                    lambda: self._pool.execute(
                        _RECORD_OK_BATCH,
                        [key[0] for key, _ in batch],
                        [key[1] for key, _ in batch],
                        [item.record_count for _, item in batch],
                        [item.energy_mwh for _, item in batch],
                        [item.content_hash for _, item in batch],
                        [item.times for _, item in batch],
                    ),
                    f"record {len(batch)} period(s) as ok ({first[0]} P{first[1]} .. {last[0]} P{last[1]})",
                )
            finally:
                self._writing = frozenset()

    async def _flush_if_queued(self, key: PeriodKey) -> None:
        if key in self._queued or key in self._writing:
            await self.flush()  # waits for a batch being written, then writes what is queued

    async def record_failure(self, settlement_date: date, settlement_period: int, error: str) -> None:
        await self._flush_if_queued((settlement_date, settlement_period))  # its ok first, then this
        await self._retried(
            lambda: self._pool.execute(
                "INSERT INTO ingestion_progress AS p"
                " (settlement_date, settlement_period, status, error, attempts, updated_at)"
                " VALUES ($1, $2, 'failed', $3, 1, now())"
                " ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET status = 'failed',"
                " error = EXCLUDED.error, attempts = p.attempts + 1, updated_at = now()",
                settlement_date,
                settlement_period,
                error,
            ),
            f"record {settlement_date} P{settlement_period} as failed",
        )

    async def failed_since(self, first: date) -> list[PeriodKey]:
        await self.flush()
        records = await self._retried(
            lambda: self._pool.fetch(
                "SELECT settlement_date, settlement_period FROM ingestion_progress"
                " WHERE status = 'failed' AND settlement_date >= $1 ORDER BY 1, 2",
                first,
            ),
            f"read the failed periods since {first}",
        )
        return [(record["settlement_date"], record["settlement_period"]) for record in records]
