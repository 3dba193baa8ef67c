"""What one Elexon reply may cost the ingestor, over real HTTP from the synthetic server in its own process
(so that only the ingestor's memory is measured), with Kafka and PostgreSQL behind it: a gzip bomb is refused
as it inflates, an oversized body is read no further than the limit, a reply trickling a byte at a time fails
at the request deadline; each period is recorded failed with the reason in ingestion_progress while the run
goes on, and progress says ok for exactly the periods published."""

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from windhash_elexon_sim import ElexonSimProcess, FaultRule
from windhash_ingestor.backfill import ingest_periods_in_range
from windhash_ingestor.progress_store import ProgressRow
from windhash_ingestor.runtime import open_runtime
from windhash_ingestor.settings import IngestorSettings
from windhash_stack.ports import free_port

pytestmark = pytest.mark.integration

DAY = date(2024, 1, 5)
NOW = datetime(2024, 6, 1, tzinfo=UTC)
MAX_BODY = 256 * 1024
MAX_DECODED = 1024 * 1024
DEADLINE_S = 3.0


@pytest.fixture
async def sim_url() -> AsyncIterator[str]:
    async with ElexonSimProcess(free_port()) as sim:
        yield sim.root_url


async def add_fault(root: str, rule: FaultRule) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{root}/_sim/faults", content=rule.model_dump_json())
        assert response.status_code < 300, response.text


def settings_for(root: str) -> IngestorSettings:
    """The ingestor's settings (database, Kafka and topics from `service_env`) with small reply limits."""
    return IngestorSettings(
        elexon_base_url=f"{root}/bmrs/api/v1",
        elexon_max_retries=1,
        elexon_backoff_initial_seconds=0.1,
        elexon_backoff_max_seconds=0.2,
        elexon_read_timeout_seconds=2.0,
        elexon_request_deadline_seconds=DEADLINE_S,
        elexon_max_body_bytes=MAX_BODY,
        elexon_max_decoded_bytes=MAX_DECODED,
    )


async def _ingest_traced(root: str, period: int) -> tuple[str, str | None, int, ProgressRow | None]:
    """Ingest one period; its outcome and error, the peak of Python memory allocated meanwhile, and its
    ingestion_progress row."""
    async with open_runtime(settings_for(root)) as runtime:
        ingestor = await runtime.period_ingestor()
        tracemalloc.start()
        try:
            async with asyncio.timeout(60):
                outcome = await ingestor.ingest(DAY, period)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        row = await runtime.progress.get(DAY, period)
    return outcome.status, outcome.error, peak, row


async def test_a_gzip_bomb_is_refused_as_it_inflates(sim_url: str, service_env: dict[str, str]) -> None:
    await add_fault(sim_url, FaultRule(kind="gzip_bomb", size=256 * 1024 * 1024, period=3, times=None))
    status, error, peak, row = await _ingest_traced(sim_url, 3)
    assert status == "failed" and "inflates to more than" in (error or ""), error
    assert peak < 16 * 1024 * 1024, f"{peak / 1e6:.0f} MB allocated for a {MAX_DECODED} byte limit"
    assert row is not None and row.status == "failed" and "inflates" in (row.error or "")


async def test_an_oversized_body_is_read_no_further_than_the_limit(
    sim_url: str, service_env: dict[str, str]
) -> None:
    await add_fault(sim_url, FaultRule(kind="oversized", size=64 * 1024 * 1024, period=4, times=None))
    status, error, peak, row = await _ingest_traced(sim_url, 4)
    assert status == "failed" and "larger than" in (error or ""), error
    assert peak < 8 * 1024 * 1024, f"{peak / 1e6:.0f} MB allocated for a {MAX_BODY} byte limit"
    assert row is not None and row.status == "failed" and "larger than" in (row.error or "")


async def test_a_reply_trickling_a_byte_at_a_time_fails_at_the_deadline(
    sim_url: str, service_env: dict[str, str]
) -> None:
    await add_fault(sim_url, FaultRule(kind="trickle", delay_s=0.5, period=5, times=None))
    started = time.monotonic()
    status, error, _, row = await _ingest_traced(sim_url, 5)
    elapsed = time.monotonic() - started
    assert status == "failed" and "timeout" in (error or ""), error
    # two attempts, each cut at the deadline, a short backoff between them, and the runtime's start
    assert elapsed < 2 * DEADLINE_S + 10, f"{elapsed:.1f} s"
    assert row is not None and row.status == "failed" and "timeout" in (row.error or "")


async def test_the_run_goes_on_past_bad_replies_and_reports_them(
    sim_url: str, service_env: dict[str, str]
) -> None:
    for period, rule in (
        (7, FaultRule(kind="gzip_bomb", size=64 * 1024 * 1024, times=None)),
        (8, FaultRule(kind="oversized", size=4 * 1024 * 1024, times=None)),
    ):
        await add_fault(sim_url, rule.model_copy(update={"date": DAY, "period": period}))
    async with open_runtime(settings_for(sim_url)) as runtime:
        ingestor = await runtime.period_ingestor()
        report = await ingest_periods_in_range(ingestor, runtime.progress, DAY, DAY, workers=4, now=NOW)
        rows = await runtime.progress.rows_between(DAY, DAY)
    assert [failure.settlement_period for failure in report.failures] == [7, 8]
    assert report.days[0].published == 46
    assert sorted(key[1] for key, row in rows.items() if row.status == "failed") == [7, 8]
    assert sum(row.status == "ok" for row in rows.values()) == 46
