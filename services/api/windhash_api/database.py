"""The API's asyncpg pool, and request-scoped access to what the app's lifespan set up (pool, settings).

The dependencies are `async` so that FastAPI calls them inline instead of in its thread pool.
"""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from windhash_api.settings import ApiSettings

# Every query is planned for its actual parameters. The filters are optional (`$3::text IS NULL OR ...`), and
# after five executions of a prepared statement PostgreSQL may switch to a generic plan that cannot use an
# index for them: a lead-party-filtered year of BTC went from ~150 ms to ~600 ms. Planning costs ~1 ms.
# JIT only pays off on queries far bigger than the API's; its compile time would be pure latency here.
SERVER_SETTINGS = {"plan_cache_mode": "force_custom_plan", "jit": "off"}


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release without a reset query. asyncpg's default sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL;` on every release: a round trip per request for session state the API never
    changes (it takes no locks, opens no cursors, listens to nothing and sets nothing after connecting).
    asyncpg still rolls back a transaction left open before this is called."""


def query_settings(settings: ApiSettings) -> dict[str, str]:
    """SERVER_SETTINGS plus the query time limit: PostgreSQL cancels any statement that runs longer."""
    return {**SERVER_SETTINGS, "statement_timeout": str(int(settings.api_query_timeout_seconds * 1000))}


async def open_pool(settings: ApiSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        server_settings=query_settings(settings),
        # The client's own bound, should the server not answer at all (a lost connection): a little longer.
        command_timeout=settings.api_query_timeout_seconds + 5,
        reset=_keep_session,
    )
    if pool is None:  # asyncpg types the awaited pool as optional
        raise RuntimeError("could not create the API's connection pool")
    return pool


async def open_ready_pool(settings: ApiSettings) -> asyncpg.Pool:
    """One connection of its own for /ready, so that a busy pool never makes the API look down."""
    pool = await asyncpg.create_pool(
        settings.database_url, min_size=0, max_size=1, server_settings=query_settings(settings)
    )
    if pool is None:
        raise RuntimeError("could not create the API's readiness connection")
    return pool


async def pool_of(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def ready_pool_of(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = getattr(request.app.state, "ready_pool", None) or request.app.state.pool
    return pool


async def settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


Pool = Annotated[asyncpg.Pool, Depends(pool_of)]
ReadyPool = Annotated[asyncpg.Pool, Depends(ready_pool_of)]
Settings = Annotated[ApiSettings, Depends(settings_of)]
