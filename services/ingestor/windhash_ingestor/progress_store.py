"""`ingestion_progress`: what the ingestor last did with each settlement period, and whether it succeeded.

A period is marked ok only after Kafka acknowledged its event, so an ok row always means "published". A
failure keeps the counts and hash of the last good publish (the event downstream is still that one) and says
why it failed; `attempts` counts the runs that tried the period.

PostgreSQL going away (a restart) is retried with backoff on a fresh pool connection; if it does not come
back, `ProgressUnavailable` ends the run. A period whose progress was not written is not ok, so the next run
fetches and publishes it again (downstream writes are idempotent): the run stays resumable.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, Protocol, TypeVar

import asyncpg
from windhash_common.db_retry import RETRIED_ERRORS, with_db_retries

from windhash_ingestor.metrics import DB_RETRIES

ProgressStatus = Literal["ok", "failed"]
PeriodKey = tuple[date, int]
T = TypeVar("T")


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
    def __init__(self, pool: asyncpg.Pool, db_attempts: int = 6, db_backoff_seconds: float = 0.5) -> None:
        self._pool = pool
        self._attempts = db_attempts
        self._backoff_seconds = db_backoff_seconds

    async def _retried(self, operation: Callable[[], Awaitable[T]], what: str) -> T:
        try:
            return await with_db_retries(
                operation, what, self._attempts, self._backoff_seconds, on_retry=DB_RETRIES.inc
            )
        except RETRIED_ERRORS as error:
            raise ProgressUnavailable(
                f"PostgreSQL did not answer to {what} after {self._attempts} attempts: {error!r}"
            ) from error

    async def rows_between(self, first: date, last: date) -> dict[PeriodKey, ProgressRow]:
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
        await self._retried(
            lambda: self._pool.execute(
                "INSERT INTO ingestion_progress AS p (settlement_date, settlement_period, status,"
                " record_count, energy_mwh, content_hash, error, attempts, updated_at)"
                " VALUES ($1, $2, 'ok', $3, $4, $5, NULL, 1, now())"
                " ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET status = 'ok',"
                " record_count = EXCLUDED.record_count, energy_mwh = EXCLUDED.energy_mwh,"
                " content_hash = EXCLUDED.content_hash, error = NULL, attempts = p.attempts + 1,"
                " updated_at = now()",
                settlement_date,
                settlement_period,
                record_count,
                energy_mwh,
                content_hash,
            ),
            f"record {settlement_date} P{settlement_period} as ok",
        )

    async def record_failure(self, settlement_date: date, settlement_period: int, error: str) -> None:
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
        records = await self._retried(
            lambda: self._pool.fetch(
                "SELECT settlement_date, settlement_period FROM ingestion_progress"
                " WHERE status = 'failed' AND settlement_date >= $1 ORDER BY 1, 2",
                first,
            ),
            f"read the failed periods since {first}",
        )
        return [(record["settlement_date"], record["settlement_period"]) for record in records]
