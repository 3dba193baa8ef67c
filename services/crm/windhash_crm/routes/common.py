"""What every CRM route shares: the request's identity transaction (row-level security sees to whose rows),
the change context (actor, clock, settings), the translation of refusals into the one error shape, and CSV."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import asyncpg
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel
from windhash_common.access.identity import Identity
from windhash_common.access.request_actor import actor_of
from windhash_common.access.request_identity import identity_transaction
from windhash_common.http_errors import ERROR_RESPONSES, ApiError, ErrorResponse, NotFound
from windhash_common.tabular import CSV_RESPONSES, OutputFormat, csv_table, wants_csv

from windhash_crm import metrics
from windhash_crm.operations.context import ChangeContext, CrmProblem
from windhash_crm.settings import CrmSettings

PREFIX = "/api/v1/crm"
Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")
Args = ParamSpec("Args")
FindById = Callable[[asyncpg.Connection, int], Awaitable[asyncpg.Record | None]]

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    401: {"model": ErrorResponse, "description": "Not signed in, or the credentials no longer count"},
    403: {"model": ErrorResponse, "description": "The role may not do this (docs/ACCESS.md)"},
    409: {"model": ErrorResponse, "description": "The change conflicts with the record's state or another"},
}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {**RESPONSES, **CSV_RESPONSES}


def settings_of(request: Request) -> CrmSettings:
    settings: CrmSettings = request.app.state.settings
    return settings


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


@asynccontextmanager
async def reading(request: Request, identity: Identity) -> AsyncIterator[asyncpg.Connection]:
    """A transaction that sees what the request's identity may see."""
    try:
        async with identity_transaction(request.app.state.pool, identity) as connection:
            yield connection
    except CrmProblem as problem:
        raise as_api_error(problem) from None


@asynccontextmanager
async def changing(
    request: Request, identity: Identity
) -> AsyncIterator[tuple[asyncpg.Connection, ChangeContext]]:
    """The identity's transaction and the change's context; the change commits when the block ends."""
    settings = settings_of(request)
    ctx = ChangeContext(settings, actor_of(request, identity, settings), identity.role, _now(request))
    try:
        async with identity_transaction(request.app.state.pool, identity) as connection:
            yield connection, ctx
    except CrmProblem as problem:
        raise as_api_error(problem) from None
    except asyncpg.InsufficientPrivilegeError:
        raise ApiError(403, "forbidden", "the record is not yours to change (row-level security)") from None
    except asyncpg.CheckViolationError as error:
        raise ApiError(
            422, "invalid_parameter", f"the values break a rule: {error.constraint_name}"
        ) from None
    except asyncpg.UniqueViolationError as error:
        raise ApiError(
            409, "conflict", f"that would repeat a unique value ({error.constraint_name})"
        ) from None
    for action in ctx.recorded:
        metrics.CHANGES.labels(action).inc()
    relay_wake: asyncio.Event | None = request.app.state.relay_wake
    if relay_wake is not None and ctx.recorded:
        relay_wake.set()  # its events are in the outbox: publish them now


async def changed(
    request: Request,
    identity: Identity,
    change: Callable[Concatenate[asyncpg.Connection, ChangeContext, Args], Awaitable[Result]],
    *args: Args.args,
    **kwargs: Args.kwargs,
) -> Result:
    """What `change(connection, ctx, *args)` returns, run as one change (`changing`)."""
    async with changing(request, identity) as (connection, ctx):
        return await change(connection, ctx, *args, **kwargs)


async def visible_row(
    request: Request, identity: Identity, find: FindById, record_id: int, what: str
) -> asyncpg.Record:
    """The record `find` reads by id, if the identity may see it; otherwise 404 ("no deal 7 that you may
    see": a record hidden by row-level security and one that does not exist answer alike)."""
    async with reading(request, identity) as connection:
        row = await find(connection, record_id)
    if row is None:
        raise NotFound(f"no {what} {record_id} that you may see")
    return row


def as_api_error(problem: CrmProblem) -> ApiError:
    return ApiError(problem.status, problem.code, problem.message, problem.hint)


async def listed(
    request: Request, output_format: OutputFormat | None, items: list[Model], filename: str
) -> list[Model] | Response:
    """The items as JSON, or as a CSV table when asked (`?format=csv` or `Accept: text/csv`)."""
    if wants_csv(request, output_format):
        return await csv_table(items, filename)
    return items
