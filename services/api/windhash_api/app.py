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
from windhash_common.http_headers import HeadAsGetMiddleware, SecurityHeadersMiddleware

from windhash_api.data_version import DataVersion
from windhash_api.database import open_pool, open_ready_pool, query_settings
from windhash_api.docs_pages import install_docs
from windhash_api.errors import install_error_handlers
from windhash_api.farm_locations import farm_locations as load_farm_locations
from windhash_api.forwarding import Forwarder, install_forwarding
from windhash_api.metrics import MetricsMiddleware, RequestMetrics
from windhash_api.request_limits import HeavyLimits, HeavyRequestLimiter, HeavyRequestMiddleware
from windhash_api.response_cache import ResponseCache, ResponseCacheMiddleware
from windhash_api.routes import (
    api_keys,
    audit,
    auth,
    clients,
    compat,
    context_figures,
    curtailment,
    exports,
    farm_locations,
    jobs,
    mining,
    model_series,
    rankings,
    reconciliation,
    registry,
    series,
    standing,
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
        ready_pool = None
        if pool is None:
            if settings.migrate_on_start:
                await migrate_database(settings.database_url)
            pool = await open_pool(settings)
            app.state.pool = pool
            ready_pool = app.state.ready_pool = await open_ready_pool(settings)
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
            if ready_pool is not None:
                await ready_pool.close()

    return lifespan


def _data_version(settings: ApiSettings, cache: ResponseCache) -> DataVersion:
    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(settings.database_url, server_settings=query_settings(settings))

    return DataVersion(connect, settings.api_cache_check_seconds, cache.invalidate)


def create_app(settings: ApiSettings | None = None, pool: asyncpg.Pool | None = None) -> FastAPI:
    """The API app. With `pool` given (tests), the app uses it and neither migrates nor closes it.

    The response cache serves only while its lifespan runs (uvicorn runs it; httpx's ASGITransport does not,
    so tests driving the app that way always reach the database).
    """
    settings = settings or ApiSettings()
    load_farm_locations(settings.api_farm_locations_file)  # a bad reference file stops the start, saying why
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
        docs_url=None,  # offline pages instead (docs_pages.py)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.response_cache = cache
    app.state.forwarder = forwarder
    if pool is not None:
        app.state.pool = pool
    # The one authorization dependency (docs/ACCESS.md) on every route added below.
    install_access(app, settings)
    install_error_handlers(app)
    for module in (summaries, curtailment, mining, series, rankings, registry, status, reconciliation):
        app.include_router(module.router)
    # The dashboard's farm, lead-party and chart views (#21); context figures (wind share, CO2).
    for module in (standing, model_series, farm_locations, context_figures):
        app.include_router(module.router)
    for module in (auth, users, api_keys, clients, audit, jobs, exports):
        app.include_router(module.router)
    app.include_router(status.probes)
    # The predecessor's routes under /api/..., deprecated, over the same queries (routes/compat.py).
    app.include_router(compat.router)
    # /api/v1/<context>/... to the context services (WINDHASH_API_UPSTREAMS), after the API's own routes.
    install_forwarding(app, forwarder)
    install_docs(app)
    limits = HeavyLimits(
        settings.heavy_concurrency,
        settings.api_heavy_per_client,
        settings.api_heavy_per_client_queue,
        settings.api_heavy_wait_seconds,
    )
    # The last added runs first: HEAD becomes GET before anything else (a forwarded HEAD stays HEAD: the
    # service answers it); metrics time and count every request, cache hits included; every response gets
    # the security headers; only cache misses of the API's own routes meet the heavy request limits.
    forwarded = forwarder.forwarded_prefixes()
    app.add_middleware(
        HeavyRequestMiddleware,
        limiter=HeavyRequestLimiter(limits, registry_),
        proxies=settings.trusted_proxy_networks,
        passed_on=forwarded,
    )
    app.add_middleware(
        ResponseCacheMiddleware, cache=cache, uncached_prefixes=forwarded, parameters=query_parameters(app)
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=RequestMetrics(registry_))
    app.add_middleware(HeadAsGetMiddleware, passed_on=forwarded)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry_), media_type=CONTENT_TYPE_LATEST)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app


def query_parameters(app: FastAPI) -> frozenset[str]:
    """Every query parameter name the app's routes declare, as its OpenAPI document states them (what the
    response cache keys on; routes under /api/v1 are all documented)."""
    return frozenset(
        parameter["name"]
        for operations in app.openapi()["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    )
