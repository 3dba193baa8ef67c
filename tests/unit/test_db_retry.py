import asyncpg
import pytest
from windhash_common.db_retry import with_db_retries


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


async def test_each_retry_is_counted_and_backs_off_twice_as_long(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    retries = 0

    async def no_wait(delay: float) -> None:
        delays.append(delay)

    def count() -> None:
        nonlocal retries
        retries += 1

    async def lost_connection() -> int:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr("windhash_common.db_retry.asyncio.sleep", no_wait)
    with pytest.raises(asyncpg.ConnectionDoesNotExistError):
        await with_db_retries(lost_connection, "test", attempts=4, backoff_seconds=0.5, on_retry=count)
    assert delays == [0.5, 1.0, 2.0]
    assert retries == 3
