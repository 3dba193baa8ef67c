"""Does PostgreSQL hold exactly what replaying a period's latest event would write?

The expected rows are built with the calculator's own row functions
(`windhash_common.curtailment_facts.rows`), from the event, the day's difficulty and the active miner models,
so "expected" can never disagree with what a replay writes. Comparing whole rows finds what counts cannot: a
tampered volume, a BTC figure, a lead party, a snapshot older than the topic's, a model with no calculations
yet (a newly added model is a gap like any other).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
from windhash_common.bitcoin import Halving
from windhash_common.curtailment_facts.rows import (
    CALCULATION_COLUMNS,
    CURTAILMENT_COLUMNS,
    calculation_rows,
    curtailment_rows,
    difficulty_date,
    event_record_energies,
)
from windhash_common.events import SettlementPeriodEvent
from windhash_common.miner_models import MinerModel

PeriodRow = tuple[Any, ...]
_PERIOD_COLUMNS = (
    "period_start_utc",
    "content_hash",
    "fetched_at",
    "record_count",
    "status",
    "difficulty",
    "synthetic",
)


@dataclass(frozen=True)
class ExpectedPeriod:
    period: PeriodRow
    records: frozenset[PeriodRow]
    calculations: frozenset[PeriodRow]


@dataclass
class StoredDay:
    periods: dict[int, PeriodRow] = field(default_factory=dict)
    records: dict[int, set[PeriodRow]] = field(default_factory=lambda: defaultdict(set))
    calculations: dict[int, set[PeriodRow]] = field(default_factory=lambda: defaultdict(set))


def expected_period(
    event: SettlementPeriodEvent,
    difficulty: Decimal | None,
    models: Sequence[MinerModel],
    lead_parties: Mapping[str, str | None],
    halvings: Sequence[Halving],
) -> ExpectedPeriod:
    status = "pending_difficulty" if difficulty is None else "calculated"
    period = (
        event.period_start_utc,
        event.content_hash,
        event.fetched_at,
        len(event.records),
        status,
        difficulty,
        event.synthetic,
    )
    records = frozenset((*row, lead_parties.get(row[2])) for row in curtailment_rows(event))
    calculations: frozenset[PeriodRow] = frozenset()
    if difficulty is not None:
        rows = calculation_rows(
            event.settlement_date,
            event.settlement_period,
            event.period_start_utc,
            event_record_energies(event),
            models,
            difficulty,
            halvings,
        )
        calculations = frozenset(rows)
    return ExpectedPeriod(period, records, calculations)


def differences(expected: ExpectedPeriod, stored: StoredDay, period: int) -> list[str]:
    """What differs between the expected and the stored period; empty when it is as a replay leaves it."""
    found = []
    if stored.periods.get(period) != expected.period:
        found.append("period" if period in stored.periods else "period missing")
    if stored.records.get(period, set()) != expected.records:
        found.append("records")
    if stored.calculations.get(period, set()) != expected.calculations:
        found.append("calculations")
    return found


def event_difficulty(event: SettlementPeriodEvent, difficulties: Mapping[date, Decimal]) -> Decimal | None:
    return difficulties.get(difficulty_date(event.period_start_utc))


async def lead_parties(connection: asyncpg.Connection) -> dict[str, str | None]:
    rows = await connection.fetch("SELECT elexon_bm_unit, lead_party_name FROM wind_bm_units")
    return {row[0]: row[1] for row in rows}


async def stored_day(connection: asyncpg.Connection, day: date, models: Sequence[str]) -> StoredDay:
    stored = StoredDay()
    periods = await connection.fetch(
        f"SELECT settlement_period, {', '.join(_PERIOD_COLUMNS)} FROM settlement_periods"
        " WHERE settlement_date = $1",
        day,
    )
    for row in periods:
        stored.periods[row[0]] = tuple(row[1:])
    records = await connection.fetch(
        f"SELECT {', '.join(CURTAILMENT_COLUMNS)}, lead_party_name FROM curtailment_records"
        " WHERE settlement_date = $1",
        day,
    )
    for row in records:
        stored.records[row["settlement_period"]].add(tuple(row))
    calculations = await connection.fetch(
        f"SELECT {', '.join(CALCULATION_COLUMNS)} FROM bitcoin_calculations"
        " WHERE settlement_date = $1 AND miner_model = ANY($2::text[])",
        day,
        list(models),
    )
    for row in calculations:
        stored.calculations[row["settlement_period"]].add(tuple(row))
    return stored
