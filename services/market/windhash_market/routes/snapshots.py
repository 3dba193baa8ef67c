"""GET /api/v1/market/snapshots/latest and /api/v1/market/snapshots: the newest snapshot, and the series by
range and resolution (downsampled in PostgreSQL: queries/series.py)."""

from fastapi import APIRouter
from fastapi.responses import Response
from windhash_common.http_errors import ApiError
from windhash_common.tabular import CSV_RESPONSES, csv_response, flat_row

from windhash_market.api_models import RangeInfo, Snapshot, SnapshotBucket, SnapshotSeries
from windhash_market.queries import series as queries
from windhash_market.routes import ERROR_RESPONSES, PREFIX, AsCsv, AskedSeries, Pool, file_stamp, read_route

router = APIRouter(prefix=PREFIX, tags=["market"])


def no_snapshot() -> ApiError:
    return ApiError(
        404,
        "no_snapshot",
        "the market service has taken no snapshot yet",
        "see /api/v1/market/status for what it tried and why it failed",
    )


@read_route(
    router,
    "/snapshots/latest",
    response_model=Snapshot,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="The newest snapshot: BTC price, 24 h volume, hashrate, difficulty, block and reward",
)
async def latest(pool: Pool, as_csv: AsCsv) -> Snapshot | Response:
    async with pool.acquire() as connection:
        row = await queries.latest_snapshot(connection)
    if row is None:
        raise no_snapshot()
    snapshot = Snapshot(**row)
    if as_csv:
        return csv_response([flat_row(snapshot)], f"market-snapshot-{file_stamp(snapshot.slot_at)}")
    return snapshot


@read_route(
    router,
    "/snapshots",
    response_model=SnapshotSeries,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="Snapshots by range and resolution (15min, hour, day): price OHLC, hashrate, difficulty, block",
)
async def series(pool: Pool, asked: AskedSeries, as_csv: AsCsv) -> SnapshotSeries | Response:
    async with pool.acquire() as connection:
        rows = await queries.snapshot_buckets(connection, asked)
    points = [SnapshotBucket(**row) for row in rows]
    if as_csv:
        name = f"market-snapshots-{asked.resolution}-{file_stamp(asked.start)}-{file_stamp(asked.end)}"
        return csv_response([flat_row(point) for point in points], name, list(SnapshotBucket.model_fields))
    span = RangeInfo(start=asked.start, end=asked.end, resolution=asked.resolution)
    return SnapshotSeries(range=span, points=points)
