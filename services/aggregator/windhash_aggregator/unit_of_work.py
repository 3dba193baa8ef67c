"""The aggregator's unit of work: one PostgreSQL transaction with the summaries, the positions and the
outbox (dead letters)."""

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from windhash_common.consumer_runtime.unit_of_work import PostgresUnitOfWork, UnitOfWork
from windhash_common.summaries.recompute import RecomputedScope, recompute_days_and_rollups
from windhash_common.summaries.stale_days import drain_stale_days


class Summaries(Protocol):
    async def recompute_days_and_rollups(self, days: Iterable[date]) -> RecomputedScope: ...

    async def drain_stale_days(self, limit: int) -> RecomputedScope: ...


class AggregatorUnitOfWork(UnitOfWork, Protocol):
    @property
    def summaries(self) -> Summaries: ...


class PostgresSummaries:
    def __init__(self, unit: PostgresUnitOfWork) -> None:
        self._unit = unit

    async def recompute_days_and_rollups(self, days: Iterable[date]) -> RecomputedScope:
        return await recompute_days_and_rollups(self._unit.connection, days)

    async def drain_stale_days(self, limit: int) -> RecomputedScope:
        return await drain_stale_days(self._unit.connection, limit)


class PostgresAggregatorUnitOfWork(PostgresUnitOfWork):
    summaries: Summaries

    def _repositories(self) -> None:
        self.summaries = PostgresSummaries(self)
