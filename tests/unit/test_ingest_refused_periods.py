"""`windhash ingest` counts the periods the calculator refused (their figures cannot be stored) as failed."""

from datetime import UTC, date, datetime
from decimal import Decimal

from windhash_common.curtailment_facts.unstorable_periods import UnstorablePeriod
from windhash_ingestor.ingest_report import build_report, refused_as_failed
from windhash_ingestor.period_ingest import PeriodOutcome

DAY = date(2024, 4, 18)
REFUSED_AT = datetime(2024, 6, 1, tzinfo=UTC)


def test_a_refused_period_is_failed_with_the_calculators_reason_whatever_the_fetch_did() -> None:
    outcomes = [
        PeriodOutcome(DAY, 1, "published", 2, Decimal(5)),
        PeriodOutcome(DAY, 2, "skipped", 1, Decimal(3)),
        PeriodOutcome(DAY, 3, "unchanged", 1, Decimal(1)),
        PeriodOutcome(DAY, 4, "pending"),
    ]
    refused = {
        (DAY, period): UnstorablePeriod(DAY, period, "S19J_PRO would mine 1E+12 BTC", REFUSED_AT)
        for period in (2, 4)
    }
    report = build_report(DAY, DAY, refused_as_failed(outcomes, refused))
    [day] = report.days
    assert (day.published, day.skipped, day.unchanged, day.failed, day.pending) == (1, 0, 1, 1, 1)
    assert (day.records, day.energy_mwh) == (3, Decimal(6))
    [failure] = report.failures
    assert (failure.settlement_period, failure.error) == (
        2,
        "the calculator refused it: S19J_PRO would mine 1E+12 BTC",
    )
    assert not report.succeeded
