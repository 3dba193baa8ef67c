"""The routes the dashboard's farm, lead-party and chart views read (#21): a farm's and a lead party's
standing, BTC per model by day and month, each day's difficulty and price, and the farm reference file; every
figure recomputed from the fact tables."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from test_api_support import AUTUMN, NO_PRICE_DAY, SPRING, ApiHarness, api_fixture, same  # type: ignore[import-not-found]  # noqa: F401

pytestmark = pytest.mark.integration
FIRST, LAST = SPRING[0], AUTUMN[-1]
SPAN = f"range/{FIRST}..{LAST}"


def _energy_by_unit(api: ApiHarness) -> dict[str, Decimal]:
    energy: dict[str, Decimal] = defaultdict(Decimal)
    for row in api.facts.records_in(FIRST, LAST):
        energy[row["bm_unit"]] += -row["volume_mwh"]
    return energy


async def test_a_farms_standing_is_its_row_in_the_ranking_and_within_its_lead_party(api: ApiHarness) -> None:
    energy = _energy_by_unit(api)
    ranked = sorted(energy, key=lambda unit: (-energy[unit], unit))
    unit = ranked[4]
    body = (await api.client.get(f"/api/v1/standing/bm-units/{SPAN}", params={"bm_unit": unit})).json()
    assert body["rank"] == 5 and body["units_ranked"] == len(ranked)
    assert same(body["energy_mwh"], energy[unit])
    rows = api.facts.records_in(FIRST, LAST, bm_unit=unit)
    assert same(body["cashflow_gbp"], api.facts.cashflow(rows))
    party = rows[0]["lead_party_name"]
    mates = sorted(
        {r["bm_unit"] for r in api.facts.records_in(FIRST, LAST, lead_party=party)},
        key=lambda u: (-energy[u], u),
    )
    assert body["lead_party_name"] == party
    assert (body["rank_in_lead_party"], body["units_in_lead_party"]) == (mates.index(unit) + 1, len(mates))
    ranking = (await api.client.get(f"/api/v1/top/bm-units/{SPAN}", params={"limit": 500})).json()
    assert next(item["rank"] for item in ranking["items"] if item["bm_unit"] == unit) == body["rank"]


async def test_a_farm_not_curtailed_in_the_span_has_no_rank_and_an_unknown_one_is_refused(
    api: ApiHarness,
) -> None:
    await api.connection.execute(
        "INSERT INTO wind_bm_units (elexon_bm_unit, lead_party_name) VALUES ('T_QUIET-1', 'Quiet Ltd')"
    )
    body = (await api.client.get(f"/api/v1/standing/bm-units/{SPAN}", params={"bm_unit": "T_QUIET-1"})).json()
    assert body["rank"] is None and body["energy_mwh"] == 0 and body["lead_party_name"] == "Quiet Ltd"
    unknown = await api.client.get(f"/api/v1/standing/bm-units/{SPAN}", params={"bm_unit": "T_NOPE-1"})
    assert unknown.status_code == 422 and "/api/v1/bm-units" in unknown.json()["error"]["hint"]
    missing = await api.client.get(f"/api/v1/standing/bm-units/{SPAN}")
    assert missing.status_code == 422


async def test_a_lead_partys_standing(api: ApiHarness) -> None:
    energy: dict[str, Decimal] = defaultdict(Decimal)
    units: dict[str, set[str]] = defaultdict(set)
    for row in api.facts.records_in(FIRST, LAST):
        energy[row["lead_party_name"]] += -row["volume_mwh"]
        units[row["lead_party_name"]].add(row["bm_unit"])
    ranked = sorted(energy, key=lambda party: (-energy[party], party))
    party = ranked[1]
    response = await api.client.get(f"/api/v1/standing/lead-parties/{SPAN}", params={"lead_party": party})
    body = response.json()
    assert (body["rank"], body["parties_ranked"]) == (2, len(ranked))
    assert same(body["energy_mwh"], energy[party]) and body["bm_units_curtailed"] == len(units[party])
    csv = await api.client.get(
        f"/api/v1/standing/lead-parties/{SPAN}", params={"lead_party": party, "format": "csv"}
    )
    assert csv.status_code == 200 and csv.text.splitlines()[1].count(",") >= 5


@pytest.mark.parametrize("place", ["all", "lead_party", "bm_unit"])
async def test_btc_per_model_by_day_and_month_equals_the_calculations(api: ApiHarness, place: str) -> None:
    filters: dict[str, str] = {}
    if place == "lead_party":
        filters = {"lead_party": api.sample.lead_parties[1]}
    elif place == "bm_unit":
        filters = {"bm_unit": api.sample.bm_units[4]}
    by_day = (await api.client.get(f"/api/v1/series/{SPAN}/models", params={**filters, "by": "day"})).json()
    by_month = (
        await api.client.get(f"/api/v1/series/{SPAN}/models", params={**filters, "by": "month"})
    ).json()
    assert by_day["by"] == "day" and by_month["by"] == "month"
    for model in api.sample.miner_models:
        calculations = api.facts.calculations_in(FIRST, LAST, model, **filters)
        expected = api.facts.btc_by_day(calculations)
        got = {p["key"]: p for p in by_day["points"] if p["miner_model"] == model}
        assert set(got) == {day.isoformat() for day in expected}
        for day, btc in expected.items():
            assert same(got[day.isoformat()]["btc"], btc)
        price_missing = got.get(NO_PRICE_DAY.isoformat())
        if price_missing is not None:
            assert price_missing["value_gbp"] is None and price_missing["days_without_price"] == 1
        months: dict[str, Decimal] = defaultdict(Decimal)
        for day, btc in expected.items():
            months[day.isoformat()[:7]] += btc
        got_months = {p["key"]: p["btc"] for p in by_month["points"] if p["miner_model"] == model}
        assert set(got_months) == set(months)
        assert all(same(got_months[key], value) for key, value in months.items())
        value, _ = api.facts.value_gbp(calculations)
        values = [p["value_gbp"] for p in by_month["points"] if p["miner_model"] == model]
        assert same(sum(v for v in values if v is not None), value)


async def test_each_days_difficulty_and_price(api: ApiHarness) -> None:
    body = (await api.client.get(f"/api/v1/difficulty-price/range/{SPRING[0]}..{SPRING[-1]}")).json()
    assert [day["day"] for day in body["days"]] == [d.isoformat() for d in SPRING]
    for day in body["days"]:
        on = date.fromisoformat(day["day"])
        difficulties = {row["difficulty"] for row in api.facts.calculations if row["settlement_date"] == on}
        assert same(day["difficulty_min"], min(difficulties)) and same(
            day["difficulty_max"], max(difficulties)
        )
        price = api.facts.prices.get(on, {}).get("gbp")
        assert same(day["price_gbp"], price)
    assert next(d for d in body["days"] if d["day"] == NO_PRICE_DAY.isoformat())["price_gbp"] is None


async def test_the_farm_reference_file_is_served_with_its_source(api: ApiHarness) -> None:
    body = (await api.client.get("/api/v1/farm-locations")).json()
    assert "Elexon" in body["source"] and "approximate" in body["source"]
    farms = {item["elexon_bm_unit"]: item for item in body["items"]}
    assert len(farms) == 212
    seagreen = farms["T_SGRWO-1"]
    assert seagreen["farm_name"] == "Seagreen" and seagreen["location"] == "approximate"
    assert 56 < seagreen["latitude"] < 57 and -2.5 < seagreen["longitude"] < -1
    assert all(item["latitude"] is None for item in farms.values() if item["location"] == "unknown")
    csv = await api.client.get("/api/v1/farm-locations", params={"format": "csv"})
    assert csv.text.startswith("elexon_bm_unit,farm_name,")
