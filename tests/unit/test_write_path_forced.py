"""Reconciliation's forced write (`write_snapshots(..., forced=True)`) against the in-memory period facts: it
applies a snapshot the stored one claims to be newer than, and a period it must refuse keeps what is stored
(a forced replay once deleted the period before the write path refused it, losing its rows)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.curtailment_facts.write_path import write_snapshots
from windhash_common.events import SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_testing.curtailment_samples import period_snapshot, wind_record
from windhash_testing.fakes import FakePeriodFacts

DAY = date(2024, 5, 1)
FETCHED = datetime(2024, 5, 2, tzinfo=UTC)
DIFFICULTY = {DAY: Decimal(86_388_558_925_171)}
MODELS = [MinerModel("S21", "Bitmain", Decimal(200), Decimal(3500))]


def snapshot(fetched: datetime, acceptance_id: int) -> SettlementPeriodEvent:
    return period_snapshot(DAY, 5, fetched, wind_record(acceptance_id))


async def stored_period() -> FakePeriodFacts:
    facts = FakePeriodFacts(MODELS)
    await write_snapshots(facts, [snapshot(FETCHED, 1)], DIFFICULTY, MINED_HALVINGS)
    return facts


async def test_forced_applies_a_snapshot_older_than_the_stored_one() -> None:
    facts = await stored_period()
    older = snapshot(FETCHED - timedelta(days=1), 2)
    unforced = await write_snapshots(facts, [older], DIFFICULTY, MINED_HALVINGS)
    assert unforced.applied == {} and unforced.ignored_older == 1
    forced = await write_snapshots(facts, [older], DIFFICULTY, MINED_HALVINGS, forced=True)
    assert forced.applied == {(DAY, 5): "calculated"}
    assert [row[3] for row in facts.records[(DAY, 5)]] == [2]
    assert {line[3] for line in facts.calculations_of((DAY, 5))} == {"2"}
    assert facts.periods[(DAY, 5)][0] == older.fetched_at


async def test_a_forced_period_that_is_refused_keeps_what_is_stored_and_is_recorded_unstorable() -> None:
    facts = await stored_period()
    records, calculations = list(facts.records[(DAY, 5)]), facts.calculations_of((DAY, 5))
    absurd = {DAY: Decimal("0.5")}  # the BTC of a period at this difficulty overflows its column
    outcome = await write_snapshots(facts, [snapshot(FETCHED, 3)], absurd, MINED_HALVINGS, forced=True)
    assert outcome.applied == {} and list(outcome.refused) == [(DAY, 5)]
    assert facts.records[(DAY, 5)] == records
    assert facts.calculations_of((DAY, 5)) == calculations
    assert facts.periods[(DAY, 5)][0] == FETCHED
    assert list(facts.unstorable) == [(DAY, 5)]
