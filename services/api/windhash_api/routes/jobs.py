"""/api/v1/jobs: who holds each background job (the reconciler's self-check, the outbox pruning, the market
poller, each telemetry collector's shard): holder, host, since, last heartbeat. For administrators; the same
as `windhash jobs`, read from the job leases (`scheduler_locks`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.job_leases import job_holders

from windhash_api.database import Pool
from windhash_api.models.jobs import JobHolderOut
from windhash_api.routes import API_PREFIX
from windhash_api.routes.users import RESPONSES
from windhash_api.tabular import CSV_RESPONSES, FormatParam, csv_table, wants_csv

router = APIRouter(prefix=API_PREFIX, tags=["jobs"])
KeyPrefix = Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f%_\\]*$")]


@router.get(
    "/jobs",
    response_model=list[JobHolderOut],
    responses={**RESPONSES, **CSV_RESPONSES},
    summary="Every background job with a holder: key, holder, host, since, last heartbeat, expiry",
)
async def get_jobs(
    request: Request,
    identity: CurrentIdentity,
    pool: Pool,
    prefix: KeyPrefix = None,
    output_format: FormatParam = None,
) -> list[JobHolderOut] | Response:
    async with identity_transaction(pool, identity) as connection:
        holders = await job_holders(connection, prefix)
    items = [
        JobHolderOut(
            job=holder.job_key,
            holder=holder.holder,
            host=holder.hostname,
            pid=holder.pid,
            since=holder.acquired_at,
            heartbeat=holder.heartbeat_at,
            expires=holder.expires_at,
            version=holder.version,
            live=holder.live,
        )
        for holder in holders
    ]
    if wants_csv(request, output_format):
        return await csv_table(items, "jobs")
    return items
