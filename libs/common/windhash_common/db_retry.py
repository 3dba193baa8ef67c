"""Retrying a database operation with backoff, then failing loudly.

A service never skips work because PostgreSQL is unwell: it retries the whole (idempotent) operation, and
after the last attempt raises, which stops it with a non-zero exit and leaves its Kafka offsets (or ingestion
progress) where they were, so the next start picks the work up again. Each retry waits twice as long as the
one before, long enough for a restarted server to come back; the pool replaces a lost connection itself.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Any error PostgreSQL or the connection reports is retried: most are transient (connection lost, deadlock,
# shutdown); one that is not fails the same way every time, so it still stops the service in the end.
# InternalClientError is what a pool reports when a connection lost mid-query cannot be reset on release
# ("cannot switch to state 15"); the pool has closed that connection and opens a new one next time.
RETRIED_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


async def with_db_retries(
    operation: Callable[[], Awaitable[T]],
    what: str,
    attempts: int,
    backoff_seconds: float,
    errors: tuple[type[BaseException], ...] = RETRIED_ERRORS,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """`operation()` up to `attempts` times; `on_retry` (a service's retry counter) is called before each
    retry. The last error is re-raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await operation()
        except errors as error:
            if attempt == attempts:
                log.error(
                    "database operation failed for good", what=what, attempts=attempts, error=repr(error)
                )
                raise
            delay = backoff_seconds * 2 ** (attempt - 1)
            if on_retry is not None:
                on_retry()
            log.warning(
                "database operation failed, retrying",
                what=what,
                attempt=attempt,
                delay=delay,
                error=repr(error),
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
