"""The synthetic market server: determinism, the real JSON shapes, no data after "now", the label, faults.
Served through httpx's ASGI transport, so no port is opened."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from windhash_market_sim.app import SYNTHETIC_HEADER, SimState, build_app
from windhash_market_sim.faults import FaultRule
from windhash_market_sim.generator import ANCHOR_TIME, EPOCH_BLOCKS, adjustments_between

NOW = datetime(2026, 3, 1, 12, 7, 30, tzinfo=UTC)


def client(state: SimState) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(state)), base_url="http://sim")


async def test_answers_are_deterministic_labelled_and_never_from_the_future() -> None:
    state = SimState(clock=lambda: NOW)
    async with client(state) as http:
        first = await http.get(
            "/api/v3/coins/bitcoin/market_chart/range?vs_currency=usd&from=1772236800&to=1900000000"
        )
        again = await http.get(
            "/api/v3/coins/bitcoin/market_chart/range?vs_currency=usd&from=1772236800&to=1900000000"
        )
        price = await http.get("/api/v3/simple/price?ids=bitcoin&vs_currencies=usd,gbp&include_24hr_vol=true")
    assert first.content == again.content
    assert first.headers[SYNTHETIC_HEADER] == "true" and price.headers[SYNTHETIC_HEADER] == "true"
    points = first.json()["prices"]
    assert points and points[-1][0] <= NOW.timestamp() * 1000
    assert {"prices", "market_caps", "total_volumes"} == set(first.json())
    coin = price.json()["bitcoin"]
    assert {"usd", "gbp", "usd_24h_vol", "gbp_24h_vol", "last_updated_at"} <= set(coin)
    assert coin["last_updated_at"] == int(NOW.timestamp())


async def test_history_reaches_back_to_2019_with_a_retarget_every_2016_blocks() -> None:
    state = SimState(clock=lambda: NOW)
    async with client(state) as http:
        answer = (await http.get("/api/v1/mining/difficulty-adjustments/all")).json()
        block = (await http.get(f"/api/v1/mining/blocks/timestamp/{int(NOW.timestamp())}")).json()
        too_early = await http.get("/api/v1/mining/blocks/timestamp/1500000000")
    heights = [entry[1] for entry in answer]
    assert heights == sorted(heights, reverse=True)  # newest first, as mempool.space lists them
    assert {a - b for a, b in itertools.pairwise(heights)} == {EPOCH_BLOCKS}
    assert datetime.fromtimestamp(answer[-1][0], tz=UTC) == ANCHOR_TIME < datetime(2019, 1, 1, tzinfo=UTC)
    assert datetime.fromtimestamp(answer[0][0], tz=UTC) <= NOW
    assert datetime.fromisoformat(block["timestamp"]) <= NOW and too_early.status_code == 404
    assert len(adjustments_between(2019, ANCHOR_TIME, NOW)) == len(answer)


async def test_faults_apply_to_their_endpoint_as_many_times_as_asked() -> None:
    state = SimState(clock=lambda: NOW)
    state.faults.add(FaultRule(kind="status", endpoint="price", status=429, retry_after=2, times=1))
    state.faults.add(FaultRule(kind="value", endpoint="hashrate", field="currentDifficulty", value=0.5))
    state.faults.add(FaultRule(kind="stale", endpoint="price", delay_s=7200))
    state.faults.add(FaultRule(kind="malformed", endpoint="block"))
    async with client(state) as http:
        limited = await http.get("/api/v3/simple/price?ids=bitcoin&vs_currencies=usd,gbp")
        stale = await http.get("/api/v3/simple/price?ids=bitcoin&vs_currencies=usd,gbp")
        normal = await http.get("/api/v3/simple/price?ids=bitcoin&vs_currencies=usd,gbp")
        hashrate = await http.get("/api/v1/mining/hashrate/3d")
        block = await http.get(f"/api/v1/mining/blocks/timestamp/{int(NOW.timestamp())}")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert stale.json()["bitcoin"]["last_updated_at"] == int((NOW - timedelta(hours=2)).timestamp())
    assert normal.json()["bitcoin"]["last_updated_at"] == int(NOW.timestamp())
    assert hashrate.json()["currentDifficulty"] == 0.5
    assert block.status_code == 200 and not block.text.endswith("}")
    assert all(fault.remaining == 0 for fault in state.faults.snapshot())


async def test_prices_and_difficulty_stay_within_the_reference_bounds_over_the_years() -> None:
    from windhash_common.reference_bounds import difficulty_problem, hashrate_problem, price_problem
    from windhash_market_sim import generator

    for year in range(2019, 2027):
        at = datetime(year, 6, 1, tzinfo=UTC)
        difficulty = generator.difficulty_at(2019, at)
        assert difficulty_problem(difficulty) is None
        hashrate = generator.hashrate_hs(2019, at) / Decimal("1e18")
        assert hashrate_problem(hashrate, difficulty) is None
        assert price_problem(generator.price_usd(2019, at), "usd") is None
