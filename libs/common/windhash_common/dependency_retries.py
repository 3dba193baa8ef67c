"""Riding out an outage of PostgreSQL, Kafka or DynamoDB: one retry policy per dependency, here and only here.

A worker never ends because a dependency went away. An operation that meets an outage (a lost or refused
connection, a server shutting down or starting, a timeout, a deadlock) is retried whole, with capped
exponential backoff and jitter, for as long as it takes; meanwhile the service reports the dependency down
(`windhash_common.readiness`: the `/ready` endpoint and `windhash_dependency_up`), and up again after the
first success. Commands run by hand pass `attempts` and fail with the last error instead.

Anything that is not an outage (a value a column cannot hold, a constraint, a bug) is not retried: it fails
the operation at once and surfaces, so a poison input is never mistaken for an outage and retried forever.

The retrying itself is stamina's (built on tenacity): capped exponential backoff with jitter, async-native,
instrumented (a structlog line and `stamina_retries_total` per retry) and with a testing mode that skips the
waits. docs/ARCHITECTURE.md says why stamina rather than tenacity directly.

Operations that touch several dependencies nest one policy inside the other (`through_outages` with several
policies), so each dependency keeps its own backoff and is reported down on its own.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import stamina
import structlog
from aiokafka.errors import KafkaError, KafkaTimeoutError
from botocore.exceptions import BotoCoreError, ClientError

from windhash_common.readiness import RETRIES, Readiness

log = structlog.get_logger(__name__)
T = TypeVar("T")


# PostgreSQL errors that mean "not now" rather than "not this": the server is going away or coming back, the
# connection broke, or the transaction lost a race it can win next time.
_POSTGRES_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.InterfaceError,  # "connection is closed", a connection lost mid-query
    asyncpg.InternalClientError,  # a pool that could not reset a connection lost mid-query
    asyncpg.OperatorInterventionError,  # class 57: admin/crash shutdown, cannot connect now
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, out of memory or disk
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    OSError,  # connection refused or reset
    TimeoutError,
)
# DynamoDB throttling and server-side errors are answers worth waiting out; a validation error is not.
_DYNAMODB_RETRIED_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def is_postgresql_outage(error: BaseException) -> bool:
    return isinstance(error, _POSTGRES_OUTAGES)


def is_kafka_outage(error: BaseException) -> bool:
    """Kafka's retriable errors (no broker, no leader, a request timed out) and the client's own timeout.
    Only the client's own errors: a bare OSError in an operation that also uses PostgreSQL is PostgreSQL's."""
    if isinstance(error, KafkaError):
        return bool(getattr(error, "retriable", False)) or isinstance(error, KafkaTimeoutError)
    return False


class DynamoDbUnprocessed(RuntimeError):
    """A batch call left items unprocessed (DynamoDB's throttling of batches): what is left is sent again."""


def is_dynamodb_outage(error: BaseException) -> bool:
    """Throttling and server errors, and botocore's connection errors and timeouts (its own classes)."""
    if isinstance(error, DynamoDbUnprocessed):
        return True
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in _DYNAMODB_RETRIED_CODES
    return isinstance(error, BotoCoreError)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts at one dependency, and which of its errors are an outage."""

    dependency: str
    is_outage: Callable[[BaseException], bool]
    wait_initial_seconds: float
    wait_max_seconds: float
    wait_jitter_seconds: float


# Waits double from the initial one up to the cap, plus up to the jitter at random, so a fleet of workers
# that lost the same server does not come back in lockstep.
POSTGRESQL = RetryPolicy("postgresql", is_postgresql_outage, 0.2, 5.0, 1.0)
KAFKA = RetryPolicy("kafka", is_kafka_outage, 0.5, 5.0, 1.0)
DYNAMODB = RetryPolicy("dynamodb", is_dynamodb_outage, 0.5, 5.0, 1.0)


def retrying(policy: RetryPolicy, attempts: int | None) -> AsyncIterator[stamina.Attempt]:
    """stamina's retry context of `policy`, for a loop that must retry a block rather than an operation
    (`async for attempt in retrying(DYNAMODB, 8): with attempt: ...`)."""
    return stamina.retry_context(
        on=policy.is_outage,
        attempts=attempts,
        timeout=None,
        wait_initial=policy.wait_initial_seconds,
        wait_max=policy.wait_max_seconds,
        wait_jitter=policy.wait_jitter_seconds,
    )


async def through_outages(
    operation: Callable[[], Awaitable[T]],
    what: str,
    policies: Sequence[RetryPolicy],
    *,
    attempts: int | None = None,
    readiness: Readiness | None = None,
) -> T:
    """`operation()`, retried whole through outages of the given dependencies (until it succeeds, or at most
    `attempts` times per dependency, then the last error is raised). Every failed attempt reports its
    dependency down to `readiness`; the success that ends the call reports up again the dependencies it met
    down (only those: an operation that never met an outage may not have used the dependency at all, as an
    empty outbox publishes nothing; the probes cover the rest)."""
    met_down: set[str] = set()
    result = await _nested(operation, what, policies, attempts, readiness, met_down)
    if readiness is not None:
        for dependency in met_down:
            readiness.up(dependency)
    return result


async def _nested(
    operation: Callable[[], Awaitable[T]],
    what: str,
    policies: Sequence[RetryPolicy],
    attempts: int | None,
    readiness: Readiness | None,
    met_down: set[str],
) -> T:
    if not policies:
        return await operation()
    policy, inner = policies[0], policies[1:]
    async for attempt in retrying(policy, attempts):
        with attempt:
            try:
                return await _nested(operation, what, inner, attempts, readiness, met_down)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if policy.is_outage(error):
                    met_down.add(policy.dependency)
                    RETRIES.labels(dependency=policy.dependency).inc()
                    if readiness is not None:
                        readiness.down(policy.dependency, f"{what}: {error!r}")
                raise
    raise AssertionError("unreachable: stamina re-raises the last error")
