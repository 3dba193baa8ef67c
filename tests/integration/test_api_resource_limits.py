"""Every resource a client controls is bounded, on the API as it runs (`python -m windhash_api.main`, its own
process, real sockets, the real database): slow and idle connections are closed in bounded time and cannot
make `/health` fail, oversized request heads are refused, the response cache cannot be grown by what does not
select an answer and counts its keys, heavy requests are limited per client and in time and cannot take the
pool from `/health`, `/ready`, cached figures and light requests; every answer carries the security headers
and no server banner; the docs page loads nothing from outside."""

import asyncio
import os
import re
import secrets
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import httpx
import pytest
from windhash_common.settlement_calendar import dates_between
from windhash_stack.ports import free_port
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HEADER_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 150
MAX_HEADER_BYTES = 8192
QUERY_TIMEOUT_S = 2.0
LIMITS = {
    "WINDHASH_API_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_S),
    "WINDHASH_API_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    "WINDHASH_API_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
    "WINDHASH_API_QUERY_TIMEOUT_SECONDS": str(QUERY_TIMEOUT_S),
    "WINDHASH_API_CACHE_MAX_MB": "1",
    "WINDHASH_DB_POOL_MAX_SIZE": "4",
    "WINDHASH_API_HEAVY_PER_CLIENT": "2",
    "WINDHASH_API_HEAVY_PER_CLIENT_QUEUE": "4",
    "WINDHASH_API_HEAVY_WAIT_SECONDS": "3",
}


@dataclass
class LiveApi:
    url: str
    port: int
    dsn: str
    pid: int


@pytest.fixture
async def live_api(pg_dsn: str) -> AsyncIterator[LiveApi]:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(connection, list(dates_between(date(2024, 3, 30), date(2024, 4, 1))))
    finally:
        await connection.close()
    port = free_port()
    environment = {
        **os.environ,
        **LIMITS,
        "WINDHASH_DATABASE_URL": pg_dsn,
        "WINDHASH_API_HOST": "127.0.0.1",
        "WINDHASH_API_PORT": str(port),
        "WINDHASH_MIGRATE_ON_START": "false",
        "WINDHASH_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "windhash_api.main",
        cwd=REPO,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_healthy(url, process)
        yield LiveApi(url, port, pg_dsn, process.pid)
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _wait_until_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                error = await process.stderr.read() if process.stderr else b""
                raise AssertionError(f"the API exited: {error.decode()}")
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the API did not answer /health within 60 s")


async def _get(url: str, wait_s: float = 3.0) -> httpx.Response:
    """One request on a fresh connection (no pool shared with the test's slow sockets)."""
    async with httpx.AsyncClient(timeout=wait_s) as client:
        return await client.get(url)


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server closed the connection (EOF, possibly after a short refusal) within `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    return True


# --- connections ---


async def test_a_slowloris_client_cannot_make_health_fail_and_its_connections_are_closed(
    live_api: LiveApi,
) -> None:
    slow: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for _ in range(MAX_CONNECTIONS * 2):
        reader, writer = await asyncio.open_connection("127.0.0.1", live_api.port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: windhash\r\nX-Slow: ")
        slow.append((reader, writer))
    stop = asyncio.Event()

    async def trickle() -> None:
        while not stop.is_set():
            for _, writer in slow:
                if not writer.is_closing():
                    writer.write(b"a")
            await asyncio.sleep(0.5)

    trickling = asyncio.create_task(trickle())
    try:
        started = time.monotonic()
        while time.monotonic() - started < HEADER_TIMEOUT_S * 2:
            response = await _get(f"{live_api.url}/health", wait_s=HEADER_TIMEOUT_S)
            assert response.status_code == 200
            await asyncio.sleep(0.2)
        closed = await asyncio.gather(*(_closed_within(reader, HEADER_TIMEOUT_S + 3) for reader, _ in slow))
        assert all(closed), f"{closed.count(False)} slow connections still open past the header deadline"
    finally:
        stop.set()
        await trickling
        for _, writer in slow:
            writer.close()


async def test_a_connection_that_sends_nothing_is_closed(live_api: LiveApi) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", live_api.port)
    try:
        assert await _closed_within(reader, HEADER_TIMEOUT_S + 3)
    finally:
        writer.close()


async def test_a_kept_alive_connection_still_serves_requests(live_api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=live_api.url) as client:
        for _ in range(5):
            assert (await client.get("/health")).status_code == 200


async def test_a_request_head_larger_than_the_limit_is_refused_before_it_is_read(live_api: LiveApi) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", live_api.port)
    try:
        writer.write(b"GET /api/v1/status HTTP/1.1\r\nHost: windhash\r\nAccept: ")
        refused = False
        for _ in range(256):  # up to 1 MiB of header, 4 KiB at a time
            try:
                writer.write(b"x" * 4096)
                await writer.drain()
            except (ConnectionResetError, BrokenPipeError):
                refused = True
                break
            if reader.at_eof() or reader._buffer:  # type: ignore[attr-defined]  # an answer arrived
                break
            await asyncio.sleep(0.005)
        try:
            answer = await asyncio.wait_for(reader.read(200), 5)
        except ConnectionResetError:
            answer = b""
        assert refused or answer.startswith(b"HTTP/1.1 431"), answer
    finally:
        writer.close()


# --- the response cache ---


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


async def test_what_does_not_select_an_answer_does_not_grow_the_cache(live_api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=live_api.url, timeout=10) as client:
        for _ in range(150):
            noise = secrets.token_hex(1500)
            await client.get("/api/v1/miner-models", headers={"Accept": f"application/json, x/{noise}"})
            await client.get(f"/api/v1/miner-models?unknown={noise}")
        metrics = (await client.get("/metrics")).text
    assert _metric(metrics, "windhash_api_cache_entries") <= 2


def _rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB$", status, re.MULTILINE)
    assert match
    return int(match.group(1)) * 1024


async def test_the_cache_and_its_keys_stay_within_the_byte_budget(live_api: LiveApi) -> None:
    """3,000 distinct requests with query strings near the head limit (a declared parameter repeated: the
    route reads the last value), against a 1 MB cache: what the cache holds, keys included, stays within the
    budget, and so does the process's growth (the keys would be ~20 MB)."""
    async with httpx.AsyncClient(base_url=live_api.url, timeout=10) as client:
        await client.get("/api/v1/bm-units?search=warm-up")
        before = _rss_bytes(live_api.pid)
        for _ in range(3000):
            search = secrets.token_hex(90)
            query = "&".join([f"search={search}"] * 36)  # ~6.7 KB, under the 8 KB head limit
            response = await client.get(f"/api/v1/bm-units?{query}")
            assert response.status_code == 200
        grown = _rss_bytes(live_api.pid) - before
        metrics = (await client.get("/metrics")).text
    held = _metric(metrics, "windhash_api_cache_bytes")
    entries = _metric(metrics, "windhash_api_cache_entries")
    assert 0 < held <= 1024 * 1024
    assert held >= entries * (len("/api/v1/bm-units") + len("search=") + 180), "each entry counts its key"
    assert grown < 8 * 1024 * 1024, f"the API grew {grown / 1e6:.1f} MB for a 1 MB cache"


# --- heavy requests ---


async def test_heavy_requests_cannot_take_the_pool_from_probes_cached_and_light_requests(
    live_api: LiveApi,
) -> None:
    cached = f"{live_api.url}/api/v1/summaries/daily/2024-03-31"
    assert (await _get(cached)).status_code == 200  # now cached
    blocker = await asyncpg.connect(live_api.dsn)
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE settlement_periods IN ACCESS EXCLUSIVE MODE")
    heavy_url = f"{live_api.url}/api/v1/reconciliation?from=2024-03-01&to=2024-04-30"
    started = time.monotonic()
    heavy = [asyncio.create_task(_get(heavy_url, wait_s=60)) for _ in range(10)]
    try:
        await asyncio.sleep(0.5)
        for attempt in range(8):
            ready = await _get(f"{live_api.url}/ready")
            assert ready.status_code == 200, ready.text
            assert (await _get(f"{live_api.url}/health")).status_code == 200
            assert (await _get(cached)).status_code == 200
            light = await _get(f"{live_api.url}/api/v1/bm-units?search=light{attempt}")
            assert light.status_code == 200, light.text
            await asyncio.sleep(0.25)
        statuses = [response.status_code for response in await asyncio.gather(*heavy)]
        elapsed = time.monotonic() - started
    finally:
        await transaction.rollback()
        await blocker.close()
    assert set(statuses) <= {429, 503}, statuses
    assert 429 in statuses, "one client's excess is refused at once"
    assert elapsed < 30, "every heavy request ended in bounded time"


# --- headers and docs ---


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/status", "/api/v1/nothing-here", "/static/dashboard.js", "/docs", "/openapi.json"]
)
async def test_every_answer_has_the_security_headers_and_no_server_banner(
    live_api: LiveApi, path: str
) -> None:
    response = await _get(f"{live_api.url}{path}")
    headers = response.headers
    assert "server" not in headers
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, policy
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"


@pytest.mark.parametrize("page", ["/docs"])
async def test_the_docs_pages_load_only_what_the_api_serves(live_api: LiveApi, page: str) -> None:
    html = (await _get(f"{live_api.url}{page}")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert source.startswith("/"), f"{page} loads {source} from outside"
        assert (await _get(f"{live_api.url}{source}")).status_code == 200, source
