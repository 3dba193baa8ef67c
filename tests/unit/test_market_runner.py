"""When the market service's cycles run, and that a failing cycle never ends the service."""

from datetime import UTC, datetime

from windhash_market.metrics import CYCLE_FAILURES
from windhash_market.runner import run_one_cycle, seconds_to_next_cycle
from windhash_market.settings import MarketSettings


def test_a_cycle_runs_a_few_seconds_after_the_next_slot_starts_or_at_the_configured_poll() -> None:
    settings = MarketSettings(market_cycle_delay_seconds=5)
    assert seconds_to_next_cycle(settings, datetime(2026, 3, 1, 12, 14, 30, tzinfo=UTC)) == 35.0
    assert seconds_to_next_cycle(settings, datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)) == 905.0
    assert seconds_to_next_cycle(MarketSettings(market_poll_seconds=2), datetime.now(UTC)) == 2


async def test_a_failing_cycle_is_counted_and_the_next_one_still_runs() -> None:
    before = CYCLE_FAILURES._value.get()

    async def failing() -> None:
        raise ConnectionResetError("PostgreSQL went away")

    async def working() -> None:
        return None

    assert await run_one_cycle(failing) is False
    assert await run_one_cycle(working) is True
    assert CYCLE_FAILURES._value.get() == before + 1
