"""Plans over HTTP: list and detail (timeline, miners in their order, measured power), create, approve,
cancel. Every route runs in the caller's identity (`identity_transaction`: row-level security), and every
change goes through `plan_store` (state machine, timeline, event, audit)."""

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Header, Query, Request, Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.identity import Identity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.accounts.client_address import client_info
from windhash_common.audit import Actor

from windhash_plans.domain.plan_permissions import may_cancel, proposable
from windhash_plans.domain.plan_states import IllegalTransition, PlanAction, PlanStatus
from windhash_plans.http.models import CancelRequest, PlanDetail, PlanList, PlanRequest, PlanSummary
from windhash_plans.http.problems import Problem, not_found
from windhash_plans.http.tables import csv_response
from windhash_plans.plan_store import NewPlan, create_plan, transition
from windhash_plans.queries import plan_views as queries
from windhash_plans.settings import PlansSettings
from windhash_plans.site_candidates import site_miners

PREFIX = "/api/v1/plans"
# The collection is `/api/v1/plans/` (with its slash): the API forwards /api/v1/<context>/<path>, so the bare
# context has no route of its own there.
router = APIRouter(tags=["plans"])


def actor_of(identity: Identity, request: Request) -> Actor:
    settings: PlansSettings = request.app.state.settings
    info = client_info(
        request.client.host if request.client else None,
        dict(request.headers.items()),
        settings.trusted_proxy_networks,
        settings.api_client_city_header,
        settings.api_client_country_header,
    )
    return Actor(identity.actor, identity.user_id, info.address)


def _settings(request: Request) -> PlansSettings:
    settings: PlansSettings = request.app.state.settings
    return settings


async def plan_detail(connection: asyncpg.Connection, plan_id: int) -> PlanDetail:
    plan = await connection.fetchrow(queries.PLAN, plan_id)
    if plan is None:
        raise not_found(f"plan {plan_id}")
    timeline = [
        dict(row) | {"details": json.loads(row["details"])}
        for row in await connection.fetch(queries.TIMELINE, plan_id)
    ]
    miners = [dict(row) for row in await connection.fetch(queries.PLAN_MINERS, plan_id)]
    return PlanDetail.model_validate(dict(plan) | {"timeline": timeline, "miners": miners})


@router.get(PREFIX + "/", response_model=PlanList, summary="Plans, newest first (CSV with ?format=csv)")
async def list_plans(
    identity: CurrentIdentity,
    request: Request,
    site_id: Annotated[int | None, Query(ge=1)] = None,
    status: Annotated[PlanStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    async with identity_transaction(request.app.state.pool, identity) as connection:
        rows = await connection.fetch(queries.LIST_PLANS, site_id, status, limit, offset)
    plans = [PlanSummary.model_validate(dict(row)) for row in rows]
    if format == "csv":
        return csv_response(
            "plans.csv", [plan.model_dump() for plan in plans], list(PlanSummary.model_fields)
        )
    return PlanList(total=rows[0]["total"] if rows else 0, plans=plans)


@router.get(
    PREFIX + "/{plan_id}", response_model=PlanDetail, summary="A plan: timeline, miners, measured power"
)
async def get_plan(plan_id: int, identity: CurrentIdentity, request: Request) -> PlanDetail:
    async with identity_transaction(request.app.state.pool, identity) as connection:
        return await plan_detail(connection, plan_id)


def _schedule(body: PlanRequest, now: datetime) -> None:
    if not proposable(body.plan_type):
        hint = "propose a manual or scheduled plan, or set the site's policy (PUT .../policies/{site_id})"
        raise Problem(422, "automatic_plans_from_policy", "automatic plans come from a site's policy", hint)
    if body.plan_type == "manual":
        if body.hold_minutes is None or body.scheduled_at or body.recovery_at:
            hint = "send hold_minutes, and no scheduled_at or recovery_at"
            raise Problem(
                422, "invalid_parameter", "a manual plan runs when approved, for hold_minutes", hint
            )
        return
    if body.scheduled_at is None or body.recovery_at is None or body.hold_minutes is not None:
        hint = "send scheduled_at and recovery_at (not hold_minutes)"
        raise Problem(422, "invalid_parameter", "a scheduled plan has a start and a recovery time", hint)
    if body.scheduled_at <= now or body.recovery_at <= body.scheduled_at:
        raise Problem(
            422, "invalid_parameter", "a scheduled plan starts in the future and ends after it starts"
        )


@router.post(
    PREFIX + "/", response_model=PlanDetail, status_code=201, summary="Propose a manual or scheduled plan"
)
async def create(
    body: PlanRequest,
    identity: CurrentIdentity,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> PlanDetail:
    now = datetime.now(UTC)
    _schedule(body, now)
    async with identity_transaction(request.app.state.pool, identity) as connection:
        if await connection.fetchval(queries.SITE_EXISTS, body.site_id) is None:
            raise not_found(f"site {body.site_id}")
        choice = (await site_miners(connection, body.site_id, now)).choose(body.target_reduction_mw)
        if not choice.reaches_target:
            most = f"at most {choice.reached_mw:.6f} MW can be curtailed at this site now"
            hint = "lower the target (active miners only, client minimums kept)"
            raise Problem(422, "target_unreachable", most, hint)
        plan = NewPlan(
            site_id=body.site_id,
            plan_type=body.plan_type,
            target_reduction_mw=body.target_reduction_mw,
            miners=choice.chosen,
            scheduled_at=body.scheduled_at,
            recovery_at=body.recovery_at,
            hold_minutes=body.hold_minutes,
            note=body.note,
            idempotency_key=idempotency_key,
        )
        row, made = await create_plan(
            connection, _settings(request).topics, plan, actor_of(identity, request)
        )
        if not made:
            response.status_code = 200
        return await plan_detail(connection, row["plan_id"])


@router.post(PREFIX + "/{plan_id}/approve", response_model=PlanDetail, summary="Approve a pending plan")
async def approve(plan_id: int, identity: CurrentIdentity, request: Request) -> PlanDetail:
    now = datetime.now(UTC)
    async with identity_transaction(request.app.state.pool, identity) as connection:
        plan = await connection.fetchrow(queries.PLAN, plan_id)
        if plan is None:
            raise not_found(f"plan {plan_id}")
        changes: dict[str, Any] = {"approved_by": identity.user_id, "approved_at": now}
        if plan["plan_type"] == "manual":
            changes |= {"scheduled_at": now, "recovery_at": now + timedelta(minutes=plan["hold_minutes"])}
        elif plan["recovery_at"] is not None and plan["recovery_at"] <= now:
            raise Problem(
                409, "recovery_time_passed", "the plan's recovery time has passed", "propose a new plan"
            )
        await _apply(connection, request, identity, plan_id, PlanAction.APPROVE, changes, {})
        return await plan_detail(connection, plan_id)


@router.post(
    PREFIX + "/{plan_id}/cancel", response_model=PlanDetail, summary="Cancel a plan, or end it early"
)
async def cancel(
    plan_id: int, body: CancelRequest, identity: CurrentIdentity, request: Request
) -> PlanDetail:
    async with identity_transaction(request.app.state.pool, identity) as connection:
        plan = await connection.fetchrow(queries.PLAN, plan_id)
        if plan is None:
            raise not_found(f"plan {plan_id}")
        if not may_cancel(identity.role, plan["status"], plan["created_by"], identity.user_id):
            refusal = "staff cancel only the plans they proposed, while pending"
            raise Problem(403, "forbidden", refusal, "ask an administrator (docs/ACCESS.md)")
        details = {"reason": body.reason} if body is not None and body.reason else {}
        await _apply(connection, request, identity, plan_id, PlanAction.CANCEL, {}, details)
        return await plan_detail(connection, plan_id)


async def _apply(
    connection: asyncpg.Connection,
    request: Request,
    identity: Identity,
    plan_id: int,
    action: PlanAction,
    changes: dict[str, Any],
    details: dict[str, Any],
) -> None:
    try:
        await transition(
            connection,
            _settings(request).topics,
            plan_id,
            action,
            actor_of(identity, request),
            changes,
            details,
        )
    except IllegalTransition as refused:
        raise Problem(409, "illegal_transition", str(refused), "see the plan's status and phase") from None
