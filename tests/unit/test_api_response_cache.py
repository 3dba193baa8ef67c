"""The API's response cache and data version, on a stand-in app and a stand-in database connection."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.types import Receive, Scope, Send
from windhash_api.data_version import DataVersion
from windhash_api.main import settings_environment
from windhash_api.response_cache import ResponseCache, ResponseCacheMiddleware, etag_matches
from windhash_api.settings import ApiSettings

CHECK_S = 0.05


class FakeConnection:
    """Answers the fingerprint query with whatever `database.fingerprint` holds."""

    def __init__(self, database: "FakeDatabase") -> None:
        self.database = database

    async def fetchrow(self, query: str) -> tuple[str | None, ...]:
        if self.database.down:
            raise ConnectionResetError("database is down")
        return self.database.fingerprint

    def is_closed(self) -> bool:
        return False

    def terminate(self) -> None:
        pass

    async def close(self, **_: object) -> None:
        pass


class FakeDatabase:
    def __init__(self) -> None:
        self.fingerprint: tuple[str | None, ...] = ("v1",)
        self.down = False

    async def connect(self) -> asyncpg.Connection:
        if self.down:
            raise ConnectionRefusedError("database is down")
        connection: Any = FakeConnection(self)
        return connection


class CountingApp:
    """An ASGI app answering every path with a JSON body naming the call; `gate` holds answers back."""

    def __init__(self) -> None:
        self.calls = 0
        self.status = 200
        self.gate: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        call = self.calls
        if self.gate is not None:
            await self.gate.wait()
        accept = dict(scope["headers"]).get(b"accept", b"")
        body = json.dumps({"path": scope["path"], "call": call, "accept": accept.decode()}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Harness:
    def __init__(self, max_bytes: int = 1 << 20, max_age_s: float = 30.0) -> None:
        self.database = FakeDatabase()
        self.app = CountingApp()
        self.cache = ResponseCache(max_bytes=max_bytes, max_age_s=max_age_s, check_interval_s=CHECK_S)
        self.version = DataVersion(self.database.connect, CHECK_S, self.cache.invalidate)
        self.cache.version = self.version
        transport = httpx.ASGITransport(app=ResponseCacheMiddleware(self.app, self.cache))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://windhash.test")

    async def call_of(self, path: str, **headers: str) -> int:
        """Which call of the app made the answer to GET `path` (the answer must be a 200)."""
        response = await self.client.get(path, headers=headers)
        assert response.status_code == 200
        call: int = response.json()["call"]
        return call


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    harness = Harness()
    await harness.version.check()
    async with harness.client:
        yield harness


async def test_an_answer_is_computed_once_and_then_served_with_its_etag(harness: Harness) -> None:
    first = await harness.client.get("/api/v1/summaries/daily/2024-03-31")
    second = await harness.client.get("/api/v1/summaries/daily/2024-03-31")
    assert harness.app.calls == 1
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["etag"].startswith('"') and len(first.headers["etag"]) == 34
    assert second.headers["cache-control"] == "no-cache"
    assert second.headers["vary"] == "Accept"
    assert await harness.call_of("/api/v1/summaries/daily/2024-03-30") == 2


async def test_if_none_match_with_the_current_etag_gets_a_304_without_body(harness: Harness) -> None:
    etag = (await harness.client.get("/api/v1/status")).headers["etag"]
    for header in (etag, f'"other", W/{etag}', "*"):
        response = await harness.client.get("/api/v1/status", headers={"If-None-Match": header})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
    stale = await harness.client.get("/api/v1/status", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.headers["etag"] == etag
    assert harness.app.calls == 1


def test_etag_comparison_is_weak_and_handles_lists() -> None:
    assert etag_matches(b'W/"abc"', b'"abc"')
    assert etag_matches(b'"x", "abc"', b'"abc"')
    assert not etag_matches(b'"abcd"', b'"abc"')


async def test_concurrent_requests_for_a_missing_answer_compute_it_once(harness: Harness) -> None:
    harness.app.gate = asyncio.Event()
    requests = [asyncio.create_task(harness.call_of("/api/v1/mining/yearly/2024")) for _ in range(20)]
    await asyncio.sleep(0.05)
    harness.app.gate.set()
    assert set(await asyncio.gather(*requests)) == {1}
    assert harness.app.calls == 1


async def test_a_new_data_version_drops_every_answer(harness: Harness) -> None:
    assert await harness.call_of("/api/v1/summaries/yearly/2024") == 1
    await harness.version.check()
    assert await harness.call_of("/api/v1/summaries/yearly/2024") == 1, "same version, same answer"
    harness.database.fingerprint = ("v2",)
    await harness.version.check()
    assert await harness.call_of("/api/v1/summaries/yearly/2024") == 2
    assert harness.version.changes == 1


async def test_an_answer_computed_while_the_data_changed_is_not_kept(harness: Harness) -> None:
    harness.app.gate = asyncio.Event()
    computing = asyncio.create_task(harness.call_of("/api/v1/summaries/yearly/2024"))
    await asyncio.sleep(0.02)
    harness.database.fingerprint = ("v2",)
    await harness.version.check()
    harness.app.gate.set()
    assert await computing == 1  # its own client still gets it
    assert await harness.call_of("/api/v1/summaries/yearly/2024") == 2


async def test_the_cache_is_bypassed_while_the_version_is_unknown_or_overdue(harness: Harness) -> None:
    path = "/api/v1/summaries/yearly/2024"
    assert await harness.call_of(path) == 1
    harness.version.confirmed_at = time.monotonic() - 3 * CHECK_S  # the checks fell behind
    assert await harness.call_of(path) == 2
    harness.database.down = True
    await harness.version.check()
    assert harness.version.fingerprint is None
    assert await harness.call_of(path) == 3
    assert await harness.call_of(path) == 4, "nothing is kept while the version is unknown"
    harness.database.down = False
    await harness.version.check()
    assert await harness.call_of(path) == 5
    assert await harness.call_of(path) == 5


async def test_errors_and_uncached_paths_are_always_computed(harness: Harness) -> None:
    harness.app.status = 404
    for _ in range(2):
        assert (await harness.client.get("/api/v1/bm-units/T_NOPE-1")).status_code == 404
    assert harness.app.calls == 2
    harness.app.status = 200
    for path in ("/api/v1/reconciliation", "/health", "/metrics"):
        await harness.client.get(path)
        await harness.client.get(path)
    assert harness.app.calls == 8
    await harness.client.post("/api/v1/status")
    await harness.client.post("/api/v1/status")
    assert harness.app.calls == 10


async def test_the_accept_header_is_part_of_the_key(harness: Harness) -> None:
    assert await harness.call_of("/api/v1/bm-units", accept="text/csv") == 1
    assert await harness.call_of("/api/v1/bm-units", accept="application/json") == 2
    assert await harness.call_of("/api/v1/bm-units", accept="text/csv") == 1


async def test_no_answer_is_served_past_its_maximum_age_and_old_ones_are_refreshed_ahead() -> None:
    harness = Harness(max_age_s=0.4)
    await harness.version.check()
    async with harness.client:
        path = "/api/v1/summaries/yearly/2024"
        assert await harness.call_of(path) == 1
        await asyncio.sleep(0.32)  # past 3/4 of the maximum age: served, and recomputed in the background
        await harness.version.check()
        assert await harness.call_of(path) == 1
        await asyncio.sleep(0.05)
        assert harness.app.calls == 2
        await harness.version.check()
        assert await harness.call_of(path) == 2
        await asyncio.sleep(0.45)  # past the maximum age of the refreshed answer
        await harness.version.check()
        assert await harness.call_of(path) == 3


async def test_the_size_limit_evicts_the_least_recently_used() -> None:
    # each answer counts ~730 bytes (key, headers, body and overhead): three fit
    harness = Harness(max_bytes=2400)
    await harness.version.check()
    async with harness.client:
        for day in range(1, 5):
            await harness.call_of(f"/api/v1/summaries/daily/2024-03-0{day}")
        assert harness.cache.bytes_held <= 2400
        assert len(harness.cache.generation.entries) == 3
        assert await harness.call_of("/api/v1/summaries/daily/2024-03-04") == 4
        assert await harness.call_of("/api/v1/summaries/daily/2024-03-01") == 5


async def test_the_version_is_polled_in_the_background() -> None:
    harness = Harness()
    await harness.version.start()
    try:
        async with harness.client:
            assert await harness.call_of("/api/v1/status") == 1
            harness.database.fingerprint = ("v2",)
            await asyncio.sleep(3 * CHECK_S)
            assert await harness.call_of("/api/v1/status") == 2
    finally:
        await harness.version.stop()
    assert harness.version.fingerprint is None


def test_worker_processes_get_the_settings_run_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    given = ApiSettings(
        api_port=9123,
        api_workers=2,
        api_cache=False,
        api_cache_max_age_seconds=2.5,
        database_url="postgresql://x/y",
    )
    for name, value in settings_environment(given).items():
        monkeypatch.setenv(name, value)
    assert ApiSettings() == given
