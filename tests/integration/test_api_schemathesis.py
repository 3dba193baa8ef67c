"""Schemathesis against the API's own OpenAPI document, on a live uvicorn over the real database (connected
as the API's own role): whatever it generates, valid or not, anonymous or with an owner's API key (so every
route's handler runs, not only its refusal), the API answers as documented and never with a 5xx."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
import uvicorn
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.accounts.passwords import hash_password, one_time_password
from windhash_common.accounts.sessions import create_api_key
from windhash_common.accounts.users import create_user
from windhash_common.audit import cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.settlement_calendar import dates_between
from windhash_common.topics import Topics
from windhash_stack.ports import free_port
from windhash_testing.openapi_fuzz import fuzz
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration


@pytest.fixture
async def live_api(pg_dsn: str) -> AsyncIterator[str]:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(connection, list(dates_between(date(2024, 3, 30), date(2024, 4, 1))))
    finally:
        await connection.close()
    port = free_port()
    settings = ApiSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.API), migrate_on_start=False, db_pool_max_size=4
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def owner_key(pg_dsn: str) -> dict[str, str]:
    """An API key of an owner account (a key, not a session: a generated logout cannot end it)."""
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    try:
        async with operator.transaction():
            owner = await create_user(
                operator,
                Topics(),
                cli_actor(),
                email="fuzz-owner@example.com",
                name="Fuzz",
                role=Role.OWNER,
                client_id=None,
                password_hash=hash_password(one_time_password()),
                must_change_password=False,
                access_until=None,
            )
            key, _ = await create_api_key(
                operator, Topics(), cli_actor(), owner["id"], "fuzz", Role.OWNER, None
            )
    finally:
        await operator.close()
    return {"Authorization": f"Bearer {key}"}


async def test_schemathesis_finds_no_server_error_and_no_undocumented_response(live_api: str) -> None:
    failures = await asyncio.to_thread(fuzz, live_api)
    assert failures == []


async def test_schemathesis_with_an_owners_key_finds_no_server_error_and_no_undocumented_response(
    live_api: str, pg_dsn: str
) -> None:
    headers = await owner_key(pg_dsn)
    failures = await asyncio.to_thread(fuzz, live_api, headers)
    assert failures == []
