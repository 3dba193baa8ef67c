"""GET /api/v1/market/hashprice and /api/v1/market/hashprice/series: what mining earns per miner model, now
and over time, in £/MWh (to compare with the £/MWh paid to curtail wind) and $/TH/day.

Figures are computed in 40 digits (`windhash_common.hashprice`) and served rounded to the steps below: well
past what the inputs (prices to the penny, difficulty to 4 decimals) can tell apart.
"""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from windhash_common.bitcoin import PRECISE
from windhash_common.http_errors import ApiError
from windhash_common.tabular import CSV_RESPONSES, csv_response, flat_row

from windhash_market.api_models import (
    Hashprice,
    HashpricePointRow,
    HashpriceSeries,
    ModelHashpriceRow,
    RangeInfo,
)
from windhash_market.queries.hashprice import hashprice_over_time, latest_hashprice
from windhash_market.routes import ERROR_RESPONSES, PREFIX, AsCsv, AskedSeries, Pool, file_stamp, read_route
from windhash_market.routes.snapshots import no_snapshot

router = APIRouter(prefix=PREFIX, tags=["market"])
STEPS = {
    "btc_per_mwh": Decimal("1e-12"),
    "gbp_per_mwh": Decimal("1e-4"),
    "btc_per_th_day": Decimal("1e-12"),
    "usd_per_th_day": Decimal("1e-6"),
    "usd_per_miner_day": Decimal("1e-4"),
}
MinerModelParam = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="A miner model's name, as /api/v1/miner-models lists them",
    ),
]


def rounded(name: str, value: Decimal) -> Decimal:
    return value.quantize(STEPS[name], context=PRECISE)


@read_route(
    router,
    "/hashprice",
    response_model=Hashprice,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="Hashprice of every active miner model at the newest snapshot: £/MWh, BTC/MWh, $/TH/day",
)
async def hashprice(pool: Pool, as_csv: AsCsv) -> Hashprice | Response:
    async with pool.acquire() as connection:
        found = await latest_hashprice(connection)
    if found is None:
        raise no_snapshot()
    models = [
        ModelHashpriceRow(
            miner_model=model.miner_model, **{name: rounded(name, getattr(model, name)) for name in STEPS}
        )
        for model in found.models
    ]
    if as_csv:
        context = {"slot_at": found.slot_at, "synthetic": found.synthetic}
        rows = [flat_row(context, model) for model in models]
        columns = [*context, *ModelHashpriceRow.model_fields]
        return csv_response(rows, f"market-hashprice-{file_stamp(found.slot_at)}", columns)
    return Hashprice(
        slot_at=found.slot_at,
        synthetic=found.synthetic,
        difficulty=found.difficulty,
        block_reward_btc=found.block_reward_btc,
        price_usd=found.price_usd,
        price_gbp=found.price_gbp,
        models=models,
    )


@read_route(
    router,
    "/hashprice/series",
    response_model=HashpriceSeries,
    responses={**ERROR_RESPONSES, **CSV_RESPONSES},
    summary="One miner model's hashprice over time: the mean over each bucket's snapshots",
)
async def hashprice_series(
    pool: Pool, asked: AskedSeries, as_csv: AsCsv, miner_model: MinerModelParam
) -> HashpriceSeries | Response:
    async with pool.acquire() as connection:
        found = await hashprice_over_time(connection, miner_model, asked)
    if found is None:
        raise ApiError(
            404, "unknown_miner_model", f"no miner model is named {miner_model!r}", "see /api/v1/miner-models"
        )
    model, computed = found
    points = [
        HashpricePointRow(
            bucket_at=point.bucket_at,
            snapshots=point.snapshots,
            gbp_per_mwh=rounded("gbp_per_mwh", point.gbp_per_mwh),
            usd_per_th_day=rounded("usd_per_th_day", point.usd_per_th_day),
            synthetic=point.synthetic,
        )
        for point in computed
    ]
    if as_csv:
        name = f"market-hashprice-{asked.resolution}-{file_stamp(asked.start)}-{file_stamp(asked.end)}"
        rows = [flat_row({"miner_model": model.name}, point) for point in points]
        return csv_response(rows, name, ["miner_model", *HashpricePointRow.model_fields])
    span = RangeInfo(start=asked.start, end=asked.end, resolution=asked.resolution)
    return HashpriceSeries(miner_model=model.name, range=span, points=points)
