"""The synthetic Elexon server: determinism, the real JSON shape, calendar edges, faults and revisions.
Served through httpx's ASGI transport, so no port is opened."""

import hashlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_elexon_sim import API_PREFIX, SYNTHETIC_HEADER, FaultRule, SimState, build_app, settlement_stack
from windhash_elexon_sim.units import bm_unit_reference, wind_unit_ids

DAY = date(2024, 1, 5)
# Field names of SettlementStackResponse and BmUnitData in Elexon's OpenAPI document (Insights.Api 1.0).
STACK_FIELDS = {
    "reserveScarcityPrice",
    "tlmAdjustedVolume",
    "originalPrice",
    "volume",
    "arbitrageAdjustedVolume",
    "acceptanceId",
    "dmatAdjustedVolume",
    "soFlag",
    "startTime",
    "id",
    "storProviderFlag",
    "createdDateTime",
    "cadlFlag",
    "parAdjustedVolume",
    "settlementDate",
    "sequenceNumber",
    "tlmAdjustedCost",
    "nivAdjustedVolume",
    "settlementPeriod",
    "repricedIndicator",
    "finalPrice",
    "bidOfferPairId",
    "transmissionLossMultiplier",
}
BM_UNIT_FIELDS = {
    "fuelType",
    "leadPartyId",
    "elexonBmUnit",
    "workingDayCreditAssessmentExportCapability",
    "workingDayCreditAssessmentImportCapability",
    "bmUnitType",
    "productionOrConsumptionFlag",
    "transmissionLossFactor",
    "demandInProductionFlag",
    "leadPartyName",
    "gspGroupName",
    "nationalGridBmUnit",
    "bmUnitName",
    "generationCapacity",
    "nonWorkingDayCreditAssessmentExportCapability",
    "creditQualifyingStatus",
    "interconnectorId",
    "gspGroupId",
    "nonWorkingDayCreditAssessmentImportCapability",
    "demandCapacity",
    "eic",
    "fpnFlag",
}


@pytest.fixture
async def sim() -> AsyncIterator[tuple[SimState, httpx.AsyncClient]]:
    state = SimState()
    transport = httpx.ASGITransport(app=build_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield state, client


def stack_url(day: date, period: int, side: str = "bid") -> str:
    return f"{API_PREFIX}/balancing/settlement/stack/all/{side}/{day.isoformat()}/{period}"


def curtailment(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wind = wind_unit_ids()
    return [r for r in rows if r["id"] in wind and r["soFlag"] is True and r["volume"] < 0]


def test_the_same_inputs_give_the_same_rows_and_other_inputs_other_rows() -> None:
    assert settlement_stack(DAY, 3, "bid") == settlement_stack(DAY, 3, "bid")
    assert settlement_stack(DAY, 3, "bid") != settlement_stack(DAY, 4, "bid")
    assert settlement_stack(DAY, 3, "bid") != settlement_stack(DAY, 3, "bid", seed=7)
    assert settlement_stack(DAY, 3, "bid") != settlement_stack(DAY, 3, "offer")


def test_a_returned_stack_is_a_copy() -> None:
    rows = settlement_stack(DAY, 3, "bid")
    rows[0]["volume"] = 999
    assert settlement_stack(DAY, 3, "bid")[0]["volume"] != 999


async def test_stack_response_has_the_real_shape_and_is_labelled_synthetic(
    sim: tuple[SimState, httpx.AsyncClient],
) -> None:
    _, client = sim
    response = await client.get(stack_url(DAY, 3))
    assert response.status_code == 200
    assert response.headers[SYNTHETIC_HEADER] == "true"
    body = response.json()
    assert body["metadata"] == {"datasets": ["ISPSTACK"], "synthetic": True}
    assert body["data"] and all(set(row) == STACK_FIELDS for row in body["data"])
    assert [row["sequenceNumber"] for row in body["data"]] == list(range(1, len(body["data"]) + 1))
    assert body["data"] == settlement_stack(DAY, 3, "bid")


def test_stacks_hold_rows_the_ingestor_must_filter_out() -> None:
    wind = wind_unit_ids()
    rows = [row for period in range(1, 49) for row in settlement_stack(DAY, period, "bid")]
    assert any(row["id"] not in wind for row in rows)
    assert any(row["id"] == "T_DRAXX-1" for row in rows)
    assert any(row["id"] in wind and row["soFlag"] is False for row in rows)
    assert any(row["id"] in wind and row["volume"] > 0 for row in rows)
    offers = [row for period in range(1, 49) for row in settlement_stack(DAY, period, "offer")]
    assert any(row["id"] in wind for row in offers) and all(row["volume"] > 0 for row in offers)


def test_several_acceptances_per_unit_and_period_with_unique_keys() -> None:
    rows = curtailment(settlement_stack(DAY, 3, "bid"))
    keys = [(r["id"], r["acceptanceId"], r["bidOfferPairId"]) for r in rows]
    assert len(keys) == len(set(keys))
    per_unit = Counter(r["id"] for r in rows)
    assert max(per_unit.values()) >= 3


@pytest.mark.parametrize(
    ("day", "periods"), [(date(2024, 3, 31), 46), (date(2024, 10, 27), 50), (date(2024, 6, 1), 48)]
)
async def test_every_period_of_a_day_and_none_beyond(
    sim: tuple[SimState, httpx.AsyncClient], day: date, periods: int
) -> None:
    _, client = sim
    last = await client.get(stack_url(day, periods))
    assert last.status_code == 200 and last.json()["data"][0]["settlementPeriod"] == periods
    beyond = await client.get(stack_url(day, periods + 1))
    assert beyond.status_code == 400
    assert "settlementPeriod" in beyond.json()["errors"]


@pytest.mark.parametrize(
    "url",
    [
        stack_url(DAY, 0),
        stack_url(DAY, 3, "both"),
        f"{API_PREFIX}/balancing/settlement/stack/all/bid/05-01-2024/3",
    ],
)
async def test_bad_questions_get_400(sim: tuple[SimState, httpx.AsyncClient], url: str) -> None:
    _, client = sim
    assert (await client.get(url)).status_code == 400


async def test_bm_units_reference_lists_the_212_wind_units_and_some_others(
    sim: tuple[SimState, httpx.AsyncClient],
) -> None:
    _, client = sim
    units = (await client.get(f"{API_PREFIX}/reference/bmunits/all")).json()
    assert all(set(unit) == BM_UNIT_FIELDS for unit in units)
    assert sum(unit["fuelType"] == "WIND" for unit in units) == 212
    assert {"T_DRAXX-1", "T_GRAI-6"} <= {unit["elexonBmUnit"] for unit in units if unit["fuelType"] != "WIND"}


async def test_status_fault_applies_as_often_as_asked_then_stops(
    sim: tuple[SimState, httpx.AsyncClient],
) -> None:
    _, client = sim
    rule = {"kind": "status", "status": 429, "retry_after": 3, "date": "2024-01-05", "period": 3, "times": 2}
    assert (await client.post("/_sim/faults", json=rule)).status_code == 200
    other = await client.get(stack_url(DAY, 4))
    assert other.status_code == 200
    first, second, third = [await client.get(stack_url(DAY, 3)) for _ in range(3)]
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"
    faults = (await client.get("/_sim/faults")).json()
    assert faults[0]["applied"] == 2 and faults[0]["remaining"] == 0


async def test_malformed_and_damaged_payloads(sim: tuple[SimState, httpx.AsyncClient]) -> None:
    state, client = sim
    state.faults.add(FaultRule(kind="malformed", period=3))
    with pytest.raises(json.JSONDecodeError):
        (await client.get(stack_url(DAY, 3))).json()
    state.faults.add(FaultRule(kind="null_field", field="acceptanceId", period=3))
    rows = (await client.get(stack_url(DAY, 3))).json()["data"]
    damaged = [row for row in rows if row["acceptanceId"] is None]
    assert damaged and len(damaged) == len(curtailment(settlement_stack(DAY, 3, "bid")))
    state.faults.add(FaultRule(kind="missing_field", field="volume", period=3, all_rows=True))
    rows = (await client.get(stack_url(DAY, 3))).json()["data"]
    assert all("volume" not in row for row in rows)


async def test_a_revision_changes_the_period_and_nothing_else(
    sim: tuple[SimState, httpx.AsyncClient],
) -> None:
    _, client = sim
    before = (await client.get(stack_url(DAY, 3))).json()["data"]
    answer = await client.post("/_sim/revisions", json={"date": "2024-01-05", "period": 3})
    assert answer.json()["revision"] == 1
    after = (await client.get(stack_url(DAY, 3))).json()["data"]
    assert len(curtailment(after)) > len(curtailment(before))
    assert sum(r["volume"] for r in curtailment(after)) < sum(r["volume"] for r in curtailment(before))
    assert (await client.get(stack_url(DAY, 4))).json()["data"] == settlement_stack(DAY, 4, "bid")
    await client.post("/_sim/reset")
    assert (await client.get(stack_url(DAY, 3))).json()["data"] == before


def test_a_year_is_calibrated_to_2024_heavy_tailed_and_concentrated() -> None:
    """About 8.3 TWh and £393m in 2024 (public figures); the synthetic year must be within 10%."""
    daily_mwh: list[float] = []
    per_unit: Counter[str] = Counter()
    cashflow = 0.0
    for day in dates_between(date(2024, 1, 1), date(2024, 12, 31)):
        energy = 0.0
        for period in settlement_periods(day):
            for row in curtailment(settlement_stack(day, period, "bid")):
                energy -= row["volume"]
                per_unit[row["id"]] -= row["volume"]
                cashflow += row["volume"] * row["originalPrice"]
        daily_mwh.append(energy)
    total = sum(daily_mwh)
    assert 7.5e6 < total < 9.1e6
    assert 354e6 < cashflow < 432e6
    daily_mwh.sort()
    assert daily_mwh[len(daily_mwh) // 2] < total / len(daily_mwh)  # median below mean: heavy-tailed
    assert sum(daily_mwh[-37:]) > 0.3 * total  # the windiest tenth of days carry far more than a tenth
    assert sum(volume for _, volume in per_unit.most_common(15)) > 0.5 * total


@pytest.mark.parametrize(
    ("key", "digest"),
    [
        ((date(2024, 3, 31), 46, "bid", 0, 2024), "fe2d460d8c9170e5"),
        ((date(2024, 10, 27), 50, "bid", 0, 2024), "0ee28a4b4399a990"),
        ((date(2024, 1, 5), 3, "offer", 0, 2024), "5966ac5fbfd9688e"),
        ((date(2024, 7, 14), 20, "bid", 2, 2024), "67a9d79fe7fa9c32"),
        ((date(2024, 2, 29), 1, "bid", 0, 7), "3f611e718e16cde9"),
    ],
)
def test_the_generated_data_stays_what_it_was(key: tuple[Any, ...], digest: str) -> None:
    """Pinned: a faster generator must still generate the same rows, so stored results stay comparable."""
    text = json.dumps(settlement_stack(*key), separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == digest


async def test_bodies_are_the_bytes_json_dumps_would_write(sim: tuple[SimState, httpx.AsyncClient]) -> None:
    state, client = sim
    metadata = {"datasets": ["ISPSTACK"], "synthetic": True}
    for day in (date(2024, 3, 31), date(2024, 10, 27), date(2024, 1, 5), date(2024, 8, 9)):
        for period in (1, 2, 17, 40, 46):
            for side in ("bid", "offer"):
                rows = settlement_stack(day, period, side)
                expected = json.dumps({"data": rows, "metadata": metadata}, separators=(",", ":"))
                assert (await client.get(stack_url(day, period, side))).content == expected.encode()
    units = await client.get(f"{API_PREFIX}/reference/bmunits/all")
    assert units.content == json.dumps(bm_unit_reference(state.seed), separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", stack_url(DAY, 3), 200),
        ("GET", stack_url(DAY, 49), 400),
        ("GET", stack_url(DAY, 3, "both"), 400),
        ("GET", stack_url(DAY, 5), 429),
        ("GET", stack_url(DAY, 6), 200),
        ("HEAD", stack_url(DAY, 3), 200),
        ("POST", stack_url(DAY, 3), 405),
        ("GET", f"{API_PREFIX}/reference/bmunits/all", 200),
        ("GET", f"{API_PREFIX}/nothing/here", 404),
        ("GET", "/_sim/health", 200),
        ("GET", "/_sim/faults", 200),
    ],
)
async def test_every_response_is_labelled_synthetic(
    sim: tuple[SimState, httpx.AsyncClient], method: str, url: str, status: int
) -> None:
    state, client = sim
    state.faults.add(FaultRule(kind="status", status=429, retry_after=2, period=5))
    state.faults.add(FaultRule(kind="payload", body=b'{"data":[]}', period=6))
    response = await client.request(method, url)
    assert response.status_code == status
    assert response.headers.get_list(SYNTHETIC_HEADER) == ["true"]


async def test_the_elexon_endpoints_answer_the_same_through_starlette(
    sim: tuple[SimState, httpx.AsyncClient],
) -> None:
    """GETs of the Elexon endpoints skip Starlette; its routes, which serve e.g. HEAD, say the same."""
    state, fast = sim
    starlette = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_app(state).starlette), base_url="http://sim"
    )
    urls = [stack_url(DAY, 3), stack_url(DAY, 49), stack_url(DAY, 3, "both"), stack_url(DAY, 7)]
    urls += [f"{API_PREFIX}/reference/bmunits/all", f"{API_PREFIX}/balancing/settlement/stack/all/bid/x/3"]
    state.faults.add(FaultRule(kind="status", status=503, retry_after=1.5, period=7, times=2))  # once each
    statuses = []
    async with starlette:
        for url in urls:
            one, other = await fast.get(url), await starlette.get(url)
            assert (one.status_code, one.content) == (other.status_code, other.content)
            assert dict(one.headers.items()) == dict(other.headers.items())
            statuses.append(one.status_code)
    assert statuses == [200, 400, 400, 503, 200, 400]


async def test_an_unexpected_error_is_a_labelled_500(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("windhash_elexon_sim.app.shared_stack", broken)
    transport = httpx.ASGITransport(app=build_app(SimState()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        response = await client.get(stack_url(DAY, 3))
    assert response.status_code == 500 and response.headers[SYNTHETIC_HEADER] == "true"


async def test_prerendered_stacks_are_the_same_bytes_and_give_way_to_faults_and_revisions() -> None:
    plain, ahead = SimState(), SimState()
    assert ahead.prerender(DAY, DAY) == 48
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(state)), base_url="http://sim")
        for state in (plain, ahead)
    ]
    async with clients[0] as generated, clients[1] as prerendered:
        for period in (1, 24, 48):
            fresh, ready = (
                (await generated.get(stack_url(DAY, period))),
                (await prerendered.get(stack_url(DAY, period))),
            )
            assert ready.content == fresh.content and ready.headers == fresh.headers
        ahead.faults.add(FaultRule(kind="malformed", period=3))
        with pytest.raises(json.JSONDecodeError):
            (await prerendered.get(stack_url(DAY, 3))).json()
        ahead.revise(DAY, 4)
        revised = (await prerendered.get(stack_url(DAY, 4))).json()["data"]
        assert revised == settlement_stack(DAY, 4, "bid", revision=1) != settlement_stack(DAY, 4, "bid")
        offers = (await prerendered.get(stack_url(DAY, 5, "offer"))).json()["data"]
        assert offers == settlement_stack(DAY, 5, "offer")
