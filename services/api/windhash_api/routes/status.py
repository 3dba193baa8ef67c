"""GET /api/v1/status (what data is held), /health (liveness) and /ready (the database answers)."""

import asyncio

import asyncpg
from fastapi import APIRouter

from windhash_api.database import Pool, ReadyPool
from windhash_api.errors import ERROR_RESPONSES, ApiError, error_shape_responses
from windhash_api.models.status import DataStatus, Health, Readiness
from windhash_api.queries.status import data_status
from windhash_api.routes import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["status"])
probes = APIRouter(tags=["probes"])
READY_TIMEOUT_SECONDS = 2.0


@router.get(
    "/status",
    response_model=DataStatus,
    responses=ERROR_RESPONSES,
    summary="Dates held, latest complete date, periods pending difficulty, failed periods, synthetic flag",
)
async def get_status(pool: Pool) -> DataStatus:
    async with pool.acquire() as connection:
        return DataStatus.model_validate(await data_status(connection))


@probes.get("/health", response_model=Health, summary="Liveness: the process answers")
async def get_health() -> Health:
    return Health(status="ok")


@probes.get(
    "/ready",
    response_model=Readiness,
    responses=error_shape_responses({503: "The database does not answer"}),
    summary="Readiness: the database answers a query",
)
async def get_ready(pool: ReadyPool) -> Readiness:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with pool.acquire() as connection:
                await connection.fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise ApiError(503, "unavailable", f"the database does not answer: {exc}", "retry shortly") from exc
    return Readiness(status="ok", database="ok")
