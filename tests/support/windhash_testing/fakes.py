"""In-memory fakes of the units of work and their repositories, for the handlers' unit tests (milliseconds).

Each fake keeps what a test asserts on in plain attributes; none of them reimplements a rule: the rules run
in the handlers and `windhash_common.curtailment_facts.write_path`, over these fakes exactly as over
PostgreSQL. A unit of work is "committed" when its block ends without an error, as PostgreSQL's would be.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Self

from windhash_common.consumer_runtime.messages import TopicPartitionKey
from windhash_common.curtailment_facts.rows import CurtailmentRow
from windhash_common.curtailment_facts.write_path import Refusal
from windhash_common.events import SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_common.outbox import OutboxMessage
from windhash_common.summaries.recompute import RecomputedScope
from windhash_common.summaries.summary_grains import months_of, years_of
from windhash_fleet.telemetry_store import TelemetryRow

PeriodKey = tuple[date, int]


class FakePositions:
    def __init__(self, stored: Mapping[tuple[str, str, int], int] | None = None) -> None:
        self.stored: dict[tuple[str, str, int], int] = dict(stored or {})

    async def lock(self, group: str, partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int]:
        return {tp: self.stored[(group, *tp)] for tp in partitions if (group, *tp) in self.stored}

    async def advance(self, group: str, next_offsets: Mapping[TopicPartitionKey, int]) -> None:
        for (topic, partition), offset in next_offsets.items():
            key = (group, topic, partition)
            self.stored[key] = max(self.stored.get(key, 0), offset)


class FakeOutbox:
    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []

    async def add(self, messages: Sequence[OutboxMessage]) -> None:
        self.messages.extend(messages)

    def on(self, topic: str) -> list[OutboxMessage]:
        return [message for message in self.messages if message.topic == topic]


class FakeUnitOfWork:
    def __init__(self, positions: FakePositions | None = None) -> None:
        self.positions = positions or FakePositions()
        self.outbox = FakeOutbox()
        self.commits = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.commits += 1


class FakePeriodFacts:
    """The period facts as PostgreSQL holds them, by period: the snapshot row, its records, its calculations
    (COPY text lines, as the write path hands them over)."""

    def __init__(self, models: Sequence[MinerModel] = ()) -> None:
        self.models = list(models)
        self.periods: dict[PeriodKey, tuple[datetime, str, Decimal | None]] = {}
        """fetched_at, status, difficulty."""
        self.records: dict[PeriodKey, list[CurtailmentRow]] = {}
        self.calculation_lines: list[str] = []
        self.unstorable: dict[PeriodKey, str] = {}
        """Refused periods and why."""

    async def lock_snapshots(self, keys: Iterable[PeriodKey]) -> dict[PeriodKey, datetime]:
        return {key: self.periods[key][0] for key in keys if key in self.periods}

    async def active_models(self) -> list[MinerModel]:
        return [model for model in self.models if model.active]

    async def upsert_periods(
        self, events: Sequence[SettlementPeriodEvent], difficulty: Mapping[PeriodKey, Decimal | None]
    ) -> None:
        for event in events:
            key = (event.settlement_date, event.settlement_period)
            status = "pending_difficulty" if difficulty[key] is None else "calculated"
            self.periods[key] = (event.fetched_at, status, difficulty[key])

    async def replace_records(self, keys: Sequence[PeriodKey], rows: Sequence[CurtailmentRow]) -> None:
        prefixes = tuple(f"{day.isoformat()}\t{period}\t" for day, period in keys)
        self.calculation_lines = [line for line in self.calculation_lines if not line.startswith(prefixes)]
        for key in keys:
            self.records[key] = []
        for row in rows:
            self.records[(row[0], row[1])].append(row)

    async def add_calculations(self, copy_texts: Sequence[str]) -> None:
        self.calculation_lines.extend(line for text in copy_texts for line in text.splitlines())

    async def pending_count(self) -> int:
        return sum(status == "pending_difficulty" for _, status, _ in self.periods.values())

    async def note_refusals(self, refused: Mapping[PeriodKey, Refusal], written: Sequence[PeriodKey]) -> None:
        for key in written:
            self.unstorable.pop(key, None)
        self.unstorable.update({key: refusal.reason for key, refusal in refused.items()})

    async def unstorable_count(self) -> int:
        return len(self.unstorable)

    def calculations_of(self, key: PeriodKey) -> list[list[str]]:
        prefix = f"{key[0].isoformat()}\t{key[1]}\t"
        return [line.split("\t") for line in self.calculation_lines if line.startswith(prefix)]


class FakeDifficulties:
    def __init__(self, known: Mapping[date, Decimal]) -> None:
        self.known = dict(known)
        self.asked: list[set[date]] = []

    async def difficulties(self, days: Iterable[date]) -> dict[date, Decimal]:
        wanted = set(days)
        self.asked.append(wanted)
        return {day: self.known[day] for day in wanted if day in self.known}


class FakeCalculatorUnitOfWork(FakeUnitOfWork):
    def __init__(
        self,
        periods: FakePeriodFacts,
        difficulties: FakeDifficulties,
        positions: FakePositions | None = None,
    ) -> None:
        super().__init__(positions)
        self.periods = periods
        self.difficulties = difficulties


class FakeSummaries:
    def __init__(self, stale_days: Iterable[date] = ()) -> None:
        self.recomputed: list[list[date]] = []
        self.stale_days = sorted(set(stale_days))

    async def recompute_days_and_rollups(self, days: Iterable[date]) -> RecomputedScope:
        distinct = sorted(set(days))
        self.recomputed.append(distinct)
        return RecomputedScope(tuple(distinct), tuple(months_of(distinct)), tuple(years_of(distinct)))

    async def drain_stale_days(self, limit: int) -> RecomputedScope:
        days, self.stale_days = self.stale_days[:limit], self.stale_days[limit:]
        return await self.recompute_days_and_rollups(days)


class FakeAggregatorUnitOfWork(FakeUnitOfWork):
    def __init__(self, summaries: FakeSummaries, positions: FakePositions | None = None) -> None:
        super().__init__(positions)
        self.summaries = summaries


class FakeTelemetryStore:
    """miner_telemetry as the writer sees it: registered serials, the days with partitions, the rows (first
    one kept per natural key)."""

    def __init__(self, miners: Mapping[str, int], days: Iterable[date] = ()) -> None:
        self.miners = dict(miners)
        self.days = set(days)
        self.rows: dict[tuple[int, datetime], TelemetryRow] = {}
        self.lookups = 0

    async def partition_days(self) -> set[date]:
        return set(self.days)

    async def create_partitions(self, days: Iterable[date]) -> int:
        new = set(days) - self.days
        self.days |= new
        return len(new)

    async def miner_ids(self, serials: Iterable[str]) -> dict[str, int]:
        self.lookups += 1
        return {serial: self.miners[serial] for serial in serials if serial in self.miners}

    async def write(self, rows_by_day: Mapping[date, Sequence[TelemetryRow]]) -> int:
        written = 0
        for row in (row for rows in rows_by_day.values() for row in rows):
            key = (row.miner_id, row.recorded_at)
            if key not in self.rows:
                self.rows[key] = row
                written += 1
        return written


class FakeWriterUnitOfWork(FakeUnitOfWork):
    def __init__(self, telemetry: FakeTelemetryStore, positions: FakePositions | None = None) -> None:
        super().__init__(positions)
        self.telemetry = telemetry
