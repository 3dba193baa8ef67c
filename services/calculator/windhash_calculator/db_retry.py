"""Retrying a database transaction with backoff, then failing loudly.

The calculator never skips a message because PostgreSQL is unwell: it retries the whole (idempotent) batch,
and after the last attempt raises, which stops the service with a non-zero exit and leaves the Kafka offset
where it was, so the next start replays the batch.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog

from windhash_calculator.metrics import DB_RETRIES

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Any error PostgreSQL or the connection reports is retried: most are transient (connection lost, deadlock,
# shutdown); one that is not fails the same way every time, so it still stops the service in the end.
RETRIED_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)


async def with_db_retries(
    operation: Callable[[], Awaitable[T]],
    what: str,
    attempts: int,
    backoff_seconds: float,
    errors: tuple[type[BaseException], ...] = RETRIED_ERRORS,
) -> T:
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
            DB_RETRIES.inc()
            log.warning(
                "database operation failed, retrying",
                what=what,
                attempt=attempt,
                delay=delay,
                error=repr(error),
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
