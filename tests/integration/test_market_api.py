"""The market service's HTTP routes over real PostgreSQL, connected as the market's own role: each figure
recomputed in the test from the snapshots the service's own write path stored (a synthetic sample with a gap),
CSV equal to JSON with formula cells neutralised, HEAD wherever GET, refusals in the API's error shape."""

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.hashprice import model_hashprice
from windhash_common.miner_models import active_miner_models
from windhash_market.http_app import create_market_app
from windhash_market.queries.snapshots import record_problem
from windhash_market.settings import MarketSettings
from windhash_market.snapshot import MarketSnapshot
from windhash_testing.market_sample import load_market_sample

pytestmark = pytest.mark.integration
FIRST = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
SLOTS = 16  # 22:00 to 01:45 across midnight
GAPS = {5, 6}  # 23:15 and 23:30: no snapshot
M = "/api/v1/market"


@dataclass
class MarketApi:
    http: httpx.AsyncClient
    stored: list[MarketSnapshot]
    superuser: asyncpg.Connection


@pytest.fixture
async def market(pg_dsn: str) -> AsyncIterator[MarketApi]:
    superuser = await asyncpg.connect(pg_dsn)
    stored = await load_market_sample(superuser, FIRST, SLOTS, GAPS)
    settings = MarketSettings(database_url=dsn_as(pg_dsn, DatabaseRole.MARKET))
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert pool is not None
    transport = httpx.ASGITransport(app=create_market_app(settings, pool), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://market.test") as http:
            yield MarketApi(http, stored, superuser)
    finally:
        await pool.close()
        await superuser.close()


def csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def dec(value: object) -> Decimal:
    return Decimal(str(value))


async def test_the_latest_snapshot_is_the_newest_stored_as_json_csv_and_head(market: MarketApi) -> None:
    newest = market.stored[-1]
    got = await market.http.get(f"{M}/snapshots/latest")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["slot_at"] == newest.slot_at.isoformat().replace("+00:00", "Z")
    assert (dec(body["price_gbp"]), dec(body["difficulty"])) == (newest.price_gbp, newest.difficulty)
    assert body["synthetic"] is True and isinstance(body["price_usd"], float)
    (row,) = csv_rows(await market.http.get(f"{M}/snapshots/latest", params={"format": "csv"}))
    assert Decimal(row["difficulty"]) == newest.difficulty and row["block_height"] == str(newest.block_height)
    head = await market.http.head(f"{M}/snapshots/latest")
    assert (head.status_code, head.content) == (200, b"")


async def test_no_snapshot_yet_is_a_404_that_says_where_to_look(pg_dsn: str) -> None:
    settings = MarketSettings(database_url=dsn_as(pg_dsn, DatabaseRole.MARKET))
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    assert pool is not None
    transport = httpx.ASGITransport(app=create_market_app(settings, pool), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://market.test") as http:
            for path in ("/snapshots/latest", "/hashprice"):
                missing = await http.get(f"{M}{path}")
                assert missing.status_code == 404
                assert missing.json()["error"]["code"] == "no_snapshot"
                assert "/api/v1/market/status" in missing.json()["error"]["hint"]
            status = (await http.get(f"{M}/status")).json()
            assert status["latest"] is None and status["age_seconds"] is None
    finally:
        await pool.close()


async def test_the_hourly_series_is_downsampled_in_sql_with_the_gap_left_a_gap(market: MarketApi) -> None:
    params = {
        "start": FIRST.isoformat(),
        "end": (FIRST + timedelta(hours=4)).isoformat(),
        "resolution": "hour",
    }
    got = await market.http.get(f"{M}/snapshots", params=params)
    assert got.status_code == 200, got.text
    points = got.json()["points"]
    by_hour: dict[datetime, list[MarketSnapshot]] = {}
    for snapshot in market.stored:
        by_hour.setdefault(snapshot.slot_at.replace(minute=0), []).append(snapshot)
    assert [point["snapshots"] for point in points] == [4, 2, 4, 4]  # 23:15 and 23:30 missing
    for point, (hour, snapshots) in zip(points, sorted(by_hour.items()), strict=True):
        assert point["bucket_at"] == hour.isoformat().replace("+00:00", "Z")
        usd = [snapshot.price_usd for snapshot in snapshots]
        assert [dec(point[f"price_usd_{k}"]) for k in ("open", "high", "low", "close")] == [
            usd[0],
            max(usd),
            min(usd),
            usd[-1],
        ]
        assert dec(point["price_gbp_close"]) == snapshots[-1].price_gbp
        assert dec(point["difficulty"]) == snapshots[-1].difficulty
        mean = sum((s.hashrate_ehs for s in snapshots), Decimal(0)) / len(snapshots)
        assert dec(point["hashrate_ehs"]) == mean.quantize(Decimal("0.001"))
    csv_points = csv_rows(await market.http.get(f"{M}/snapshots", params={**params, "format": "csv"}))
    assert [row["bucket_at"] for row in csv_points] == [
        datetime.fromisoformat(point["bucket_at"]).isoformat() for point in points
    ]
    assert [Decimal(row["price_usd_close"]) for row in csv_points] == [
        dec(p["price_usd_close"]) for p in points
    ]


async def test_quarter_hours_are_the_snapshots_and_days_are_utc_days(market: MarketApi) -> None:
    end = (FIRST + timedelta(days=1)).isoformat()
    quarter = (
        await market.http.get(f"{M}/snapshots", params={"start": FIRST.isoformat(), "end": end})
    ).json()
    assert [point["bucket_at"] for point in quarter["points"]] == [
        s.slot_at.isoformat().replace("+00:00", "Z") for s in market.stored
    ]
    assert quarter["range"]["resolution"] == "15min"
    days = await market.http.get(
        f"{M}/snapshots", params={"start": "2026-03-01T00:00:00Z", "resolution": "day"}
    )
    assert [point["snapshots"] for point in days.json()["points"]] == [
        6,
        8,
    ]  # 22:00-23:45 less 2; 00:00-01:45


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "resolution=hour"),
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "start < end"),
        ({"start": "2026-03-01T00:00:00"}, "OpenAPI"),  # no UTC offset: ambiguous
        ({"resolution": "week"}, "OpenAPI"),
        ({"start": "1999-01-01T00:00:00Z", "end": "1999-01-02T00:00:00Z"}, "2009-01-03"),
    ],
)
async def test_a_range_that_cannot_be_answered_is_refused_in_the_error_shape(
    market: MarketApi, params: dict[str, str], hint: str
) -> None:
    refused = await market.http.get(f"{M}/snapshots", params=params)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_parameter" and hint in error["hint"]


async def test_indicators_are_each_snapshot_s_stored_values_with_the_signal_rule(market: MarketApi) -> None:
    span = {"start": FIRST.isoformat(), "end": (FIRST + timedelta(days=1)).isoformat()}
    got = await market.http.get(f"{M}/indicators", params=span)
    body = got.json()
    stored = await market.superuser.fetch("SELECT * FROM technical_indicators ORDER BY slot_at")
    assert len(body["items"]) == len(stored) == SLOTS - len(GAPS)
    assert "BUY at +2" in body["rule"]
    for item, row in zip(body["items"], stored, strict=True):
        assert (item["ema_12"], item["rsi_14"], item["signal"]) == (
            row["ema_12"],
            row["rsi_14"],
            row["signal"],
        )
    assert body["items"][-1]["ema_12"] is not None and body["items"][0]["ema_26"] is None  # warming up
    rows = csv_rows(await market.http.get(f"{M}/indicators", params={**span, "format": "csv"}))
    assert [row["signal"] for row in rows] == [item["signal"] for item in body["items"]]


async def test_hashprice_now_and_over_time_come_from_the_one_formula(market: MarketApi) -> None:
    newest = market.stored[-1]
    now = (await market.http.get(f"{M}/hashprice")).json()
    models = await active_miner_models(market.superuser)
    assert [row["miner_model"] for row in now["models"]] == [model.name for model in models]
    for row, model in zip(now["models"], models, strict=True):
        expected = model_hashprice(
            model.name,
            model.hashrate_ths,
            model.power_w,
            newest.difficulty,
            newest.block_reward_btc,
            newest.price_usd,
            newest.price_gbp,
        )
        assert dec(row["gbp_per_mwh"]) == expected.gbp_per_mwh.quantize(Decimal("1e-4"))
    name = models[0].name
    series = await market.http.get(
        f"{M}/hashprice/series",
        params={"miner_model": name, "start": FIRST.isoformat(), "resolution": "hour"},
    )
    points = series.json()["points"]
    assert [point["snapshots"] for point in points] == [4, 2, 4, 4]
    last_hour = market.stored[-4:]
    each = [
        model_hashprice(
            name,
            models[0].hashrate_ths,
            models[0].power_w,
            s.difficulty,
            s.block_reward_btc,
            s.price_usd,
            s.price_gbp,
        ).gbp_per_mwh
        for s in last_hour
    ]
    assert abs(dec(points[-1]["gbp_per_mwh"]) - sum(each, Decimal(0)) / 4) < Decimal("0.0001")
    csv_models = csv_rows(await market.http.get(f"{M}/hashprice", headers={"Accept": "text/csv"}))
    assert [row["miner_model"] for row in csv_models] == [model.name for model in models]
    unknown = await market.http.get(f"{M}/hashprice/series", params={"miner_model": "=cmd|' /C calc'!A0"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_miner_model")


async def test_status_shows_the_newest_snapshot_and_every_problem_whose_reason_is_neutralised_in_csv(
    market: MarketApi,
) -> None:
    refused_slot = FIRST + timedelta(minutes=75)
    await record_problem(market.superuser, refused_slot, "refused", '=HYPERLINK("http://x") price jump')
    got = (await market.http.get(f"{M}/status")).json()
    assert got["latest"]["slot_at"] == market.stored[-1].slot_at.isoformat().replace("+00:00", "Z")
    assert got["interval_minutes"] == 15 and got["collecting"] is False
    assert got["problems"][0]["status"] == "refused" and got["problems"][0]["reason"].startswith("=HYPERLINK")
    assert got["indicators"]["slot_at"] == got["latest"]["slot_at"]
    (row,) = csv_rows(await market.http.get(f"{M}/status", params={"format": "csv"}))
    assert row["reason"].startswith("'=HYPERLINK") and row["status"] == "refused"
    limited = await market.http.get(f"{M}/status", params={"problems": 0})
    assert limited.status_code == 422
