"""Retries, backoff, Retry-After, timeouts and bounded concurrency of the Elexon client (no network)."""

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx
import pytest
from prometheus_client import REGISTRY
from windhash_elexon_sim import FaultRule, SimState, build_app
from windhash_ingestor.backoff import backoff_delay_s, parse_retry_after_s, retry_delay_s
from windhash_ingestor.elexon_client import ElexonClient, ElexonFetchError
from windhash_ingestor.settings import IngestorSettings

DAY = date(2024, 1, 5)
Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def settings(**changes: object) -> IngestorSettings:
    base: dict[str, object] = {
        "elexon_base_url": "http://elexon.test/bmrs/api/v1",
        "elexon_max_retries": 3,
        "elexon_backoff_initial_seconds": 1.0,
        "elexon_backoff_max_seconds": 30.0,
        "elexon_retry_after_max_seconds": 60.0,
    }
    base.update(changes)
    return IngestorSettings.model_validate(base)


def scripted(*responses: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle), seen


def ok(body: bytes = b'{"data":[]}', **headers: str) -> httpx.Response:
    return httpx.Response(200, content=body, headers=headers)


async def fetch(transport: httpx.AsyncBaseTransport, sleeps: Sleeps, **changes: object) -> bytes:
    async with ElexonClient(
        settings(**changes), transport=transport, sleep=sleeps, rng=random.Random(1)
    ) as client:
        return (await client.settlement_stack("bid", DAY, 7)).body


async def test_asks_for_the_settlement_stack_of_the_period() -> None:
    transport, seen = scripted(ok())
    await fetch(transport, Sleeps())
    assert (
        str(seen[0].url) == "http://elexon.test/bmrs/api/v1/balancing/settlement/stack/all/bid/2024-01-05/7"
    )


async def test_429_waits_as_long_as_retry_after_asks_then_succeeds() -> None:
    transport, seen = scripted(httpx.Response(429, headers={"Retry-After": "7"}), ok(b'{"data":[1]}'))
    sleeps = Sleeps()
    assert await fetch(transport, sleeps) == b'{"data":[1]}'
    assert len(seen) == 2
    assert sleeps.delays == [7.0]


async def test_retry_after_is_capped() -> None:
    transport, _ = scripted(httpx.Response(429, headers={"Retry-After": "86400"}), ok())
    sleeps = Sleeps()
    await fetch(transport, sleeps, elexon_retry_after_max_seconds=5.0)
    assert sleeps.delays == [5.0]


async def test_5xx_backs_off_exponentially_with_jitter() -> None:
    transport, seen = scripted(httpx.Response(500), httpx.Response(503), httpx.Response(502), ok())
    sleeps = Sleeps()
    await fetch(transport, sleeps)
    assert len(seen) == 4
    for attempt, delay in enumerate(sleeps.delays):
        ceiling = 2.0**attempt
        assert ceiling / 2 <= delay <= ceiling


async def test_timeouts_and_connection_errors_are_retried() -> None:
    transport, seen = scripted(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), ok())
    await fetch(transport, Sleeps())
    assert len(seen) == 3


async def test_after_the_last_retry_the_failure_is_raised_and_counted() -> None:
    before = (
        REGISTRY.get_sample_value("windhash_ingestor_elexon_failures_total", {"endpoint": "settlement_stack"})
        or 0.0
    )
    transport, seen = scripted(httpx.Response(503, text="maintenance"))
    sleeps = Sleeps()
    with pytest.raises(ElexonFetchError, match="after 4 attempt") as raised:
        await fetch(transport, sleeps)
    assert len(seen) == 4 and len(sleeps.delays) == 3
    assert "HTTP 503" in raised.value.outcome
    after = REGISTRY.get_sample_value(
        "windhash_ingestor_elexon_failures_total", {"endpoint": "settlement_stack"}
    )
    assert after == before + 1


async def test_persistent_timeouts_fail_loudly() -> None:
    transport, _ = scripted(httpx.ReadTimeout("slow"))
    with pytest.raises(ElexonFetchError, match="timeout"):
        await fetch(transport, Sleeps(), elexon_max_retries=1)


@pytest.mark.parametrize("status", [400, 404])
async def test_client_errors_are_not_retried(status: int) -> None:
    transport, seen = scripted(httpx.Response(status))
    sleeps = Sleeps()
    with pytest.raises(ElexonFetchError, match=f"HTTP {status}"):
        await fetch(transport, sleeps)
    assert len(seen) == 1 and sleeps.delays == []


async def test_retries_are_counted_by_reason() -> None:
    labels = {"endpoint": "settlement_stack", "reason": "429"}
    before = REGISTRY.get_sample_value("windhash_ingestor_elexon_retries_total", labels) or 0.0
    transport, _ = scripted(httpx.Response(429), httpx.Response(429), ok())
    await fetch(transport, Sleeps())
    assert REGISTRY.get_sample_value("windhash_ingestor_elexon_retries_total", labels) == before + 2


async def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    async def handle(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return ok()

    transport = httpx.MockTransport(handle)
    async with ElexonClient(settings(elexon_concurrency=3), transport=transport) as client:
        await asyncio.gather(*(client.settlement_stack("bid", DAY, period) for period in range(1, 21)))
    assert peak == 3


async def test_against_the_sim_a_429_then_500_ends_in_success_and_the_synthetic_label_is_read() -> None:
    state = SimState()
    state.faults.add(FaultRule(kind="status", status=429, retry_after=2, period=7))
    state.faults.add(FaultRule(kind="status", status=500, period=7))
    sleeps = Sleeps()
    transport = httpx.ASGITransport(app=build_app(state))
    async with ElexonClient(settings(), transport=transport, sleep=sleeps) as client:
        response = await client.settlement_stack("bid", DAY, 7)
    assert response.synthetic and response.attempts == 3
    assert sleeps.delays[0] >= 2.0


def test_backoff_grows_to_its_cap_with_jitter_in_the_upper_half() -> None:
    rng = random.Random(3)
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= backoff_delay_s(attempt, 0.5, 30.0, rng) <= ceiling


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2024, 1, 5, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after_s("5") == 5.0
    assert parse_retry_after_s("Fri, 05 Jan 2024 12:00:30 GMT", now) == 30.0
    assert parse_retry_after_s("Fri, 05 Jan 2024 11:00:00 GMT", now) == 0.0
    assert parse_retry_after_s("soon") is None
    assert parse_retry_after_s(None) is None
    # The server's wait wins when longer than the backoff, never when shorter.
    assert retry_delay_s(0, "10", 1.0, 30.0, 60.0, random.Random(1)) == 10.0
    assert retry_delay_s(5, "1", 1.0, 30.0, 60.0, random.Random(1)) >= 15.0
