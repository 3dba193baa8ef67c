"""The calculator's write path: one batch of consumed messages → one PostgreSQL transaction.

In that transaction, for the messages past the stored position of their partition:
  - each period's newest snapshot replaces its curtailment records and bitcoin calculations (both deleted
    here: no foreign key cascades since migration 0600), unless the stored snapshot is newer;
  - its bitcoin calculations are written for every active miner model, or, when its day's difficulty is
    unknown, none are and the period is held `pending_difficulty` (pending_periods.py completes it later);
  - the position after the last message of each partition is stored (consumer_positions);
  - a PeriodCalculatedEvent per applied period, and a DeadLetter per rejected message, go to the outbox.
Replaying a batch therefore changes nothing, and a crash at any point leaves either all of it or none of it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
from windhash_common.bitcoin import Halving
from windhash_common.calculation_lock import lock_calculations_shared
from windhash_common.events import PeriodCalculatedEvent, PeriodStatus, SettlementPeriodEvent
from windhash_common.miner_models import MinerModel, active_miner_models
from windhash_common.topics import Topics

from windhash_calculator.calculation_rows import (
    CURTAILMENT_COLUMNS,
    CurtailmentRow,
    calculation_copy_text,
    curtailment_copy_text,
    curtailment_rows,
    difficulty_date,
    row_energies,
)
from windhash_calculator.crash_points import CrashPoints
from windhash_calculator.message_validation import ConsumedMessage, Rejection, dead_letter, decode_event
from windhash_calculator.outbox import (
    OutboxMessage,
    add_to_outbox,
    dead_letter_message,
    period_calculated_message,
)
from windhash_calculator.stored_periods import (
    PeriodKey,
    copy_calculations,
    copy_text,
    delete_calculations,
    key_arrays,
    plan_for_actual_arguments,
)


@dataclass(frozen=True)
class DecodedMessage:
    message: ConsumedMessage
    outcome: SettlementPeriodEvent | Rejection


@dataclass
class BatchOutcome:
    applied: dict[PeriodKey, PeriodStatus] = field(default_factory=dict)
    ignored_older: int = 0
    skipped: int = 0
    records: int = 0
    calculations: int = 0
    dead_letters: list[str] = field(default_factory=list)  # rejection kinds


def decode_batch(messages: Sequence[ConsumedMessage], max_bytes: int) -> list[DecodedMessage]:
    ordered = sorted(messages, key=lambda message: (message.topic, message.partition, message.offset))
    return [DecodedMessage(message, decode_event(message.value, max_bytes)) for message in ordered]


def difficulty_dates(decoded: Sequence[DecodedMessage]) -> set[date]:
    return {
        difficulty_date(item.outcome.period_start_utc)
        for item in decoded
        if isinstance(item.outcome, SettlementPeriodEvent)
    }


def newest_snapshots(decoded: Sequence[DecodedMessage]) -> dict[PeriodKey, SettlementPeriodEvent]:
    """Per period, the snapshot with the latest fetched_at (the later message wins a tie)."""
    newest: dict[PeriodKey, SettlementPeriodEvent] = {}
    for item in decoded:
        if isinstance(item.outcome, SettlementPeriodEvent):
            event = item.outcome
            key = (event.settlement_date, event.settlement_period)
            if key not in newest or event.fetched_at >= newest[key].fetched_at:
                newest[key] = event
    return newest


async def apply_batch(
    connection: asyncpg.Connection,
    decoded: Sequence[DecodedMessage],
    group: str,
    topics: Topics,
    difficulties: Mapping[date, Decimal],
    halvings: Sequence[Halving],
    crash: CrashPoints,
) -> BatchOutcome:
    outcome = BatchOutcome()
    async with connection.transaction():
        await lock_calculations_shared(connection)
        await plan_for_actual_arguments(connection)
        positions = await _lock_positions(
            connection, group, {(m.message.topic, m.message.partition) for m in decoded}
        )
        fresh = [
            m for m in decoded if m.message.offset >= positions.get((m.message.topic, m.message.partition), 0)
        ]
        outcome.skipped = len(decoded) - len(fresh)
        snapshots = newest_snapshots(fresh)
        stored = await _lock_periods(connection, snapshots.keys())
        to_apply = {
            key: event
            for key, event in snapshots.items()
            if key not in stored or event.fetched_at >= stored[key]
        }
        outcome.ignored_older = sum(isinstance(m.outcome, SettlementPeriodEvent) for m in fresh) - len(
            to_apply
        )
        models = await active_miner_models(connection)
        await _write_periods(connection, to_apply, difficulties, models, halvings, outcome)
        crash.reached("mid_batch")
        await _advance_positions(connection, group, decoded)
        await add_to_outbox(connection, _outbox_messages(fresh, to_apply, outcome, topics))
    return outcome


async def _write_periods(
    connection: asyncpg.Connection,
    to_apply: Mapping[PeriodKey, SettlementPeriodEvent],
    difficulties: Mapping[date, Decimal],
    models: Sequence[MinerModel],
    halvings: Sequence[Halving],
    outcome: BatchOutcome,
) -> None:
    if not to_apply:
        return
    events = [to_apply[key] for key in sorted(to_apply)]
    period_difficulty = {
        key: difficulties.get(difficulty_date(event.period_start_utc)) for key, event in to_apply.items()
    }
    await _upsert_periods(connection, events, period_difficulty)
    # Each record's rounded values, computed once: the rows stored and the energies calculated from.
    records = {(event.settlement_date, event.settlement_period): curtailment_rows(event) for event in events}
    await _replace_records(connection, events, records)
    calculation_lines: list[str] = []
    for key, event in sorted(to_apply.items()):
        difficulty = period_difficulty[key]
        outcome.applied[key] = "pending_difficulty" if difficulty is None else "calculated"
        outcome.records += len(event.records)
        if difficulty is not None:
            text, count = calculation_copy_text(
                *key, event.period_start_utc, row_energies(records[key]), models, difficulty, halvings
            )
            calculation_lines.append(text)
            outcome.calculations += count
    await copy_calculations(connection, calculation_lines)


async def _lock_positions(
    connection: asyncpg.Connection, group: str, partitions: set[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    ordered = sorted(partitions)
    rows = await connection.fetch(
        "SELECT topic, partition, next_offset FROM consumer_positions"
        " WHERE consumer_group = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))"
        " ORDER BY topic, partition FOR UPDATE",
        group,
        [topic for topic, _ in ordered],
        [partition for _, partition in ordered],
    )
    return {(row["topic"], row["partition"]): row["next_offset"] for row in rows}


async def _advance_positions(
    connection: asyncpg.Connection, group: str, decoded: Sequence[DecodedMessage]
) -> None:
    next_offsets: dict[tuple[str, int], int] = {}
    for item in decoded:
        tp = (item.message.topic, item.message.partition)
        next_offsets[tp] = max(next_offsets.get(tp, 0), item.message.offset + 1)
    ordered = sorted(next_offsets)
    await connection.execute(
        "INSERT INTO consumer_positions (consumer_group, topic, partition, next_offset)"
        " SELECT $1, topic, partition, next_offset FROM unnest($2::text[], $3::int[], $4::bigint[])"
        " AS p(topic, partition, next_offset)"
        " ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET"
        " next_offset = GREATEST(consumer_positions.next_offset, excluded.next_offset), updated_at = now()",
        group,
        [tp[0] for tp in ordered],
        [tp[1] for tp in ordered],
        [next_offsets[tp] for tp in ordered],
    )


async def _lock_periods(
    connection: asyncpg.Connection, keys: Iterable[PeriodKey]
) -> dict[PeriodKey, datetime]:
    dates, periods = key_arrays(keys)
    if not dates:
        return {}
    rows = await connection.fetch(
        "SELECT s.settlement_date, s.settlement_period, s.fetched_at FROM settlement_periods s"
        " JOIN unnest($1::date[], $2::smallint[]) AS k(d, p)"
        " ON s.settlement_date = k.d AND s.settlement_period = k.p"
        " ORDER BY 1, 2 FOR UPDATE OF s",
        dates,
        periods,
    )
    return {(row[0], row[1]): row[2] for row in rows}


async def _upsert_periods(
    connection: asyncpg.Connection,
    events: Sequence[SettlementPeriodEvent],
    difficulty: Mapping[PeriodKey, Decimal | None],
) -> None:
    keys = [(event.settlement_date, event.settlement_period) for event in events]
    await connection.execute(
        "INSERT INTO settlement_periods (settlement_date, settlement_period, period_start_utc, content_hash,"
        " fetched_at, record_count, status, difficulty, synthetic)"
        " SELECT * FROM unnest($1::date[], $2::smallint[], $3::timestamptz[], $4::text[], $5::timestamptz[],"
        " $6::int[], $7::text[], $8::numeric[], $9::bool[])"
        " ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET"
        " period_start_utc = excluded.period_start_utc, content_hash = excluded.content_hash,"
        " fetched_at = excluded.fetched_at, record_count = excluded.record_count, status = excluded.status,"
        " difficulty = excluded.difficulty, synthetic = excluded.synthetic, updated_at = now()",
        [key[0] for key in keys],
        [key[1] for key in keys],
        [event.period_start_utc for event in events],
        [event.content_hash for event in events],
        [event.fetched_at for event in events],
        [len(event.records) for event in events],
        ["pending_difficulty" if difficulty[key] is None else "calculated" for key in keys],
        [difficulty[key] for key in keys],
        [event.synthetic for event in events],
    )


async def _replace_records(
    connection: asyncpg.Connection,
    events: Sequence[SettlementPeriodEvent],
    records: Mapping[PeriodKey, Sequence[CurtailmentRow]],
) -> None:
    keys = [(event.settlement_date, event.settlement_period) for event in events]
    # Nothing cascades (migration 0600): the periods' calculations are deleted here, with their records.
    await delete_calculations(connection, keys)
    dates, periods = key_arrays(keys)
    await connection.execute(
        "DELETE FROM curtailment_records WHERE (settlement_date, settlement_period) IN"
        " (SELECT * FROM unnest($1::date[], $2::smallint[]))",
        dates,
        periods,
    )
    rows = [row for key in keys for row in records[key]]
    if not rows:
        return
    # Each record carries the lead party the BM unit registry names for its unit now (the API filters by it).
    parties = await connection.fetch(
        "SELECT elexon_bm_unit, lead_party_name FROM wind_bm_units WHERE elexon_bm_unit = ANY($1::text[])",
        sorted({row[2] for row in rows}),
    )
    text = curtailment_copy_text(rows, {party[0]: party[1] for party in parties})
    await copy_text(connection, "curtailment_records", (*CURTAILMENT_COLUMNS, "lead_party_name"), [text])


def _outbox_messages(
    fresh: Sequence[DecodedMessage],
    applied: Mapping[PeriodKey, SettlementPeriodEvent],
    outcome: BatchOutcome,
    topics: Topics,
) -> list[OutboxMessage]:
    now = datetime.now(UTC)
    messages = []
    for item in fresh:
        if isinstance(item.outcome, Rejection):
            outcome.dead_letters.append(item.outcome.kind)
            letter = dead_letter(item.message, item.outcome, now)
            messages.append(dead_letter_message(topics, letter, item.message.key))
    for key, event in sorted(applied.items()):
        calculated = PeriodCalculatedEvent(
            settlement_date=event.settlement_date,
            settlement_period=event.settlement_period,
            content_hash=event.content_hash,
            record_count=len(event.records),
            status=outcome.applied[key],
            calculated_at=now,
        )
        messages.append(period_calculated_message(topics, calculated))
    return messages
