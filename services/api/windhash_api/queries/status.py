"""What the database holds: date coverage, periods awaiting difficulty, failed periods (fetches that failed,
periods the calculator refused), synthetic data."""

import asyncpg

FAILED_LISTED = 50

# One pass over settlement_periods, day by day: the totals and the latest complete date come from the same
# per-day counts. A day is complete when every one of its periods (46/48/50, by the London clock) is
# calculated.
_PERIODS = """
WITH days AS (
    SELECT settlement_date, count(*) AS periods,
           count(*) FILTER (WHERE status = 'calculated') AS calculated,
           count(*) FILTER (WHERE status = 'pending_difficulty') AS pending,
           count(*) FILTER (WHERE synthetic) AS synthetic
    FROM settlement_periods GROUP BY settlement_date
)
SELECT min(settlement_date) AS first_date, max(settlement_date) AS last_date,
       coalesce(sum(periods), 0)::int AS periods_ingested,
       coalesce(sum(calculated), 0)::int AS periods_calculated,
       coalesce(sum(pending), 0)::int AS pending_difficulty_periods,
       coalesce(sum(synthetic), 0)::int AS synthetic_periods,
       max(settlement_date) FILTER (
           WHERE calculated
                 = extract(epoch FROM ((settlement_date + 1)::timestamp AT TIME ZONE 'Europe/London')
                                      - (settlement_date::timestamp AT TIME ZONE 'Europe/London')) / 1800
       ) AS latest_complete_date
FROM days
"""
# Failed: a fetch that failed (ingestion_progress), or a period the calculator refused because its figures
# cannot be stored (unstorable_periods, migration 0950).
_FAILED_COUNTS = """
SELECT (SELECT count(*) FROM ingestion_progress WHERE status = 'failed')::int AS fetch,
       (SELECT count(*) FROM unstorable_periods)::int AS calculation
"""
_FAILED = f"""
SELECT * FROM (
    SELECT settlement_date, settlement_period, attempts, error, updated_at, 'fetch' AS stage
    FROM ingestion_progress WHERE status = 'failed'
    UNION ALL
    SELECT settlement_date, settlement_period, 1, reason, refused_at, 'calculation'
    FROM unstorable_periods
) AS failed
ORDER BY updated_at DESC, settlement_date DESC, settlement_period DESC
LIMIT {FAILED_LISTED}
"""
_SUMMARIES_UPDATED = "SELECT max(updated_at) FROM curtailment_daily"
# What wind output fetches could not store (migration 1850): skipped rows and failed days.
_WIND_OUTPUT_PROBLEMS = f"""
SELECT settlement_date, kind, detail, noted_at, count(*) OVER ()::int AS total FROM wind_output_problems
ORDER BY noted_at DESC, settlement_date DESC, problem_no LIMIT {FAILED_LISTED}
"""


async def data_status(connection: asyncpg.Connection) -> dict[str, object]:
    status = dict(await connection.fetchrow(_PERIODS))
    counts = await connection.fetchrow(_FAILED_COUNTS)
    status["failed_periods_count"] = counts["fetch"] + counts["calculation"]
    status["unstorable_periods_count"] = counts["calculation"]
    status["failed_periods"] = [dict(row) for row in await connection.fetch(_FAILED)]
    status["summaries_updated_at"] = await connection.fetchval(_SUMMARIES_UPDATED)
    problems = await connection.fetch(_WIND_OUTPUT_PROBLEMS)
    status["wind_output_problems_count"] = problems[0]["total"] if problems else 0
    status["wind_output_problems"] = [dict(row) for row in problems]
    status["synthetic"] = bool(status["synthetic_periods"])
    return status
