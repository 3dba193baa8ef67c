"""The HTTP app of a bounded-context service (fleet, plans, CRM…): the same access control as the API.

    app = create_service_app("windhash fleet", FleetSettings(), [miners.router])

gives an app whose every route runs the one authorization dependency (permission table, identity from
PostgreSQL per request), answers every error in the API's error shape (`http_errors`), with `/health`,
`/ready` (the database answers) and `/metrics`, and a pool opened by its lifespan (or the one given). The
`api` service stays the dashboard's single origin and forwards `/api/v1/<context>/...` here. Deliberately
minimal: the API's heavy-request limits and response cache live in the `api` service; every app gets the
security headers and HEAD wherever GET (windhash_common.http_headers). Serve it with `service_server`
(access/service_server.py), inside the service's own event loop: the server's limits on heads and
connections (windhash_common.http_server), no banner, and uvicorn's `proxy_headers=False` (as the API):
whose `X-Forwarded-For` is believed is `WINDHASH_API_TRUSTED_PROXIES`'s call, and a service behind the API
lists the API's address there, so that audit and login records name the real client.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from windhash_common.access.enforcement import install_access
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import PermissionTable
from windhash_common.access.settings import AccessSettings
from windhash_common.db import create_pool, migrate_database
from windhash_common.http_errors import CONTEXT_SERVICE_HINTS, install_error_handlers
from windhash_common.http_headers import HeadAsGetMiddleware, SecurityHeadersMiddleware

READY_TIMEOUT_S = 2.0


def _probes() -> APIRouter:
    router = APIRouter(tags=["probes"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: the database answers a query")
    async def ready(request: Request) -> JSONResponse:
        # The workers' readiness report (readiness.Readiness.report), so a probe reads every service alike.
        service = request.app.title
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                async with request.app.state.pool.acquire() as connection:
                    await connection.fetchval("SELECT 1")
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            down = {"up": False, "reason": str(error) or type(error).__name__}
            report = {"service": service, "ready": False, "dependencies": {"postgresql": down}}
            return JSONResponse(report, status_code=503)
        return JSONResponse({"service": service, "ready": True, "dependencies": {"postgresql": {"up": True}}})

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


def create_service_app(
    title: str,
    settings: AccessSettings,
    routers: Sequence[APIRouter],
    pool: asyncpg.Pool | None = None,
    table: PermissionTable = PERMISSIONS,
) -> FastAPI:
    """A context service's app; with `pool` given (tests) it neither checks the schema nor closes the pool."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is not None:
            yield
            return
        await migrate_database(
            settings.database_url
        )  # checks the schema is current (a service cannot migrate)
        app.state.pool = await create_pool(settings.database_url)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.settings = settings
    if pool is not None:
        app.state.pool = pool
    install_access(app, settings, table)
    # Hints pointing at the service's own /openapi.json; its pool sets no query time limit, so a timeout is
    # unexpected (500). The CRM and the fleet install the single origin's answers over these.
    install_error_handlers(app, CONTEXT_SERVICE_HINTS, timeouts_mean_busy=False)
    app.include_router(_probes())
    for router in routers:
        app.include_router(router)
    # The last added runs first: HEAD becomes GET before anything else.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    return app
