"""The settlement-period write path: snapshots → the period, its records and its bitcoin calculations.

One implementation, called by the calculator for every batch it consumes and by reconciliation's replay:
  - per period, the newest snapshot (`fetched_at`; a later message wins a tie) replaces the stored one unless
    the stored one is newer (an old event replayed changes nothing);
  - the period's records are replaced (stored at column precision) and its calculations written for every
    active miner model at the difficulty of the period's UTC date;
  - a period whose day has no difficulty is held `pending_difficulty`, with its records and no calculations:
    never a default difficulty (the calculator's pending sweep completes it when the difficulty arrives);
  - a period whose derived figures cannot be stored (`storable_figures`: e.g. the BTC of an absurd
    difficulty) is refused: nothing of it is written, it is recorded in `unstorable_periods` with the reason
    (the calculator dead-letters its message too), and a later write of the period clears that record.
Pure rules over a `PeriodFacts` repository, so they are unit-tested against a fake and proven against
PostgreSQL (`store.PostgresPeriodFacts`) by the integration tests.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple, Protocol

from windhash_common.bitcoin import Halving
from windhash_common.curtailment_facts.rows import (
    CurtailmentRow,
    calculation_copy_text,
    curtailment_rows,
    difficulty_date,
    row_energies,
)
from windhash_common.curtailment_facts.storable_figures import bitcoin_problem, records_problem
from windhash_common.events import PeriodCalculatedEvent, PeriodStatus, SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_common.outbox import OutboxMessage, outbox_message
from windhash_common.topics import Topics

PeriodKey = tuple[date, int]


class Refusal(NamedTuple):
    """A snapshot whose figures cannot be stored, and why (`storable_figures`)."""

    event: SettlementPeriodEvent
    reason: str


class PeriodFacts(Protocol):
    async def lock_snapshots(self, keys: Iterable[PeriodKey]) -> dict[PeriodKey, datetime]: ...

    async def active_models(self) -> list[MinerModel]: ...

    async def upsert_periods(
        self, events: Sequence[SettlementPeriodEvent], difficulty: Mapping[PeriodKey, Decimal | None]
    ) -> None: ...

    async def replace_records(self, keys: Sequence[PeriodKey], rows: Sequence[CurtailmentRow]) -> None: ...

    async def add_calculations(self, copy_texts: Sequence[str]) -> None: ...

    async def pending_count(self) -> int: ...

    async def note_refusals(self, refused: Mapping[PeriodKey, Refusal], written: Sequence[PeriodKey]) -> None:
        """Record the refused periods (replacing an earlier refusal) and clear those of the written ones."""
        ...

    async def unstorable_count(self) -> int: ...


@dataclass
class WriteOutcome:
    applied: dict[PeriodKey, PeriodStatus] = field(default_factory=dict)
    """The periods written, each `calculated` or `pending_difficulty`."""
    snapshots: dict[PeriodKey, SettlementPeriodEvent] = field(default_factory=dict)
    """The snapshot written for each of them."""
    ignored_older: int = 0
    """Snapshots not written: older than the stored one, or than another of the same period in the batch."""
    records: int = 0
    calculations: int = 0
    pending_periods: int | None = None
    """Periods held `pending_difficulty` after the write, where the writer counted them."""
    unstorable_periods: int | None = None
    """Periods recorded unstorable after the write, where the writer counted them."""
    refused: dict[PeriodKey, Refusal] = field(default_factory=dict)
    """Snapshots not written because their figures cannot be stored, with the reason."""


def supersedes(later: SettlementPeriodEvent, held: SettlementPeriodEvent | None) -> bool:
    """Whether a snapshot read after `held` (of the same period) replaces it: fetched at the same time or
    after (the later one wins a tie)."""
    return held is None or later.fetched_at >= held.fetched_at


def newest_snapshots(events: Iterable[SettlementPeriodEvent]) -> dict[PeriodKey, SettlementPeriodEvent]:
    """Per period, the snapshot with the latest fetched_at (the later one wins a tie)."""
    newest: dict[PeriodKey, SettlementPeriodEvent] = {}
    for event in events:
        key = (event.settlement_date, event.settlement_period)
        if supersedes(event, newest.get(key)):
            newest[key] = event
    return newest


def snapshots_to_apply(
    snapshots: Mapping[PeriodKey, SettlementPeriodEvent], stored: Mapping[PeriodKey, datetime]
) -> dict[PeriodKey, SettlementPeriodEvent]:
    """The snapshots at least as new as the stored ones (an equal one is a replay, which changes nothing)."""
    return {
        key: event for key, event in snapshots.items() if key not in stored or event.fetched_at >= stored[key]
    }


def difficulty_dates(events: Iterable[SettlementPeriodEvent]) -> set[date]:
    return {difficulty_date(event.period_start_utc) for event in events}


async def write_snapshots(
    facts: PeriodFacts,
    events: Sequence[SettlementPeriodEvent],
    difficulties: Mapping[date, Decimal],
    halvings: Sequence[Halving],
    *,
    forced: bool = False,
) -> WriteOutcome:
    """Apply the newest snapshot of each period among `events` (see the module docstring).

    `forced` (reconciliation's replay) applies them even where the stored snapshot claims to be newer (a
    tampered or half-deleted period); every other rule holds, so a refused period keeps what is stored."""
    snapshots = newest_snapshots(events)
    stored = await facts.lock_snapshots(snapshots.keys())
    newer = dict(snapshots) if forced else snapshots_to_apply(snapshots, stored)
    outcome = WriteOutcome(ignored_older=len(events) - len(newer))
    if not newer:
        return outcome
    models = await facts.active_models()
    period_difficulty = {
        key: difficulties.get(difficulty_date(event.period_start_utc)) for key, event in newer.items()
    }
    # Each record's rounded values, computed once: the rows stored and the energies calculated from.
    records = {key: curtailment_rows(event) for key, event in newer.items()}
    energies = {key: row_energies(rows) for key, rows in records.items()}
    for key in sorted(newer):
        event, difficulty = newer[key], period_difficulty[key]
        problem = records_problem(records[key])
        if problem is None and difficulty is not None:
            problem = bitcoin_problem(energies[key], models, difficulty, event.period_start_utc, halvings)
        if problem is not None:
            outcome.refused[key] = Refusal(event, problem)
    keys = sorted(key for key in newer if key not in outcome.refused)
    outcome.snapshots = {key: newer[key] for key in keys}
    await facts.note_refusals(outcome.refused, keys)
    if not keys:
        return outcome
    await facts.upsert_periods([newer[key] for key in keys], {key: period_difficulty[key] for key in keys})
    await facts.replace_records(keys, [row for key in keys for row in records[key]])
    texts: list[str] = []
    for key in keys:
        event, difficulty = newer[key], period_difficulty[key]
        outcome.applied[key] = "pending_difficulty" if difficulty is None else "calculated"
        outcome.records += len(event.records)
        if difficulty is not None:
            text, count = calculation_copy_text(
                *key, event.period_start_utc, energies[key], models, difficulty, halvings
            )
            texts.append(text)
            outcome.calculations += count
    await facts.add_calculations(texts)
    return outcome


def period_calculated_messages(topics: Topics, outcome: WriteOutcome, now: datetime) -> list[OutboxMessage]:
    """A PeriodCalculatedEvent per period written, in key order, for the outbox."""
    messages = []
    for key, status in sorted(outcome.applied.items()):
        event = outcome.snapshots[key]
        calculated = PeriodCalculatedEvent(
            settlement_date=event.settlement_date,
            settlement_period=event.settlement_period,
            content_hash=event.content_hash,
            record_count=len(event.records),
            status=status,
            calculated_at=now,
        )
        messages.append(outbox_message(topics.period_calculated, calculated, calculated.kafka_key))
    return messages
