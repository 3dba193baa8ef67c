"""Has the pipeline caught up? Counts, per stage, what the settlement calendar says should exist."""

from dataclasses import dataclass
from datetime import date

import asyncpg
from windhash_common.settlement_calendar import dates_between, settlement_periods_in_day


@dataclass(frozen=True)
class PipelineProgress:
    periods_expected: int
    periods_ingested: int
    periods_failed: int
    periods_calculated: int
    periods_pending_difficulty: int
    outbox_backlog: int
    days_with_records: int
    days_summarised: int

    @property
    def complete(self) -> bool:
        return (
            self.periods_calculated + self.periods_pending_difficulty == self.periods_expected
            and self.outbox_backlog == 0
            and self.days_summarised == self.days_with_records
        )


async def pipeline_progress(connection: asyncpg.Connection, first: date, last: date) -> PipelineProgress:
    expected = sum(settlement_periods_in_day(day) for day in dates_between(first, last))
    ingested = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'ok') AS ok,"
        " count(*) FILTER (WHERE status = 'failed') AS failed"
        " FROM ingestion_progress WHERE settlement_date BETWEEN $1 AND $2",
        first,
        last,
    )
    calculated = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'calculated') AS calculated,"
        " count(*) FILTER (WHERE status = 'pending_difficulty') AS pending"
        " FROM settlement_periods WHERE settlement_date BETWEEN $1 AND $2",
        first,
        last,
    )
    backlog = await connection.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'")
    days_with_records = await connection.fetchval(
        "SELECT count(DISTINCT settlement_date) FROM curtailment_records"
        " WHERE settlement_date BETWEEN $1 AND $2",
        first,
        last,
    )
    # A day counts as summarised once its summary row reflects every record the facts hold.
    days_summarised = await connection.fetchval(
        """
        SELECT count(*) FROM curtailment_daily d
        JOIN (SELECT settlement_date, count(*) AS n FROM curtailment_records
              WHERE settlement_date BETWEEN $1 AND $2 GROUP BY settlement_date) r USING (settlement_date)
        WHERE d.record_count = r.n
        """,
        first,
        last,
    )
    return PipelineProgress(
        periods_expected=expected,
        periods_ingested=ingested["ok"],
        periods_failed=ingested["failed"],
        periods_calculated=calculated["calculated"],
        periods_pending_difficulty=calculated["pending"],
        outbox_backlog=backlog,
        days_with_records=days_with_records,
        days_summarised=days_summarised,
    )
