"""Curtailed energy against wind output (wind_generation), per settlement period, day or month.

Joined period by period, so a share only ever compares a period's curtailment with the same period's wind
output: curtailment in a period without an output figure is counted apart (`curtailed_mwh` holds it,
`curtailed_with_output_mwh` does not), never divided by another period's output.
"""

import asyncpg

_BUCKETS = {
    "period": "to_char(d, 'YYYY-MM-DD') || '/' || lpad(p::text, 2, '0')",
    "day": "to_char(d, 'YYYY-MM-DD')",
    "month": "to_char(d, 'YYYY-MM')",
}
_SQL = """
WITH curtailed AS (
    SELECT settlement_date AS d, settlement_period AS p, sum(-volume_mwh) AS mwh
    FROM curtailment_records WHERE settlement_date BETWEEN $1 AND $2 GROUP BY 1, 2
), generation AS (
    SELECT settlement_date AS d, settlement_period AS p,
           metered_wind_mw / 2 AS metered_mwh, (offshore_wind_mw + onshore_wind_mw) / 2 AS outturn_mwh
    FROM wind_generation WHERE settlement_date BETWEEN $1 AND $2
)
SELECT {bucket} AS key,
       coalesce(sum(c.mwh), 0) AS curtailed_mwh,
       coalesce(sum(c.mwh) FILTER (WHERE g.metered_mwh IS NOT NULL), 0) AS curtailed_with_metered_mwh,
       sum(g.metered_mwh) AS metered_wind_mwh,
       coalesce(sum(c.mwh) FILTER (WHERE g.outturn_mwh IS NOT NULL), 0) AS curtailed_with_outturn_mwh,
       sum(g.outturn_mwh) AS outturn_wind_mwh,
       count(g.metered_mwh)::int AS periods_with_metered,
       count(g.outturn_mwh)::int AS periods_with_outturn
FROM curtailed AS c FULL JOIN generation AS g USING (d, p)
GROUP BY 1 ORDER BY 1
"""


async def wind_share_rows(
    connection: asyncpg.Connection, first: object, last: object, bucket: str | None
) -> list[asyncpg.Record]:
    """Rows by `bucket` (period, day or month), or one row for the whole span when None."""
    sql = _SQL.format(bucket=_BUCKETS[bucket] if bucket else "'total'")
    rows: list[asyncpg.Record] = await connection.fetch(sql, first, last)
    return rows
