"""The aggregator's invariant, property-tested against the real PostgreSQL: after any sequence of period
events (revisions, re-deliveries, duplicates, out-of-order days, empty periods, 46- and 50-period days,
price changes) applied through the aggregator's batch transaction
(`windhash_aggregator.handler.apply_messages`), every summary row equals the aggregate of the facts, and
nothing else is there.

The expected summaries are computed here in Python from the test's own model of the facts, independently of
the aggregator's SQL."""

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from windhash_aggregator.handler import apply_messages
from windhash_common.btc_prices import fiat_value
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.events import PeriodCalculatedEvent, PeriodStatus
from windhash_common.settlement_calendar import settlement_periods_in_day
from windhash_common.summaries.stale_days import drain_stale_days
from windhash_common.summaries.summary_tables import ALL_TABLES
from windhash_common.summaries.verify import verify_summaries
from windhash_testing.synthetic_facts import (
    CalculationFact,
    RecordFact,
    ensure_miner_models,
    period_calculated_event,
    period_calculated_message,
    write_period_facts,
)

pytestmark = pytest.mark.integration

GROUP = "windhash-aggregator"
TOPIC = "invariant.period-calculated.v1"
# Month and year boundaries, the 46-period spring day and the 50-period autumn day.
DATES = (date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1), date(2024, 10, 27), date(2024, 12, 31),
         date(2025, 1, 1))  # fmt: skip
UNITS = ("T_ALPHA-1", "T_BRAVO-2", "T_CHARLIE-3")
PARTIES = (None, "Alpha Wind Ltd", "Bravo Energy plc")
MODELS = ("invariant-s19", "invariant-s21")
CENT = Decimal("0.01")

Row = tuple[Any, ...]
Summaries = dict[str, dict[Row, Row]]
PeriodKey = tuple[date, int]


# ---------- strategies ----------


def _decimal(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-places))


@st.composite
def record_facts(draw: st.DrawFn) -> RecordFact:
    volume = -draw(_decimal(1, 5_000_000, 6))
    price = draw(_decimal(-1_500_000, 1_500_000, 4))
    calculations = tuple(
        CalculationFact(
            miner_model=model,
            energy_mwh=-volume if draw(st.integers(0, 5)) else Decimal(0),
            difficulty=Decimal((80 + draw(st.sampled_from((0, 1, 7)))) * 10**12 + draw(st.integers(0, 999))),
            btc=draw(_decimal(0, 10**9, 8)),
        )
        for model in draw(st.lists(st.sampled_from(MODELS), unique=True, max_size=2))
    )
    return RecordFact(
        bm_unit=draw(st.sampled_from(UNITS)),
        acceptance_id=draw(st.integers(1, 3)),
        bid_offer_pair_id=draw(st.sampled_from((-1, -2))),
        lead_party_name=draw(st.sampled_from(PARTIES)),
        volume_mwh=volume,
        price_gbp_per_mwh=price,
        cashflow_gbp=(volume * price).quantize(Decimal("0.0001")),
        calculations=calculations,
    )


@dataclass(frozen=True)
class Write:
    """The calculator replaced a period's facts (possibly with none) and published an event."""

    settlement_date: date
    settlement_period: int
    records: tuple[RecordFact, ...]
    pending: bool


@dataclass(frozen=True)
class Redeliver:
    """Kafka re-delivers an event already read (same offset)."""

    pick: int


@dataclass(frozen=True)
class Duplicate:
    """The outbox relay publishes an event again (new offset)."""

    pick: int


@dataclass(frozen=True)
class SetPrice:
    """A day's BTC price is loaded, corrected or removed after its summaries were made."""

    day: date
    price: tuple[Decimal | None, Decimal | None] | None


Action = Write | Redeliver | Duplicate | SetPrice


def _record_key(record: RecordFact) -> tuple[str, int, int]:
    return (record.bm_unit, record.acceptance_id, record.bid_offer_pair_id)


@st.composite
def writes(draw: st.DrawFn) -> Write:
    day = draw(st.sampled_from(DATES))
    last = settlement_periods_in_day(day)
    period = draw(st.one_of(st.sampled_from((1, last)), st.integers(1, last)))
    records = draw(st.lists(record_facts(), max_size=3, unique_by=_record_key))
    pending = draw(st.integers(0, 4)) == 0
    if pending:
        records = [replace(record, calculations=()) for record in records]
    return Write(day, period, tuple(records), pending)


price_pairs = st.tuples(
    st.one_of(st.none(), _decimal(1, 9_000_000, 2)), st.one_of(st.none(), _decimal(1, 9_000_000, 2))
)
actions: st.SearchStrategy[Action] = st.one_of(
    writes(),
    writes(),
    writes(),
    st.builds(Redeliver, st.integers(0, 50)),
    st.builds(Duplicate, st.integers(0, 50)),
    st.builds(SetPrice, st.sampled_from(DATES), st.one_of(st.none(), price_pairs)),
)
prices = st.dictionaries(st.sampled_from(DATES), price_pairs)


# ---------- the independent model of the expected summaries ----------


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _group(items: list[Any], key: Callable[[Any], Hashable]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


GRAINS: dict[str, Callable[[date], Any]] = {
    "daily": lambda day: day,
    "monthly": lambda day: day.replace(day=1),
    "yearly": lambda day: day.year,
}


def _curtailment(rows: list[tuple[date, int, RecordFact]], grain: Callable[[date], Any]) -> dict[Row, Row]:
    expected: dict[Row, Row] = {}
    for key, group in _group(rows, lambda row: grain(row[0])).items():
        expected[(key,)] = (
            sum(-r.volume_mwh for _, _, r in group),
            sum(r.cashflow_gbp for _, _, r in group),
            len(group),
            len({(day, period) for day, period, _ in group}),
            len({r.bm_unit for _, _, r in group}),
        )
    return expected


def _bitcoin(
    rows: list[tuple[date, int, RecordFact]],
    day_prices: dict[date, tuple[Decimal | None, Decimal | None]],
    grain: Callable[[date], Any],
    with_days_without_price: bool,
) -> dict[Row, Row]:
    calculations = [(day, calc) for day, _, record in rows for calc in record.calculations]
    expected: dict[Row, Row] = {}
    for (key, model), group in _group(
        calculations, lambda item: (grain(item[0]), item[1].miner_model)
    ).items():
        by_day = _group(group, lambda item: item[0])
        values_gbp, values_usd, days_without_price = [], [], 0
        for day, day_group in by_day.items():
            gbp, usd = day_prices.get(day, (None, None))
            day_btc = sum(calc.btc for _, calc in day_group)
            values_gbp += [value] if (value := fiat_value(day_btc, gbp)) is not None else []
            values_usd += [value] if (value := fiat_value(day_btc, usd)) is not None else []
            days_without_price += gbp is None
        calcs = [calc for _, calc in group]
        energy = sum(calc.energy_mwh for calc in calcs)
        with localcontext() as context:
            context.prec = 80
            weighted = (
                sum(calc.energy_mwh * calc.difficulty for calc in calcs) / energy
                if energy > 0
                else sum(calc.difficulty for calc in calcs) / len(calcs)
            )
        row: Row = (
            sum(calc.btc for calc in calcs),
            energy,
            min(calc.difficulty for calc in calcs),
            max(calc.difficulty for calc in calcs),
            _round(weighted),
            sum(values_gbp) if values_gbp else None,
            sum(values_usd) if values_usd else None,
        )
        expected[(key, model)] = (*row, days_without_price) if with_days_without_price else row
    return expected


def _bitcoin_daily_moments(rows: list[tuple[date, int, RecordFact]]) -> dict[Row, Row]:
    calculations = [(day, calc) for day, _, record in rows for calc in record.calculations]
    return {
        key: (
            sum(calc.energy_mwh * calc.difficulty for _, calc in group),
            sum(calc.difficulty for _, calc in group),
            len(group),
        )
        for key, group in _group(calculations, lambda item: (item[0], item[1].miner_model)).items()
    }


def _bm_unit_daily(rows: list[tuple[date, int, RecordFact]]) -> dict[Row, Row]:
    expected: dict[Row, Row] = {}
    for (day, unit), group in _group(rows, lambda row: (row[0], row[2].bm_unit)).items():
        last = max(group, key=lambda row: (row[1], row[2].acceptance_id, row[2].bid_offer_pair_id))[2]
        expected[(day, unit)] = (
            last.lead_party_name or "Unknown",
            sum(-r.volume_mwh for _, _, r in group),
            sum(r.cashflow_gbp for _, _, r in group),
            len(group),
        )
    return expected


def _lead_party_daily(rows: list[tuple[date, int, RecordFact]]) -> dict[Row, Row]:
    expected: dict[Row, Row] = {}
    for key, group in _group(rows, lambda row: (row[0], row[2].lead_party_name or "Unknown")).items():
        expected[key] = (
            sum(-r.volume_mwh for _, _, r in group),
            sum(r.cashflow_gbp for _, _, r in group),
            len(group),
            len({r.bm_unit for _, _, r in group}),
        )
    return expected


def expected_summaries(
    facts: dict[PeriodKey, tuple[RecordFact, ...]],
    day_prices: dict[date, tuple[Decimal | None, Decimal | None]],
) -> Summaries:
    rows = [(day, period, record) for (day, period), records in facts.items() for record in records]
    expected: Summaries = {}
    for suffix, grain in GRAINS.items():
        expected[f"curtailment_{suffix}"] = _curtailment(rows, grain)
        expected[f"bitcoin_{suffix}"] = _bitcoin(rows, day_prices, grain, suffix != "daily")
    expected["bitcoin_daily_moments"] = _bitcoin_daily_moments(rows)
    expected["bm_unit_daily"] = _bm_unit_daily(rows)
    expected["lead_party_daily"] = _lead_party_daily(rows)
    return expected


async def stored_summaries(connection: asyncpg.Connection) -> Summaries:
    stored: Summaries = {}
    for table in ALL_TABLES:
        rows = await connection.fetch(f"SELECT {', '.join(table.columns)} FROM {table.name}")
        width = len(table.key_columns)
        stored[table.name] = {tuple(row.values())[:width]: tuple(row.values())[width:] for row in rows}
    return stored


# ---------- the scenario runner ----------


def decoded_event(message: ConsumedMessage) -> PeriodCalculatedEvent:
    assert message.value is not None
    return PeriodCalculatedEvent.model_validate_json(message.value)


@dataclass
class Scenario:
    connection: asyncpg.Connection
    facts: dict[PeriodKey, tuple[RecordFact, ...]] = field(default_factory=dict)
    history: list[ConsumedMessage] = field(default_factory=list)
    next_offset: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0})

    def _publish(self, event: Any) -> ConsumedMessage:
        partition = event.settlement_date.toordinal() % 2  # keyed by date, like the real topic
        positioned = period_calculated_message(TOPIC, partition, self.next_offset[partition], event)
        self.next_offset[partition] += 1
        self.history.append(positioned)
        return positioned

    async def perform(self, action: Action) -> ConsumedMessage | None:
        if isinstance(action, SetPrice):
            await set_price(self.connection, action.day, action.price)
            return None
        if isinstance(action, Write):
            status: PeriodStatus = "pending_difficulty" if action.pending else "calculated"
            await write_period_facts(
                self.connection, action.settlement_date, action.settlement_period, action.records, status
            )
            self.facts[(action.settlement_date, action.settlement_period)] = action.records
            return self._publish(
                period_calculated_event(
                    action.settlement_date, action.settlement_period, action.records, status
                )
            )
        if not self.history:
            return None
        earlier = self.history[action.pick % len(self.history)]
        return earlier if isinstance(action, Redeliver) else self._publish(decoded_event(earlier))


@pytest.fixture
async def invariant_connection(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    await ensure_miner_models(connection, MODELS)
    yield connection
    await connection.close()


async def set_price(
    connection: asyncpg.Connection, day: date, price: tuple[Decimal | None, Decimal | None] | None
) -> None:
    if price is None:
        await connection.execute("DELETE FROM btc_prices WHERE price_date = $1", day)
        return
    await connection.execute(
        "INSERT INTO btc_prices (price_date, gbp, usd, source) VALUES ($1, $2, $3, 'test')"
        " ON CONFLICT (price_date) DO UPDATE SET gbp = EXCLUDED.gbp, usd = EXCLUDED.usd",
        day,
        *price,
    )


async def stored_prices(connection: asyncpg.Connection) -> dict[date, tuple[Decimal | None, Decimal | None]]:
    rows = await connection.fetch("SELECT price_date, gbp, usd FROM btc_prices")
    return {row["price_date"]: (row["gbp"], row["usd"]) for row in rows}


async def _reset(
    connection: asyncpg.Connection, day_prices: dict[date, tuple[Decimal | None, Decimal | None]]
) -> None:
    # DELETE, not TRUNCATE: on a handful of rows it is several times faster, and this runs per example.
    # The facts explicitly: nothing cascades from settlement_periods (migration 0600).
    tables = [
        "bitcoin_calculations",
        "curtailment_records",
        "settlement_periods",
        "btc_prices",
        "consumer_positions",
        *(table.name for table in ALL_TABLES),
    ]
    await connection.execute("; ".join(f"DELETE FROM {name}" for name in tables))
    await connection.execute("DELETE FROM summary_stale_days")
    await connection.executemany(
        "INSERT INTO btc_prices (price_date, gbp, usd, source) VALUES ($1, $2, $3, 'test')",
        [(day, gbp, usd) for day, (gbp, usd) in day_prices.items()],
    )


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(day_prices=prices, batches=st.lists(st.lists(actions, min_size=1, max_size=3), min_size=1, max_size=5))
async def test_summaries_equal_the_facts_after_every_batch(
    invariant_connection: asyncpg.Connection,
    day_prices: dict[date, tuple[Decimal | None, Decimal | None]],
    batches: list[list[Action]],
) -> None:
    connection = invariant_connection
    await _reset(connection, day_prices)
    scenario = Scenario(connection)
    for actions_in_batch in batches:
        positioned = [event for action in actions_in_batch if (event := await scenario.perform(action))]
        await apply_messages(connection, positioned, GROUP, f"{TOPIC}.dead-letter")
        await drain_stale_days(connection)

        assert await stored_summaries(connection) == expected_summaries(
            scenario.facts, await stored_prices(connection)
        )
        assert await connection.fetchval("SELECT count(*) FROM summary_stale_days") == 0
        # The from-facts queries `summaries verify` uses agree as well (months and years were rolled up).
        assert await verify_summaries(connection) == []
        stored_positions = {
            row["partition"]: row["next_offset"]
            for row in await connection.fetch("SELECT partition, next_offset FROM consumer_positions")
        }
        assert stored_positions == {p: n for p, n in scenario.next_offset.items() if n > 0}
