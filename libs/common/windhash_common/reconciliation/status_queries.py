"""Reading each settlement day's state from PostgreSQL and counting it into a reconciliation report.

Summary drift comes from the aggregator's own verify (one definition of "summary equals facts"); a drifted
monthly or yearly row counts against every day of the range inside that month or year, since each of those
days is served with it.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg

from windhash_common.miner_models import active_miner_models
from windhash_common.reconciliation.calculation_rate import calculation_rate, read_calculation_rate
from windhash_common.reconciliation.day_status import PeriodState, ReconciliationReport, day_status, report
from windhash_common.settlement_calendar import dates_between, period_has_ended, settlement_periods
from windhash_common.summaries.verify import SummaryDrift, verify_summaries

_PERIOD_STATES_SQL = """
    WITH progress AS (
        SELECT settlement_date AS d, settlement_period AS p, status, record_count, content_hash, error
        FROM ingestion_progress WHERE settlement_date BETWEEN $1 AND $2
    ), stored AS (
        SELECT settlement_date AS d, settlement_period AS p, status, content_hash, record_count
        FROM settlement_periods WHERE settlement_date BETWEEN $1 AND $2
    ), records AS (
        SELECT settlement_date AS d, settlement_period AS p, count(*)::integer AS n
        FROM curtailment_records WHERE settlement_date BETWEEN $1 AND $2 GROUP BY 1, 2
    ), calculations AS (
        SELECT settlement_date AS d, settlement_period AS p, count(*)::integer AS n
        FROM bitcoin_calculations
        WHERE settlement_date BETWEEN $1 AND $2 AND miner_model = ANY($3::text[]) GROUP BY 1, 2
    ), periods AS (
        SELECT coalesce(progress.d, stored.d) AS d, coalesce(progress.p, stored.p) AS p,
               progress.status AS progress_status, progress.record_count AS progress_record_count,
               progress.content_hash AS progress_hash, progress.error AS progress_error,
               stored.status AS stored_status, stored.content_hash AS stored_hash,
               stored.record_count AS stored_record_count
        FROM progress FULL JOIN stored ON progress.d = stored.d AND progress.p = stored.p
    )
    SELECT periods.*, coalesce(records.n, 0) AS records, coalesce(calculations.n, 0) AS calculations
    FROM periods
    LEFT JOIN records ON records.d = periods.d AND records.p = periods.p
    LEFT JOIN calculations ON calculations.d = periods.d AND calculations.p = periods.p
    ORDER BY 1, 2"""

_BOUNDS_SQL = """
    SELECT min(d), max(d) FROM (
        SELECT settlement_date AS d FROM ingestion_progress
        UNION ALL SELECT settlement_date FROM settlement_periods
    ) AS dates"""


async def data_dates(connection: asyncpg.Connection) -> tuple[date, date] | None:
    """The first and last settlement date the ingestor or the calculator has a row for."""
    row = await connection.fetchrow(_BOUNDS_SQL)
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


async def period_states(
    connection: asyncpg.Connection, first: date, last: date, models: list[str]
) -> dict[date, dict[int, PeriodState]]:
    rows = await connection.fetch(_PERIOD_STATES_SQL, first, last, models)
    found: dict[date, dict[int, PeriodState]] = defaultdict(dict)
    for row in rows:
        found[row["d"]][row["p"]] = PeriodState(
            settlement_period=row["p"],
            progress_status=row["progress_status"],
            progress_record_count=row["progress_record_count"],
            progress_hash=row["progress_hash"],
            progress_error=row["progress_error"],
            stored_status=row["stored_status"],
            stored_hash=row["stored_hash"],
            stored_record_count=row["stored_record_count"],
            records=row["records"],
            calculations=row["calculations"],
        )
    return found


def ended_periods(day: date, now: datetime) -> list[int]:
    return [period for period in settlement_periods(day) if period_has_ended(day, period, now)]


def drift_by_day(drift: list[SummaryDrift], first: date, last: date) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    days = list(dates_between(first, last))
    for item in drift:
        column, value = item.key[0]
        if column == "settlement_date":
            counts[date.fromisoformat(value)] += 1
        elif column == "month":
            month = date.fromisoformat(value)
            for day in days:
                if (day.year, day.month) == (month.year, month.month):
                    counts[day] += 1
        elif column == "year":
            for day in days:
                if day.year == int(value):
                    counts[day] += 1
    return counts


@dataclass(frozen=True)
class DayStates:
    """A report and the period states it was counted from (only ended periods), for the gap analysis."""

    report: ReconciliationReport
    states: dict[date, dict[int, PeriodState]]
    ended: dict[date, list[int]]


async def day_states(
    connection: asyncpg.Connection,
    first: date | None = None,
    last: date | None = None,
    now: datetime | None = None,
) -> DayStates:
    now = now or datetime.now(UTC)
    models = [model.name for model in await active_miner_models(connection)]
    if first is None or last is None:
        bounds = await data_dates(connection)
        if bounds is None:
            return DayStates(
                report(first, last, [], calculation_rate(0, 0, dict.fromkeys(models, 0))), {}, {}
            )
        first, last = first or bounds[0], last or bounds[1]
    if first > last:
        raise ValueError(f"the range starts ({first}) after it ends ({last})")
    states = await period_states(connection, first, last, models)
    drift = drift_by_day(await verify_summaries(connection, first, last), first, last)
    days, kept, ended_by_day = [], {}, {}
    for day in dates_between(first, last):
        ended = ended_periods(day, now)
        if not ended:
            continue
        held = states.get(day, {})
        kept[day] = {period: held[period] for period in ended if period in held}
        ended_by_day[day] = ended
        days.append(day_status(day, len(ended), kept[day].values(), len(models), drift.get(day, 0)))
    rate = await read_calculation_rate(connection, first, last, models)
    return DayStates(report(first, last, days, rate), kept, ended_by_day)


async def reconciliation_status(
    connection: asyncpg.Connection,
    first: date | None = None,
    last: date | None = None,
    now: datetime | None = None,
) -> ReconciliationReport:
    """Expected vs actual per stage for every date of `first..last` (default: every date with data) whose
    first period has ended. Must not be called inside a transaction (verify opens its own snapshot)."""
    return (await day_states(connection, first, last, now)).report
