"""Rankings, registry, status, CSV export, probes and refusals, against PostgreSQL filled with the sample."""

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from test_api_support import AUTUMN, FAILED, PENDING, ApiHarness, api_fixture, same  # type: ignore[import-not-found]  # noqa: F401

pytestmark = pytest.mark.integration


async def test_top_bm_units_rank_by_energy_and_paginate(api: ApiHarness) -> None:
    energy: dict[str, Decimal] = defaultdict(Decimal)
    for row in api.facts.records_in(date(2024, 1, 1), date(2024, 12, 31)):
        energy[row["bm_unit"]] += -row["volume_mwh"]
    ranked = sorted(energy, key=lambda unit: (-energy[unit], unit))
    body = (await api.client.get("/api/v1/top/bm-units/yearly/2024", params={"limit": 3, "offset": 2})).json()
    assert body["page"] == {"total": len(ranked), "limit": 3, "offset": 2}
    assert [item["bm_unit"] for item in body["items"]] == ranked[2:5]
    assert [item["rank"] for item in body["items"]] == [3, 4, 5]
    for item in body["items"]:
        assert same(item["energy_mwh"], energy[item["bm_unit"]])
        assert item["bm_unit_name"].startswith("Sample farm")


async def test_top_bm_units_by_cashflow_within_a_lead_party(api: ApiHarness) -> None:
    party = api.sample.lead_parties[0]
    cashflow: dict[str, Decimal] = defaultdict(Decimal)
    for row in api.facts.records_in(date(2024, 10, 1), date(2024, 10, 31), lead_party=party):
        cashflow[row["bm_unit"]] += row["cashflow_gbp"]
    params = {"lead_party": party, "order_by": "cashflow_gbp"}
    body = (await api.client.get("/api/v1/top/bm-units/monthly/2024-10", params=params)).json()
    assert [item["bm_unit"] for item in body["items"]] == sorted(cashflow, key=lambda u: (-cashflow[u], u))
    assert all(item["lead_party_name"] == party for item in body["items"])


async def test_top_lead_parties(api: ApiHarness) -> None:
    rows = api.facts.records_in(date(2024, 3, 1), date(2024, 3, 31))
    energy: dict[str, Decimal] = defaultdict(Decimal)
    units: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        energy[row["lead_party_name"]] += -row["volume_mwh"]
        units[row["lead_party_name"]].add(row["bm_unit"])
    body = (await api.client.get("/api/v1/top/lead-parties/monthly/2024-03")).json()
    ranked = sorted(energy, key=lambda party: (-energy[party], party))
    assert [item["lead_party_name"] for item in body["items"]] == ranked
    for item in body["items"]:
        assert same(item["energy_mwh"], energy[item["lead_party_name"]])
        assert item["bm_units_curtailed"] == len(units[item["lead_party_name"]])


async def test_bm_unit_registry_pages_searches_and_finds_one(api: ApiHarness) -> None:
    first = (await api.client.get("/api/v1/bm-units", params={"limit": 5})).json()
    second = (await api.client.get("/api/v1/bm-units", params={"limit": 5, "offset": 5})).json()
    assert first["page"]["total"] == second["page"]["total"] == len(api.sample.bm_units)
    codes = [item["elexon_bm_unit"] for item in first["items"] + second["items"]]
    assert codes == sorted(api.sample.bm_units)[:10]
    found = (await api.client.get("/api/v1/bm-units", params={"search": "farm 2.1"})).json()
    assert [item["elexon_bm_unit"] for item in found["items"]] == ["T_WHS21-1"]
    one = await api.client.get("/api/v1/bm-units/T_WHS21-1")
    assert one.json()["lead_party_name"] == api.sample.lead_parties[2]
    missing = await api.client.get("/api/v1/bm-units/T_NOPE-1")
    assert missing.status_code == 404
    assert "/api/v1/bm-units" in missing.json()["error"]["hint"]


async def test_lead_parties_and_miner_models(api: ApiHarness) -> None:
    parties = (await api.client.get("/api/v1/lead-parties")).json()
    assert [item["lead_party_name"] for item in parties["items"]] == sorted(api.sample.lead_parties)
    assert all(item["bm_units"] == 3 for item in parties["items"])
    models = (await api.client.get("/api/v1/miner-models")).json()["items"]
    assert set(api.sample.miner_models) <= {model["name"] for model in models}
    s21 = next(model for model in models if model["name"] == "S21")
    assert same(s21["efficiency_j_per_th"], Decimal(s21["power_w"]) / Decimal(s21["hashrate_ths"]))


async def test_status_reports_coverage_pending_failures_and_synthetic_data(api: ApiHarness) -> None:
    body = (await api.client.get("/api/v1/status")).json()
    assert body["first_date"] == "2024-03-29"
    assert body["last_date"] == "2024-10-28"
    # 2024-10-28 lost a period to a failed fetch, so the autumn day before it is the latest complete one.
    assert body["latest_complete_date"] == AUTUMN[1].isoformat()
    assert body["pending_difficulty_periods"] == len(PENDING)
    assert body["failed_periods_count"] == len(FAILED)
    assert [(p["settlement_date"], p["settlement_period"]) for p in body["failed_periods"]] == [
        (day.isoformat(), period) for day, period in FAILED
    ]
    assert body["synthetic"] is True
    assert body["synthetic_periods"] == body["periods_ingested"]


async def test_tables_export_as_csv(api: ApiHarness) -> None:
    response = await api.client.get("/api/v1/curtailment/2024-10-27/periods", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 50
    assert rows[0]["settlement_date"] == "2024-10-27"
    total = sum(Decimal(row["energy_mwh"]) for row in rows)
    assert total == api.facts.energy(api.facts.records_in(AUTUMN[1], AUTUMN[1]))
    by_accept = await api.client.get("/api/v1/bm-units", headers={"Accept": "text/csv"})
    units = list(csv.DictReader(io.StringIO(by_accept.text)))
    assert sorted(row["elexon_bm_unit"] for row in units) == sorted(api.sample.bm_units)
    summary = await api.client.get("/api/v1/summaries/daily/2024-10-27?format=csv")
    (row,) = list(csv.DictReader(io.StringIO(summary.text)))
    assert row["timeframe_value"] == "2024-10-27"
    assert row["coverage_periods_expected"] == "50"


@pytest.mark.parametrize(
    ("path", "hint_fragment"),
    [
        ("/api/v1/summaries/monthly/2024-13", "01 to 12"),
        ("/api/v1/summaries/daily/2024-02-30", "YYYY-MM-DD"),
        ("/api/v1/summaries/daily/yesterday", "YYYY-MM-DD"),
        ("/api/v1/summaries/yearly/1850", "2001-03-27"),
        ("/api/v1/summaries/range/2004-01-01..2024-01-01", "at most"),
        ("/api/v1/summaries/range/2024-02-01..2024-01-01", "FIRST <= LAST"),
        ("/api/v1/summaries/weekly/2024-01", "/openapi.json"),
        ("/api/v1/mining/daily/2024-03-31?miner_model=S99", "S21"),
        ("/api/v1/summaries/daily/2024-03-31?lead_party=Nobody%20Ltd", "/api/v1/lead-parties"),
        ("/api/v1/series/monthly/2024-03?by=period", "by=day"),
        ("/api/v1/top/bm-units/yearly/2024?limit=100000", "/openapi.json"),
        ("/api/v1/bm-units?offset=-1", "/openapi.json"),
    ],
)
async def test_bad_parameters_get_a_4xx_that_says_what_to_send(
    api: ApiHarness, path: str, hint_fragment: str
) -> None:
    response = await api.client.get(path)
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert hint_fragment in error["hint"]


async def test_probes_and_metrics(api: ApiHarness) -> None:
    assert (await api.client.get("/health")).json() == {"status": "ok"}
    assert (await api.client.get("/ready")).json() == {"status": "ok", "database": "ok"}
    await api.client.get("/api/v1/summaries/yearly/2024")
    metrics = (await api.client.get("/metrics")).text
    route = "/api/v1/summaries/{timeframe}/{value}"
    assert f'windhash_api_requests_total{{method="GET",route="{route}",status="200"}}' in metrics
    assert "windhash_api_request_duration_seconds_bucket" in metrics


async def test_dashboard_and_its_assets_are_served(api: ApiHarness) -> None:
    page = await api.client.get("/")
    assert page.status_code == 200
    assert "windhash" in page.text
    for asset in ("dashboard.js", "charts.js", "format.js", "dashboard.css"):
        assert (await api.client.get(f"/static/{asset}")).status_code == 200
