import asyncpg
import pytest
from windhash_calculator.db_retry import with_db_retries


async def test_a_failing_write_is_retried_then_raised() -> None:
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    with pytest.raises(asyncpg.DeadlockDetectedError):
        await with_db_retries(failing, "test", attempts=3, backoff_seconds=0)
    assert calls == 3


async def test_a_write_that_recovers_returns_its_result() -> None:
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls < 2:
            raise ConnectionResetError("connection lost")
        return 7

    assert await with_db_retries(flaky, "test", attempts=3, backoff_seconds=0) == 7


async def test_a_bug_is_not_retried() -> None:
    calls = 0

    async def buggy() -> int:
        nonlocal calls
        calls += 1
        raise KeyError("not a database problem")

    with pytest.raises(KeyError):
        await with_db_retries(buggy, "test", attempts=3, backoff_seconds=0)
    assert calls == 1
