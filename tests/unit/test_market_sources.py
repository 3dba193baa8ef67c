"""The market-data clients and their retry rules (the Elexon client's), against the synthetic market server
through httpx's ASGI transport."""

import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import stamina
from windhash_common.market_sources.explorer import ExplorerClient
from windhash_common.market_sources.http_fetch import (
    SOURCE_REQUESTS,
    FetchLimits,
    SourceError,
    parse_retry_after_s,
)
from windhash_common.market_sources.price_api import PriceApiClient
from windhash_market_sim.app import SimState, build_app
from windhash_market_sim.faults import FaultRule

NOW = datetime(2026, 3, 1, 12, 7, 30, tzinfo=UTC)
FAST = FetchLimits(attempts=3, backoff_initial_s=0.001, backoff_max_s=0.01, deadline_s=0.5)


def sim() -> tuple[SimState, httpx.ASGITransport]:
    state = SimState(clock=lambda: NOW)
    return state, httpx.ASGITransport(app=build_app(state))


def requests(source: str, outcome: str) -> float:
    return float(SOURCE_REQUESTS.labels(source, outcome)._value.get())


async def test_5xx_and_429_are_retried_then_the_answer_is_read() -> None:
    state, transport = sim()
    state.faults.add(FaultRule(kind="status", endpoint="price", status=503))
    state.faults.add(FaultRule(kind="status", endpoint="price", status=429, retry_after=0.2))
    before = requests("price_api", "503")
    # Real waits for this one (the unit tests' stamina testing mode skips them): Retry-After is the point.
    with stamina.set_testing(False):
        async with PriceApiClient("http://sim", FAST, transport=transport) as prices:
            started = time.monotonic()
            quote = await prices.quote()
    assert time.monotonic() - started >= 0.2  # Retry-After honoured
    assert quote.quoted_at == NOW and quote.usd > 0
    assert state.served()["price"] == 3
    assert requests("price_api", "503") == before + 1


async def test_when_the_attempts_run_out_the_failure_is_raised_never_an_empty_answer() -> None:
    state, transport = sim()
    state.faults.add(FaultRule(kind="status", endpoint="hashrate", status=500, times=None))
    async with ExplorerClient("http://sim", FAST, transport=transport) as explorer:
        with pytest.raises(SourceError, match="failed 3 times, last: HTTP 500"):
            await explorer.hashrate()
    assert state.served()["hashrate"] == 3


async def test_a_4xx_or_a_body_that_is_not_json_fails_at_once() -> None:
    state, transport = sim()
    state.faults.add(FaultRule(kind="status", endpoint="block", status=404))
    state.faults.add(FaultRule(kind="malformed", endpoint="block"))
    async with ExplorerClient("http://sim", FAST, transport=transport) as explorer:
        with pytest.raises(SourceError, match="answered 404"):
            await explorer.block_at(NOW)
        with pytest.raises(SourceError, match="not JSON"):
            await explorer.block_at(NOW)
    assert state.served()["block"] == 2


async def test_a_reply_too_slow_or_too_large_is_bounded() -> None:
    state, transport = sim()
    state.faults.add(FaultRule(kind="slow", endpoint="adjustments", delay_s=5, times=None))
    async with ExplorerClient("http://sim", FAST, transport=transport) as explorer:
        started = time.monotonic()
        with pytest.raises(SourceError, match="no whole reply within"):
            await explorer.daily_difficulties("1m", NOW.date())
        assert time.monotonic() - started < 4
    small = FetchLimits(attempts=1, max_body_bytes=2048)
    _, transport = sim()
    async with ExplorerClient("http://sim", small, transport=transport) as explorer:
        with pytest.raises(SourceError, match="over the limit"):
            await explorer.difficulty_adjustments("all")


async def test_a_missing_or_mistyped_field_is_a_malformed_answer() -> None:
    state, transport = sim()
    state.faults.add(FaultRule(kind="missing_field", endpoint="price", field="gbp"))
    state.faults.add(FaultRule(kind="value", endpoint="price", field="usd", value="lots"))
    state.faults.add(FaultRule(kind="payload", endpoint="price", body=b'{"bitcoin": {"usd": NaN}}'))
    async with PriceApiClient("http://sim", FAST, transport=transport) as prices:
        for expected in ("gbp is None", "usd is 'lots'", "not JSON"):
            with pytest.raises(SourceError, match=expected):
                await prices.quote()


async def test_history_by_day_and_the_price_nearest_a_past_slot() -> None:
    _, transport = sim()
    async with (
        PriceApiClient("http://sim", FAST, transport=transport) as prices,
        ExplorerClient("http://sim", FAST, transport=transport) as explorer,
    ):
        daily = await prices.daily_prices(date(2019, 1, 1), date(2019, 1, 31))
        difficulties = await explorer.daily_difficulties("all", date(2019, 1, 31))
        slot = NOW.replace(minute=0, second=0) - timedelta(hours=3)
        past = await prices.quote_at(slot, timedelta(minutes=5))
        future = await prices.quote_at(NOW + timedelta(days=1), timedelta(minutes=5))
    assert [price.price_date for price in daily] == [date(2019, 1, day) for day in range(1, 32)]
    assert min(difficulties) == date(2019, 1, 1)
    assert past is not None and past.quoted_at == slot
    assert future is None  # no point near it: a gap, never a price from elsewhere


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after_s("3") == 3.0
    assert parse_retry_after_s("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after_s("soon") is None and parse_retry_after_s(None) is None
