"""The dashboard's views (#21) in headless Chromium over a live API (response cache and all) on the sample:
any from/to range kept in the URL, a farm's page and a lead party's page reached from table rows and the map
without reloading, the charts per miner model, difficulty and price, one day's 46 or 50 settlement periods,
live redraws when data lands, a phone viewport, the keyboard, and axe-core's accessibility rules. Each view
leaves a screenshot in test-artifacts/ (the paths are printed)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page, async_playwright
from test_dashboard import ARTIFACTS, TIMEOUT_MS  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.farm_locations import COLUMNS
from windhash_api.settings import ApiSettings
from windhash_common.settlement_calendar import dates_between
from windhash_stack.ports import free_port
from windhash_testing.browser import CHROMIUM_FLAGS, chromium_path
from windhash_testing.sample_dataset import SampleDataset, load_sample

pytestmark = pytest.mark.e2e
SPRING_DAY, AUTUMN_DAY = date(2024, 3, 31), date(2024, 10, 27)
LANDS_LATER = date(2024, 5, 2)


def synthetic_farm_locations(sample: SampleDataset, path: Path) -> Path:
    """Positions for the sample's made-up units, spread over Great Britain (synthetic, like the units)."""
    rows = [",".join(COLUMNS)]
    for index, unit in enumerate(sample.bm_units):
        latitude, longitude = 51.0 + index * 0.6, -4.5 + (index % 3) * 1.5
        rows.append(f"{unit},Sample farm {index},,100,{latitude:.1f},{longitude:.1f},synthetic")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def served(pg_dsn: str, tmp_path: Path) -> AsyncIterator[tuple[str, SampleDataset, asyncpg.Connection]]:
    connection = await asyncpg.connect(pg_dsn)
    days = [*dates_between(date(2024, 3, 1), date(2024, 4, 30)), AUTUMN_DAY]
    sample = await load_sample(connection, days)
    locations = synthetic_farm_locations(sample, tmp_path / "farms.csv")
    settings = ApiSettings(database_url=pg_dsn, migrate_on_start=False, api_farm_locations_file=locations)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/", sample, connection
    finally:
        server.should_exit = True
        await serving
        await connection.close()


async def browser(playwright: object, profile: Path, width: int, height: int) -> BrowserContext:
    context: BrowserContext = await playwright.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        str(profile),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": width, "height": height},
    )
    return context


async def drawn(page: Page, expected: str) -> None:
    """Wait until the page has drawn the figures whose key starts with `expected`."""
    await page.wait_for_function(
        "prefix => document.body.dataset.state === 'ready'"
        " && (document.body.dataset.loaded ?? '').startsWith(prefix)",
        arg=expected,
        timeout=TIMEOUT_MS,
    )


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


async def test_ranges_farm_and_lead_party_pages_and_charts(
    served: tuple[str, SampleDataset, asyncpg.Connection], tmp_path: Path
) -> None:
    url, sample, _ = served
    errors: list[str] = []
    async with async_playwright() as playwright:
        context = await browser(playwright, tmp_path / "profile", 1280, 1400)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{url}?from=2024-03-10&to=2024-04-05&model=S21&live=0")
            await drawn(page, "range/2024-03-10..2024-04-05|S21||")
            assert await page.input_value("#timeframe") == "range"
            assert await page.input_value("#range-from") == "2024-03-10"
            models = len(await page.locator("#miner-model option").all())
            assert await page.locator("#models-legend .swatch").count() == models
            assert await page.locator("#chart-models rect.bar").count() > 27  # 27 days, several models
            assert await page.locator("#models-table tbody tr").count() == models
            assert await page.locator("#chart-compare rect.bar.btcvalue").count() > 0
            assert await page.locator("#chart-difficulty path.line").count() == 1
            assert await page.locator("#chart-price path.line").count() == 1
            assert await page.locator("#gb-map .farm-dot").count() == len(sample.bm_units)
            assert await page.locator("#map-unplaced li").count() == 0
            assert await page.locator("#top-parties tbody tr").count() == len(sample.lead_parties)
            await screenshot(page, "dashboard-range.png")

            await page.evaluate("window.sameDocument = 'yes'")
            first_farm = page.locator("#top-farms tbody tr:first-child td:nth-child(2) a")
            farm = (await first_farm.text_content() or "").strip()
            await first_farm.click()
            await drawn(page, f"range/2024-03-10..2024-04-05|S21||{farm}")
            assert f"farm={farm}" in page.url and "from=2024-03-10" in page.url
            assert await page.evaluate("document.body.dataset.view") == "farm"
            assert farm in (await page.text_content("#profile-title") or "")
            assert "Ranked #1 of 12 farms" in (await page.text_content("#profile-rank") or "")
            assert await page.is_hidden("#top-farms") and await page.is_hidden("#parties-panel")
            assert await page.locator("#gb-map .farm-dot").count() == 1
            await screenshot(page, "dashboard-farm.png")

            party_link = page.locator("#profile-facts a")
            party = (await party_link.text_content() or "").strip()
            await party_link.click()
            await drawn(page, f"range/2024-03-10..2024-04-05|S21|{party}|")
            assert await page.text_content("#farms-title") == f"Farms of {party}"
            parties = await page.locator("#top-farms tbody tr td:nth-child(4)").all_text_contents()
            assert parties == [party] * 3
            assert "lead parties curtailed" in (await page.text_content("#profile-rank") or "")
            await screenshot(page, "dashboard-party.png")

            await page.go_back()  # the farm again, from the URL alone
            await drawn(page, f"range/2024-03-10..2024-04-05|S21||{farm}")
            assert await page.evaluate("window.sameDocument") == "yes"  # never a full reload

            await page.select_option("#farm", "")
            await page.select_option("#timeframe", "daily")  # the first day of the range
            await drawn(page, "daily/2024-03-10|S21||")
            await page.click("#range-next")
            await drawn(page, "daily/2024-03-11|S21||")
            assert "from=2024-03-11&to=2024-03-11" in page.url
        finally:
            await context.close()
    assert errors == []


@pytest.mark.parametrize(("day", "periods", "note"), [(SPRING_DAY, 46, "forward"), (AUTUMN_DAY, 50, "back")])
async def test_a_days_settlement_periods_show_46_or_50(
    served: tuple[str, SampleDataset, asyncpg.Connection], tmp_path: Path, day: date, periods: int, note: str
) -> None:
    url, _, _ = served
    async with async_playwright() as playwright:
        context = await browser(playwright, tmp_path / "profile", 1280, 1400)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(f"{url}?from={day}&to={day}&live=0")
            await drawn(page, f"daily/{day}|")
            assert await page.get_attribute("#chart-periods", "data-periods") == str(periods)
            assert f"{periods} settlement periods: the clocks went {note}" in (
                await page.text_content("#periods-note") or ""
            )
            await screenshot(page, f"dashboard-periods-{periods}.png")
        finally:
            await context.close()


async def test_the_page_redraws_when_data_lands_without_reloading(
    served: tuple[str, SampleDataset, asyncpg.Connection], tmp_path: Path
) -> None:
    url, _, connection = served
    async with async_playwright() as playwright:
        context = await browser(playwright, tmp_path / "profile", 1280, 1400)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(f"{url}?from=2024-04-01&to=2024-05-31&model=S21&live=1")
            await drawn(page, "range/2024-04-01..2024-05-31|S21||")
            before = await page.text_content("#card-energy")
            await page.evaluate("window.sameDocument = 'yes'")
            await load_sample(connection, [LANDS_LATER])
            await page.wait_for_function(
                "before => Number(document.body.dataset.liveUpdates ?? 0) >= 1"
                " && document.getElementById('card-energy').textContent !== before",
                arg=before,
                timeout=TIMEOUT_MS,
            )
            assert await page.evaluate("window.sameDocument") == "yes"
            await screenshot(page, "dashboard-live.png")
        finally:
            await context.close()


async def test_a_phone_the_keyboard_and_axe_core(
    served: tuple[str, SampleDataset, asyncpg.Connection], tmp_path: Path
) -> None:
    url, sample, _ = served
    async with async_playwright() as playwright:
        context = await browser(playwright, tmp_path / "profile", 390, 844)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(f"{url}?from=2024-04-01&to=2024-04-30&model=S21&live=0")
            await drawn(page, "monthly/2024-04|S21||")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
            await screenshot(page, "dashboard-phone.png")

            await page.focus("#top-farms th[data-key='energy_mwh']")
            await page.keyboard.press("Enter")
            assert (
                await page.get_attribute("#top-farms th[data-key='energy_mwh']", "aria-sort") == "descending"
            )
            await page.focus("#top-farms tbody tr:first-child td:nth-child(2) a")
            await page.keyboard.press("Enter")
            await drawn(page, "monthly/2024-04|S21||T_")
            assert await page.evaluate("document.body.dataset.view") == "farm"
            await screenshot(page, "dashboard-phone-farm.png")

            await page.set_viewport_size({"width": 1280, "height": 1400})
            for view in ("", f"&party={sample.lead_parties[0].replace(' ', '+')}"):
                await page.goto(f"{url}?from=2024-04-01&to=2024-04-30&model=S21&live=0{view}")
                await drawn(page, "monthly/2024-04|S21|")
                results = await Axe().run(page)
                assert results.violations_count == 0, results.generate_report()
        finally:
            await context.close()
