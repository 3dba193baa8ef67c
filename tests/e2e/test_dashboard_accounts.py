"""The dashboard's accounts in headless Chromium, on a live API connected as its own database role with the
analytics private: the login page appears, a reset account must choose its password, an administrator sees
the administration views, a client does not, and logging out ends the session (the cookie is HttpOnly, so
the page never holds the token). The screenshot is kept at test-artifacts/dashboard-admin.png."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest
import uvicorn
from playwright.async_api import Page
from test_dashboard import ARTIFACTS, TIMEOUT_MS, loaded  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.accounts.passwords import hash_password
from windhash_common.accounts.users import create_client, create_user
from windhash_common.audit import cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.settlement_calendar import dates_between
from windhash_common.topics import Topics
from windhash_stack.ports import free_port
from windhash_testing.browser import browser_page
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.e2e
ONE_TIME = "one time only passphrase 4417"
CHOSEN = "my own chosen passphrase of spring"
CLIENT_PASSWORD = "client reads its own rows 2024"


async def seed(pg_dsn: str) -> None:
    superuser = await asyncpg.connect(pg_dsn)
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    try:
        await load_sample(superuser, list(dates_between(date(2024, 4, 1), date(2024, 4, 30))))
        async with operator.transaction():
            actor = cli_actor()
            acme = await create_client(operator, Topics(), actor, "Acme Hosting")
            for email, role, password, client_id, must_change in (
                ("admin@example.com", Role.ADMIN, ONE_TIME, None, True),
                ("client@acme.example", Role.CLIENT, CLIENT_PASSWORD, acme["id"], False),
            ):
                await create_user(
                    operator,
                    Topics(),
                    actor,
                    email=email,
                    name=email.split("@")[0],
                    role=role,
                    client_id=client_id,
                    password_hash=hash_password(password),
                    must_change_password=must_change,
                    access_until=None,
                )
    finally:
        await superuser.close()
        await operator.close()


@pytest.fixture
async def private_dashboard(pg_dsn: str) -> AsyncIterator[str]:
    await seed(pg_dsn)
    port = free_port()
    settings = ApiSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.API), migrate_on_start=False, api_public_analytics=False
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await serving


async def log_in(page: Page, email: str, password: str) -> None:
    await page.wait_for_selector("#login-dialog[open]", timeout=TIMEOUT_MS)
    await page.fill("#login-form input[name=email]", email)
    await page.fill("#login-form input[name=password]", password)
    await page.click("#login-submit")


async def role_shown(page: Page, role: str) -> None:
    # Functions, not expressions: Playwright polls an expression with eval, which the page's
    # Content-Security-Policy (no 'unsafe-eval') refuses.
    await page.wait_for_function("role => document.body.dataset.role === role", arg=role, timeout=TIMEOUT_MS)


async def test_login_password_change_role_aware_navigation_and_logout(
    private_dashboard: str, tmp_path: Path
) -> None:
    async with browser_page(tmp_path / "profile", private_dashboard, 1280, 1200) as (page, errors):
        await role_shown(page, "anonymous")  # private analytics: the login dialog opens by itself
        await log_in(page, "admin@example.com", "not the password at all")
        await page.wait_for_function(
            "() => document.getElementById('login-error').textContent.includes('wrong')",
            timeout=TIMEOUT_MS,
        )
        await log_in(page, "admin@example.com", ONE_TIME)
        await page.wait_for_selector("#password-dialog[open]", timeout=TIMEOUT_MS)
        await page.fill("#password-form input[name=current]", ONE_TIME)
        await page.fill("#password-form input[name=next]", CHOSEN)
        await page.click("#password-submit")
        await role_shown(page, "admin")
        await loaded(page)  # the analytics draw once signed in
        cookies = await page.context.cookies()
        session = next(cookie for cookie in cookies if cookie["name"] == "windhash_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert "whs_" not in await page.content(), "the page never holds the token"
        assert await page.is_visible(".admin-link[data-view=users]")
        await page.click(".admin-link[data-view=users]")
        await page.wait_for_function("() => document.body.dataset.admin === 'users'", timeout=TIMEOUT_MS)
        emails = await page.locator("#users-table tbody tr td:first-child").all_text_contents()
        assert emails == ["admin@example.com", "client@acme.example"]
        await page.click(".admin-link[data-view=audit]")
        await page.wait_for_function("() => document.body.dataset.admin === 'audit'", timeout=TIMEOUT_MS)
        actions = await page.locator("#audit-table tbody tr td:nth-child(3)").all_text_contents()
        assert "user.password-change" in actions and "user.create" in actions
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard-admin.png"), full_page=True)
        await page.click(".admin-link[data-view=logins]")
        await page.wait_for_function("() => document.body.dataset.admin === 'logins'", timeout=TIMEOUT_MS)
        outcomes = await page.locator("#logins-table tbody tr td:nth-child(3)").all_text_contents()
        assert outcomes == ["ok", "bad_credentials"]

        await page.click("#nav-logout")
        await role_shown(page, "anonymous")
        await page.wait_for_selector("#login-dialog[open]", timeout=TIMEOUT_MS)
        await log_in(page, "client@acme.example", CLIENT_PASSWORD)
        await role_shown(page, "client")
        await loaded(page)
        assert not await page.is_visible(".admin-link[data-view=users]")
        assert await page.is_hidden("#admin-panel")
        assert "client@acme.example · client" in (await page.text_content("#nav-user") or "")
    assert errors == []
