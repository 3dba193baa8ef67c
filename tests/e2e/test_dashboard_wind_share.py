"""The dashboard's context panel in headless Chromium (wind-share.js): over the real API and database holding
the last days' synthetic curtailment and wind output, it shows the curtailed share of wind output by month
and the CO₂ estimate, labelled as one; with no wind output stored it stays hidden. The screenshot is kept at
test-artifacts/dashboard-wind-share.png."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from test_dashboard import ARTIFACTS, TIMEOUT_MS  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.settlement_calendar import dates_between
from windhash_testing.browser import browser_page
from windhash_testing.live_server import serving
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.e2e

_WIND = """
INSERT INTO wind_generation (settlement_date, settlement_period, metered_wind_mw, offshore_wind_mw,
                             onshore_wind_mw, synthetic)
SELECT settlement_date, settlement_period, 6000, 3500, 2500, true FROM settlement_periods
"""


@pytest.fixture
async def dashboard_url(pg_dsn: str) -> AsyncIterator[str]:
    today = datetime.now(UTC).date()
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(
            connection, list(dates_between(today - timedelta(days=5), today - timedelta(days=1)))
        )
        await connection.execute(_WIND)
    finally:
        await connection.close()
    settings = ApiSettings(database_url=dsn_as(pg_dsn, DatabaseRole.API), migrate_on_start=False)
    async with serving(create_app(settings)) as url:
        yield f"{url}/"


async def test_the_panel_shows_the_curtailed_share_and_the_co2_estimate(
    dashboard_url: str, tmp_path: Path
) -> None:
    async with browser_page(tmp_path / "profile", dashboard_url, 1280, 1500) as (page, errors):
        await page.wait_for_function(
            "() => document.getElementById('wind-share-panel')?.dataset.windShareState === 'ready'",
            timeout=TIMEOUT_MS,
        )
        assert await page.is_visible("#wind-share-panel")
        note = await page.text_content("#wind-share-note") or ""
        assert "% of what metered wind could have given was curtailed" in note, note
        assert await page.locator("#chart-wind-share svg rect.energy").count() >= 1
        co2 = await page.text_content("#wind-share-co2") or ""
        assert co2.startswith("Estimate:") and "docs/CONTEXT_FIGURES.md" in co2, co2
        ARTIFACTS.mkdir(exist_ok=True)
        await page.locator("#wind-share-panel").scroll_into_view_if_needed()
        await page.screenshot(path=str(ARTIFACTS / "dashboard-wind-share.png"), full_page=True)
    assert errors == []
