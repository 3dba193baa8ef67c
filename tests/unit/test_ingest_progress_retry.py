"""Ingestion progress through a lost PostgreSQL connection: retried on the pool, and when PostgreSQL stays
away, one error that ends the run (no traceback) and leaves it resumable."""

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

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.executed: list[tuple[Any, ...]] = []

    async def execute(self, query: str, *args: Any) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise LOST
        self.executed.append(args)
        return "INSERT 0 1"

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        await self.execute(query, *args)
        return []


def retries() -> float:
    return REGISTRY.get_sample_value("windhash_ingestor_db_retries_total") or 0.0


async def test_a_progress_write_that_loses_its_connection_is_retried() -> None:
    pool = FlakyPool(failures=2)
    store = PostgresProgressStore(pool, db_attempts=4, db_backoff_seconds=0)
    before = retries()

    await store.record_ok(DAY, 7, 3, Decimal("1.5"), "hash")

    assert pool.calls == 3
    assert pool.executed == [(DAY, 7, 3, Decimal("1.5"), "hash")]
    assert retries() == before + 2


async def test_progress_that_cannot_be_written_ends_in_one_clear_error() -> None:
    store = PostgresProgressStore(FlakyPool(failures=99), db_attempts=3, db_backoff_seconds=0)

    with pytest.raises(ProgressUnavailable, match=r"record 2024-01-05 P7 as failed after 3 attempts"):
        await store.record_failure(DAY, 7, "fetch failed")


class UnavailableIngestor:
    async def ingest(self, day: date, period: int, policy: PublishPolicy = "always") -> PeriodOutcome:
        raise ProgressUnavailable("PostgreSQL did not answer")


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
