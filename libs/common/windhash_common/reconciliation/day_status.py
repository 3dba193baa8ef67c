"""What one settlement day should hold at each stage, what it holds, and its class. Pure functions.

Expectations come from definitions that are right by construction: the periods from the settlement calendar
(46, 48 or 50, counting only periods that have ended), the records from what the ingestor fetched and
published (ingestion_progress), the calculations as records × active miner models for every period whose
difficulty is known. Periods held `pending_difficulty` are reported on their own, never counted as missing
calculations: their difficulty has not been published yet, which is not a fault of the data.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from windhash_common.reconciliation.calculation_rate import CalculationRate

DayClass = Literal["complete", "partial", "critical"]
# Below this share of what a stage should hold, a day is critical rather than partial.
CRITICAL_SHARE = 0.5


@dataclass(frozen=True)
class PeriodState:
    """One settlement period as the tables hold it (None: no row)."""

    settlement_period: int
    progress_status: str | None
    progress_record_count: int | None
    progress_hash: str | None
    progress_error: str | None
    stored_status: str | None
    stored_hash: str | None
    stored_record_count: int | None
    records: int
    calculations: int

    @property
    def fetched(self) -> bool:
        return self.progress_status == "ok"

    @property
    def applied(self) -> bool:
        """The calculator holds the snapshot the ingestor last published (same content hash and size)."""
        return (
            self.fetched
            and self.stored_hash == self.progress_hash
            and self.stored_record_count == self.progress_record_count
            and self.records == self.progress_record_count
        )

    @property
    def pending(self) -> bool:
        return self.stored_status == "pending_difficulty"


class StageCount(BaseModel):
    stage: str
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        return self.actual == self.expected


class DayStatus(BaseModel):
    settlement_date: date
    day_class: DayClass
    periods_expected: int = Field(description="Ended settlement periods of the day (calendar: 46/48/50).")
    periods_fetched: int = Field(description="Periods the ingestor fetched and published (progress ok).")
    periods_failed: int
    periods_applied: int = Field(description="Fetched periods the calculator holds with the same content.")
    periods_pending_difficulty: int
    records_expected: int
    records_actual: int
    calculations_expected: int = Field(description="Records × active models, pending periods excluded.")
    calculations_actual: int
    summary_drift: int = Field(description="Summary rows of the day (or its month, year) unequal to facts.")

    def stages(self) -> list[StageCount]:
        return [
            StageCount(stage="periods fetched", expected=self.periods_expected, actual=self.periods_fetched),
            StageCount(stage="periods applied", expected=self.periods_fetched, actual=self.periods_applied),
            StageCount(stage="records", expected=self.records_expected, actual=self.records_actual),
            StageCount(
                stage="calculations", expected=self.calculations_expected, actual=self.calculations_actual
            ),
            StageCount(stage="summaries equal facts", expected=0, actual=self.summary_drift),
        ]


class ReconciliationReport(BaseModel):
    first: date | None
    last: date | None
    days: list[DayStatus]
    complete_days: int
    partial_days: int
    critical_days: int
    completeness_ratio: float = Field(description="Complete days / days; 1.0 when there are no days.")
    active_miner_models: int
    calculation_rate: CalculationRate = Field(
        description="The predecessor's reconciliation rate: calculations present / records × active models."
    )


def _short(actual: int, expected: int) -> bool:
    return actual < expected * CRITICAL_SHARE


def classify(day: DayStatus) -> DayClass:
    stages = day.stages()
    if all(stage.ok for stage in stages) and day.periods_pending_difficulty == 0:
        return "complete"
    if (
        day.periods_fetched == 0 < day.periods_expected
        or _short(day.periods_fetched, day.periods_expected)
        or _short(day.records_actual, day.records_expected)
        or _short(day.calculations_actual, day.calculations_expected)
    ):
        return "critical"
    return "partial"


def day_status(
    settlement_date: date, ended_periods: int, periods: Iterable[PeriodState], models: int, drift: int
) -> DayStatus:
    """Counts a day's stages from its period states (only the ended periods should be passed)."""
    states = list(periods)
    fetched = [state for state in states if state.fetched]
    calculable = [state for state in fetched if not state.pending]
    day = DayStatus(
        settlement_date=settlement_date,
        day_class="partial",
        periods_expected=ended_periods,
        periods_fetched=len(fetched),
        periods_failed=sum(state.progress_status == "failed" for state in states),
        periods_applied=sum(state.applied for state in states),
        periods_pending_difficulty=sum(state.pending for state in states),
        records_expected=sum(state.progress_record_count or 0 for state in fetched),
        records_actual=sum(state.records for state in states),
        calculations_expected=sum((state.progress_record_count or 0) * models for state in calculable),
        calculations_actual=sum(state.calculations for state in states if not state.pending),
        summary_drift=drift,
    )
    return day.model_copy(update={"day_class": classify(day)})


def report(
    first: date | None, last: date | None, days: list[DayStatus], rate: CalculationRate
) -> ReconciliationReport:
    complete = sum(day.day_class == "complete" for day in days)
    return ReconciliationReport(
        first=first,
        last=last,
        days=days,
        complete_days=complete,
        partial_days=sum(day.day_class == "partial" for day in days),
        critical_days=sum(day.day_class == "critical" for day in days),
        completeness_ratio=complete / len(days) if days else 1.0,
        active_miner_models=rate.active_miner_models,
        calculation_rate=rate,
    )
