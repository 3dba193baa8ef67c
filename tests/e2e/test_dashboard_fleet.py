"""The dashboard's fleet page in headless Chromium: the API serves the page and forwards /api/v1/fleet/... to
the fleet's own HTTP app (both live, each on its own database role), over telemetry the writer stored. Staff
see every site's power against its capacity, miners online and offline, the hottest and least efficient
miners and the hashrate chart; a client sees only its own miners. The screenshot is kept at
test-artifacts/dashboard-fleet.png."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from playwright.async_api import Page
from test_dashboard import ARTIFACTS, TIMEOUT_MS  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.accounts.passwords import hash_password
from windhash_common.accounts.users import create_client, create_user
from windhash_common.audit import cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics
from windhash_fleet.telemetry_writer import TelemetryWriter, apply_messages
from windhash_stack.ports import free_port
from windhash_testing.browser import browser_page
from windhash_testing.fleet_service import create_fleet_test_app
from windhash_testing.fleet_telemetry import messages, reading, register_site
from windhash_testing.live_server import serving

pytestmark = pytest.mark.e2e
PASSWORD = "fleet pages for careful people"
SERIALS = [f"DASH-{index:02d}" for index in range(8)]
HOT, GREEDY, CLIENT_OWNS = "DASH-03", "DASH-05", ("DASH-00", "DASH-01")


async def seed(pg_dsn: str) -> None:
    """Two sites, eight miners (two the client's), their last ten minutes of readings, one miner offline."""
    superuser = await asyncpg.connect(pg_dsn)
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    writer = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.FLEET))
    try:
        await register_site(superuser, "Moray East yard (SYNTHETIC)", SERIALS[:5], address_block=61)
        await register_site(superuser, "Whitelee shed (SYNTHETIC)", SERIALS[5:], address_block=62)
        async with operator.transaction():
            acme = await create_client(operator, Topics(), cli_actor(), "Acme Hosting")
            for email, role, client_id in (
                ("staff@example.com", Role.USER, None),
                ("client@acme.example", Role.CLIENT, acme["id"]),
            ):
                await create_user(
                    operator, Topics(), cli_actor(), email=email, name=email.split("@")[0], role=role,
                    client_id=client_id, password_hash=hash_password(PASSWORD), must_change_password=False,
                    access_until=None,
                )  # fmt: skip
        await superuser.execute(
            "UPDATE hosting_miners SET client_id = $1 WHERE serial_number = ANY($2::text[])",
            acme["id"],
            list(CLIENT_OWNS),
        )
        await superuser.execute(
            "UPDATE hosting_miners SET status = 'offline' WHERE serial_number = 'DASH-07'"
        )
        now = datetime.now(UTC)
        events = [
            reading(
                serial,
                now - timedelta(minutes=minute),
                hashrate_ths=40.0 if serial == GREEDY else 200.0,
                power_w=3500.0,
                temperature_c=101.5 if serial == HOT else 64.0 + index,
            )
            for index, serial in enumerate(SERIALS[:7])
            for minute in range(1, 11)
        ]
        await apply_messages(
            writer, messages(events), TelemetryWriter("dash.dead", 90, timedelta(minutes=5)), "w"
        )
    finally:
        for connection in (superuser, operator, writer):
            await connection.close()


@pytest.fixture
async def dashboard_with_fleet(pg_dsn: str) -> AsyncIterator[str]:
    await seed(pg_dsn)
    async with serving(create_fleet_test_app(pg_dsn, {"fleet_poll_interval_s": 60})) as fleet_url:
        port = free_port()
        settings = ApiSettings(
            database_url=dsn_as(pg_dsn, DatabaseRole.API),
            migrate_on_start=False,
            api_upstreams={"fleet": fleet_url},
        )
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.should_exit = True
            await task


async def log_in(page: Page, email: str) -> None:
    await page.click("#nav-login")
    await page.wait_for_selector("#login-dialog[open]", timeout=TIMEOUT_MS)
    await page.fill("#login-form input[name=email]", email)
    await page.fill("#login-form input[name=password]", PASSWORD)
    await page.click("#login-submit")


async def open_fleet(page: Page, role: str) -> None:
    await page.wait_for_function(f"() => document.body.dataset.role === '{role}'", timeout=TIMEOUT_MS)
    await page.click("#fleet-link")
    await page.wait_for_function("() => document.body.dataset.fleet === 'ready'", timeout=TIMEOUT_MS)


async def column(page: Page, table: str, index: int) -> list[str]:
    return await page.locator(f"#{table} tbody tr td:nth-child({index})").all_text_contents()


async def test_the_fleet_page_shows_power_status_rankings_and_hashrate_as_each_role_may_see(
    dashboard_with_fleet: str, tmp_path: Path
) -> None:
    async with browser_page(tmp_path / "profile", dashboard_with_fleet, 1280, 1400) as (page, errors):
        await page.wait_for_function("() => document.body.dataset.role === 'anonymous'", timeout=TIMEOUT_MS)
        assert await page.is_hidden("#fleet-link"), "no fleet for anonymous visitors"
        await log_in(page, "staff@example.com")
        await open_fleet(page, "user")
        assert await column(page, "fleet-sites", 1) == [
            "Moray East yard (SYNTHETIC)",
            "Whitelee shed (SYNTHETIC)",
        ]
        assert await column(page, "fleet-sites", 5) == ["5", "3"]
        assert (await column(page, "fleet-hottest", 1))[0] == HOT
        assert (await column(page, "fleet-least-efficient", 1))[0] == GREEDY
        assert await page.text_content("#fleet-online") == "7"
        assert await page.text_content("#fleet-offline") == "1"
        assert "24.5 kW" in (await page.text_content("#fleet-power") or "")  # 7 miners × 3.5 kW
        assert await page.locator("#fleet-chart svg rect.bar").count() >= 1
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard-fleet.png"), full_page=True)

        await page.click("#nav-logout")
        await page.wait_for_function("() => document.body.dataset.role === 'anonymous'", timeout=TIMEOUT_MS)
        await log_in(page, "client@acme.example")
        await open_fleet(page, "client")
        assert await page.text_content("#fleet-online") == "2"
        assert await column(page, "fleet-sites", 5) == ["2"], "its share of its one site"
        assert set(await column(page, "fleet-hottest", 1)) == set(CLIENT_OWNS)
    assert errors == []
