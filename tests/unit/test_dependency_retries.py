"""Retries through dependency outages (windhash_common.dependency_retries), without servers: what is an
outage, how long a worker keeps trying, and what it reports meanwhile. Waits are skipped (unit conftest)."""

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from prometheus_client import REGISTRY
from windhash_common.dependency_retries import (
    KAFKA,
    POSTGRESQL,
    is_kafka_outage,
    is_postgresql_outage,
    through_outages,
)
from windhash_common.readiness import Readiness


def retries(dependency: str) -> float:
    return REGISTRY.get_sample_value("windhash_dependency_retries_total", {"dependency": dependency}) or 0.0


async def test_a_failing_write_is_retried_then_raised_when_attempts_are_bounded() -> None:
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    with pytest.raises(asyncpg.DeadlockDetectedError):
        await through_outages(failing, "test", [POSTGRESQL], attempts=3)
    assert calls == 3


async def test_an_outage_longer_than_the_old_budget_is_waited_out_and_reported() -> None:
    """The old loop gave up after 6 attempts; a worker now keeps going, reporting not-ready meanwhile."""
    readiness = Readiness("test-service", ["postgresql"])
    calls = 0
    seen_ready: list[bool] = []
    before = retries("postgresql")

    async def recovers_after_twelve() -> int:
        nonlocal calls
        calls += 1
        seen_ready.append(readiness.ready)
        if calls <= 12:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        return 7

    assert await through_outages(recovers_after_twelve, "test", [POSTGRESQL], readiness=readiness) == 7
    assert calls == 13
    assert seen_ready[0] and not any(seen_ready[1:])  # not ready from the first failure on
    assert readiness.ready and readiness.report()["ready"] is True
    assert retries("postgresql") - before == 12


async def test_a_bug_or_a_value_the_database_refuses_is_not_retried() -> None:
    calls = 0

    async def refused() -> int:
        nonlocal calls
        calls += 1
        raise asyncpg.NumericValueOutOfRangeError("numeric field overflow")

    with pytest.raises(asyncpg.NumericValueOutOfRangeError):
        await through_outages(refused, "test", [POSTGRESQL])
    assert calls == 1


async def test_each_dependency_is_reported_on_its_own_in_nested_policies() -> None:
    readiness = Readiness("test-service", ["postgresql", "kafka"])
    failures = [KafkaConnectionError("no broker"), ConnectionResetError("connection lost")]
    reported: list[dict[str, object]] = []

    async def relay() -> str:
        reported.append(readiness.report()["dependencies"])  # type: ignore[arg-type]
        if failures:
            raise failures.pop(0)
        return "published"

    assert await through_outages(relay, "relay", [POSTGRESQL, KAFKA], readiness=readiness) == "published"
    assert reported[1] == {"kafka": {"up": False, "reason": "relay: KafkaConnectionError('no broker')"},
                           "postgresql": {"up": True}}  # fmt: skip
    assert reported[2]["postgresql"] == {
        "up": False,
        "reason": "relay: ConnectionResetError('connection lost')",
    }
    assert readiness.ready


def test_outages_are_told_from_answers() -> None:
    assert is_postgresql_outage(asyncpg.ConnectionDoesNotExistError("closed mid-operation"))
    assert is_postgresql_outage(asyncpg.AdminShutdownError("terminating connection"))
    assert is_postgresql_outage(ConnectionRefusedError())
    assert not is_postgresql_outage(asyncpg.UniqueViolationError("duplicate key"))
    assert not is_postgresql_outage(KeyError("a bug"))
    assert is_kafka_outage(KafkaConnectionError())
    assert not is_kafka_outage(MessageSizeTooLargeError())
    assert not is_kafka_outage(ConnectionResetError())  # PostgreSQL's, in an operation that uses both
