"""Request-scoped access to what the app's lifespan set up: the asyncpg pool and the settings.

The dependencies are `async` so that FastAPI calls them inline instead of in its thread pool.
"""

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from windhash_api.settings import ApiSettings


async def pool_of(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def settings_of(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


Pool = Annotated[asyncpg.Pool, Depends(pool_of)]
Settings = Annotated[ApiSettings, Depends(settings_of)]
