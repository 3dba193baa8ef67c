"""A unit of work: one PostgreSQL transaction, and the repositories that read and write inside it.

Every consumer's unit of work has the positions (tracking records) and the outbox; a service's own unit of
work adds its repositories (`windhash_calculator.unit_of_work`, `windhash_aggregator.unit_of_work`). Handlers
see only these Protocols, so their rules are unit-tested against in-memory fakes
(`windhash_common.consumer_runtime.fakes`) and proven against PostgreSQL by the integration tests.
"""

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol, Self

import asyncpg

from windhash_common.consumer_runtime.messages import TopicPartitionKey
from windhash_common.consumer_runtime.positions import PostgresPositions
from windhash_common.outbox import OutboxMessage, PostgresOutbox


class Positions(Protocol):
    async def lock(
        self, group: str, partitions: Iterable[TopicPartitionKey]
    ) -> dict[TopicPartitionKey, int]: ...

    async def advance(self, group: str, next_offsets: Mapping[TopicPartitionKey, int]) -> None: ...


class Outbox(Protocol):
    async def add(self, messages: Sequence[OutboxMessage]) -> None: ...


class UnitOfWork(Protocol):
    @property
    def positions(self) -> Positions: ...

    @property
    def outbox(self) -> Outbox: ...


class PostgresUnitOfWork:
    """A pool connection in a transaction, committed when the block ends without an error, rolled back
    otherwise. Subclasses add repositories over `self.connection` in `_repositories` and statements every
    transaction of theirs begins with in `_begin`."""

    connection: asyncpg.Connection
    positions: Positions
    outbox: Outbox

    def __init__(self, source: asyncpg.Pool | asyncpg.Connection) -> None:
        """On a pool: a connection of its own for the transaction; on a connection (tests, commands that
        hold one): that connection."""
        self._pool = source
        self._acquired: AbstractAsyncContextManager[asyncpg.Connection] | None = None
        self._transaction: asyncpg.transaction.Transaction | None = None

    async def __aenter__(self) -> Self:
        if isinstance(self._pool, asyncpg.Pool):
            self._acquired = self._pool.acquire()
            self.connection = await self._acquired.__aenter__()
        else:
            self.connection = self._pool
        try:
            self._transaction = self.connection.transaction()
            await self._transaction.start()
            self.positions = PostgresPositions(self.connection)
            self.outbox = PostgresOutbox(self.connection)
            self._repositories()
            await self._begin()
        except BaseException as error:
            await self._close(type(error), error, error.__traceback__)
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._close(kind, error, trace)

    async def _close(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if self._transaction is not None:
                if kind is None:
                    await self._transaction.commit()
                else:
                    with contextlib.suppress(Exception):  # a lost connection cannot roll back; it is dropped
                        await self._transaction.rollback()
        finally:
            self._transaction = None
            if self._acquired is not None:
                acquired, self._acquired = self._acquired, None
                await acquired.__aexit__(kind, error, trace)

    def _repositories(self) -> None:
        return None

    async def _begin(self) -> None:
        return None
