"""The dashboard in headless Chromium, served by a live API over the real database filled with the sample.

Chromium is Debian's package (`apt-get install -y chromium`), driven through the playwright package with
executable_path, so no browser is downloaded. When the browser is missing and this runs as root, the test
installs it; otherwise it fails saying how to install it. The screenshot is kept at
test-artifacts/dashboard.png.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from playwright.async_api import Page, async_playwright
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.settlement_calendar import dates_between
from windhash_stack.ports import free_port
from windhash_testing.browser import CHROMIUM_FLAGS, chromium_path
from windhash_testing.sample_dataset import SampleDataset, load_sample

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 20_000


@pytest.fixture
async def dashboard(pg_dsn: str) -> AsyncIterator[tuple[str, SampleDataset]]:
    connection = await asyncpg.connect(pg_dsn)
    try:
        sample = await load_sample(connection, list(dates_between(date(2024, 3, 1), date(2024, 4, 30))))
    finally:
        await connection.close()
    port = free_port()
    app = create_app(ApiSettings(database_url=pg_dsn, migrate_on_start=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/", sample
    finally:
        server.should_exit = True
        await serving


async def loaded(page: Page, previous: str | None = None) -> str:
    """Wait until the page has drawn a (new) set of filters; returns what it drew."""
    await page.wait_for_function(
        "previous => document.body.dataset.state === 'ready' && document.body.dataset.loaded !== previous",
        arg=previous,
        timeout=TIMEOUT_MS,
    )
    drawn: str = await page.evaluate("document.body.dataset.loaded")
    return drawn


async def test_dashboard_loads_redraws_on_filter_change_and_sorts(
    dashboard: tuple[str, SampleDataset], tmp_path: Path
) -> None:
    url, sample = dashboard
    executable = chromium_path()
    errors: list[str] = []
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1500},
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            first = await loaded(page)
            assert first.startswith("monthly/2024-04|S21|")

            assert await page.is_visible("#synthetic-banner")
            assert (await page.text_content("#card-energy") or "").endswith("MWh")
            assert (await page.text_content("#card-btc") or "").endswith("BTC")
            assert (await page.text_content("#card-value") or "").startswith("£")
            assert (await page.text_content("#card-ratio") or "").endswith("×")
            assert await page.locator("#chart-energy rect.bar").count() == 30
            assert await page.locator("#chart-money rect.bar.btcvalue").count() == 30
            assert await page.locator("#top-farms tbody tr").count() == len(sample.bm_units)
            # No market service behind this API: its panel steps aside (test_dashboard_market.py shows it).
            await page.wait_for_function(
                "() => document.getElementById('market-panel').dataset.marketState === 'unavailable'",
                timeout=TIMEOUT_MS,
            )
            assert await page.is_hidden("#market-panel")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            energy_before = await page.text_content("#card-energy")
            await page.select_option("#timeframe", "daily")
            second = await loaded(page, first)
            assert second.startswith("daily/2024-04-01|")
            assert await page.locator("#chart-energy rect.bar").count() <= 48  # one bar per curtailed period
            assert await page.text_content("#card-energy") != energy_before
            assert "settlement period" in (await page.text_content("#energy-chart-title") or "")

            party = sample.lead_parties[0]
            await page.select_option("#lead-party", party)
            third = await loaded(page, second)
            parties = await page.locator("#top-farms tbody tr td:nth-child(4)").all_text_contents()
            assert parties and set(parties) == {party}

            await page.select_option("#timeframe", "monthly")
            await loaded(page, third)
            await page.click("#top-farms th[data-key='energy_mwh']")  # numbers sort descending first
            energies = await page.locator("#top-farms tbody tr td:nth-child(5)").all_text_contents()
            values = [float(text.replace(",", "")) for text in energies]
            assert values == sorted(values, reverse=True)
            await page.click("#top-farms th[data-key='energy_mwh']")
            energies = await page.locator("#top-farms tbody tr td:nth-child(5)").all_text_contents()
            assert [float(text.replace(",", "")) for text in energies] == sorted(values)
        finally:
            await context.close()
    assert errors == []
