"""The calculator's unit of work: one PostgreSQL transaction with the period facts, the positions and the
outbox, and the difficulty reference data (DynamoDB, read by key) the batch is calculated with."""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Protocol

import asyncpg
from windhash_common.calculation_lock import lock_calculations_shared
from windhash_common.consumer_runtime.unit_of_work import PostgresUnitOfWork, UnitOfWork
from windhash_common.curtailment_facts.store import PostgresPeriodFacts, plan_for_actual_arguments
from windhash_common.curtailment_facts.write_path import PeriodFacts


class Difficulties(Protocol):
    async def difficulties(self, days: Iterable[date]) -> Mapping[date, Decimal]: ...


class CalculatorUnitOfWork(UnitOfWork, Protocol):
    @property
    def periods(self) -> PeriodFacts: ...

    @property
    def difficulties(self) -> Difficulties: ...


class PostgresCalculatorUnitOfWork(PostgresUnitOfWork):
    periods: PeriodFacts

    def __init__(self, source: asyncpg.Pool | asyncpg.Connection, difficulties: Difficulties) -> None:
        super().__init__(source)
        self.difficulties = difficulties

    def _repositories(self) -> None:
        self.periods = PostgresPeriodFacts(self.connection)

    async def _begin(self) -> None:
        # Shared: a `miners add` backfill takes it exclusively, so no batch writes a period with the model
        # list it is changing.
        await lock_calculations_shared(self.connection)
        await plan_for_actual_arguments(self.connection)


class KnownDifficulties:
    """Difficulties given up front (tests, benchmarks, commands that read them once)."""

    def __init__(self, known: Mapping[date, Decimal]) -> None:
        self._known = dict(known)

    async def difficulties(self, days: Iterable[date]) -> Mapping[date, Decimal]:
        return {day: self._known[day] for day in days if day in self._known}
