"""The bounded-context services' HTTP apps, as the API forwards to them: the authorization-matrix test walks
every route of each one through the API (and its probes directly), against the service's own table.

A context service that serves HTTP adds itself to CONTEXT_SERVICES, with a factory for its app, its table
(normally the one PERMISSIONS) and a sample value for each path parameter and a body for each write route.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import PermissionTable
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_plans.http.app import create_plans_app
from windhash_plans.settings import PlansSettings

from windhash_testing import specimen_service

AppFactory = Callable[[str, Mapping[str, Any]], FastAPI]
"""(the test database's superuser DSN, settings overrides such as `api_public_analytics`) → the service's
app, connecting as its own database role; its lifespan (run by uvicorn) opens its pool."""


@dataclass(frozen=True)
class ContextServiceApp:
    context: str
    """The <context> of /api/v1/<context>/... and of WINDHASH_API_UPSTREAMS."""
    create_app: AppFactory
    table: PermissionTable = PERMISSIONS
    path_values: Mapping[str, str] = field(default_factory=dict)
    bodies: Mapping[str, Any] = field(default_factory=dict)
    """JSON body for each write route, by `METHOD /path/template`."""


def create_plans_test_app(pg_dsn: str, overrides: Mapping[str, Any]) -> FastAPI:
    """The plans app as deployed: its own role, the API on this machine as its trusted proxy."""
    settings = PlansSettings(
        **(
            {"database_url": dsn_as(pg_dsn, DatabaseRole.PLANS_API), "api_trusted_proxies": ["127.0.0.1"]}
            | dict(overrides)
        )
    )
    return create_plans_app(settings)


PLANS = "/api/v1/plans"

CONTEXT_SERVICES: list[ContextServiceApp] = [
    ContextServiceApp(
        specimen_service.CONTEXT,
        specimen_service.create_specimen_app,
        table=specimen_service.specimen_table(),
        bodies={f"POST {specimen_service.PREFIX}/notes": {"text": "from the matrix"}},
    ),
    ContextServiceApp(
        "plans",
        create_plans_test_app,
        path_values={"plan_id": "987654", "site_id": "987654"},
        bodies={
            f"POST {PLANS}/": {
                "site_id": 987654,
                "plan_type": "manual",
                "target_reduction_mw": "1",
                "hold_minutes": 30,
            },
            f"POST {PLANS}/{{plan_id}}/cancel": {"reason": "from the matrix"},
            f"PUT {PLANS}/policies/{{site_id}}": {"automatic_enabled": False},
        },
    ),
]
