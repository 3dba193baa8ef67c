"""`GET /api/v1/status` of a database, through the API app in process (ASGI), as an anonymous reader."""

from typing import Any

import httpx
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.db import create_pool


async def api_status(dsn: str) -> dict[str, Any]:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    app = create_app(ApiSettings(database_url=dsn, migrate_on_start=False), pool=pool)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as client:
            response = await client.get("/api/v1/status")
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body
    finally:
        await pool.close()
