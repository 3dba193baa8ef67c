"""The bounded-context services' HTTP apps, as the API forwards to them: the authorization-matrix test walks
every route of each one through the API (and its probes directly), against the service's own table.

A context service that serves HTTP adds itself to CONTEXT_SERVICES, with a factory for its app, its table
(normally the one PERMISSIONS) and a sample value for each path parameter (or a maker of a fresh record per
request) and a body for each write route.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import FastAPI
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import PermissionTable
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_market.http_app import create_market_app
from windhash_market.settings import MarketSettings

from windhash_testing import crm_samples, specimen_service

AppFactory = Callable[[str, Mapping[str, Any]], FastAPI]
"""(the test database's superuser DSN, settings overrides such as `api_public_analytics`) → the service's
app, connecting as its own database role; its lifespan (run by uvicorn) opens its pool."""
FreshValue = Callable[[asyncpg.Connection, Mapping[str, UUID]], Awaitable[str]]
"""(the test database's superuser connection, account ids by email) → the id of a record made for one
request, so that each route acts on a record of its own (a conversion, a send) and the walk stays exact."""


@dataclass(frozen=True)
class ContextServiceApp:
    context: str
    """The <context> of /api/v1/<context>/... and of WINDHASH_API_UPSTREAMS."""
    create_app: AppFactory
    table: PermissionTable = PERMISSIONS
    path_values: Mapping[str, str] = field(default_factory=dict)
    fresh_values: Mapping[str, FreshValue] = field(default_factory=dict)
    bodies: Mapping[str, Any] = field(default_factory=dict)
    """JSON body for each write route, by `METHOD /path/template`."""


def create_market_service_app(pg_dsn: str, overrides: Mapping[str, Any]) -> FastAPI:
    """The market service's app as it runs: its own database role, the API on this machine as its proxy."""
    settings = MarketSettings(
        **(
            {"database_url": dsn_as(pg_dsn, DatabaseRole.MARKET), "api_trusted_proxies": ["127.0.0.1"]}
            | dict(overrides)
        )
    )
    return create_market_app(settings)


CONTEXT_SERVICES: list[ContextServiceApp] = [
    ContextServiceApp(
        specimen_service.CONTEXT,
        specimen_service.create_specimen_app,
        table=specimen_service.specimen_table(),
        bodies={f"POST {specimen_service.PREFIX}/notes": {"text": "from the matrix"}},
    ),
    ContextServiceApp(
        crm_samples.CONTEXT,
        crm_samples.create_crm_test_app,
        fresh_values=crm_samples.FRESH_VALUES,
        bodies=crm_samples.BODIES,
    ),
    ContextServiceApp("market", create_market_service_app),
]
