"""Miner models: the one registry both halves of the platform share. Everyone who may read miners reads it;
administrators add models (recorded, not calculated) and change what no calculation depends on."""

from typing import Any

from fastapi import APIRouter, Request
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.tabular import CSV_RESPONSES, FormatParam, csv_table, wants_csv

from windhash_fleet import fleet_queries as queries
from windhash_fleet.http.context import PREFIX, NotVisible, actor_of, as_caller, settings_of
from windhash_fleet.http_models import ModelView
from windhash_fleet.miner_inputs import ModelCreate, ModelUpdate
from windhash_fleet.site_registry import NotFound, create_model, update_model

router = APIRouter(tags=["miner models"])


@router.get(f"{PREFIX}/models", response_model=list[ModelView], responses=CSV_RESPONSES)
async def list_models(identity: CurrentIdentity, request: Request, output: FormatParam = None) -> Any:
    async with as_caller(request, identity) as connection:
        models = [ModelView(**dict(row)) for row in await connection.fetch(queries.MODELS)]
    return await csv_table(models, "miner-models") if wants_csv(request, output) else models


async def _model(request: Request, identity: CurrentIdentity, name: str) -> ModelView:
    async with as_caller(request, identity) as connection:
        rows = [row for row in await connection.fetch(queries.MODELS) if row["name"] == name]
    if not rows:
        raise NotVisible(f"model {name}")
    return ModelView(**dict(rows[0]))


@router.post(f"{PREFIX}/models", response_model=ModelView, status_code=201)
async def add_model(new: ModelCreate, identity: CurrentIdentity, request: Request) -> ModelView:
    async with as_caller(request, identity) as connection:
        await create_model(connection, settings_of(request).topics, actor_of(request, identity), new)
    return await _model(request, identity, new.name)


@router.patch(f"{PREFIX}/models/{{name}}", response_model=ModelView)
async def change_model(
    name: str, update: ModelUpdate, identity: CurrentIdentity, request: Request
) -> ModelView:
    async with as_caller(request, identity) as connection:
        try:
            await update_model(
                connection, settings_of(request).topics, actor_of(request, identity), name, update
            )
        except NotFound:
            raise NotVisible(f"model {name}") from None
    return await _model(request, identity, name)
