"""The economics of curtailment over HTTP: backtests of policies on a site's history, the automatic policy's
decisions with their inputs, the half-hourly power prices, and each site's automatic policy (audited)."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.audit import record_audit
from windhash_common.difficulty_store import DifficultyLookup
from windhash_common.settlement_calendar import day_start_utc

from windhash_plans.backtest_inputs import load_inputs
from windhash_plans.domain.backtest import BacktestReport, Policy, backtest
from windhash_plans.http.models import (
    BacktestDay,
    BacktestFigures,
    BacktestPolicy,
    BacktestResult,
    Decision,
    PowerPrice,
    SitePolicy,
    SitePolicyView,
)
from windhash_plans.http.plan_routes import PREFIX, actor_of
from windhash_plans.http.problems import Problem, not_found
from windhash_plans.http.tables import csv_response
from windhash_plans.queries import economics as queries
from windhash_plans.queries import plan_views
from windhash_plans.queries import policy as policy_queries
from windhash_plans.queries import prices as price_queries
from windhash_plans.settings import PlansSettings

router = APIRouter(tags=["plans economics"])
DifficultyOpener = Callable[[], AbstractAsyncContextManager[DifficultyLookup]]
MAX_PRICE_DAYS = 31


def _settings(request: Request) -> PlansSettings:
    settings: PlansSettings = request.app.state.settings
    return settings


def backtest_result(
    site_id: int, first: date, last: date, report: BacktestReport, synthetic: bool
) -> BacktestResult:
    def figures(day: Any) -> dict[str, Any]:
        return {
            "curtailed_mwh": day.curtailed_mwh,
            "saved_gbp": day.saved_gbp,
            "btc_forgone": day.btc_forgone,
            "forgone_gbp": day.forgone_gbp,
            "net_gbp": day.net_gbp,
        }

    policies = [
        BacktestPolicy(
            policy=result.policy,
            totals=BacktestFigures(**figures(result.totals)),
            curtailed_periods=result.curtailed_periods,
            changes=result.changes,
            by_day=[BacktestDay(day=day, **figures(value)) for day, value in sorted(result.by_day.items())],
        )
        for result in report.results
    ]
    return BacktestResult(
        site_id=site_id,
        first=first,
        last=last,
        periods_evaluated=report.periods_evaluated,
        periods_skipped=dict(report.periods_skipped),
        synthetic_prices=synthetic,
        results=policies,
    )


@router.get(
    PREFIX + "/backtest", response_model=BacktestResult, summary="Replay a site's history through policies"
)
async def get_backtest(
    identity: CurrentIdentity,
    request: Request,
    site_id: Annotated[int, Query(ge=1)],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    policy: Annotated[list[str] | None, Query(max_length=8)] = None,
) -> BacktestResult:
    settings = _settings(request)
    if last < first or (last - first).days + 1 > settings.plans_backtest_max_days:
        raise Problem(
            422, "invalid_parameter", f"from..to spans 1 to {settings.plans_backtest_max_days} days"
        )
    opener: DifficultyOpener = request.app.state.difficulty_store
    async with identity_transaction(request.app.state.pool, identity) as connection:
        if await connection.fetchval(plan_views.SITE_EXISTS, site_id) is None:
            raise not_found(f"site {site_id}")
        async with opener() as difficulty:
            inputs = await load_inputs(connection, difficulty, site_id, first, last)
    try:
        policies = [Policy.parse(name, inputs.rules) for name in policy or ["economic"]]
    except (ValueError, ArithmeticError) as error:
        raise Problem(
            422, "invalid_parameter", str(error), "always-on, economic or threshold:<£/MWh>"
        ) from None
    report = backtest(inputs.history, inputs.fleet, policies)
    return backtest_result(site_id, first, last, report, inputs.synthetic_prices)


@router.get(PREFIX + "/decisions", response_model=list[Decision], summary="The automatic policy's decisions")
async def decisions(
    identity: CurrentIdentity,
    request: Request,
    site_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    async with identity_transaction(request.app.state.pool, identity) as connection:
        rows = [dict(row) for row in await connection.fetch(policy_queries.DECISIONS, site_id, limit, offset)]
    if format == "csv":
        return csv_response("decisions.csv", rows, list(Decision.model_fields))
    return rows


@router.get(PREFIX + "/power-prices", response_model=list[PowerPrice], summary="Half-hourly power prices")
async def power_prices(
    identity: CurrentIdentity,
    request: Request,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    if last < first or (last - first).days + 1 > MAX_PRICE_DAYS:
        raise Problem(422, "invalid_parameter", f"from..to spans 1 to {MAX_PRICE_DAYS} days")
    async with identity_transaction(request.app.state.pool, identity) as connection:
        rows = await connection.fetch(
            price_queries.PRICES_BETWEEN, day_start_utc(first), day_start_utc(last + timedelta(days=1))
        )
    prices = [dict(row) for row in rows]
    if format == "csv":
        return csv_response("power-prices.csv", prices, list(PowerPrice.model_fields))
    return prices


@router.get(
    PREFIX + "/policies/{site_id}", response_model=SitePolicyView, summary="A site's automatic policy"
)
async def get_policy(site_id: int, identity: CurrentIdentity, request: Request) -> SitePolicyView:
    async with identity_transaction(request.app.state.pool, identity) as connection:
        return await _policy_view(connection, site_id)


async def _policy_view(connection: Any, site_id: int) -> SitePolicyView:
    if await connection.fetchval(plan_views.SITE_EXISTS, site_id) is None:
        raise not_found(f"site {site_id}")
    row = await connection.fetchrow(policy_queries.SITE_POLICY, site_id)
    minimums = {
        r["client_id"]: r["min_running_miners"] for r in await connection.fetch(queries.MINIMUMS, site_id)
    }
    stored = {} if row is None else {key: row[key] for key in SitePolicyView.model_fields if key in row}
    return SitePolicyView.model_validate({"site_id": site_id, **stored, "client_minimums": minimums})


@router.put(
    PREFIX + "/policies/{site_id}", response_model=SitePolicyView, summary="Set a site's automatic policy"
)
async def put_policy(
    site_id: int, body: SitePolicy, identity: CurrentIdentity, request: Request
) -> SitePolicyView:
    if body.price_source == "tariff" and body.tariff_gbp_per_mwh is None:
        raise Problem(422, "invalid_parameter", "a tariff policy needs tariff_gbp_per_mwh")
    actor = actor_of(identity, request)
    async with identity_transaction(request.app.state.pool, identity) as connection:
        before = await _policy_view(connection, site_id)
        known = {row["id"] for row in await connection.fetch(queries.CLIENTS, list(body.client_minimums))}
        if unknown := set(body.client_minimums) - known:
            raise Problem(422, "invalid_parameter", f"no client {sorted(unknown)[0]}", "GET /api/v1/clients")
        await connection.execute(
            queries.UPSERT_POLICY,
            site_id,
            body.automatic_enabled,
            body.price_source,
            body.tariff_gbp_per_mwh,
            body.hysteresis_fraction,
            body.min_on_minutes,
            body.min_off_minutes,
            body.max_hold_minutes,
            identity.user_id,
            actor.name,
        )
        await connection.execute(queries.CLEAR_MINIMUMS, site_id, list(body.client_minimums))
        for client_id, minimum in body.client_minimums.items():
            await connection.execute(queries.UPSERT_MINIMUM, site_id, client_id, minimum)
        after = await _policy_view(connection, site_id)
        topics = _settings(request).topics
        before_json, after_json = before.model_dump(mode="json"), after.model_dump(mode="json")
        await record_audit(
            connection, topics, actor, "plans-policy.set", "site", str(site_id), before_json, after_json
        )
        return after
