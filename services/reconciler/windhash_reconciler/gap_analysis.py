"""Why a day is not complete: each gap named with its kind, the periods it touches and a detail. Pure.

Kinds, in the order a period moves through the system: not fetched (no attempt recorded), failed fetch
(Elexon or Kafka failed; the error is kept), dead-lettered event (a service could not accept it), not applied
(the calculator does not hold what the ingestor published), pending difficulty (waiting for the day's
difficulty; not a fault), missing calculation (records × active models not all there), summary drift.
"""

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel
from windhash_common.events import DeadLetter
from windhash_common.reconciliation.day_status import DayStatus, PeriodState

GapKind = Literal[
    "not fetched",
    "failed fetch",
    "dead-lettered event",
    "not applied",
    "pending difficulty",
    "missing calculation",
    "summary drift",
]
_CLASS_RANK = {"critical": 0, "partial": 1, "complete": 2}


class Gap(BaseModel):
    kind: GapKind
    periods: list[int]
    detail: str


class DayAnalysis(BaseModel):
    day: DayStatus
    gaps: list[Gap]


def _gap(kind: GapKind, periods: list[int], detail: str) -> list[Gap]:
    return [Gap(kind=kind, periods=periods, detail=detail)] if periods else []


def _first_error(states: Sequence[PeriodState]) -> str:
    errors = [state.progress_error for state in states if state.progress_error]
    return (errors[0] or "")[:200] if errors else "no error recorded"


def day_gaps(
    day: DayStatus,
    states: Mapping[int, PeriodState],
    ended: Sequence[int],
    models: int,
    letters: Sequence[DeadLetter],
) -> list[Gap]:
    failed = [state for state in states.values() if state.progress_status == "failed"]
    fetched = [state for state in states.values() if state.fetched]
    unapplied = [state.settlement_period for state in fetched if not state.applied]
    pending = [state.settlement_period for state in states.values() if state.pending]
    short = [
        state.settlement_period
        for state in fetched
        if not state.pending and state.calculations != (state.progress_record_count or 0) * models
    ]
    lettered = sorted({letter.settlement_period for letter in letters if letter.settlement_period})
    reasons = sorted({f"{letter.service}: {letter.reason[:120]}" for letter in letters})
    gaps = [
        *_gap("not fetched", [period for period in ended if period not in states], "never fetched"),
        *_gap("failed fetch", sorted(s.settlement_period for s in failed), _first_error(failed)),
        *_gap("dead-lettered event", lettered, "; ".join(reasons[:3])),
        *_gap("not applied", sorted(unapplied), "calculator's snapshot differs from the published one"),
        *_gap("pending difficulty", sorted(pending), "waiting for the day's network difficulty"),
        *_gap("missing calculation", sorted(short), f"expected records × {models} active models"),
    ]
    if day.summary_drift:
        gaps.append(
            Gap(kind="summary drift", periods=[], detail=f"{day.summary_drift} summary rows unequal to facts")
        )
    return gaps


def severity(day: DayStatus) -> tuple[int, float]:
    """Sort key, worst first: class, then the share missing across the stages."""
    missing = 0.0
    for stage in day.stages():
        if stage.stage == "summaries equal facts":
            missing += 1.0 if stage.actual else 0.0
        elif stage.expected:
            missing += max(stage.expected - stage.actual, 0) / stage.expected
    return (_CLASS_RANK[day.day_class], -missing)


def worst_days(analyses: Sequence[DayAnalysis], limit: int) -> list[DayAnalysis]:
    ranked = sorted(analyses, key=lambda analysis: (severity(analysis.day), analysis.day.settlement_date))
    return [analysis for analysis in ranked if analysis.day.day_class != "complete"][:limit]
