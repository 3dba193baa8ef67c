"""Schemathesis against the market service's own OpenAPI document, on a live uvicorn over the real database
(connected as the market's role, as the service runs), with snapshots, indicators and a refused slot held:
whatever it generates, valid or not, the service answers as documented and never with a 5xx."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from windhash_market.queries.snapshots import record_problem
from windhash_testing.context_services import create_market_service_app
from windhash_testing.live_server import serving
from windhash_testing.market_sample import load_market_sample
from windhash_testing.openapi_fuzz import fuzz

pytestmark = pytest.mark.integration


@pytest.fixture
async def live_market(pg_dsn: str) -> AsyncIterator[str]:
    connection = await asyncpg.connect(pg_dsn)
    try:
        # The last two days up to now, so the default ranges (ending now) hold data too.
        now = datetime.now(UTC)
        first = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0) - timedelta(days=2)
        await load_market_sample(connection, first, 2 * 96, gaps={7, 8, 9})
        await record_problem(
            connection, first + timedelta(minutes=105), "missed", "a source failed: HTTP 503"
        )
    finally:
        await connection.close()
    async with serving(create_market_service_app(pg_dsn, {})) as url:
        yield url


async def test_schemathesis_finds_no_server_error_and_no_undocumented_response_in_the_market_app(
    live_market: str,
) -> None:
    failures = await asyncio.to_thread(fuzz, live_market)
    assert failures == []
