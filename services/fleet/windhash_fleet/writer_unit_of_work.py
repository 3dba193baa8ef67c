"""The telemetry writer's unit of work: one PostgreSQL transaction with the telemetry tables, the positions
and the outbox (dead letters). The handler sees only these Protocols; the unit tests give it memory fakes."""

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol

from windhash_common.consumer_runtime.unit_of_work import PostgresUnitOfWork, UnitOfWork

from windhash_fleet.telemetry_store import PostgresTelemetryStore, TelemetryRow


class TelemetryStore(Protocol):
    async def partition_days(self) -> set[date]: ...

    async def create_partitions(self, days: Iterable[date]) -> int: ...

    async def miner_ids(self, serials: Collection[str]) -> dict[str, int]: ...

    async def write(self, rows_by_day: Mapping[date, Sequence[TelemetryRow]]) -> int: ...


class WriterUnitOfWork(UnitOfWork, Protocol):
    @property
    def telemetry(self) -> TelemetryStore: ...


class PostgresWriterUnitOfWork(PostgresUnitOfWork):
    telemetry: TelemetryStore

    def _repositories(self) -> None:
        self.telemetry = PostgresTelemetryStore(self.connection)
