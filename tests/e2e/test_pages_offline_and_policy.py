"""The dashboard and the API docs page in headless Chromium with no way out of the machine: every request to
another host is refused, and each page still works (the dashboard draws its figures, Swagger UI lists the
operations) under the API's Content-Security-Policy, which the browser enforces: no violation is reported."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import ConsoleMessage, Route, async_playwright
from test_dashboard import TIMEOUT_MS, dashboard, loaded  # type: ignore[import-not-found]
from windhash_testing.browser import CHROMIUM_FLAGS, chromium_path
from windhash_testing.sample_dataset import SampleDataset

pytestmark = pytest.mark.e2e
__all__ = ["dashboard"]  # the fixture, shared with test_dashboard


async def test_the_dashboard_and_docs_work_offline_under_the_security_policy(
    dashboard: tuple[str, SampleDataset], tmp_path: Path
) -> None:
    url, _ = dashboard
    own_host = urlsplit(url).hostname
    refused: list[str] = []
    violations: list[str] = []

    async def local_only(route: Route) -> None:
        address = route.request.url
        if urlsplit(address).hostname == own_host or address.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            await context.route("**/*", local_only)
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("console", watch)
            await page.goto(url)
            await loaded(page)
            await page.goto(url + "docs")
            await page.wait_for_selector(".opblock", timeout=TIMEOUT_MS)
            assert await page.locator(".opblock").count() >= 10
        finally:
            await context.close()
    assert refused == [], f"pages asked for outside resources: {refused}"
    assert violations == []
