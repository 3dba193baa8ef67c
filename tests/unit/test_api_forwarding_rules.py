"""The forwarding's rules without servers: which headers cross, which paths are forwarded, what settings are
accepted. The forwarding itself, over real connections, is tests/integration/test_api_forwarding.py."""

from collections.abc import AsyncIterator
from typing import cast

import asyncpg
import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from windhash_api.app import create_app
from windhash_api.forwarded_headers import client_response_headers, upstream_request_headers
from windhash_api.forwarding import Forwarder
from windhash_api.settings import ApiSettings
from windhash_common.accounts.client_address import ClientInfo

DSN = "postgresql://x@127.0.0.1/y"
# Nothing listens on port 9 (discard) here: a forwarded request would be a 502, never a hang.
UPSTREAM = "http://127.0.0.1:9"


def test_only_the_listed_request_headers_cross_and_the_client_is_the_one_the_api_believed() -> None:
    incoming = [
        ("Authorization", "Bearer whs_x"),
        ("Cookie", "windhash_session=whs_y"),
        ("X-Windhash-CSRF", "1"),
        ("Accept", "text/csv"),
        ("If-None-Match", '"abc"'),
        ("Connection", "keep-alive, Cookie"),
        ("Keep-Alive", "timeout=5"),
        ("Transfer-Encoding", "chunked"),
        ("X-Forwarded-For", "198.51.100.9"),
        ("X-Client-City", "Forged"),
        ("Host", "windhash.example"),
        ("X-Made-Up", "1"),
    ]
    sent = upstream_request_headers(
        incoming, ClientInfo("203.0.113.7", city="Leeds"), "X-Client-City", "X-Client-Country"
    )
    assert sent == [
        ("Authorization", "Bearer whs_x"),  # a header the Connection header names is hop-by-hop: dropped
        ("X-Windhash-CSRF", "1"),
        ("Accept", "text/csv"),
        ("If-None-Match", '"abc"'),
        ("accept-encoding", "identity"),
        ("x-forwarded-for", "203.0.113.7"),
        ("X-Client-City", "Leeds"),
    ]


def test_reply_headers_keep_every_cookie_and_never_the_upstream_s_address() -> None:
    raw = [
        (b"Content-Type", b"text/csv"),
        (b"Set-Cookie", b"a=1; HttpOnly"),
        (b"Set-Cookie", b"b=2; HttpOnly"),
        (b"Location", b"http://fleet:9106/base/api/v1/fleet/miners/7"),
        (b"Connection", b"close"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Server", b"uvicorn"),
        (b"Retry-After", b"3"),
    ]
    assert client_response_headers(raw, "http://fleet:9106/base") == [
        (b"content-type", b"text/csv"),
        (b"set-cookie", b"a=1; HttpOnly"),
        (b"set-cookie", b"b=2; HttpOnly"),
        (b"location", b"/api/v1/fleet/miners/7"),
        (b"retry-after", b"3"),
    ]


@pytest.mark.parametrize(
    "upstreams",
    [{"Fleet": UPSTREAM}, {"fleet": "ftp://127.0.0.1"}, {"fleet": "http://x/?q=1"}, {"fleet": "fleet"}],
)
def test_bad_upstreams_are_refused_at_start(upstreams: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ApiSettings(database_url=DSN, api_upstreams=upstreams)


def test_a_context_the_api_serves_itself_cannot_be_forwarded() -> None:
    with pytest.raises(ValueError, match="users"):
        create_app(ApiSettings(database_url=DSN, api_upstreams={"users": UPSTREAM}))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    settings = ApiSettings(database_url=DSN, migrate_on_start=False, api_upstreams={"fleet": UPSTREAM})
    app = create_app(settings, pool=cast(asyncpg.Pool, object()))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as client:
        yield client


async def test_only_configured_contexts_are_forwarded_and_the_api_s_own_answers_stay(
    http: httpx.AsyncClient,
) -> None:
    down = await http.get("/api/v1/fleet/miners")
    assert (down.status_code, down.json()["error"]["code"]) == (502, "upstream_unavailable")
    unknown = await http.get("/api/v1/crm/leads")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    wrong_method = await http.put("/api/v1/users/00000000-0000-0000-0000-000000000000")
    assert wrong_method.status_code == 405  # the API's own route, not a context called "users"
    # (httpx itself removes a plain `..` before sending; an encoded one reaches the API as `..`)
    sneaky = await http.get("/api/v1/fleet/%2e%2e/users")
    assert (sneaky.status_code, sneaky.json()["error"]["code"]) == (404, "not_found")


async def test_the_shared_client_keeps_no_cookie_from_one_user_for_the_next() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Set-Cookie": "windhash_session=whs_someone; Path=/"})

    # Only the transport is a stand-in: the client's own cookie handling is what is tested.
    transport = httpx.MockTransport(answer)
    forwarder = Forwarder(ApiSettings(database_url=DSN), CollectorRegistry(), transport=transport)
    try:
        reply = await forwarder.client.send(httpx.Request("GET", "http://127.0.0.1:9/api/v1/fleet/x"))
        assert reply.headers["set-cookie"].startswith("windhash_session=")
        assert not forwarder.client.cookies
    finally:
        await forwarder.aclose()
