"""The FastAPI application: routes under /api/v1, probes, /metrics and the dashboard at /."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import asyncpg
import structlog
from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.types import Lifespan
from windhash_common.access.enforcement import install_access
from windhash_common.db import migrate_database

from windhash_api.data_version import DataVersion
from windhash_api.database import SERVER_SETTINGS, open_pool
from windhash_api.errors import install_error_handlers
from windhash_api.forwarding import Forwarder, install_forwarding
from windhash_api.metrics import MetricsMiddleware, RequestMetrics
from windhash_api.response_cache import ResponseCache, ResponseCacheMiddleware
from windhash_api.routes import (
    api_keys,
    audit,
    auth,
    clients,
    curtailment,
    jobs,
    mining,
    rankings,
    reconciliation,
    registry,
    series,
    status,
    summaries,
    users,
)
from windhash_api.settings import ApiSettings

NO_OPENTELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}
STATIC_DIR = Path(str(resources.files("windhash_api") / "static"))
log = structlog.get_logger(__name__)

DESCRIPTION = """
How much bitcoin could Great Britain's curtailed wind energy have mined?

Figures come from Elexon's settlement stack: **energy_mwh** is curtailed energy (positive MWh),
**cashflow_gbp** is what the system operator paid the farms (volume × original price; positive = farm paid),
**btc** is what that energy would have mined on a miner model at each period's network difficulty, and
**value_gbp** prices each day's BTC at that day's price. Timeframes are `daily/YYYY-MM-DD`,
`monthly/YYYY-MM`, `yearly/YYYY` or `range/YYYY-MM-DD..YYYY-MM-DD`. Tables also come as CSV
(`?format=csv` or `Accept: text/csv`). Every error is `{"error": {"code", "message", "hint", "fields"}}`.
"""


def _lifespan(
    settings: ApiSettings, given_pool: asyncpg.Pool | None, cache: ResponseCache | None, forwarder: Forwarder
) -> Lifespan[FastAPI]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = given_pool
        if pool is None:
            if settings.migrate_on_start:
                await migrate_database(settings.database_url)
            pool = await open_pool(settings)
            app.state.pool = pool
            log.info("api ready", database=settings.database_url.rsplit("@", 1)[-1])
        version = None
        if cache is not None:
            version = _data_version(settings, cache)
            await version.start()
            cache.version = version
        try:
            yield
        finally:
            if cache is not None and version is not None:
                cache.version = None
                await version.stop()
            await forwarder.aclose()
            if given_pool is None:
                await pool.close()

    return lifespan


def _data_version(settings: ApiSettings, cache: ResponseCache) -> DataVersion:
    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(settings.database_url, server_settings=SERVER_SETTINGS)

    return DataVersion(connect, settings.api_cache_check_seconds, cache.invalidate)


def create_app(settings: ApiSettings | None = None, pool: asyncpg.Pool | None = None) -> FastAPI:
    """The API app. With `pool` given (tests), the app uses it and neither migrates nor closes it.

    The response cache serves only while its lifespan runs (uvicorn runs it; httpx's ASGITransport does not,
    so tests driving the app that way always reach the database).
    """
    settings = settings or ApiSettings()
    registry_ = CollectorRegistry()
    cache = None
    if settings.api_cache:
        cache = ResponseCache(
            max_bytes=settings.api_cache_max_mb * 1024 * 1024,
            max_age_s=settings.api_cache_max_age_seconds,
            check_interval_s=settings.api_cache_check_seconds,
            registry=registry_,
        )
    forwarder = Forwarder(settings, registry_)
    app = FastAPI(
        title="windhash API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan(settings, pool, cache, forwarder),
        # windhash observes through Prometheus (/metrics) and logs, never OpenTelemetry; left on, FastAPI asks
        # OpenTelemetry for its (unconfigured) providers on every request, ~6% of a cached answer's CPU.
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.settings = settings
    app.state.response_cache = cache
    app.state.forwarder = forwarder
    if pool is not None:
        app.state.pool = pool
    # The one authorization dependency (docs/ACCESS.md) on every route added below.
    install_access(app, settings)
    install_error_handlers(app)
    # The last added runs first: metrics time and count every request, cache hits included.
    app.add_middleware(ResponseCacheMiddleware, cache=cache, uncached_prefixes=forwarder.uncached_prefixes())
    app.add_middleware(MetricsMiddleware, metrics=RequestMetrics(registry_))
    for module in (summaries, curtailment, mining, series, rankings, registry, status, reconciliation):
        app.include_router(module.router)
    for module in (auth, users, api_keys, clients, audit, jobs):
        app.include_router(module.router)
    app.include_router(status.probes)
    # /api/v1/<context>/... to the context services (WINDHASH_API_UPSTREAMS), after the API's own routes.
    install_forwarding(app, forwarder)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry_), media_type=CONTENT_TYPE_LATEST)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app
