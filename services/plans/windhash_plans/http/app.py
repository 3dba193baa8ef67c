"""The plans' HTTP app: the shared context-service factory (the permission table's one authorization
dependency, probes, /metrics, a pool of the `windhash_plans_api` role, subject to row-level security) with
the plans routes, served behind the API's `/api/v1/plans/...`.

    app = create_plans_app(PlansSettings())
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import asyncpg
from fastapi import FastAPI
from windhash_common.access.service_app import create_service_app
from windhash_common.difficulty_store import DifficultyLookup, open_difficulty_store

from windhash_plans.http import economics_routes, plan_routes
from windhash_plans.http.problems import install_problems
from windhash_plans.settings import PlansSettings

DifficultyOpener = Callable[[], AbstractAsyncContextManager[DifficultyLookup]]


def difficulty_opener(settings: PlansSettings) -> DifficultyOpener:
    """A DynamoDB client per backtest (a backtest reads the difficulty of its days once)."""
    return lambda: open_difficulty_store(settings)


def create_plans_app(
    settings: PlansSettings, pool: asyncpg.Pool | None = None, difficulty: DifficultyOpener | None = None
) -> FastAPI:
    # The economics routes first: /plans/backtest must not be taken for the plan "backtest".
    app = create_service_app(
        "windhash plans", settings, [economics_routes.router, plan_routes.router], pool=pool
    )
    app.state.difficulty_store = difficulty or difficulty_opener(settings)
    install_problems(app)
    return app
