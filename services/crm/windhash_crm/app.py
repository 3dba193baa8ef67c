"""The CRM's HTTP app: the shared service app (the one authorization dependency, probes, /metrics) with the
CRM's routes, the one error shape, request metrics per route template, and an injectable clock (the day an
invoice is issued, paid, due)."""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
from fastapi import FastAPI
from windhash_common.access.service_app import create_service_app
from windhash_common.http_errors import install_error_handlers
from windhash_common.http_metrics import MetricsMiddleware

from windhash_crm import metrics
from windhash_crm.routes import activities, deals, invoices, leads
from windhash_crm.settings import CrmSettings

TITLE = "windhash CRM"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_crm_app(
    settings: CrmSettings,
    pool: asyncpg.Pool | None = None,
    clock: Callable[[], datetime] = _utc_now,
    relay_wake: asyncio.Event | None = None,
) -> FastAPI:
    """With `pool` given (the service, tests) the app uses it and neither checks the schema nor closes it;
    `relay_wake` is set after each change so the outbox relay publishes its events at once."""
    routers = [leads.router, deals.router, activities.router, invoices.router]
    app = create_service_app(TITLE, settings, routers, pool=pool)
    app.state.clock = clock
    app.state.relay_wake = relay_wake
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics.HTTP)
    return app
