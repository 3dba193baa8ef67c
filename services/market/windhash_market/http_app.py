"""The market service's HTTP app: its routes under /api/v1/market/ (snapshots, series, indicators, hashprice,
status; CSV on every table; HEAD wherever GET), judged by the permission table's `market` rows, with the
probes and metrics of every context service (`windhash_common.access.service_app`). The API forwards
/api/v1/market/... here from the dashboard's single origin (WINDHASH_API_UPSTREAMS)."""

import asyncpg
from fastapi import FastAPI
from windhash_common.access.service_app import create_service_app

from windhash_market.routes import hashprice, indicators, snapshots, status
from windhash_market.settings import MarketSettings


def create_market_app(settings: MarketSettings, pool: asyncpg.Pool | None = None) -> FastAPI:
    """With `pool` (the service, tests) the app uses it; without, its lifespan opens one (tools)."""
    routers = [snapshots.router, indicators.router, hashprice.router, status.router]
    return create_service_app("windhash market", settings, routers, pool=pool)
