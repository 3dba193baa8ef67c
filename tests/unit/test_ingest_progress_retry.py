"""Ingestion progress through a lost PostgreSQL connection: retried on the pool, and when PostgreSQL stays
away, one error that ends the run (no traceback) and leaves it resumable. Ok rows are written in batches,
always before a run returns, and reads and failures see them first."""

from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner
from windhash_cli.main import app
from windhash_ingestor.backfill import run_periods
from windhash_ingestor.period_ingest import PeriodOutcome, PublishPolicy
from windhash_ingestor.progress_store import PostgresProgressStore, ProgressUnavailable

DAY = date(2024, 1, 5)
# What asyncpg's pool raises when a connection lost mid-query cannot be reset on release.
LOST = asyncpg.InternalClientError("cannot switch to state 15; another operation (12) is in progress")


class FlakyPool:
    """Fails the first `failures` calls the way a restarting PostgreSQL does, then answers."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.executed: list[tuple[Any, ...]] = []
        self.statements: list[str] = []  # what each answered call was: "ok batch", "failure" or "read"

    async def execute(self, query: str, *args: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise LOST
        self.executed.append(args)
        self.statements.append(
            "read" if query.startswith("SELECT") else "failure" if "'failed'" in query else "ok batch"
        )
        return "INSERT 0 1"

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        await self.execute(query, *args)
        return []

    async def fetchrow(self, query: str, *args: Any) -> Any:
        await self.execute(query, *args)
        return None


def retries() -> float:
    return REGISTRY.get_sample_value("windhash_ingestor_db_retries_total") or 0.0


async def test_a_progress_write_that_loses_its_connection_is_retried() -> None:
    pool = FlakyPool(failures=2)
    store = PostgresProgressStore(pool, db_attempts=4)
    before = retries()

    await store.record_ok(DAY, 7, 3, Decimal("1.5"), "hash")
    await store.flush()

    assert pool.calls == 3
    assert pool.executed == [([DAY], [7], [3], [Decimal("1.5")], ["hash"], [1])]
    assert retries() == before + 2


async def test_ok_rows_are_queued_and_written_in_one_statement_per_batch() -> None:
    pool = FlakyPool()
    store = PostgresProgressStore(pool, batch_periods=3, batch_seconds=60)

    await store.record_ok(DAY, 9, 1, Decimal("1"), "a")
    await store.record_ok(DAY, 2, 2, Decimal("2"), "b")
    await store.record_ok(DAY, 9, 4, Decimal("4"), "c")  # the same period again: the latest, two attempts
    assert pool.executed == []
    await store.record_ok(DAY, 5, 5, Decimal("5"), "d")

    # Sorted by period, so concurrent writers take row locks in one order.
    assert pool.executed == [
        (
            [DAY] * 3,
            [2, 5, 9],
            [2, 5, 4],
            [Decimal("2"), Decimal("5"), Decimal("4")],
            ["b", "d", "c"],
            [1, 1, 2],
        )
    ]
    await store.flush()  # nothing left
    assert len(pool.executed) == 1


async def test_ok_rows_waiting_longer_than_the_batch_time_are_written_with_the_next() -> None:
    pool = FlakyPool()
    store = PostgresProgressStore(pool, batch_periods=100, batch_seconds=0)

    await store.record_ok(DAY, 1, 1, Decimal("1"), "a")

    assert pool.statements == ["ok batch"]


async def test_reads_and_failures_see_queued_ok_rows_first() -> None:
    pool = FlakyPool()
    store = PostgresProgressStore(pool, batch_periods=100, batch_seconds=60)

    await store.record_ok(DAY, 1, 1, Decimal("1"), "a")
    await store.get(DAY, 2)  # another period: no need to write
    assert pool.statements == ["read"]
    await store.get(DAY, 1)  # if_changed compares with this period's latest state
    assert pool.statements == ["read", "ok batch", "read"]

    await store.record_ok(DAY, 3, 1, Decimal("1"), "a")
    await store.record_failure(DAY, 3, "fetch failed")  # the failure lands after the ok, not under it
    assert pool.statements == ["read", "ok batch", "read", "ok batch", "failure"]

    await store.record_ok(DAY, 4, 1, Decimal("1"), "a")
    await store.failed_since(DAY)
    await store.record_ok(DAY, 5, 1, Decimal("1"), "a")
    await store.rows_between(DAY, DAY)
    assert pool.statements[-4:] == ["ok batch", "read", "ok batch", "read"]


async def test_a_batch_that_cannot_be_written_ends_in_one_clear_error() -> None:
    store = PostgresProgressStore(FlakyPool(failures=99), db_attempts=2)
    await store.record_ok(DAY, 7, 3, Decimal("1.5"), "hash")
    await store.record_ok(DAY, 8, 3, Decimal("1.5"), "hash")

    with pytest.raises(ProgressUnavailable, match=r"record 2 period\(s\) as ok .* after 2 attempts"):
        await store.flush()


async def test_progress_that_cannot_be_written_ends_in_one_clear_error() -> None:
    store = PostgresProgressStore(FlakyPool(failures=99), db_attempts=3)

    with pytest.raises(ProgressUnavailable, match=r"record 2024-01-05 P7 as failed after 3 attempts"):
        await store.record_failure(DAY, 7, "fetch failed")


class UnavailableIngestor:
    async def ingest(self, day: date, period: int, policy: PublishPolicy = "always") -> PeriodOutcome:
        raise ProgressUnavailable("PostgreSQL did not answer")


class QueuingIngestor:
    """Publishes nothing; records every period ok, as PeriodIngestor does after Kafka's acknowledgement."""

    def __init__(self, progress: PostgresProgressStore) -> None:
        self.progress = progress

    async def ingest(self, day: date, period: int, policy: PublishPolicy = "always") -> PeriodOutcome:
        await self.progress.record_ok(day, period, 1, Decimal(1), "hash")
        return PeriodOutcome(day, period, "published", 1, Decimal(1), "hash")


async def test_a_run_writes_every_ok_before_it_returns() -> None:
    pool = FlakyPool()
    ingestor = QueuingIngestor(PostgresProgressStore(pool, batch_periods=4, batch_seconds=60))
    periods = [(DAY, period) for period in range(1, 11)]

    outcomes = await run_periods(ingestor, periods, "always", workers=3)  # type: ignore[arg-type]

    assert len(outcomes) == 10
    written = sorted(period for args in pool.executed for period in args[1])
    assert written == list(range(1, 11))
    assert [len(args[1]) for args in pool.executed] == [4, 4, 2]


async def test_a_range_stops_with_the_error_itself_not_a_group_of_them() -> None:
    periods = [(DAY, period) for period in range(1, 9)]

    with pytest.raises(ProgressUnavailable, match="did not answer"):
        await run_periods(UnavailableIngestor(), periods, "always", workers=4)  # type: ignore[arg-type]


def test_the_cli_prints_one_error_line_and_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    async def unavailable(*args: object, **kwargs: object) -> None:
        raise ProgressUnavailable("PostgreSQL did not answer to record 2024-01-05 P7 as ok after 6 attempts")

    monkeypatch.setattr("windhash_ingestor.backfill.ingest_range", unavailable)

    result = CliRunner().invoke(app, ["ingest", "range", "2024-01-05", "2024-01-05"])

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "did not answer to record 2024-01-05 P7 as ok" in result.output
    assert "run the same command again to resume" in result.output
    assert "Traceback" not in result.output
