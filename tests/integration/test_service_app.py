"""A bounded-context service's app from the shared factory: the same table-driven authorization, identity
from PostgreSQL and row-level security as the API, on a route of its own (a fleet-like listing)."""

import asyncio

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import APIRouter, Request
from test_accounts_support import Accounts, accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import STAFF_AND_OWN_CLIENT, PermissionTable, Rule
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.roles import Role
from windhash_common.access.service_app import create_service_app
from windhash_common.access.service_server import service_server_config
from windhash_common.access.settings import AccessSettings
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_stack.ports import free_port

pytestmark = pytest.mark.integration
ROUTE = "/api/v1/fleet/organisations"


def fleet_table() -> PermissionTable:
    probes = [PERMISSIONS.rule("probes", "read"), PERMISSIONS.rule("metrics", "read")]
    miners = Rule(
        "miners", "read", "what a fleet service shows", STAFF_AND_OWN_CLIENT, routes=(f"GET {ROUTE}",)
    )
    return PermissionTable((*probes, miners))


def fleet_router() -> APIRouter:
    router = APIRouter()

    @router.get(ROUTE)
    async def organisations(identity: CurrentIdentity, request: Request) -> list[str]:
        async with identity_transaction(request.app.state.pool, identity) as connection:
            return [row["name"] for row in await connection.fetch("SELECT name FROM clients ORDER BY name")]

    return router


async def test_a_context_service_enforces_the_table_and_row_level_security(
    pg_dsn: str, accounts: Accounts
) -> None:
    await accounts.add("a@acme.example", Role.CLIENT, client="Acme")
    await accounts.add("b@blue.example", Role.CLIENT, client="Blue Ridge")
    await accounts.add("staff@example.com", Role.USER)
    await accounts.add("guest@example.com", Role.GUEST)
    settings = AccessSettings(database_url=dsn_as(pg_dsn, DatabaseRole.API))
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    app = create_service_app("fleet-like", settings, [fleet_router()], pool=pool, table=fleet_table())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as http:

            async def as_(email: str | None) -> httpx.Response:
                headers = {"Authorization": f"Bearer {await accounts.session(email)}"} if email else {}
                return await http.get(ROUTE, headers=headers)

            anonymous = await as_(None)
            assert anonymous.status_code == 401
            assert anonymous.json()["error"]["code"] == "authentication_required"
            assert (await as_("a@acme.example")).json() == ["Acme"]
            assert (await as_("staff@example.com")).json() == ["Acme", "Blue Ridge"]
            assert (await as_("guest@example.com")).status_code == 403
            assert (await http.get("/health")).json() == {"status": "ok"}
            assert (await http.get("/ready")).status_code == 200
    finally:
        await pool.close()


async def test_a_context_service_is_served_with_the_api_s_guards_headers_and_head(pg_dsn: str) -> None:
    """Served as a service runs it (`service_server_config`): a head that does not arrive in time gets 408
    and an oversized one 431, no server banner, the security headers, and HEAD wherever GET."""
    settings = AccessSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.API),
        api_header_timeout_seconds=1.0,
        api_max_header_bytes=2048,
    )
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    app = create_service_app("fleet-like", settings, [fleet_router()], pool=pool, table=fleet_table())
    port = free_port()
    server = uvicorn.Server(service_server_config(app, settings, "127.0.0.1", port))
    serving = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(60):
            while not server.started:
                if serving.done():
                    serving.result()  # raises why it stopped
                await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            head = await http.head("/health")
            assert (head.status_code, head.content) == (200, b"")
            assert head.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in head.headers["content-security-policy"]
            assert "server" not in head.headers
        assert (await _answer_to(port, b"X-Filler: " + b"x" * 4096)).startswith(b"HTTP/1.1 431")
        assert (await _answer_to(port, b"")).startswith(b"HTTP/1.1 408")  # the head never ends
    finally:
        server.should_exit = True
        await serving
        await pool.close()


async def _answer_to(port: int, more_head: bytes) -> bytes:
    """What the server answers to a request head that starts, goes on with `more_head` and never ends."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: fleet\r\n" + more_head)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()
