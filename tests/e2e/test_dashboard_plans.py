"""The dashboard's curtailment plans in headless Chromium: the API (its own role) forwards /api/v1/plans to
the plans' HTTP app on its own uvicorn; an administrator lists the plans, opens one (timeline, miners in their
order, measured power) and runs a backtest drawn as a chart; a client sees only the plan affecting its
miners (row-level security). Screenshots: test-artifacts/dashboard-plans.png and dashboard-backtest.png."""

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page, async_playwright
from test_dashboard import ARTIFACTS, TIMEOUT_MS  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.audit import Actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.settlement_calendar import period_start_utc, settlement_periods
from windhash_common.topics import Topics
from windhash_plans.domain.plan_states import PlanAction
from windhash_plans.http.app import create_plans_app
from windhash_plans.plan_store import transition
from windhash_plans.settings import PlansSettings
from windhash_testing.browser import CHROMIUM_FLAGS, chromium_path
from windhash_testing.fleet_telemetry import register_site
from windhash_testing.live_server import serving
from windhash_testing.plans_world import PASSWORD, PlansWorld

pytestmark = pytest.mark.e2e
TOPICS = Topics("dashboard-plans")
DAY = date(2024, 3, 1)


class Difficulties:
    async def difficulties(self, dates: Iterable[date]) -> dict[date, Decimal]:
        return dict.fromkeys(dates, Decimal("8e13"))


@asynccontextmanager
async def fixed_difficulty() -> AsyncIterator[Difficulties]:
    yield Difficulties()


async def seed(world: PlansWorld, pg_dsn: str) -> tuple[int, int]:
    """Two plans at one site (one executed and measured, one pending); a client owns a miner of the first."""
    superuser = await asyncpg.connect(pg_dsn)
    try:
        site_id, _ = await register_site(
            superuser, "Dashboard site", [f"DB-{n}" for n in range(6)], 81, TOPICS
        )
        acme = await world.client("Acme Hosting")
        await superuser.execute("UPDATE hosting_miners SET client_id = $1 WHERE serial_number = 'DB-0'", acme)
        await world.add("client@acme.example", Role.CLIENT, client_id=acme)
        rows = [(DAY, p, period_start_utc(DAY, p), Decimal(40 + (p % 12) * 9), Decimal(900), "test", True)
                for p in settlement_periods(DAY)]  # fmt: skip
        await superuser.executemany(
            "INSERT INTO power_prices (settlement_date, settlement_period, start_time, price_gbp_per_mwh,"
            " volume_mwh, source, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            rows,
        )
        await superuser.execute(
            "INSERT INTO btc_prices (price_date, gbp, usd, source) VALUES ($1, 40000, 51000, 't')", DAY
        )
    finally:
        await superuser.close()
    first = (await world.call("staff@example.com", "POST", "/api/v1/plans/", {
        "site_id": site_id, "plan_type": "manual", "target_reduction_mw": "0.006", "hold_minutes": 60,
        "note": "evening peak"})).json()  # fmt: skip
    await world.call("admin@example.com", "POST", f"/api/v1/plans/{first['plan_id']}/approve")
    await executed(pg_dsn, first["plan_id"])
    second = (await world.call("staff@example.com", "POST", "/api/v1/plans/", {
        "site_id": site_id, "plan_type": "scheduled", "target_reduction_mw": "0.003",
        "scheduled_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "recovery_at": (datetime.now(UTC) + timedelta(days=1, hours=2)).isoformat()})).json()  # fmt: skip
    assert "DB-0" in [m["serial_number"] for m in first["miners"]], first["miners"]
    assert "DB-0" not in [m["serial_number"] for m in second["miners"]]
    return site_id, first["plan_id"]


async def executed(pg_dsn: str, plan_id: int) -> None:
    """What the executor would have written: the start, the measured shutdown (as the worker's role)."""
    connection = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.PLANS))
    actor = Actor("plans-executor")
    try:
        async with connection.transaction():
            now = datetime.now(UTC)
            await transition(connection, TOPICS, plan_id, PlanAction.START, actor, {"started_at": now})
            figures = {"power_before_mw": Decimal("0.006490"), "power_after_mw": Decimal("0.000050"),
                       "power_reduced_mw": Decimal("0.006440")}  # fmt: skip
            await transition(
                connection,
                TOPICS,
                plan_id,
                PlanAction.MEASURED,
                actor,
                figures | {"executed_at": now},
                figures,
            )
            await connection.execute(
                "UPDATE hosting_miners SET status = 'curtailed' WHERE miner_id IN"
                " (SELECT miner_id FROM curtailment_plan_miners WHERE plan_id = $1)",
                plan_id,
            )
    finally:
        await connection.close()


@asynccontextmanager
async def stack_of_apps(pg_dsn: str) -> AsyncIterator[str]:
    plans_settings = PlansSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.PLANS_API),
        topic_prefix=TOPICS.prefix,
        api_trusted_proxies=["127.0.0.1"],
    )
    async with serving(create_plans_app(plans_settings, difficulty=fixed_difficulty)) as plans_url:
        settings = ApiSettings(
            database_url=dsn_as(pg_dsn, DatabaseRole.API),
            migrate_on_start=False,
            api_upstreams={"plans": plans_url},
            auth_cookie_secure=False,
        )
        async with serving(create_app(settings)) as api_url:
            yield api_url + "/"


async def log_in(page: Page, email: str) -> None:
    await page.click("#nav-login")
    await page.wait_for_selector("#login-dialog[open]", timeout=TIMEOUT_MS)
    await page.fill("#login-form input[name=email]", email)
    await page.fill("#login-form input[name=password]", PASSWORD)
    await page.click("#login-submit")


async def texts(page: Page, selector: str) -> list[str]:
    return await page.locator(selector).all_text_contents()


async def test_plans_list_detail_and_backtest_chart_in_chromium(pg_dsn: str, tmp_path: Path) -> None:
    world = await PlansWorld.open(pg_dsn, TOPICS)
    errors: list[str] = []
    try:
        await world.add("admin@example.com", Role.ADMIN)
        await world.add("staff@example.com", Role.USER)
        site_id, plan_id = await seed(world, pg_dsn)
        async with stack_of_apps(pg_dsn) as url, async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"),
                executable_path=chromium_path(),
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 1600},
            )
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                page.on("pageerror", lambda error: errors.append(str(error)))
                await page.goto(url)
                assert await page.is_hidden("#nav-plans")  # anonymous: no plans
                await log_in(page, "admin@example.com")
                await page.wait_for_function(
                    "() => document.body.dataset.role === 'admin'", timeout=TIMEOUT_MS
                )
                await page.click("#nav-plans")
                await page.wait_for_function(
                    "() => document.body.dataset.plans === 'shown'", timeout=TIMEOUT_MS
                )
                statuses = await texts(page, "#plans-table tbody tr td:nth-child(4)")
                assert statuses == ["pending · idle", "executed · holding"]
                await page.click(f"#plans-table tbody tr:has(td:first-child:text-is('{plan_id}'))")
                await page.wait_for_function(
                    f"() => document.body.dataset.plan === '{plan_id}'", timeout=TIMEOUT_MS
                )
                events = await texts(page, "#plan-timeline tbody tr td:nth-child(2)")
                assert events == ["plan.created", "plan.approved", "plan.started", "plan.executed"]
                assert "reduced 0.006 MW" in (await page.text_content("#plan-summary") or "")
                orders = await texts(page, "#plan-miners tbody tr td:first-child")
                assert orders == [str(n) for n in range(1, len(orders) + 1)] and len(orders) >= 2
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "dashboard-plans.png"), full_page=True)

                await page.fill("#backtest-form input[name=site]", str(site_id))
                await page.fill("#backtest-form input[name=first]", DAY.isoformat())
                await page.fill("#backtest-form input[name=last]", DAY.isoformat())
                await page.fill("#backtest-form input[name=policies]", "economic,threshold:80,always-on")
                await page.click("#backtest-run")
                await page.wait_for_function(
                    "() => document.body.dataset.backtest === 'done'", timeout=TIMEOUT_MS
                )
                policies = await texts(page, "#backtest-table tbody tr td:first-child")
                assert policies == ["economic", "threshold:80", "always-on"]
                assert await page.locator("#backtest-chart svg rect.bar").count() >= 1
                assert "48 half hours replayed" in (await page.text_content("#backtest-note") or "")
                await page.locator("#backtest-section").screenshot(
                    path=str(ARTIFACTS / "dashboard-backtest.png")
                )

                await page.click("#nav-logout")
                await page.wait_for_function(
                    "() => document.body.dataset.role === 'anonymous'", timeout=TIMEOUT_MS
                )
                await log_in(page, "client@acme.example")
                await page.wait_for_function(
                    "() => document.body.dataset.role === 'client'", timeout=TIMEOUT_MS
                )
                await page.click("#nav-plans")
                await page.wait_for_function(
                    "() => document.querySelectorAll('#plans-table tbody tr').length === 1",
                    timeout=TIMEOUT_MS,
                )
                assert await texts(page, "#plans-table tbody tr td:first-child") == [str(plan_id)]
                assert await page.is_hidden("#backtest-section")  # staff only
            finally:
                await context.close()
    finally:
        await world.close()
    assert errors == []
