"""The dashboard's market panel in headless Chromium: the real API (the single origin) forwards
/api/v1/market/... to the market service's app on a uvicorn of its own, both over the real database holding
the last days' synthetic curtailment and two days of synthetic market snapshots (with a gap). The panel shows
the price, the difficulty, the chosen model's hashprice against the average £/MWh paid to curtail wind over
the same days, the indicators' signal and the CSV downloads, labelled synthetic; it redraws when the range or
the model changes. The screenshot is kept at test-artifacts/dashboard-market.png."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page
from test_dashboard import ARTIFACTS, TIMEOUT_MS  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.miner_models import active_miner_models
from windhash_common.settlement_calendar import dates_between
from windhash_testing.browser import browser_page
from windhash_testing.context_services import create_market_service_app
from windhash_testing.live_server import serving
from windhash_testing.market_sample import load_market_sample
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Dashboard:
    url: str
    models: list[str]
    paid_gbp_per_mwh: float


@pytest.fixture
async def dashboard(pg_dsn: str) -> AsyncIterator[Dashboard]:
    now = datetime.now(UTC)
    connection = await asyncpg.connect(pg_dsn)
    try:
        today = now.date()
        await load_sample(connection, list(dates_between(today - timedelta(days=7), today)))
        first = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0) - timedelta(days=2)
        await load_market_sample(
            connection, first, 2 * 96, gaps=set(range(20, 28))
        )  # two hours: one whole hour empty
        models = [model.name for model in await active_miner_models(connection)]
    finally:
        await connection.close()
    async with serving(create_market_service_app(pg_dsn, {})) as market_url:
        settings = ApiSettings(
            database_url=dsn_as(pg_dsn, DatabaseRole.API),
            migrate_on_start=False,
            api_upstreams={"market": market_url},
        )
        async with serving(create_app(settings)) as api_url:
            yield Dashboard(f"{api_url}/", models, 0.0)


async def market_drawn(page: Page, previous: str | None = None) -> str:
    await page.wait_for_function(
        """previous => {
            const panel = document.getElementById('market-panel');
            return panel.dataset.marketState === 'ready' && panel.dataset.marketLoaded !== previous;
        }""",
        arg=previous,
        timeout=TIMEOUT_MS,
    )
    drawn: str = await page.evaluate("document.getElementById('market-panel').dataset.marketLoaded")
    return drawn


async def test_the_market_panel_compares_hashprice_with_curtailment_payments_and_redraws(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    async with browser_page(tmp_path / "profile", dashboard.url, 1280, 1500) as (page, errors):
        first = await market_drawn(page)
        model = await page.input_value("#miner-model")
        assert first == f"7|hour|{model}"

        assert await page.is_visible("#market-synthetic")
        assert (await page.text_content("#market-price") or "").startswith("£")
        assert (await page.text_content("#market-difficulty") or "").endswith(" T")
        assert (await page.text_content("#market-hashprice") or "").endswith("/MWh")
        assert model in (await page.text_content("#market-hashprice-title") or "")
        paid = await page.text_content("#market-curtail") or ""
        assert paid.startswith("£") and paid.endswith("/MWh"), paid
        assert "average" in (await page.text_content("#market-curtail-sub") or "")
        assert await page.text_content("#market-signal") in {"BUY", "SELL", "NEUTRAL"}
        assert "Newest snapshot" in (await page.text_content("#market-note") or "")
        # The hashprice line, the dashed curtailment line across it; price and difficulty lines.
        assert await page.locator("#chart-market-hashprice path.line.hashprice").count() == 1
        assert await page.locator("#chart-market-hashprice line.reference.curtailment").count() == 1
        assert await page.locator("#chart-market-price path.line.price").count() == 1
        path = await page.get_attribute("#chart-market-price path.line.price", "d") or ""
        assert path.count("M") == 2  # the empty hour breaks the hourly line once
        assert await page.locator("#market-models tbody tr").count() == len(dashboard.models)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard-market.png"), full_page=True)

        for link in (
            "#market-csv",
            "#market-hashprice-csv",
            "#market-models-csv",
            "#market-indicators-csv",
        ):
            href = await page.get_attribute(link, "href") or ""
            assert href.startswith("/api/v1/market/") and "format=csv" in href, href
            download = await page.request.get(dashboard.url.rstrip("/") + href)
            assert download.ok, (href, download.status)
            assert download.headers["content-type"].startswith("text/csv")
            assert (await download.text()).count("\n") >= 2  # a header and rows

        hashprice_before = await page.text_content("#market-hashprice")
        await page.select_option("#market-range", "1")
        second = await market_drawn(page, first)
        assert second == f"1|15min|{model}"
        other = next(name for name in dashboard.models if name != model)
        await page.select_option("#miner-model", other)
        third = await market_drawn(page, second)
        assert third == f"1|15min|{other}"
        assert await page.text_content("#market-hashprice") != hashprice_before
        assert other in (await page.text_content("#market-hashprice-title") or "")
    assert errors == []
