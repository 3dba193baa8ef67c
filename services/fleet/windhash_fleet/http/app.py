"""The fleet's HTTP app: the shared service app (the permission table's authorization, identity from
PostgreSQL, probes, /metrics) with the fleet's routes, windhash's error shape and request metrics."""

import time
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import FastAPI, Request, Response
from windhash_common.access.service_app import create_service_app
from windhash_common.http_errors import install_error_handlers

from windhash_fleet import api_metrics
from windhash_fleet.http import imports, miners, models, sites, telemetry
from windhash_fleet.settings import FleetSettings

ROUTERS = (sites.router, miners.router, imports.router, telemetry.router, models.router)


def create_fleet_app(settings: FleetSettings, pool: asyncpg.Pool | None = None) -> FastAPI:
    app = create_service_app("windhash fleet", settings, ROUTERS, pool=pool)
    install_error_handlers(app)

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        api_metrics.REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        api_metrics.REQUEST_SECONDS.labels(route).observe(time.perf_counter() - started)
        return response

    return app
