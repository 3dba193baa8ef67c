"""The API as the single origin: a real context service (the specimen service, built by create_service_app)
on its own uvicorn, behind the real API on another, over the real database. Requests go through both over
real connections; the service judges them by its own table."""

import asyncio
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from test_accounts_support import (  # type: ignore[import-not-found]
    PASSWORD,
    Accounts,
    accounts_fixture,  # noqa: F401
    api_settings,
)
from windhash_api.app import create_app
from windhash_common.access.roles import Role
from windhash_stack.ports import free_port
from windhash_testing.live_server import serving
from windhash_testing.specimen_service import PREFIX, create_specimen_app

pytestmark = pytest.mark.integration
CSRF = {"X-Windhash-CSRF": "1"}


@pytest.fixture
async def specimen(pg_dsn: str) -> AsyncIterator[str]:
    async with serving(create_specimen_app(pg_dsn, {})) as url:
        yield url


@asynccontextmanager
async def api_before(pg_dsn: str, upstream: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API on a uvicorn of its own, forwarding the specimen context to `upstream`."""
    settings = api_settings(pg_dsn, api_upstreams={"specimen": upstream}, **overrides)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http


async def login_cookie(http: httpx.AsyncClient, email: str) -> dict[str, str]:
    """A real login at the API; the cookie it sets, as a browser would send it back."""
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    name, _, rest = response.headers["set-cookie"].partition("=")
    return {"Cookie": f"{name}={rest.split(';', 1)[0]}"}


async def test_a_real_login_s_cookie_is_honoured_by_the_service_for_get_head_and_post(
    pg_dsn: str, accounts: Accounts, specimen: str
) -> None:
    await accounts.add("staff@example.com", Role.USER)
    await accounts.add("guest@example.com", Role.GUEST)
    async with api_before(pg_dsn, specimen) as http:
        staff = await login_cookie(http, "staff@example.com")
        got = await http.get(f"{PREFIX}/whoami", headers=staff)
        assert got.status_code == 200, got.text
        assert got.json()["actor"] == "user:staff@example.com"
        assert got.headers["cache-control"] == "private, no-cache"
        etag = got.headers["etag"]
        revalidated = await http.get(f"{PREFIX}/whoami", headers={**staff, "If-None-Match": etag})
        assert (revalidated.status_code, revalidated.content) == (304, b"")
        head = await http.head(f"{PREFIX}/whoami", headers=staff)
        assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)

        without_csrf = await http.post(f"{PREFIX}/notes", headers=staff, json={"text": "hi"})
        assert (without_csrf.status_code, without_csrf.json()["error"]["code"]) == (
            403,
            "csrf_header_missing",
        )
        posted = await http.post(f"{PREFIX}/notes", headers={**staff, **CSRF}, json={"text": "hi"})
        assert posted.status_code == 201, posted.text
        assert posted.json()["saved"] == "hi"
        assert posted.headers["location"] == f"{PREFIX}/notes/1"  # never the service's own address
        cookies = posted.headers.get_list("set-cookie")
        assert [cookie.split("=", 1)[0] for cookie in cookies] == ["specimen_a", "specimen_b"]

        anonymous = await http.get(f"{PREFIX}/whoami")
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "authentication_required"
        assert anonymous.headers["www-authenticate"] == "Bearer"
        guest = await http.post(
            f"{PREFIX}/notes", headers={**await login_cookie(http, "guest@example.com"), **CSRF}, json={}
        )
        assert (guest.status_code, guest.json()["error"]["code"]) == (403, "forbidden")
        unknown = await http.get("/api/v1/nosuch/whoami")
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")


async def test_the_service_records_the_client_the_api_believed(
    pg_dsn: str, accounts: Accounts, specimen: str
) -> None:
    await accounts.add("staff@example.com", Role.USER)
    token = await accounts.session("staff@example.com")
    staff = {"Authorization": f"Bearer {token}", **CSRF}
    # Behind a proxy the API trusts: the address that proxy forwarded is the client, and reaches the service.
    async with api_before(pg_dsn, specimen, api_trusted_proxies=["127.0.0.1"]) as http:
        posted = await http.post(
            f"{PREFIX}/notes",
            headers={**staff, "X-Forwarded-For": "203.0.113.7", "X-Client-City": "Aberdeen"},
            json={"text": "from afar"},
        )
        assert posted.status_code == 201, posted.text
        client = posted.json()["client"]
        assert (client["forwarded_for"], client["address"], client["city"]) == (
            "203.0.113.7",
            "203.0.113.7",
            "Aberdeen",
        )
        recorded = await accounts.superuser.fetchval(
            "SELECT host(ip) FROM audit_log WHERE action = 'specimen.note' ORDER BY id DESC LIMIT 1"
        )
        assert recorded == "203.0.113.7"
    # Not behind a trusted proxy: a forged header is dropped, the API's peer is the client.
    async with api_before(pg_dsn, specimen) as http:
        forged = await http.post(
            f"{PREFIX}/notes",
            headers={**staff, "X-Forwarded-For": "198.51.100.9", "X-Client-City": "Nowhere"},
            json={"text": "forged"},
        )
        client = forged.json()["client"]
        assert (client["forwarded_for"], client["address"], client["city"]) == (
            "127.0.0.1",
            "127.0.0.1",
            None,
        )
        assert "connection" not in client["headers"] and "x-windhash-csrf" in client["headers"]


async def test_a_service_that_is_down_is_a_502_at_once(pg_dsn: str) -> None:
    async with api_before(pg_dsn, f"http://127.0.0.1:{free_port()}") as http:
        started = time.monotonic()
        response = await http.get(f"{PREFIX}/slow")
        assert (response.status_code, response.json()["error"]["code"]) == (502, "upstream_unavailable")
        assert time.monotonic() - started < 5


async def test_a_slow_service_is_a_504_within_the_read_bound(pg_dsn: str, specimen: str) -> None:
    async with api_before(pg_dsn, specimen, api_upstream_read_seconds=0.5) as http:
        started = time.monotonic()
        response = await http.get(f"{PREFIX}/slow", params={"seconds": 3})
        elapsed = time.monotonic() - started
        assert (response.status_code, response.json()["error"]["code"]) == (504, "upstream_timeout")
        assert 0.5 <= elapsed < 5
        assert (await http.get(f"{PREFIX}/slow")).status_code == 200  # and the next one is served


async def test_a_service_at_its_concurrency_cap_is_a_503_with_retry_after(pg_dsn: str, specimen: str) -> None:
    async with api_before(
        pg_dsn, specimen, api_upstream_max_concurrent=1, api_upstream_connect_seconds=0.3
    ) as http:
        holding = asyncio.create_task(http.get(f"{PREFIX}/slow", params={"seconds": 3}))
        await asyncio.sleep(0.5)
        busy = await http.get(f"{PREFIX}/slow")
        assert (busy.status_code, busy.json()["error"]["code"]) == (503, "upstream_busy")
        assert busy.headers["retry-after"] == "1"
        assert (await holding).status_code == 200


async def test_replies_and_requests_past_the_limits_are_refused_or_cut(pg_dsn: str, specimen: str) -> None:
    limit = 1024 * 1024
    async with api_before(
        pg_dsn, specimen, api_upstream_max_response_bytes=limit, api_upstream_max_request_bytes=1000
    ) as http:
        declared = await http.get(f"{PREFIX}/blob", params={"size": 2 * limit})
        assert (declared.status_code, declared.json()["error"]["code"]) == (502, "upstream_reply_too_large")
        assert len((await http.get(f"{PREFIX}/blob", params={"size": limit})).content) == limit
        # A streamed reply has no length to check first: it is cut, and the client sees it incomplete.
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{PREFIX}/export.csv", params={"rows": 100_000})
        big = await http.post(f"{PREFIX}/notes", json={"text": "x" * 2000})
        assert (big.status_code, big.json()["error"]["code"]) == (413, "upstream_request_too_large")
        metrics = (await http.get("/metrics")).text
        assert 'windhash_api_upstream_requests_total{context="specimen",outcome="cut"} 1.0' in metrics


async def test_a_large_csv_streams_through_in_bounded_memory_and_is_never_cached(
    pg_dsn: str, specimen: str
) -> None:
    rows = 600_000  # about 11 MB of CSV
    async with api_before(pg_dsn, specimen, api_cache=True) as http:
        tracemalloc.start()
        try:
            received = lines = 0
            async with http.stream("GET", f"{PREFIX}/export.csv", params={"rows": rows}) as response:
                assert response.status_code == 200
                assert response.headers["content-disposition"] == 'attachment; filename="specimen.csv"'
                assert response.headers["content-type"].startswith("text/csv")
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    lines += chunk.count(b"\n")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert lines == rows + 1 and received > 10_000_000
        # The service, the API and this client share the process: together they held a small share of it.
        assert peak < received / 4, f"peak {peak} bytes while streaming {received}"
        first, second = [(await http.get(f"{PREFIX}/slow")).json()["call"] for _ in range(2)]
        assert second == first + 1, "a forwarded answer was served from the API's cache"
