"""Headless Chromium (Debian's package) for the dashboard tests: where it is, how it is started, and a page
that collects the errors its scripts raise."""

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_COMMAND = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]


def chromium_path() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail(
            "Debian's chromium is missing: run `sudo apt-get update && sudo apt-get install -y chromium`"
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], INSTALL_COMMAND):
        done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"could not install chromium with {' '.join(command)}: {done.stderr[-2000:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but no `chromium` is on PATH")
    return found


@asynccontextmanager
async def browser_page(
    profile: Path, url: str, width: int = 1280, height: int = 1400
) -> AsyncIterator[tuple[Page, list[str]]]:
    """A page of a fresh Chromium profile opened at `url`, and the list its uncaught script errors go to."""
    errors: list[str] = []
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height},
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(url)
            yield page, errors
        finally:
            await context.close()
