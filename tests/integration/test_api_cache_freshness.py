"""The response cache against PostgreSQL: answers are served from memory until the data changes, and a change
is served within the documented bound (services/api/windhash_api/response_cache.py):

* a commit to a table the data version fingerprints (a summary table, or facts with their outbox event, as
  the calculator writes them) at most 2 x WINDHASH_API_CACHE_CHECK_SECONDS after it;
* any other change at most WINDHASH_API_CACHE_MAX_AGE_SECONDS after it.

The app runs its lifespan here (which starts the version checks), unlike the other API tests.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import asyncpg
import httpx
import pytest
from windhash_api.app import create_app
from windhash_api.response_cache import ResponseCache
from windhash_api.settings import ApiSettings
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration

DAY = date(2024, 3, 5)
CHECK_SECONDS = 0.1
BOUND_S = 2 * CHECK_SECONDS
MAX_AGE_S = 2.0


@dataclass
class CachedApi:
    client: httpx.AsyncClient
    connection: asyncpg.Connection
    cache: ResponseCache

    async def get(self, path: str) -> httpx.Response:
        response = await self.client.get(path)
        assert response.status_code == 200, response.text
        return response

    def hits(self) -> float:
        hits = self.cache.metrics.registry.get_sample_value(
            "windhash_api_cache_requests_total", {"outcome": "hit"}
        )
        return hits or 0.0


@pytest.fixture
async def api(pg_dsn: str) -> AsyncIterator[CachedApi]:
    connection = await asyncpg.connect(pg_dsn)
    await load_sample(connection, [date(2024, 3, 4), DAY])
    settings = ApiSettings(
        database_url=pg_dsn,
        migrate_on_start=False,
        api_cache_check_seconds=CHECK_SECONDS,
        api_cache_max_age_seconds=MAX_AGE_S,
    )
    app = create_app(settings)
    cache = app.state.response_cache
    assert isinstance(cache, ResponseCache)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as client:
                yield CachedApi(client, connection, cache)
    finally:
        await connection.close()


async def committed_then_bound(connection: asyncpg.Connection, bound_s: float, *statements: str) -> None:
    """Run the statements in one transaction, then wait `bound_s` from the moment the commit returned."""
    async with connection.transaction():
        for statement in statements:
            await connection.execute(statement)
    committed = time.monotonic()
    await asyncio.sleep(max(0.0, committed + bound_s - time.monotonic()))


async def test_a_summary_commit_is_served_within_two_check_intervals(api: CachedApi) -> None:
    path = f"/api/v1/summaries/daily/{DAY}"
    before = await api.get(path)
    hits = api.hits()
    again = await api.get(path)
    assert api.hits() == hits + 1, "the second request is answered from the cache"
    assert again.content == before.content

    # What the aggregator's commit does to the day's row (replace by key), as plain SQL.
    await committed_then_bound(
        api.connection,
        BOUND_S,
        f"UPDATE curtailment_daily SET energy_mwh = energy_mwh + 1000 WHERE settlement_date = '{DAY}'",
    )
    after = await api.get(path)
    assert after.json()["energy_mwh"] == pytest.approx(before.json()["energy_mwh"] + 1000)
    assert after.headers["etag"] != before.headers["etag"]
    revalidated = await api.client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert revalidated.status_code == 200, "the old ETag no longer matches"
    current = await api.client.get(path, headers={"If-None-Match": after.headers["etag"]})
    assert current.status_code == 304


async def test_facts_committed_with_their_outbox_event_are_served_within_two_check_intervals(
    api: CachedApi,
) -> None:
    path = f"/api/v1/curtailment/{DAY}/periods"
    before = (await api.get(path)).json()
    period = next(row for row in before["periods"] if row["record_count"] > 0)["settlement_period"]
    await api.get(path)
    # The calculator writes a period's records and its period-calculated event in one transaction.
    await committed_then_bound(
        api.connection,
        BOUND_S,
        f"UPDATE curtailment_records SET volume_mwh = volume_mwh - 7"
        f" WHERE settlement_date = '{DAY}' AND settlement_period = {period}",
        "INSERT INTO outbox (topic, payload) VALUES ('test.period-calculated', '{}')",
    )
    after = (await api.get(path)).json()
    records = before["periods"][period - 1]["record_count"]
    assert after["periods"][period - 1]["energy_mwh"] == pytest.approx(
        before["periods"][period - 1]["energy_mwh"] + 7 * records
    )


async def test_a_change_the_version_cannot_see_is_served_within_the_maximum_age(api: CachedApi) -> None:
    path = f"/api/v1/curtailment/{DAY}/hours"
    before = (await api.get(path)).json()
    await api.get(path)
    # A hand edit of a fact table, with no outbox event and no summary rewritten after it.
    await committed_then_bound(
        api.connection,
        MAX_AGE_S,
        f"UPDATE curtailment_records SET volume_mwh = volume_mwh - 1 WHERE settlement_date = '{DAY}'",
    )
    after = (await api.get(path)).json()
    records = sum(hour["record_count"] for hour in before["hours"])
    assert records > 0
    assert after["energy_mwh"] == pytest.approx(before["energy_mwh"] + records)


async def test_the_reconciliation_view_is_never_cached(api: CachedApi) -> None:
    hits = api.hits()
    for _ in range(3):
        await api.get(f"/api/v1/reconciliation?from={DAY}&to={DAY}")
    assert api.hits() == hits
