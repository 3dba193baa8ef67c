"""`windhash reconcile analyze`: the worst days of a range and the reason for each of their gaps."""

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from windhash_common.reconciliation.day_status import ReconciliationReport
from windhash_common.reconciliation.status_queries import day_states

from windhash_reconciler.dead_letter_reader import dead_letters_by_date
from windhash_reconciler.gap_analysis import DayAnalysis, day_gaps, worst_days
from windhash_reconciler.settings import ReconcilerSettings


@dataclass(frozen=True)
class Analysis:
    report: ReconciliationReport
    worst: list[DayAnalysis]
    dead_letters: int


async def analyze(
    settings: ReconcilerSettings,
    first: date | None = None,
    last: date | None = None,
    worst: int = 10,
    now: datetime | None = None,
) -> Analysis:
    connection = await asyncpg.connect(settings.database_url)
    try:
        states = await day_states(connection, first, last, now)
    finally:
        await connection.close()
    report = states.report
    if report.first is None or report.last is None or not report.days:
        return Analysis(report, [], 0)
    letters = await dead_letters_by_date(
        settings.kafka, settings.topics.dead_letter, report.first, report.last
    )
    analyses = [
        DayAnalysis(
            day=day,
            gaps=day_gaps(
                day,
                states.states[day.settlement_date],
                states.ended[day.settlement_date],
                report.active_miner_models,
                letters.get(day.settlement_date, []),
            ),
        )
        for day in report.days
    ]
    return Analysis(report, worst_days(analyses, worst), sum(len(found) for found in letters.values()))
