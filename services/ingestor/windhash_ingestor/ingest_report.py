"""What a run of the ingestor did, per settlement day: the final table of `windhash ingest`."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from windhash_common.curtailment_facts.unstorable_periods import UnstorablePeriod
from windhash_common.settlement_calendar import dates_between, settlement_periods_in_day

from windhash_ingestor.period_ingest import PeriodOutcome


@dataclass(frozen=True)
class DayReport:
    """One settlement day. A period that went well was published, unchanged or skipped (already ok before this
    run); `pending` ones have not ended yet; `failed` ones failed to fetch or publish, or were refused by the
    calculator. Records and MWh cover every period that went well."""

    settlement_date: date | None
    periods: int
    published: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0
    records: int = 0
    energy_mwh: Decimal = Decimal(0)


@dataclass(frozen=True)
class IngestReport:
    """Per day, what happened; `failures` lists failed periods in full (the first of them, in a very long
    range: every failure is counted in its day's row and in `total`)."""

    first: date
    last: date
    days: tuple[DayReport, ...]
    failures: tuple[PeriodOutcome, ...]

    @property
    def succeeded(self) -> bool:
        return self.total.failed == 0

    @property
    def total(self) -> DayReport:
        return DayReport(
            settlement_date=None,
            periods=sum(day.periods for day in self.days),
            published=sum(day.published for day in self.days),
            unchanged=sum(day.unchanged for day in self.days),
            skipped=sum(day.skipped for day in self.days),
            failed=sum(day.failed for day in self.days),
            pending=sum(day.pending for day in self.days),
            records=sum(day.records for day in self.days),
            energy_mwh=sum((day.energy_mwh for day in self.days), Decimal(0)),
        )


REFUSED_BY_CALCULATOR = "the calculator refused it: "


def refused_as_failed(
    outcomes: Iterable[PeriodOutcome], refused: Mapping[tuple[date, int], UnstorablePeriod]
) -> list[PeriodOutcome]:
    """The outcomes with every period the calculator refused (its figures cannot be stored, see
    `windhash_common.curtailment_facts.storable_figures`) turned failed, with the calculator's reason: the
    period was fetched and published, but nothing of it is stored until its reference data is corrected."""
    return [
        replace(outcome, status="failed", error=REFUSED_BY_CALCULATOR + found.reason)
        if outcome.status != "pending"
        and (found := refused.get((outcome.settlement_date, outcome.settlement_period))) is not None
        else outcome
        for outcome in outcomes
    ]


def build_report(first: date, last: date, outcomes: Iterable[PeriodOutcome]) -> IngestReport:
    by_day: dict[date, list[PeriodOutcome]] = defaultdict(list)
    for outcome in outcomes:
        by_day[outcome.settlement_date].append(outcome)
    days = []
    failures = []
    for day in dates_between(first, last):
        counts = {"published": 0, "unchanged": 0, "skipped": 0, "failed": 0, "pending": 0}
        records = 0
        energy = Decimal(0)
        for outcome in by_day.get(day, []):
            counts[outcome.status] += 1
            if outcome.status == "failed":
                failures.append(outcome)
            elif outcome.status != "pending":
                records += outcome.record_count
                energy += outcome.energy_mwh
        days.append(
            DayReport(day, settlement_periods_in_day(day), records=records, energy_mwh=energy, **counts)
        )
    failures.sort(key=lambda outcome: (outcome.settlement_date, outcome.settlement_period))
    return IngestReport(first, last, tuple(days), tuple(failures))
