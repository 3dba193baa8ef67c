"""Every figure endpoint against PostgreSQL filled with the sample, checked against figures recomputed from
the fact tables (curtailment_records, bitcoin_calculations, btc_prices) in the test."""

from datetime import date
from decimal import Decimal

import pytest
from test_api_support import AUTUMN, FAILED, NO_PRICE_DAY, PENDING, SPRING, ApiHarness, api_fixture, same  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.settlement_calendar import settlement_periods_in_day

pytestmark = pytest.mark.integration


async def test_daily_summary_matches_the_facts_on_the_46_period_day(api: ApiHarness) -> None:
    day = date(2024, 3, 31)
    body = (await api.client.get(f"/api/v1/summaries/daily/{day}")).json()
    rows = api.facts.records_in(day, day)
    assert same(body["energy_mwh"], api.facts.energy(rows))
    assert same(body["cashflow_gbp"], api.facts.cashflow(rows))
    assert body["record_count"] == len(rows)
    assert body["periods_curtailed"] == len({row["settlement_period"] for row in rows})
    assert body["bm_units_curtailed"] == len({row["bm_unit"] for row in rows})
    assert body["coverage"] == {
        "periods_expected": 46,
        "periods_ingested": 46,
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
        ("range/2024-03-30..2024-10-26", date(2024, 3, 30), date(2024, 10, 26)),
    ],
)
async def test_month_year_and_range_summaries_match_the_facts(
    api: ApiHarness, path: str, first: date, last: date
) -> None:
    body = (await api.client.get(f"/api/v1/summaries/{path}")).json()
    rows = api.facts.records_in(first, last)
    assert same(body["energy_mwh"], api.facts.energy(rows))
    assert same(body["cashflow_gbp"], api.facts.cashflow(rows))
    assert body["record_count"] == len(rows)
    assert body["periods_curtailed"] == len({(r["settlement_date"], r["settlement_period"]) for r in rows})
    assert body["bm_units_curtailed"] == len({row["bm_unit"] for row in rows})
    assert body["timeframe"]["first_date"] == first.isoformat()
    assert body["timeframe"]["last_date"] == last.isoformat()
    assert body["coverage"]["complete"] is False  # the sample holds only some days of each span


async def test_yearly_coverage_counts_pending_and_failed_periods(api: ApiHarness) -> None:
    coverage = (await api.client.get("/api/v1/summaries/yearly/2024")).json()["coverage"]
    held = sum(settlement_periods_in_day(day) for day in SPRING + AUTUMN) - len(FAILED)
    assert coverage["periods_ingested"] == held
    assert coverage["periods_pending_difficulty"] == len(PENDING)
    assert coverage["periods_failed"] == len(FAILED)
    assert coverage["periods_expected"] == 17568


async def test_summaries_filtered_by_lead_party_or_bm_unit(api: ApiHarness) -> None:
    party = api.sample.lead_parties[1]
    unit = api.sample.bm_units[4]
    for params, rows in (
        ({"lead_party": party}, api.facts.records_in(date(2024, 1, 1), date(2024, 12, 31), lead_party=party)),
        ({"bm_unit": unit}, api.facts.records_in(date(2024, 1, 1), date(2024, 12, 31), bm_unit=unit)),
    ):
        body = (await api.client.get("/api/v1/summaries/yearly/2024", params=params)).json()
        assert same(body["energy_mwh"], api.facts.energy(rows))
        assert same(body["cashflow_gbp"], api.facts.cashflow(rows))
        assert body["record_count"] == len(rows)
        assert body["periods_curtailed"] is None
        assert body["filters"] == {"lead_party": None, "bm_unit": None, "miner_model": None} | params


@pytest.mark.parametrize(
    ("day", "periods"), [(date(2024, 3, 31), 46), (date(2024, 4, 1), 48), (AUTUMN[1], 50)]
)
async def test_curtailment_by_period_lists_every_period_of_the_day(
    api: ApiHarness, day: date, periods: int
) -> None:
    body = (await api.client.get(f"/api/v1/curtailment/{day}/periods")).json()
    assert body["periods_in_day"] == periods
    assert [row["settlement_period"] for row in body["periods"]] == list(range(1, periods + 1))
    for row in body["periods"]:
        period = row["settlement_period"]
        facts = [r for r in api.facts.records_in(day, day) if r["settlement_period"] == period]
        assert same(row["energy_mwh"], api.facts.energy(facts))
        assert same(row["cashflow_gbp"], api.facts.cashflow(facts))
        assert row["record_count"] == len(facts)
    assert body["periods"][0]["period_start_local"].startswith(f"{day}T00:00:00")


async def test_curtailment_by_hour_keeps_both_01_00_hours_of_the_autumn_day(api: ApiHarness) -> None:
    day = date(2024, 10, 27)
    body = (await api.client.get(f"/api/v1/curtailment/{day}/hours")).json()
    assert body["hours_in_day"] == 25
    one_oclock = [hour for hour in body["hours"] if hour["hour_start_local"][11:16] == "01:00"]
    assert [hour["utc_offset"] for hour in one_oclock] == ["+01:00", "+00:00"]
    assert [hour["settlement_periods"] for hour in one_oclock] == [[3, 4], [5, 6]]
    rows = api.facts.records_in(day, day)
    for hour in body["hours"]:
        members = [r for r in rows if r["settlement_period"] in hour["settlement_periods"]]
        assert same(hour["energy_mwh"], api.facts.energy(members))
    assert same(body["energy_mwh"], api.facts.energy(rows))


async def test_curtailment_by_hour_skips_01_00_on_the_spring_day(api: ApiHarness) -> None:
    body = (await api.client.get("/api/v1/curtailment/2024-03-31/hours")).json()
    assert body["hours_in_day"] == 23
    assert [hour["hour_start_local"][11:16] for hour in body["hours"][:2]] == ["00:00", "02:00"]


@pytest.mark.parametrize(
    ("path", "first", "last"),
    [
        ("daily/2024-03-31", date(2024, 3, 31), date(2024, 3, 31)),
        ("monthly/2024-04", date(2024, 4, 1), date(2024, 4, 30)),
        ("yearly/2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("range/2024-03-29..2024-04-01", date(2024, 3, 29), date(2024, 4, 1)),
    ],
)
async def test_mining_per_model_matches_the_calculations(
    api: ApiHarness, path: str, first: date, last: date
) -> None:
    body = (await api.client.get(f"/api/v1/mining/{path}")).json()
    by_model = {row["miner_model"]: row for row in body["models"]}
    assert set(api.sample.miner_models) <= set(by_model)
    for model in api.sample.miner_models:
        calculations = api.facts.calculations_in(first, last, model)
        row = by_model[model]
        assert same(row["btc"], sum((c["btc"] for c in calculations), Decimal(0)))
        assert same(row["energy_mwh"], sum((c["energy_mwh"] for c in calculations), Decimal(0)))
        value, missing = api.facts.value_gbp(calculations)
        assert same(row["value_gbp"], value)
        assert row["days_without_price"] == missing
        assert same(row["difficulty_min"], min(c["difficulty"] for c in calculations))
        assert same(row["difficulty_max"], max(c["difficulty"] for c in calculations))


async def test_a_day_without_a_price_has_btc_but_no_value(api: ApiHarness) -> None:
    path = f"/api/v1/mining/daily/{NO_PRICE_DAY}"
    body = (await api.client.get(path, params={"miner_model": "S21"})).json()
    (row,) = body["models"]
    assert row["btc"] > 0
    assert row["value_gbp"] is None
    assert row["days_without_price"] == 1


async def test_mining_filtered_by_lead_party_is_computed_from_the_facts(api: ApiHarness) -> None:
    party = api.sample.lead_parties[2]
    body = (
        await api.client.get("/api/v1/mining/yearly/2024", params={"lead_party": party, "miner_model": "S21"})
    ).json()
    (row,) = body["models"]
    calculations = api.facts.calculations_in(date(2024, 1, 1), date(2024, 12, 31), "S21", lead_party=party)
    assert same(row["btc"], sum((c["btc"] for c in calculations), Decimal(0)))
    value, missing = api.facts.value_gbp(calculations)
    assert same(row["value_gbp"], value)
    assert row["days_without_price"] == missing == 1


async def test_comparison_sets_bitcoin_value_against_cashflow(api: ApiHarness) -> None:
    first, last = date(2024, 10, 1), date(2024, 10, 31)
    body = (await api.client.get("/api/v1/comparison/monthly/2024-10", params={"miner_model": "S21"})).json()
    records = api.facts.records_in(first, last)
    energy, cashflow = api.facts.energy(records), api.facts.cashflow(records)
    assert same(body["energy_mwh"], energy)
    assert same(body["cashflow_gbp"], cashflow)
    assert same(body["cashflow_gbp_per_mwh"], (cashflow / energy).quantize(Decimal("0.0001")))
    (row,) = body["models"]
    calculations = api.facts.calculations_in(first, last, "S21")
    value, _ = api.facts.value_gbp(calculations)
    assert value is not None
    assert same(row["value_gbp"], value)
    assert same(row["value_to_cashflow_ratio"], (value / cashflow).quantize(Decimal("0.000001")))
    mined_energy = sum((c["energy_mwh"] for c in calculations), Decimal(0))
    assert same(row["value_gbp_per_mwh"], (value / mined_energy).quantize(Decimal("0.0001")))


async def test_series_by_period_carries_each_periods_btc(api: ApiHarness) -> None:
    day = PENDING[0][0]
    body = (await api.client.get(f"/api/v1/series/daily/{day}", params={"miner_model": "S21"})).json()
    assert body["by"] == "period"
    assert len(body["points"]) == 48
    calculations = api.facts.calculations_in(day, day, "S21")
    records = api.facts.records_in(day, day)
    for point in body["points"]:
        period = int(point["key"])
        mined = [c for c in calculations if c["settlement_period"] == period]
        curtailed = [r for r in records if r["settlement_period"] == period]
        assert same(point["energy_mwh"], api.facts.energy(curtailed))
        if (day, period) in PENDING and curtailed:
            assert point["btc"] is None  # awaiting difficulty: unknown, not zero
        else:
            assert same(point["btc"], sum((c["btc"] for c in mined), Decimal(0)))


async def test_series_by_day_and_by_month(api: ApiHarness) -> None:
    days = (await api.client.get("/api/v1/series/monthly/2024-03", params={"miner_model": "S21"})).json()
    assert days["by"] == "day"
    assert len(days["points"]) == 31
    for point in days["points"]:
        day = date.fromisoformat(point["key"])
        assert same(point["energy_mwh"], api.facts.energy(api.facts.records_in(day, day)))
    months = (await api.client.get("/api/v1/series/yearly/2024", params={"miner_model": "S21"})).json()
    assert months["by"] == "month"
    assert [point["key"] for point in months["points"]] == [f"2024-{month:02d}" for month in range(1, 13)]
    april = months["points"][3]
    calculations = api.facts.calculations_in(date(2024, 4, 1), date(2024, 4, 30), "S21")
    assert same(april["btc"], sum((c["btc"] for c in calculations), Decimal(0)))
    value, missing = api.facts.value_gbp(calculations)
    assert same(april["value_gbp"], value)
    assert april["days_without_price"] == missing
