"""Every API endpoint over a database filled by the real pipeline, against figures recomputed in the test.

Once per module: synthetic Elexon server → `windhash ingest range` → Kafka → calculator → PostgreSQL →
outbox → aggregator, each service its own OS process, and the API as a process answering over HTTP. The
days hold the spring clock change (46 periods), the halving and the autumn clock change (50 periods).
Expected figures come from curtailment_records, bitcoin_calculations, btc_prices and the reference tables,
never from the summary tables the API reads; the clock arithmetic is done here with zoneinfo.
"""

import asyncio
import contextlib
import csv
import io
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aioboto3
import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from windhash_cli.pipeline_completion import pipeline_progress
from windhash_cli.service_processes import WINDHASH, ServiceProcesses, wait_for_http
from windhash_common.topics import Topics, ensure_topics
from windhash_elexon_sim.server import ElexonSimServer
from windhash_stack import StackEndpoints

# The recompute helpers live beside the sample-filled API tests; e2e is collected before integration.
sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))
from test_api_support import Facts, read_facts, same  # type: ignore[import-not-found]
from windhash_stack.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

LONDON = ZoneInfo("Europe/London")
SPANS = [
    (date(2024, 3, 30), date(2024, 4, 1)),
    (date(2024, 4, 19), date(2024, 4, 21)),
    (date(2024, 10, 27), date(2024, 10, 27)),
]
DAYS = [first + timedelta(days=n) for first, last in SPANS for n in range((last - first).days + 1)]
SPRING, NORMAL, HALVING, AUTUMN = date(2024, 3, 31), date(2024, 4, 1), date(2024, 4, 20), date(2024, 10, 27)
WIDE = "range/2024-03-30..2024-10-27"
PARTITIONS = 3


def periods_in(day: date) -> int:
    midnight = datetime.combine(day, time(), LONDON)
    following = datetime.combine(day + timedelta(days=1), time(), LONDON)
    return int((following.astimezone(UTC) - midnight.astimezone(UTC)) / timedelta(minutes=30))


def period_start(day: date, period: int) -> datetime:
    return datetime.combine(day, time(), LONDON).astimezone(UTC) + timedelta(minutes=30 * (period - 1))


def quantized(numerator: Decimal | None, denominator: Decimal | None, places: str) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return (numerator / denominator).quantize(Decimal(places), rounding=ROUND_HALF_EVEN)


def total(rows: Iterable[dict[str, Any]], column: str) -> Decimal:
    return sum((row[column] for row in rows), Decimal(0))


@dataclass
class Pipeline:
    client: httpx.Client
    facts: Facts
    periods: dict[tuple[date, int], dict[str, Any]]  # settlement_periods by key
    failed_fetches: int
    units: list[dict[str, Any]]  # wind_bm_units
    models: list[dict[str, Any]]  # miner_models

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def busiest(self, column: str) -> str:
        counts: dict[str, int] = defaultdict(int)
        for row in self.facts.records:
            counts[row[column]] += 1
        return max(counts, key=lambda name: (counts[name], name))

    @property
    def active_models(self) -> list[str]:
        return sorted(model["name"] for model in self.models if model["active"])


@pytest.fixture(scope="module")
async def module_dsn(stack: StackEndpoints, pg_template: str) -> AsyncIterator[str]:
    """As conftest's pg_dsn, for the whole module: the pipeline fills it once."""
    name = f"t_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(stack.postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    finally:
        await admin.close()
    yield urlsplit(stack.postgres_dsn)._replace(path=f"/{name}").geturl()
    admin = await asyncpg.connect(stack.postgres_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def module_env(stack: StackEndpoints, module_dsn: str) -> AsyncIterator[dict[str, str]]:
    """As conftest's service_env, for the whole module: own topics and difficulty table, removed after."""
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:12]}")
    await ensure_topics(stack.kafka_bootstrap, topics, PARTITIONS)
    difficulty_table = f"windhash_difficulty_{uuid.uuid4().hex[:12]}"
    yield {
        "WINDHASH_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "WINDHASH_DATABASE_URL": module_dsn,
        "WINDHASH_DYNAMODB_ENDPOINT": stack.dynamodb_endpoint,
        "WINDHASH_TOPIC_PREFIX": topics.prefix,
        "WINDHASH_TOPIC_PARTITIONS": str(PARTITIONS),
        "WINDHASH_DIFFICULTY_TABLE": difficulty_table,
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(Exception):  # cleanup only
            existing = set(await admin.list_topics())
            await admin.delete_topics([name for name in topics.all() if name in existing])
    finally:
        await admin.close()
    async with aioboto3.Session().client(
        "dynamodb",
        endpoint_url=stack.dynamodb_endpoint,
        region_name="eu-west-2",
        aws_access_key_id="windhash",
        aws_secret_access_key="windhash",
    ) as dynamodb:
        with contextlib.suppress(Exception):  # cleanup only
            await dynamodb.delete_table(TableName=difficulty_table)


async def wait_until_complete(dsn: str, processes: ServiceProcesses, seconds: float = 300) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        for first, last in SPANS:
            while not (progress := await pipeline_progress(connection, first, last)).complete:
                processes.check_alive()
                assert asyncio.get_running_loop().time() < deadline, f"pipeline stuck: {progress}"
                await asyncio.sleep(0.5)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def pipeline(
    module_env: dict[str, str], module_dsn: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Pipeline]:
    api_port = free_port()
    with ElexonSimServer() as sim:
        env = {**module_env, "WINDHASH_ELEXON_BASE_URL": sim.base_url, "WINDHASH_API_PORT": str(api_port)}
        run_env = {**os.environ, **env}
        processes = ServiceProcesses(env=env, log_dir=tmp_path_factory.mktemp("pipeline-logs"))
        try:
            for step in (["difficulty", "load"], ["prices", "load"]):
                await asyncio.to_thread(
                    subprocess.run, [*WINDHASH, *step], env=run_env, check=True, capture_output=True
                )
            for service in ("calculator", "aggregator"):
                processes.start(service, extra_env={"WINDHASH_METRICS_PORT": str(free_port())})
            processes.start("api")
            for first, last in SPANS:
                command = [*WINDHASH, "ingest", "range", first.isoformat(), last.isoformat()]
                ingest = await asyncio.to_thread(
                    subprocess.run, command, env=run_env, capture_output=True, text=True
                )
                assert ingest.returncode == 0, ingest.stdout + ingest.stderr
            await wait_until_complete(module_dsn, processes)
            await asyncio.to_thread(wait_for_http, f"http://127.0.0.1:{api_port}/health", 60, processes)
            connection = await asyncpg.connect(module_dsn)
            try:
                loaded = await load_tables(connection)
            finally:
                await connection.close()
            with httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30) as client:
                yield Pipeline(client, *loaded)
        finally:
            processes.stop_all()


async def load_tables(connection: asyncpg.Connection) -> tuple[Any, ...]:
    periods = {
        (row["settlement_date"], row["settlement_period"]): dict(row)
        for row in await connection.fetch("SELECT * FROM settlement_periods")
    }
    failed = await connection.fetchval("SELECT count(*) FROM ingestion_progress WHERE status = 'failed'")
    units = [dict(row) for row in await connection.fetch("SELECT * FROM wind_bm_units")]
    models = [dict(row) for row in await connection.fetch("SELECT * FROM miner_models")]
    return await read_facts(connection), periods, failed, units, models


def assert_totals(body: dict[str, Any], rows: list[dict[str, Any]], facts: Facts) -> None:
    energy, cashflow = facts.energy(rows), facts.cashflow(rows)
    assert rows, "the span should hold curtailment"
    assert same(body["energy_mwh"], energy)
    assert same(body["cashflow_gbp"], cashflow)
    assert same(body["cashflow_gbp_per_mwh"], quantized(cashflow, energy, "0.0001"))
    assert body["record_count"] == len(rows)
    assert body["bm_units_curtailed"] == len({row["bm_unit"] for row in rows})


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_daily_summary_matches_the_facts(pipeline: Pipeline, day: date) -> None:
    body = pipeline.get(f"/api/v1/summaries/daily/{day}")
    rows = pipeline.facts.records_in(day, day)
    assert_totals(body, rows, pipeline.facts)
    assert body["periods_curtailed"] == len({row["settlement_period"] for row in rows})
    expected = periods_in(day)
    assert body["coverage"] == {
        "periods_expected": expected,
        "periods_ingested": expected,
        "periods_pending_difficulty": 0,
        "periods_failed": 0,
        "complete": True,
    }


@pytest.mark.parametrize(
    ("path", "first", "last"),
    [
        ("monthly/2024-03", date(2024, 3, 1), date(2024, 3, 31)),
        ("monthly/2024-04", date(2024, 4, 1), date(2024, 4, 30)),
        ("yearly/2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("range/2024-03-30..2024-04-01", date(2024, 3, 30), date(2024, 4, 1)),
        (WIDE, date(2024, 3, 30), date(2024, 10, 27)),
    ],
)
def test_month_year_and_range_summaries_match_the_facts(
    pipeline: Pipeline, path: str, first: date, last: date
) -> None:
    body = pipeline.get(f"/api/v1/summaries/{path}")
    rows = pipeline.facts.records_in(first, last)
    assert_totals(body, rows, pipeline.facts)
    assert body["periods_curtailed"] == len({(r["settlement_date"], r["settlement_period"]) for r in rows})
    assert (body["timeframe"]["first_date"], body["timeframe"]["last_date"]) == (str(first), str(last))
    span = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    held = [key for key in pipeline.periods if first <= key[0] <= last]
    assert body["coverage"] == {
        "periods_expected": sum(periods_in(day) for day in span),
        "periods_ingested": len(held),
        "periods_pending_difficulty": 0,
        "periods_failed": 0,
        "complete": len(held) == sum(periods_in(day) for day in span),
    }
    assert body["coverage"]["complete"] is (path == "range/2024-03-30..2024-04-01")


@pytest.mark.parametrize(
    ("path", "first", "last"),
    [
        (f"daily/{SPRING}", SPRING, SPRING),
        ("monthly/2024-04", date(2024, 4, 1), date(2024, 4, 30)),
        (WIDE, date(2024, 3, 30), date(2024, 10, 27)),
    ],
)
def test_summaries_filtered_by_lead_party_bm_unit_or_both(
    pipeline: Pipeline, path: str, first: date, last: date
) -> None:
    party, unit = pipeline.busiest("lead_party_name"), pipeline.busiest("bm_unit")
    unit_party = next(r["lead_party_name"] for r in pipeline.facts.records if r["bm_unit"] == unit)
    for params in ({"lead_party": party}, {"bm_unit": unit}, {"lead_party": unit_party, "bm_unit": unit}):
        body = pipeline.get(f"/api/v1/summaries/{path}", **params)
        rows = pipeline.facts.records_in(first, last, params.get("lead_party"), params.get("bm_unit"))
        assert_totals(body, rows, pipeline.facts)
        assert body["periods_curtailed"] is None
        assert body["filters"] == {"lead_party": None, "bm_unit": None, "miner_model": None} | params


@pytest.mark.parametrize(("day", "count"), [(SPRING, 46), (NORMAL, 48), (AUTUMN, 50)], ids=str)
def test_curtailment_by_period_matches_the_facts(pipeline: Pipeline, day: date, count: int) -> None:
    assert periods_in(day) == count
    party = pipeline.busiest("lead_party_name")
    for params in ({}, {"lead_party": party}):
        body = pipeline.get(f"/api/v1/curtailment/{day}/periods", **params)
        rows = pipeline.facts.records_in(day, day, params.get("lead_party"))
        assert rows
        assert body["periods_in_day"] == count
        assert [row["settlement_period"] for row in body["periods"]] == list(range(1, count + 1))
        for point in body["periods"]:
            period = point["settlement_period"]
            members = [r for r in rows if r["settlement_period"] == period]
            assert same(point["energy_mwh"], pipeline.facts.energy(members))
            assert same(point["cashflow_gbp"], pipeline.facts.cashflow(members))
            assert point["record_count"] == len(members)
            assert point["bm_units_curtailed"] == len({r["bm_unit"] for r in members})
            assert point["status"] == pipeline.periods[(day, period)]["status"] == "calculated"
            start = datetime.fromisoformat(point["period_start_utc"])
            assert start == period_start(day, period) == pipeline.periods[(day, period)]["period_start_utc"]
            assert datetime.fromisoformat(point["period_start_local"]) == start
        assert same(body["energy_mwh"], pipeline.facts.energy(rows))
        assert same(body["cashflow_gbp"], pipeline.facts.cashflow(rows))


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (NORMAL, 24), (AUTUMN, 25)], ids=str)
def test_curtailment_by_hour_groups_the_periods_by_london_clock_hour(
    pipeline: Pipeline, day: date, hours: int
) -> None:
    expected: dict[str, list[int]] = {}
    for period in range(1, periods_in(day) + 1):
        local = period_start(day, period).astimezone(LONDON).replace(minute=0)
        expected.setdefault(local.isoformat(), []).append(period)
    body = pipeline.get(f"/api/v1/curtailment/{day}/hours")
    rows = pipeline.facts.records_in(day, day)
    assert body["hours_in_day"] == len(body["hours"]) == len(expected) == hours
    for hour, (start, periods) in zip(body["hours"], expected.items(), strict=True):
        assert datetime.fromisoformat(hour["hour_start_local"]).isoformat() == start
        assert hour["utc_offset"] == start[-6:]
        assert hour["settlement_periods"] == periods
        members = [r for r in rows if r["settlement_period"] in periods]
        assert same(hour["energy_mwh"], pipeline.facts.energy(members))
        assert same(hour["cashflow_gbp"], pipeline.facts.cashflow(members))
        assert hour["record_count"] == len(members)
    assert same(body["energy_mwh"], pipeline.facts.energy(rows))


def assert_mining(pipeline: Pipeline, row: dict[str, Any], calculations: list[dict[str, Any]]) -> None:
    energy = total(calculations, "energy_mwh")
    value, missing = pipeline.facts.value_gbp(calculations)
    assert same(row["btc"], total(calculations, "btc"))
    assert same(row["energy_mwh"], energy)
    assert same(row["value_gbp"], value)
    assert same(row["value_usd"], pipeline.facts.value_in(calculations, "usd")[0])
    assert same(row["value_gbp_per_mwh"], quantized(value, energy, "0.0001"))
    assert row["days_without_price"] == missing == 0
    weighted = sum((c["energy_mwh"] * c["difficulty"] for c in calculations), Decimal(0)) / energy
    assert same(row["difficulty_weighted"], weighted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    assert same(row["difficulty_min"], min(c["difficulty"] for c in calculations))
    assert same(row["difficulty_max"], max(c["difficulty"] for c in calculations))


@pytest.mark.parametrize(
    ("path", "first", "last"),
    [
        (f"daily/{SPRING}", SPRING, SPRING),
        (f"daily/{HALVING}", HALVING, HALVING),
        ("monthly/2024-04", date(2024, 4, 1), date(2024, 4, 30)),
        ("yearly/2024", date(2024, 1, 1), date(2024, 12, 31)),
        (WIDE, date(2024, 3, 30), date(2024, 10, 27)),
    ],
)
def test_mining_per_model_matches_the_calculations(
    pipeline: Pipeline, path: str, first: date, last: date
) -> None:
    body = pipeline.get(f"/api/v1/mining/{path}")
    by_model = {row["miner_model"]: row for row in body["models"]}
    assert sorted(by_model) == pipeline.active_models
    for model in pipeline.active_models:
        assert_mining(pipeline, by_model[model], pipeline.facts.calculations_in(first, last, model))
    rewards = {c["block_reward_btc"] for c in pipeline.facts.calculations_in(first, last, "S21")}
    assert rewards <= {Decimal("6.25"), Decimal("3.125")}
    if first < HALVING < last:
        assert rewards == {Decimal("6.25"), Decimal("3.125")}  # the span holds both sides of the halving


def test_mining_filtered_by_lead_party_or_bm_unit_and_model(pipeline: Pipeline) -> None:
    first, last = date(2024, 1, 1), date(2024, 12, 31)
    party, unit = pipeline.busiest("lead_party_name"), pipeline.busiest("bm_unit")
    for params in ({"lead_party": party}, {"bm_unit": unit}):
        body = pipeline.get("/api/v1/mining/yearly/2024", **params)
        assert sorted(row["miner_model"] for row in body["models"]) == pipeline.active_models
        for row in body["models"]:
            calculations = pipeline.facts.calculations_in(
                first, last, row["miner_model"], params.get("lead_party"), params.get("bm_unit")
            )
            assert_mining(pipeline, row, calculations)
    (row,) = pipeline.get("/api/v1/mining/yearly/2024", miner_model="S19J_PRO", lead_party=party)["models"]
    assert_mining(pipeline, row, pipeline.facts.calculations_in(first, last, "S19J_PRO", party))


@pytest.mark.parametrize(
    ("path", "first", "last", "model", "by_party"),
    [
        (f"daily/{SPRING}", SPRING, SPRING, None, False),
        (WIDE, date(2024, 3, 30), date(2024, 10, 27), "S21", False),
        ("monthly/2024-04", date(2024, 4, 1), date(2024, 4, 30), None, True),
    ],
)
def test_comparison_sets_bitcoin_value_against_cashflow(
    pipeline: Pipeline, path: str, first: date, last: date, model: str | None, by_party: bool
) -> None:
    params = {"miner_model": model} if model else {}
    if by_party:
        params["lead_party"] = pipeline.busiest("lead_party_name")
    body = pipeline.get(f"/api/v1/comparison/{path}", **params)
    records = pipeline.facts.records_in(first, last, params.get("lead_party"))
    energy, cashflow = pipeline.facts.energy(records), pipeline.facts.cashflow(records)
    assert same(body["energy_mwh"], energy)
    assert same(body["cashflow_gbp"], cashflow)
    assert same(body["cashflow_gbp_per_mwh"], quantized(cashflow, energy, "0.0001"))
    assert [row["miner_model"] for row in body["models"]] == ([model] if model else pipeline.active_models)
    for row in body["models"]:
        calculations = pipeline.facts.calculations_in(
            first, last, row["miner_model"], params.get("lead_party")
        )
        value, missing = pipeline.facts.value_gbp(calculations)
        assert same(row["btc"], total(calculations, "btc"))
        assert same(row["value_gbp"], value)
        assert same(row["value_to_cashflow_ratio"], quantized(value, cashflow, "0.000001"))
        assert same(row["value_gbp_per_mwh"], quantized(value, total(calculations, "energy_mwh"), "0.0001"))
        assert row["days_without_price"] == missing


def test_series_by_period_carries_each_periods_btc_and_value(pipeline: Pipeline) -> None:
    party = pipeline.busiest("lead_party_name")
    price = pipeline.facts.prices[HALVING]["gbp"]
    for params in ({"miner_model": "S21"}, {"miner_model": "S21", "lead_party": party}):
        body = pipeline.get(f"/api/v1/series/daily/{HALVING}", **params)
        assert body["by"] == "period"
        assert [point["key"] for point in body["points"]] == [str(p) for p in range(1, 49)]
        records = pipeline.facts.records_in(HALVING, HALVING, params.get("lead_party"))
        assert records
        calculations = pipeline.facts.calculations_in(HALVING, HALVING, "S21", params.get("lead_party"))
        for point in body["points"]:
            period = int(point["key"])
            curtailed = [r for r in records if r["settlement_period"] == period]
            btc = total((c for c in calculations if c["settlement_period"] == period), "btc")
            assert same(point["energy_mwh"], pipeline.facts.energy(curtailed))
            assert same(point["cashflow_gbp"], pipeline.facts.cashflow(curtailed))
            assert same(point["btc"], btc)
            expected_value = (btc * price).quantize(Decimal("0.01"), ROUND_HALF_EVEN) if curtailed else None
            assert same(point["value_gbp"], expected_value)
    no_model = pipeline.get(f"/api/v1/series/daily/{HALVING}")
    assert all(point["btc"] is None for point in no_model["points"])


def test_series_by_day_and_by_month(pipeline: Pipeline) -> None:
    facts = pipeline.facts
    days = pipeline.get("/api/v1/series/range/2024-03-30..2024-04-21", miner_model="S21")
    assert days["by"] == "day"
    assert len(days["points"]) == 23
    for point in days["points"]:
        day = date.fromisoformat(point["key"])
        calculations = facts.calculations_in(day, day, "S21")
        assert same(point["energy_mwh"], facts.energy(facts.records_in(day, day)))
        assert same(point["cashflow_gbp"], facts.cashflow(facts.records_in(day, day)))
        assert same(point["btc"], total(calculations, "btc"))
        assert same(point["value_gbp"], facts.value_gbp(calculations)[0])
    months = pipeline.get("/api/v1/series/yearly/2024", miner_model="S19J_PRO")
    assert months["by"] == "month"
    assert [point["key"] for point in months["points"]] == [f"2024-{month:02d}" for month in range(1, 13)]
    for month, point in enumerate(months["points"], start=1):
        first = date(2024, month, 1)
        last = date(2024 + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        calculations = facts.calculations_in(first, last, "S19J_PRO")
        assert same(point["energy_mwh"], facts.energy(facts.records_in(first, last)))
        assert same(point["btc"], total(calculations, "btc"))
        assert same(point["value_gbp"], facts.value_gbp(calculations)[0])
        assert point["days_without_price"] == 0


def ranked(rows: list[dict[str, Any]], key: str, order_by: str) -> dict[str, dict[str, Any]]:
    """Per unit or party: energy, cashflow, records, days and units, in the API's order (largest first)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key] or "Unknown"].append(row)
    figures = {
        name: {
            "energy_mwh": sum((-r["volume_mwh"] for r in members), Decimal(0)),
            "cashflow_gbp": total(members, "cashflow_gbp"),
            "record_count": len(members),
            "days_curtailed": len({r["settlement_date"] for r in members}),
            "bm_units_curtailed": len({r["bm_unit"] for r in members}),
        }
        for name, members in groups.items()
    }
    # Ties broken by name, ascending, as the API does.
    order = sorted(sorted(figures), key=lambda name: figures[name][order_by], reverse=True)
    return {name: figures[name] for name in order}


def assert_ranked_item(item: dict[str, Any], expected: dict[str, Any]) -> None:
    assert same(item["energy_mwh"], expected["energy_mwh"])
    assert same(item["cashflow_gbp"], expected["cashflow_gbp"])
    assert same(
        item["cashflow_gbp_per_mwh"], quantized(expected["cashflow_gbp"], expected["energy_mwh"], "0.0001")
    )
    assert item["record_count"] == expected["record_count"]
    assert item["days_curtailed"] == expected["days_curtailed"]


def test_top_bm_units_rank_paginate_and_filter(pipeline: Pipeline) -> None:
    registry = {unit["elexon_bm_unit"]: unit for unit in pipeline.units}
    expected = ranked(
        pipeline.facts.records_in(date(2024, 1, 1), date(2024, 12, 31)), "bm_unit", "energy_mwh"
    )
    items: list[dict[str, Any]] = []
    while len(items) < len(expected):
        page = pipeline.get("/api/v1/top/bm-units/yearly/2024", limit=7, offset=len(items))
        assert page["page"] == {"total": len(expected), "limit": 7, "offset": len(items)}
        assert page["items"], "a page short of the total came back empty"
        items += page["items"]
    assert [item["bm_unit"] for item in items] == list(expected)
    assert [item["rank"] for item in items] == list(range(1, len(expected) + 1))
    for item in items:
        assert_ranked_item(item, expected[item["bm_unit"]])
        unit = registry[item["bm_unit"]]
        assert item["bm_unit_name"] == unit["bm_unit_name"]
        assert item["lead_party_name"] == unit["lead_party_name"]
        assert same(item["generation_capacity_mw"], unit["generation_capacity_mw"])
    party = pipeline.busiest("lead_party_name")
    records = pipeline.facts.records_in(date(2024, 4, 1), date(2024, 4, 30), lead_party=party)
    assert records
    for order_by in ("cashflow_gbp", "record_count"):
        expected = ranked(records, "bm_unit", order_by)
        body = pipeline.get("/api/v1/top/bm-units/monthly/2024-04", lead_party=party, order_by=order_by)
        assert [item["bm_unit"] for item in body["items"]] == list(expected)
        for item in body["items"]:
            assert_ranked_item(item, expected[item["bm_unit"]])


def test_top_lead_parties(pipeline: Pipeline) -> None:
    expected = ranked(pipeline.facts.records_in(SPRING, HALVING), "lead_party_name", "energy_mwh")
    body = pipeline.get("/api/v1/top/lead-parties/range/2024-03-31..2024-04-20", limit=500)
    assert body["page"]["total"] == len(expected)
    assert [item["lead_party_name"] for item in body["items"]] == list(expected)
    for item in body["items"]:
        assert_ranked_item(item, expected[item["lead_party_name"]])
        assert item["bm_units_curtailed"] == expected[item["lead_party_name"]]["bm_units_curtailed"]
    second = pipeline.get("/api/v1/top/lead-parties/range/2024-03-31..2024-04-20", limit=2, offset=1)
    assert [item["lead_party_name"] for item in second["items"]] == list(expected)[1:3]


def test_bm_unit_registry_pages_filters_and_finds_every_curtailed_unit(pipeline: Pipeline) -> None:
    registry = {unit["elexon_bm_unit"]: unit for unit in pipeline.units}
    items: list[dict[str, Any]] = []
    while True:
        page = pipeline.get("/api/v1/bm-units", limit=50, offset=len(items))
        assert page["page"]["total"] == len(registry)
        if not page["items"]:
            break
        items += page["items"]
    assert [item["elexon_bm_unit"] for item in items] == sorted(registry)
    for item in items:
        unit = registry[item["elexon_bm_unit"]]
        assert item["lead_party_name"] == unit["lead_party_name"]
        assert item["bm_unit_name"] == unit["bm_unit_name"]
        assert same(item["generation_capacity_mw"], unit["generation_capacity_mw"])
    assert {row["bm_unit"] for row in pipeline.facts.records} <= set(registry)
    party = pipeline.busiest("lead_party_name")
    mine = pipeline.get("/api/v1/bm-units", lead_party=party, limit=500)
    assert [item["elexon_bm_unit"] for item in mine["items"]] == sorted(
        code for code, unit in registry.items() if unit["lead_party_name"] == party
    )
    busiest = pipeline.busiest("bm_unit")
    one = pipeline.get(f"/api/v1/bm-units/{busiest}")
    assert one["lead_party_name"] == registry[busiest]["lead_party_name"]
    found = pipeline.get("/api/v1/bm-units", search=busiest.lower())["items"]
    assert busiest in [item["elexon_bm_unit"] for item in found]
    missing = pipeline.client.get("/api/v1/bm-units/T_NOPE-1")
    assert missing.status_code == 404
    assert missing.json()["error"]["hint"]


def test_lead_parties_are_the_registry_grouped(pipeline: Pipeline) -> None:
    units: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for unit in pipeline.units:
        if unit["lead_party_name"] is not None:
            units[unit["lead_party_name"]].append(unit)
    body = pipeline.get("/api/v1/lead-parties", limit=500)
    assert body["page"]["total"] == len(units)
    assert [item["lead_party_name"] for item in body["items"]] == sorted(units)
    for item in body["items"]:
        members = units[item["lead_party_name"]]
        assert item["bm_units"] == len(members)
        capacities = [u["generation_capacity_mw"] for u in members if u["generation_capacity_mw"] is not None]
        assert same(item["generation_capacity_mw"], sum(capacities, Decimal(0)) if capacities else None)
    page = pipeline.get("/api/v1/lead-parties", limit=3, offset=2)
    assert [item["lead_party_name"] for item in page["items"]] == sorted(units)[2:5]


def test_miner_models_are_the_table_and_the_calculations_use_each_active_one(pipeline: Pipeline) -> None:
    for params, rows in (
        ({}, [model for model in pipeline.models if model["active"]]),
        ({"include_inactive": "true"}, pipeline.models),
    ):
        items = pipeline.get("/api/v1/miner-models", **params)["items"]
        expected = sorted(rows, key=lambda model: (model["efficiency_j_per_th"], model["name"]))
        assert [item["name"] for item in items] == [model["name"] for model in expected]
        for item, model in zip(items, expected, strict=True):
            assert same(item["hashrate_ths"], model["hashrate_ths"])
            assert same(item["power_w"], model["power_w"])
            efficiency = model["power_w"] / model["hashrate_ths"]  # numeric(12, 4): PostgreSQL rounds half up
            assert same(item["efficiency_j_per_th"], efficiency.quantize(Decimal("0.0001"), ROUND_HALF_UP))
            assert item["active"] is model["active"]
    assert {c["miner_model"] for c in pipeline.facts.calculations} == set(pipeline.active_models)


def test_status_reports_what_the_pipeline_wrote(pipeline: Pipeline) -> None:
    body = pipeline.get("/api/v1/status")
    calculated: dict[date, int] = defaultdict(int)
    for (day, _), period in pipeline.periods.items():
        calculated[day] += period["status"] == "calculated"
    assert body["first_date"] == str(DAYS[0])
    assert body["last_date"] == str(DAYS[-1])
    assert body["latest_complete_date"] == str(max(d for d, n in calculated.items() if n == periods_in(d)))
    assert body["periods_ingested"] == len(pipeline.periods) == sum(periods_in(day) for day in DAYS)
    assert body["periods_calculated"] == sum(calculated.values()) == len(pipeline.periods)
    assert body["pending_difficulty_periods"] == 0
    assert body["failed_periods_count"] == pipeline.failed_fetches == 0
    assert body["failed_periods"] == []
    synthetic = sum(period["synthetic"] for period in pipeline.periods.values())
    assert body["synthetic_periods"] == synthetic
    assert body["synthetic"] is (synthetic > 0)


def test_tables_export_as_csv_with_exact_figures(pipeline: Pipeline) -> None:
    response = pipeline.client.get(f"/api/v1/curtailment/{AUTUMN}/periods", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(row["settlement_period"]) for row in rows] == list(range(1, 51))
    records = pipeline.facts.records_in(AUTUMN, AUTUMN)
    for row in rows:
        members = [r for r in records if r["settlement_period"] == int(row["settlement_period"])]
        assert Decimal(row["energy_mwh"]) == pipeline.facts.energy(members)
        assert Decimal(row["cashflow_gbp"]) == pipeline.facts.cashflow(members)
    top = pipeline.client.get("/api/v1/top/bm-units/yearly/2024?limit=500", headers={"Accept": "text/csv"})
    expected = ranked(pipeline.facts.records, "bm_unit", "energy_mwh")
    units = list(csv.DictReader(io.StringIO(top.text)))
    assert [unit["bm_unit"] for unit in units] == list(expected)
    for unit in units:
        assert Decimal(unit["energy_mwh"]) == expected[unit["bm_unit"]]["energy_mwh"]
        assert Decimal(unit["cashflow_gbp"]) == expected[unit["bm_unit"]]["cashflow_gbp"]


@pytest.mark.parametrize(("first", "last"), SPANS, ids=str)
def test_reconciliation_counts_each_stage_from_the_facts(pipeline: Pipeline, first: date, last: date) -> None:
    body = pipeline.get("/api/v1/reconciliation", **{"from": str(first), "to": str(last)})
    models = len(pipeline.active_models)
    assert body["active_miner_models"] == models
    assert [day["settlement_date"] for day in body["days"]] == [str(d) for d in DAYS if first <= d <= last]
    for day in body["days"]:
        settlement_date = date.fromisoformat(day["settlement_date"])
        records = len(pipeline.facts.records_in(settlement_date, settlement_date))
        calculations = [c for c in pipeline.facts.calculations if c["settlement_date"] == settlement_date]
        assert day["periods_expected"] == day["periods_fetched"] == periods_in(settlement_date)
        assert day["periods_applied"] == periods_in(settlement_date)
        assert day["records_expected"] == day["records_actual"] == records
        assert (
            day["calculations_expected"]
            == day["calculations_actual"]
            == len(calculations)
            == records * models
        )
        assert (day["periods_failed"], day["periods_pending_difficulty"], day["summary_drift"]) == (0, 0, 0)
        assert day["day_class"] == "complete"
    assert body["completeness_ratio"] == 1.0


def test_probes_and_metrics(pipeline: Pipeline) -> None:
    assert pipeline.get("/health") == {"status": "ok"}
    assert pipeline.get("/ready") == {"status": "ok", "database": "ok"}
    pipeline.get(f"/api/v1/summaries/daily/{SPRING}")
    metrics = pipeline.client.get("/metrics").text
    route = "/api/v1/summaries/{timeframe}/{value}"
    assert f'windhash_api_requests_total{{method="GET",route="{route}",status="200"}}' in metrics
    assert "windhash_api_request_duration_seconds_bucket" in metrics
