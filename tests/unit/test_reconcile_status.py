"""Reconciliation's pure parts: a day's stages and class, gap reasons, worst days, drift attribution."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from windhash_common.events import DeadLetter
from windhash_common.reconciliation.calculation_rate import calculation_rate
from windhash_common.reconciliation.day_status import PeriodState, day_status, report
from windhash_common.reconciliation.status_queries import drift_by_day, ended_periods
from windhash_common.summaries.verify import SummaryDrift
from windhash_reconciler.gap_analysis import DayAnalysis, day_gaps, worst_days
from windhash_reconciler.summary_repair import drift_keys

DAY = date(2024, 6, 12)
MODELS = 6


def state(period: int, count: int = 3, **changes: object) -> PeriodState:
    values: dict[str, object] = {
        "settlement_period": period,
        "progress_status": "ok",
        "progress_record_count": count,
        "progress_hash": f"h{period}",
        "progress_error": None,
        "stored_status": "calculated",
        "stored_hash": f"h{period}",
        "stored_record_count": count,
        "records": count,
        "calculations": count * MODELS,
    }
    values.update(changes)
    return PeriodState(**values)  # type: ignore[arg-type]


def whole_day(changes: Mapping[int, Mapping[str, Any]] | None = None) -> dict[int, PeriodState]:
    return {p: state(p, **(changes or {}).get(p, {})) for p in range(1, 49)}


def test_a_day_holding_everything_is_complete() -> None:
    day = day_status(DAY, 48, whole_day().values(), MODELS, drift=0)
    assert day.day_class == "complete"
    assert (day.records_expected, day.records_actual) == (144, 144)
    assert (day.calculations_expected, day.calculations_actual) == (864, 864)
    assert all(stage.ok for stage in day.stages())


def test_a_missing_calculation_or_drift_makes_a_day_partial() -> None:
    short = whole_day({5: {"calculations": 17}})
    assert day_status(DAY, 48, short.values(), MODELS, drift=0).day_class == "partial"
    assert day_status(DAY, 48, whole_day().values(), MODELS, drift=2).day_class == "partial"


def test_pending_difficulty_is_reported_apart_and_not_counted_as_missing_calculations() -> None:
    pending = whole_day({7: {"stored_status": "pending_difficulty", "calculations": 0}})
    day = day_status(DAY, 48, pending.values(), MODELS, drift=0)
    assert day.periods_pending_difficulty == 1
    assert day.calculations_expected == day.calculations_actual == 47 * 3 * MODELS
    assert day.day_class == "partial"  # complete only once the difficulty is known


def test_most_periods_unfetched_or_records_lost_is_critical() -> None:
    few = {p: state(p) for p in range(1, 10)}
    assert day_status(DAY, 48, few.values(), MODELS, drift=0).day_class == "critical"
    assert day_status(DAY, 48, [], MODELS, drift=0).day_class == "critical"
    lost = {p: state(p) for p in range(1, 49)}
    for p in range(1, 30):
        lost[p] = state(p, records=0, calculations=0)
    assert day_status(DAY, 48, lost.values(), MODELS, drift=0).day_class == "critical"


def test_a_tampered_snapshot_is_not_applied() -> None:
    tampered = whole_day({3: {"stored_hash": "other"}})
    day = day_status(DAY, 48, tampered.values(), MODELS, drift=0)
    assert (day.periods_applied, day.periods_fetched) == (47, 48)


def test_the_rate_is_complete_days_over_days() -> None:
    complete = day_status(DAY, 48, whole_day().values(), MODELS, drift=0)
    partial = day_status(date(2024, 6, 13), 48, whole_day().values(), MODELS, drift=1)
    rate = calculation_rate(96, 0, {f"M{index}": 96 for index in range(MODELS)})
    summary = report(DAY, date(2024, 6, 13), [complete, partial], rate)
    assert (summary.complete_days, summary.partial_days, summary.completeness_ratio) == (1, 1, 0.5)
    assert (summary.active_miner_models, summary.calculation_rate.rate) == (MODELS, 1.0)
    assert report(None, None, [], calculation_rate(0, 0, {})).completeness_ratio == 1.0


def test_the_predecessors_rate_is_calculations_over_records_times_models() -> None:
    rate = calculation_rate(200, 10, {"S9": 200, "M20S": 190, "S19J_PRO": 0})
    assert (rate.calculations_expected, rate.calculations_present) == (600, 390)
    assert rate.rate == 390 / 600
    assert [(model.miner_model, model.rate) for model in rate.models] == [
        ("M20S", 0.95),
        ("S19J_PRO", 0.0),
        ("S9", 1.0),
    ]
    assert rate.records_pending_difficulty == 10


def test_nothing_expected_is_a_whole_rate() -> None:
    rate = calculation_rate(0, 0, {"S9": 0})
    assert (rate.rate, rate.models[0].rate, rate.calculations_expected) == (1.0, 1.0, 0)


def test_gaps_name_each_reason_with_its_periods() -> None:
    states = whole_day(
        {
            2: {"progress_status": "failed", "progress_error": "HTTP 503 after 5 retries"},
            4: {"stored_status": "pending_difficulty", "calculations": 0},
            6: {"calculations": 1},
            8: {"records": 1},
        }
    )
    del states[9]
    letter = DeadLetter(
        service="calculator",
        reason="schema: bad",
        settlement_date=DAY,
        settlement_period=10,
        payload="{}",
        failed_at=datetime(2024, 6, 13, tzinfo=UTC),
    )
    day = day_status(DAY, 48, states.values(), MODELS, drift=3)
    gaps = {gap.kind: gap for gap in day_gaps(day, states, list(range(1, 49)), MODELS, [letter])}
    assert gaps["not fetched"].periods == [9]
    assert gaps["failed fetch"].periods == [2] and "503" in gaps["failed fetch"].detail
    assert gaps["pending difficulty"].periods == [4]
    assert gaps["missing calculation"].periods == [6]
    assert gaps["not applied"].periods == [8]
    assert gaps["dead-lettered event"].periods == [10] and "schema" in gaps["dead-lettered event"].detail
    assert "3 summary rows" in gaps["summary drift"].detail


def test_worst_days_are_critical_first_then_by_how_much_is_missing() -> None:
    complete = day_status(DAY, 48, whole_day().values(), MODELS, drift=0)
    slightly = day_status(date(2024, 6, 13), 48, whole_day({1: {"calculations": 0}}).values(), MODELS, 0)
    badly = day_status(date(2024, 6, 14), 48, [], MODELS, drift=0)
    analyses = [DayAnalysis(day=day, gaps=[]) for day in (complete, slightly, badly)]
    ranked = [entry.day.settlement_date for entry in worst_days(analyses, 5)]
    assert ranked == [date(2024, 6, 14), date(2024, 6, 13)]


def drift(table: str, column: str, value: str) -> SummaryDrift:
    return SummaryDrift(table, ((column, value),), "missing", ("x",), {"x": 1}, None)


def test_month_and_year_drift_count_against_every_day_they_cover() -> None:
    found = [
        drift("curtailment_daily", "settlement_date", "2024-06-12"),
        drift("curtailment_monthly", "month", "2024-06-01"),
        drift("bitcoin_yearly", "year", "2024"),
    ]
    counts = drift_by_day(found, date(2024, 5, 31), date(2024, 6, 13))
    assert counts[date(2024, 6, 12)] == 3
    assert counts[date(2024, 6, 13)] == 2
    assert counts[date(2024, 5, 31)] == 1
    assert drift_keys(found) == ({date(2024, 6, 12)}, {date(2024, 6, 1)}, {2024})


def test_only_ended_periods_are_expected() -> None:
    assert len(ended_periods(date(2024, 3, 31), datetime(2024, 4, 2, tzinfo=UTC))) == 46
    assert len(ended_periods(date(2024, 10, 27), datetime(2024, 11, 2, tzinfo=UTC))) == 50
    assert ended_periods(DAY, datetime(2024, 6, 11, 23, 31, tzinfo=UTC)) == [1]
