"""The dashboard's CRM pages in headless Chromium, on a live API forwarding /api/v1/crm/... to a live CRM
service, each on its own database role: a salesperson sees the pipeline by stage with the weighted forecast,
their own leads (searchable), their deals and invoices and downloads an invoice's PDF; a client sees only its
organisation's sent invoices. Screenshots are kept at test-artifacts/dashboard-crm-*.png."""

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, async_playwright
from pypdf import PdfReader
from test_dashboard import ARTIFACTS, TIMEOUT_MS  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.accounts.passwords import hash_password
from windhash_common.accounts.sessions import open_session
from windhash_common.accounts.users import create_client, create_user
from windhash_common.audit import cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics
from windhash_crm.app import create_crm_app
from windhash_crm.settings import CrmSettings
from windhash_testing.browser import CHROMIUM_FLAGS, chromium_path
from windhash_testing.live_server import serving

pytestmark = pytest.mark.e2e
PASSWORD = "sales passphrase of the north sea"
SALES, SALES2, CLIENT = "sales@example.com", "sales2@example.com", "ops@northwind.example"


async def seed_accounts(pg_dsn: str) -> dict[str, Any]:
    """The accounts (one password for all) and a bearer token for each staff member."""
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    found: dict[str, Any] = {"tokens": {}}
    try:
        password_hash = hash_password(PASSWORD)
        async with operator.transaction():
            client = await create_client(operator, Topics(), cli_actor(), "Northwind Hosting")
        found["client_id"] = str(client["id"])
        staff = ((SALES, Role.USER), (SALES2, Role.USER), ("admin@example.com", Role.ADMIN))
        for email, role in (*staff, (CLIENT, Role.CLIENT)):
            async with operator.transaction():
                user = await create_user(
                    operator, Topics(), cli_actor(), email=email, name=email.split("@")[0], role=role,
                    client_id=client["id"] if role is Role.CLIENT else None, password_hash=password_hash,
                    must_change_password=False, access_until=None,
                )  # fmt: skip
            token, _ = await open_session(operator, user["id"], timedelta(hours=1), "127.0.0.1", "seed")
            found["tokens"][email] = {"Authorization": f"Bearer {token}"}
    finally:
        await operator.close()
    return found


async def seed_crm(crm: httpx.AsyncClient, accounts: dict[str, Any]) -> None:
    """Two salespeople's leads, deals in three stages, a won deal billed to the client (one invoice sent, one
    draft)."""
    sales, sales2 = accounts["tokens"][SALES], accounts["tokens"][SALES2]

    async def ok(headers: dict[str, str], method: str, path: str, body: Any = None) -> Any:
        response = await crm.request(method, f"/api/v1/crm{path}", headers=headers, json=body)
        assert response.status_code < 300, response.text
        return response.json()

    async def deal(company: str, value: str, close: str, stage: str | None) -> int:
        email = f"buyer@{company.lower()}.example"
        lead = await ok(
            sales,
            "POST",
            "/leads",
            {"name": "Buyer", "email": email, "company": company, "source": "referral"},
        )
        convert = {"value_usd": value, "expected_close_date": close}
        made = await ok(sales, "POST", f"/leads/{lead['lead_id']}/convert", convert)
        if stage:
            await ok(sales, "POST", f"/deals/{made['deal_id']}/stage", {"stage": stage})
        return int(made["deal_id"])

    won = await deal("Northwind", "36000", "2026-03-31", "closed_won")
    await deal("Bluewater", "20000", "2026-04-15", "proposal")
    await deal("Highland", "50000", "2026-05-20", "negotiation")
    await ok(
        sales,
        "POST",
        "/leads",
        {"name": "Cara Gale", "email": "cara@gale.example", "company": "Gale Power", "source": "website"},
    )
    await ok(
        sales2,
        "POST",
        "/leads",
        {"name": "Other salesperson's", "phone": "01224 111111", "company": "Other Co", "source": "event"},
    )
    await ok(
        accounts["tokens"]["admin@example.com"],
        "POST",
        f"/deals/{won}/client-account",
        {"client_id": accounts["client_id"]},
    )
    invoice = await ok(
        sales,
        "POST",
        "/invoices",
        {"deal_id": won, "amount_usd": "12000.00", "description": "Hosting, March 2026"},
    )
    await ok(sales, "POST", f"/invoices/{invoice['invoice_id']}/send")
    await ok(
        sales,
        "POST",
        "/invoices",
        {"deal_id": won, "amount_usd": "12000.00", "description": "Hosting, April 2026"},
    )


@pytest.fixture
async def dashboard_with_crm(pg_dsn: str) -> AsyncIterator[str]:
    accounts = await seed_accounts(pg_dsn)
    crm_settings = CrmSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.CRM), api_trusted_proxies=["127.0.0.1"]
    )
    async with serving(create_crm_app(crm_settings)) as crm_url:
        async with httpx.AsyncClient(base_url=crm_url) as crm:
            await seed_crm(crm, accounts)
        api_settings = ApiSettings(
            database_url=dsn_as(pg_dsn, DatabaseRole.API),
            migrate_on_start=False,
            api_upstreams={"crm": crm_url},
        )
        async with serving(create_app(api_settings)) as api_url:
            yield f"{api_url}/"


async def log_in(page: Page, email: str) -> None:
    await page.click("#nav-login")
    await page.wait_for_selector("#login-dialog[open]", timeout=TIMEOUT_MS)
    await page.fill("#login-form input[name=email]", email)
    await page.fill("#login-form input[name=password]", PASSWORD)
    async with page.expect_navigation(timeout=TIMEOUT_MS):  # the page reloads for the signed-in account
        await page.click("#login-submit")


async def show(page: Page, view: str) -> None:
    await page.click(f".crm-link[data-view={view}]")
    # Functions, not expressions: Playwright polls an expression with eval, which the CSP refuses.
    await page.wait_for_function("view => document.body.dataset.crm === view", arg=view, timeout=TIMEOUT_MS)
    assert await page.text_content("#crm-error") == ""


async def column(page: Page, table: str, index: int) -> list[str]:
    return await page.locator(f"#{table} tbody tr td:nth-child({index})").all_text_contents()


async def visible_crm_links(page: Page) -> list[str]:
    return [
        await link.get_attribute("data-view") or "" for link in await page.locator(".crm-link:visible").all()
    ]


async def test_sales_staff_see_their_pipeline_leads_and_invoices_and_a_client_only_its_invoices(
    dashboard_with_crm: str,
) -> None:
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 1300}, accept_downloads=True
            )
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(dashboard_with_crm)
            await page.wait_for_function(
                "() => document.body.dataset.role === 'anonymous'", timeout=TIMEOUT_MS
            )
            assert await visible_crm_links(page) == []
            await log_in(page, SALES)
            await page.wait_for_function("() => document.body.dataset.role === 'user'", timeout=TIMEOUT_MS)
            assert await visible_crm_links(page) == ["pipeline", "leads", "deals", "invoices"]

            await show(page, "pipeline")
            assert await column(page, "pipeline-stages", 1) == [
                "discovery",
                "proposal",
                "negotiation",
                "closed won",
                "closed lost",
            ]
            assert await column(page, "pipeline-stages", 4) == [
                "US$0",
                "US$6,000",
                "US$30,000",
                "US$36,000",
                "US$0",
            ]
            assert await column(page, "pipeline-forecast", 1) == ["2026-04", "2026-05"]
            assert "weighted US$36,000" in (await page.text_content("#pipeline-totals") or "")
            assert await page.locator("#pipeline-chart rect.bar").count() == 2  # a bar per forecast month
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard-crm-pipeline.png"), full_page=True)

            await show(page, "leads")
            names = await column(page, "leads-table", 1)
            assert "Cara Gale" in names and "Other salesperson's" not in names and len(names) == 4
            await page.fill("#leads-search", "gale")
            await page.click("#leads-filters button[type=submit]")
            await page.wait_for_function(
                "() => document.querySelectorAll('#leads-table tbody tr').length === 1", timeout=TIMEOUT_MS
            )
            assert "q=gale" in (await page.get_attribute("#leads-csv", "href") or "")

            await show(page, "deals")
            assert await column(page, "deals-table", 2) == ["closed won", "proposal", "negotiation"]

            await show(page, "invoices")
            assert await column(page, "invoices-table", 4) == ["draft", "sent"]
            async with page.expect_download() as download_info:
                await page.locator("#invoices-table tbody tr").nth(1).locator("a").click()
            download = await download_info.value
            number = (await column(page, "invoices-table", 1))[1]
            assert download.suggested_filename == f"{number}.pdf"
            pdf = await asyncio.to_thread((await download.path()).read_bytes)
            text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
            assert f"INVOICE {number}" in text and "Hosting, March 2026" in text
            await page.screenshot(path=str(ARTIFACTS / "dashboard-crm-invoices.png"), full_page=True)

            async with page.expect_navigation(timeout=TIMEOUT_MS):  # and reloads again on logout
                await page.click("#nav-logout")
            await page.wait_for_function(
                "() => document.body.dataset.role === 'anonymous'", timeout=TIMEOUT_MS
            )
            assert await page.is_hidden("#crm-panel")
            await log_in(page, CLIENT)
            await page.wait_for_function("() => document.body.dataset.role === 'client'", timeout=TIMEOUT_MS)
            assert await visible_crm_links(page) == ["invoices"]
            await show(page, "invoices")
            assert await column(page, "invoices-table", 4) == ["sent"]
            assert await column(page, "invoices-table", 2) == [
                "Northwind Hosting"
            ]  # billed to its organisation
            await page.screenshot(path=str(ARTIFACTS / "dashboard-crm-client.png"), full_page=True)
        finally:
            await browser.close()
    assert errors == []
