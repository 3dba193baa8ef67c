"""The app without a database: error shapes, probes, metrics and CSV negotiation, on a fake pool."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, cast

import asyncpg
import httpx
import pytest
from windhash_api.app import create_app
from windhash_api.models.mining import SeriesPoint
from windhash_api.series_buckets import by_month
from windhash_api.settings import ApiSettings
from windhash_api.tabular import flat_row


class BrokenPool:
    """Stands in for asyncpg.Pool: any query fails the way a lost database does."""

    def acquire(self) -> Any:
        raise ConnectionRefusedError("database is down")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ApiSettings(migrate_on_start=False), pool=cast(asyncpg.Pool, BrokenPool()))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://windhash.test") as http:
        yield http


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "hint", "fields"}
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/summaries/monthly/2024-13",
        "/api/v1/summaries/range/2000-01-01..2024-01-01",
        "/api/v1/summaries/fortnightly/2024",
        "/api/v1/mining/yearly/24",
        "/api/v1/curtailment/2024-02-30/periods",
        "/api/v1/top/bm-units/yearly/2024?limit=0",
        "/api/v1/top/bm-units/yearly/2024?order_by=name",
        "/api/v1/series/yearly/2024?by=period",
        "/api/v1/bm-units?offset=abc",
        "/api/v1/bm-units?search=%00",
    ],
)
async def test_bad_parameters_are_refused_before_any_query(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_parameter"
    assert error["hint"]


async def test_unknown_paths_get_the_same_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v2/summaries")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    post = await client.post("/api/v1/status")
    assert post.status_code == 405
    assert error_of(post)["code"] == "method_not_allowed"


async def test_a_database_failure_is_a_500_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/summaries/daily/2024-03-31")
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"


async def test_ready_says_503_when_the_database_is_down_and_health_stays_ok(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 503
    assert error_of(ready)["code"] == "unavailable"


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/summaries/monthly/2024-13")
    text = (await client.get("/metrics")).text
    route = "/api/v1/summaries/{timeframe}/{value}"
    assert f'windhash_api_requests_total{{method="GET",route="{route}",status="422"}} 1.0' in text


async def test_openapi_documents_every_route_with_a_response_model(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            success = next(status for status in operation["responses"] if status.startswith("2"))
            if success == "204":
                continue
            content = operation["responses"][success]["content"]
            if "application/json" not in content:  # a download (exports): its file types are declared
                assert set(content) >= {"text/csv", "application/vnd.apache.parquet"}, f"{method} {path}"
                continue
            ok = content["application/json"]["schema"]
            assert ok, f"{method} {path}"
            # The predecessor's routes (routes/compat.py) live outside /api/v1 and say they are deprecated.
            assert path.startswith("/api/v1/") or path in {"/health", "/ready"} or operation.get("deprecated")


def test_csv_rows_flatten_nested_fields_and_keep_exact_decimals() -> None:
    row = flat_row(
        {"timeframe": {"value": "2024-03"}}, {"btc": Decimal("0E-8"), "periods": [3, 4], "x": None}
    )
    assert row == {"timeframe_value": "2024-03", "btc": "0.00000000", "periods": "3 4", "x": ""}


def test_month_points_sum_their_days_and_keep_unknowns_unknown() -> None:
    days = [
        SeriesPoint(
            key="2024-03-30",
            energy_mwh=Decimal(1),
            cashflow_gbp=Decimal(10),
            btc=Decimal("0.1"),
            value_gbp=None,
            days_without_price=1,
        ),
        SeriesPoint(
            key="2024-03-31",
            energy_mwh=Decimal(2),
            cashflow_gbp=Decimal(20),
            btc=Decimal("0.2"),
            value_gbp=Decimal(5),
            days_without_price=0,
        ),
        SeriesPoint(
            key="2024-04-01",
            energy_mwh=Decimal(4),
            cashflow_gbp=Decimal(40),
            btc=None,
            value_gbp=None,
            days_without_price=0,
        ),
    ]
    march, april = by_month(days)
    assert (march.key, march.energy_mwh, march.btc, march.value_gbp, march.days_without_price) == (
        "2024-03",
        Decimal(3),
        Decimal("0.3"),
        Decimal(5),
        1,
    )
    assert (april.key, april.btc, april.value_gbp) == ("2024-04", None, None)
