"""Miners: a filtered, sorted, paginated list with each one's newest reading; one miner; creating, changing,
moving and retiring them (staff), each audited, logged and announced (`miner_registry`); a miner's log."""

from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.http_errors import ApiError
from windhash_common.tabular import CSV_RESPONSES, FormatParam, csv_table, wants_csv

from windhash_fleet import fleet_queries as queries
from windhash_fleet.http.context import PREFIX, NotVisible, actor_of, as_caller, settings_of
from windhash_fleet.http_models import MinerPage, MinerView, OperationView
from windhash_fleet.miner_inputs import MinerCreate, MinerMove, MinerUpdate
from windhash_fleet.miner_registry import (
    MinerNotFound,
    MinerRetired,
    create_miner,
    move_miner,
    retire_miner,
    update_miner,
)

router = APIRouter(tags=["miners"])
MAX_PAGE = 1_000
MAX_CSV_ROWS = 100_000
SortKey = Literal[
    "serial",
    "status",
    "model",
    "site",
    "client",
    "hashrate",
    "power",
    "temperature",
    "efficiency",
    "reading_at",
]
Status = Literal["active", "offline", "maintenance", "curtailed", "retired"]


@router.get(f"{PREFIX}/miners", response_model=MinerPage, responses=CSV_RESPONSES)
async def list_miners(
    identity: CurrentIdentity,
    request: Request,
    site_id: int | None = None,
    status: Status | None = None,
    client_id: UUID | None = None,
    model: Annotated[str | None, Query(max_length=100)] = None,
    sort: SortKey = "serial",
    order: Literal["asc", "desc"] = "asc",
    limit: Annotated[int, Query(ge=1, le=MAX_CSV_ROWS, description=f"At most {MAX_PAGE} as JSON.")] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    output: FormatParam = None,
) -> Any:
    csv = wants_csv(request, output)
    if not csv and limit > MAX_PAGE:
        raise ApiError(422, "invalid_parameter", f"limit is at most {MAX_PAGE}", "or ask for ?format=csv")
    interval = settings_of(request).fleet_poll_interval_s
    async with as_caller(request, identity) as connection:
        rows = await connection.fetch(
            queries.miners_page(sort, order == "desc"),
            interval,
            site_id,
            status,
            client_id,
            model,
            limit,
            offset,
        )
    items = [MinerView(**{key: value for key, value in row.items() if key != "total"}) for row in rows]
    if csv:
        return await csv_table(items, "miners")
    return MinerPage(total=rows[0]["total"] if rows else 0, items=items)


async def miner_view(connection: asyncpg.Connection, interval: float, serial: str) -> MinerView:
    row = await connection.fetchrow(queries.MINER, interval, serial)
    if row is None:
        raise NotVisible(f"miner {serial}")
    return MinerView(**{key: value for key, value in row.items() if key != "miner_id"})


@router.get(f"{PREFIX}/miners/{{serial}}", response_model=MinerView)
async def get_miner(serial: str, identity: CurrentIdentity, request: Request) -> MinerView:
    async with as_caller(request, identity) as connection:
        return await miner_view(connection, settings_of(request).fleet_poll_interval_s, serial)


@router.get(
    f"{PREFIX}/miners/{{serial}}/operations", response_model=list[OperationView], responses=CSV_RESPONSES
)
async def miner_operations(
    serial: str,
    identity: CurrentIdentity,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
    output: FormatParam = None,
) -> Any:
    async with as_caller(request, identity) as connection:
        miner_id = await connection.fetchval(queries.MINER_ID, serial)
        if miner_id is None:
            raise NotVisible(f"miner {serial}")
        rows = await connection.fetch(queries.OPERATIONS, miner_id, limit)
    operations = [OperationView(**dict(row)) for row in rows]
    return await csv_table(operations, f"{serial}-operations") if wants_csv(request, output) else operations


@router.post(f"{PREFIX}/miners", response_model=MinerView, status_code=201)
async def add_miner(new: MinerCreate, identity: CurrentIdentity, request: Request) -> MinerView:
    settings = settings_of(request)
    async with as_caller(request, identity) as connection:
        await create_miner(connection, settings.topics, actor_of(request, identity), new)
        return await miner_view(connection, settings.fleet_poll_interval_s, new.serial_number)


async def _change(
    request: Request, identity: CurrentIdentity, serial: str, change: Any, *args: Any
) -> MinerView:
    settings = settings_of(request)
    async with as_caller(request, identity) as connection:
        try:
            await change(connection, settings.topics, actor_of(request, identity), serial, *args)
        except MinerNotFound:
            raise NotVisible(f"miner {serial}") from None
        except MinerRetired as error:
            raise ApiError(409, "retired", str(error), "a retired miner's record is kept as it was") from None
        return await miner_view(connection, settings.fleet_poll_interval_s, serial)


@router.patch(f"{PREFIX}/miners/{{serial}}", response_model=MinerView)
async def change_miner(
    serial: str, update: MinerUpdate, identity: CurrentIdentity, request: Request
) -> MinerView:
    return await _change(request, identity, serial, update_miner, update)


@router.post(f"{PREFIX}/miners/{{serial}}/move", response_model=MinerView)
async def move(serial: str, destination: MinerMove, identity: CurrentIdentity, request: Request) -> MinerView:
    return await _change(request, identity, serial, move_miner, destination)


@router.post(f"{PREFIX}/miners/{{serial}}/retire", response_model=MinerView)
async def retire(serial: str, identity: CurrentIdentity, request: Request) -> MinerView:
    return await _change(request, identity, serial, retire_miner)
