"""What each summary table holds, as one SQL query over the fact tables per table.

Every query selects the table's key and value columns for the facts whose settlement date lies in
`[$1, $2)`. The same query replaces the rows (`recompute`) and checks them (`verify`), so "the summary equals
the facts" has exactly one definition. For month and year tables the range must be whole months / years
(see `summary_grains`).

Definitions (all from `curtailment_records`, `bitcoin_calculations` and `btc_prices`):

* Curtailment (`curtailment_daily|monthly|yearly`): energy_mwh = Σ -volume_mwh; cashflow_gbp =
  Σ cashflow_gbp (signed, positive = farm paid); record_count = number of records; periods_curtailed =
  number of distinct (settlement date, settlement period) pairs with a record; bm_units_curtailed = number
  of distinct BM units with a record anywhere in the day / month / year (not a sum of daily counts).
* Bitcoin (`bitcoin_daily|monthly|yearly`, per miner model): btc = Σ btc; energy_mwh = Σ energy_mwh;
  difficulty_min/max over the calculations; difficulty_weighted = Σ(energy × difficulty) / Σ energy, or
  the plain mean of the calculations' difficulties when their energy sums to zero, rounded half-up to 0.01.
  A day's value_gbp / value_usd = day's BTC × that day's `btc_prices` price rounded to the penny half-even
  (`windhash_common.btc_prices.fiat_value`), NULL when that day has no price in that currency (never
  another day's price). A month's or year's value = Σ of its days'
  values (so it equals the sum of the daily rows shown), NULL when none of its days has a price.
  days_without_price = days of the month / year on which the model has calculations but `btc_prices` has
  no GBP price.
* `bm_unit_daily` per (date, BM unit): energy, cashflow, records; lead_party_name = the lead party on the
  unit's last record of the day (highest period, then acceptance and pair id), 'Unknown' when Elexon gave
  none.
* `bitcoin_daily_moments` per (date, miner model): Σ(energy × difficulty), Σ difficulty and the number of
  calculations, unrounded, from which months and years get their weighted difficulty (`summary_rollups`).
* `lead_party_daily` per (date, lead party): energy, cashflow, records, distinct BM units; records without
  a lead party are grouped under 'Unknown'.

A key with no facts in the range has no summary row: recomputing a day that lost all its records deletes it.
"""

from dataclasses import dataclass

from windhash_common.money import penny_half_even_sql
from windhash_common.summaries.summary_grains import GRAIN_KEY_COLUMN, GRAIN_KEY_SQL, Grain
from windhash_common.summaries.summary_rollups import bitcoin_rollup_sql, curtailment_rollup_sql

UNKNOWN_LEAD_PARTY = "Unknown"

_STORED_RANGE_SQL: dict[Grain, str] = {
    "day": "settlement_date >= $1::date AND settlement_date < $2::date",
    "month": "month >= $1::date AND month < $2::date",
    "year": "year >= extract(year FROM $1::date) AND year < extract(year FROM $2::date)",
}

_FACTS_IN_RANGE = "settlement_date >= $1::date AND settlement_date < $2::date"


@dataclass(frozen=True)
class SummaryTable:
    name: str
    grain: Grain
    key_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    expected_sql: str
    """SELECT of key_columns + value_columns computed from the facts dated in [$1, $2)."""
    rollup_sql: str | None = None
    """For month and year tables: the same SELECT computed from the daily rows (`summary_rollups`)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key_columns + self.value_columns

    @property
    def stored_in_range_sql(self) -> str:
        """The WHERE condition selecting this table's rows whose key lies in [$1, $2)."""
        return _STORED_RANGE_SQL[self.grain]

    @property
    def delete_sql(self) -> str:
        return f"DELETE FROM {self.name} WHERE {self.stored_in_range_sql}"

    def insert_sql(self, from_facts: bool = True) -> str:
        select = self.expected_sql if from_facts or self.rollup_sql is None else self.rollup_sql
        return f"INSERT INTO {self.name} ({', '.join(self.columns)}) {select}"


def _curtailment_sql(grain: Grain) -> str:
    key = GRAIN_KEY_SQL[grain]
    return f"""
        SELECT {key} AS {GRAIN_KEY_COLUMN[grain]},
               sum(-volume_mwh) AS energy_mwh,
               sum(cashflow_gbp) AS cashflow_gbp,
               count(*)::integer AS record_count,
               count(DISTINCT (settlement_date, settlement_period))::integer AS periods_curtailed,
               count(DISTINCT bm_unit)::integer AS bm_units_curtailed
        FROM curtailment_records
        WHERE {_FACTS_IN_RANGE}
        GROUP BY 1"""


_BITCOIN_PER_DAY_SQL = f"""
            SELECT settlement_date, miner_model,
                   sum(btc) AS btc,
                   sum(energy_mwh) AS energy_mwh,
                   min(difficulty) AS difficulty_min,
                   max(difficulty) AS difficulty_max,
                   sum(energy_mwh * difficulty) AS energy_x_difficulty,
                   sum(difficulty) AS difficulty_sum,
                   count(*) AS calculations
            FROM bitcoin_calculations
            WHERE {_FACTS_IN_RANGE}
            GROUP BY settlement_date, miner_model"""

# The same per (day, model) aggregates from the per-period totals that triggers keep (migration 0700): sums
# of exact sums, so equal to the query above digit for digit, from ~6 rows per period instead of ~180.
_BITCOIN_PER_DAY_FROM_PERIOD_TOTALS_SQL = f"""
            SELECT settlement_date, miner_model,
                   sum(btc) AS btc,
                   sum(energy_mwh) AS energy_mwh,
                   min(difficulty_min) AS difficulty_min,
                   max(difficulty_max) AS difficulty_max,
                   sum(energy_x_difficulty) AS energy_x_difficulty,
                   sum(difficulty_sum) AS difficulty_sum,
                   sum(calculations) AS calculations
            FROM bitcoin_period_totals
            WHERE {_FACTS_IN_RANGE}
            GROUP BY settlement_date, miner_model"""


def _bitcoin_priced_sql(grain: Grain) -> tuple[str, str]:
    """(the CTE pricing each day's totals, the SELECT rolling them up to the grain), over a `per_day` CTE."""
    # Per (day, model) first, because the fiat value is priced day by day; then rolled up to the grain.
    # The numerator gets 20 decimals so the division is exact well past the 0.01 the column keeps.
    days_without_price = (
        ",\n               (count(*) FILTER (WHERE price_gbp IS NULL))::integer AS days_without_price"
        if grain != "day"
        else ""
    )
    priced = f"""priced AS (
            SELECT per_day.*, prices.gbp AS price_gbp,
                   {penny_half_even_sql("per_day.btc * prices.gbp")} AS value_gbp,
                   {penny_half_even_sql("per_day.btc * prices.usd")} AS value_usd
            FROM per_day LEFT JOIN btc_prices AS prices ON prices.price_date = per_day.settlement_date
        )"""
    select = f"""
        SELECT {GRAIN_KEY_SQL[grain]} AS {GRAIN_KEY_COLUMN[grain]}, miner_model,
               sum(btc) AS btc,
               sum(energy_mwh) AS energy_mwh,
               min(difficulty_min) AS difficulty_min,
               max(difficulty_max) AS difficulty_max,
               CASE WHEN sum(energy_mwh) > 0
                    THEN round(sum(energy_x_difficulty)::numeric(80, 20) / sum(energy_mwh), 2)
                    ELSE round(sum(difficulty_sum)::numeric(80, 20) / sum(calculations), 2)
               END AS difficulty_weighted,
               sum(value_gbp) AS value_gbp,
               sum(value_usd) AS value_usd{days_without_price}
        FROM priced
        GROUP BY 1, 2"""
    return priced, select


def _bitcoin_sql(grain: Grain) -> str:
    priced, select = _bitcoin_priced_sql(grain)
    return f"""
        WITH per_day AS ({_BITCOIN_PER_DAY_SQL}
        ), {priced}{select}"""


_BM_UNIT_DAILY_SQL = f"""
        SELECT settlement_date, bm_unit,
               (array_agg(coalesce(lead_party_name, '{UNKNOWN_LEAD_PARTY}')
                          ORDER BY settlement_period DESC, acceptance_id DESC, bid_offer_pair_id DESC))[1]
                   AS lead_party_name,
               sum(-volume_mwh) AS energy_mwh,
               sum(cashflow_gbp) AS cashflow_gbp,
               count(*)::integer AS record_count
        FROM curtailment_records
        WHERE {_FACTS_IN_RANGE}
        GROUP BY settlement_date, bm_unit"""

_LEAD_PARTY_DAILY_SQL = f"""
        SELECT settlement_date, coalesce(lead_party_name, '{UNKNOWN_LEAD_PARTY}') AS lead_party_name,
               sum(-volume_mwh) AS energy_mwh,
               sum(cashflow_gbp) AS cashflow_gbp,
               count(*)::integer AS record_count,
               count(DISTINCT bm_unit)::integer AS bm_units_curtailed
        FROM curtailment_records
        WHERE {_FACTS_IN_RANGE}
        GROUP BY 1, 2"""

_CURTAILMENT_VALUES = (
    "energy_mwh",
    "cashflow_gbp",
    "record_count",
    "periods_curtailed",
    "bm_units_curtailed",
)
_BITCOIN_VALUES = (
    "btc",
    "energy_mwh",
    "difficulty_min",
    "difficulty_max",
    "difficulty_weighted",
    "value_gbp",
    "value_usd",
)


def _curtailment_table(grain: Grain, name: str) -> SummaryTable:
    rollup = curtailment_rollup_sql(grain) if grain != "day" else None
    key = (GRAIN_KEY_COLUMN[grain],)
    return SummaryTable(name, grain, key, _CURTAILMENT_VALUES, _curtailment_sql(grain), rollup)


def _bitcoin_table(grain: Grain, name: str) -> SummaryTable:
    values = _BITCOIN_VALUES if grain == "day" else (*_BITCOIN_VALUES, "days_without_price")
    rollup = bitcoin_rollup_sql(grain) if grain != "day" else None
    key = (GRAIN_KEY_COLUMN[grain], "miner_model")
    return SummaryTable(name, grain, key, values, _bitcoin_sql(grain), rollup)


CURTAILMENT_DAILY = _curtailment_table("day", "curtailment_daily")
CURTAILMENT_MONTHLY = _curtailment_table("month", "curtailment_monthly")
CURTAILMENT_YEARLY = _curtailment_table("year", "curtailment_yearly")
BITCOIN_DAILY = _bitcoin_table("day", "bitcoin_daily")
BITCOIN_MONTHLY = _bitcoin_table("month", "bitcoin_monthly")
BITCOIN_YEARLY = _bitcoin_table("year", "bitcoin_yearly")
BM_UNIT_DAILY = SummaryTable(
    "bm_unit_daily",
    "day",
    ("settlement_date", "bm_unit"),
    ("lead_party_name", "energy_mwh", "cashflow_gbp", "record_count"),
    _BM_UNIT_DAILY_SQL,
)
LEAD_PARTY_DAILY = SummaryTable(
    "lead_party_daily",
    "day",
    ("settlement_date", "lead_party_name"),
    ("energy_mwh", "cashflow_gbp", "record_count", "bm_units_curtailed"),
    _LEAD_PARTY_DAILY_SQL,
)

BITCOIN_DAILY_MOMENTS = SummaryTable(
    "bitcoin_daily_moments",
    "day",
    ("settlement_date", "miner_model"),
    ("energy_x_difficulty", "difficulty_sum", "calculations"),
    f"""
        SELECT settlement_date, miner_model,
               sum(energy_mwh * difficulty) AS energy_x_difficulty,
               sum(difficulty) AS difficulty_sum,
               count(*)::integer AS calculations
        FROM bitcoin_calculations
        WHERE {_FACTS_IN_RANGE}
        GROUP BY settlement_date, miner_model""",
)

# Not a summary the consumer replaces but derived data all the same: kept by triggers on bitcoin_calculations
# (migration 0700), checked by `verify` and recomputed by `rebuild` like the summaries.
BITCOIN_PERIOD_TOTALS = SummaryTable(
    "bitcoin_period_totals",
    "day",
    ("settlement_date", "settlement_period", "miner_model"),
    (
        "calculations",
        "energy_mwh",
        "btc",
        "difficulty_min",
        "difficulty_max",
        "difficulty_sum",
        "energy_x_difficulty",
    ),
    f"""
        SELECT settlement_date, settlement_period, miner_model,
               count(*)::integer AS calculations,
               sum(energy_mwh) AS energy_mwh,
               sum(btc) AS btc,
               min(difficulty) AS difficulty_min,
               max(difficulty) AS difficulty_max,
               sum(difficulty) AS difficulty_sum,
               sum(energy_mwh * difficulty) AS energy_x_difficulty
        FROM bitcoin_calculations
        WHERE {_FACTS_IN_RANGE}
        GROUP BY settlement_date, settlement_period, miner_model""",
)

DAY_TABLES = (CURTAILMENT_DAILY, BITCOIN_DAILY, BITCOIN_DAILY_MOMENTS, BM_UNIT_DAILY, LEAD_PARTY_DAILY)


def _bitcoin_daily_and_moments_insert() -> str:
    """bitcoin_daily and bitcoin_daily_moments from one pass over the range's per-period totals: the two
    tables are aggregates of the same (day, model) groups. Same rows as their two `insert_sql()`s (which read
    the calculations themselves, and which `verify` keeps checking)."""
    priced, select = _bitcoin_priced_sql("day")
    moments = BITCOIN_DAILY_MOMENTS
    return f"""
        WITH per_day AS ({_BITCOIN_PER_DAY_FROM_PERIOD_TOTALS_SQL}
        ), moments AS (
            INSERT INTO {moments.name} ({", ".join(moments.columns)})
            SELECT settlement_date, miner_model, energy_x_difficulty, difficulty_sum, calculations::integer
            FROM per_day
        ), {priced}
        INSERT INTO {BITCOIN_DAILY.name} ({", ".join(BITCOIN_DAILY.columns)}){select}"""


def _curtailment_day_tables_insert() -> str:
    """curtailment_daily, bm_unit_daily and lead_party_daily from one grouping of the range's records by
    (day, BM unit, lead party): each table is a regrouping of those few rows (sums of exact sums; a unit's
    lead party is the one on its greatest (period, acceptance, pair) record). Only the count of distinct
    periods reads the records again. Same rows as the three tables' `insert_sql()`s, which `verify` checks
    (and which each grouped every record of the range themselves)."""
    return f"""
        WITH unit_party AS (
            SELECT settlement_date, bm_unit,
                   coalesce(lead_party_name, '{UNKNOWN_LEAD_PARTY}') AS lead_party_name,
                   sum(-volume_mwh) AS energy_mwh,
                   sum(cashflow_gbp) AS cashflow_gbp,
                   count(*) AS record_count,
                   max(ARRAY[settlement_period::bigint, acceptance_id, bid_offer_pair_id::bigint])
                       AS last_record
            FROM curtailment_records
            WHERE {_FACTS_IN_RANGE}
            GROUP BY 1, 2, 3
        ), units AS (
            INSERT INTO {BM_UNIT_DAILY.name} ({", ".join(BM_UNIT_DAILY.columns)})
            SELECT settlement_date, bm_unit, (array_agg(lead_party_name ORDER BY last_record DESC))[1],
                   sum(energy_mwh), sum(cashflow_gbp), sum(record_count)::integer
            FROM unit_party
            GROUP BY settlement_date, bm_unit
        ), parties AS (
            INSERT INTO {LEAD_PARTY_DAILY.name} ({", ".join(LEAD_PARTY_DAILY.columns)})
            SELECT settlement_date, lead_party_name, sum(energy_mwh), sum(cashflow_gbp),
                   sum(record_count)::integer, count(*)::integer
            FROM unit_party
            GROUP BY settlement_date, lead_party_name
        ), periods AS (
            SELECT settlement_date, count(DISTINCT settlement_period)::integer AS periods_curtailed
            FROM curtailment_records
            WHERE {_FACTS_IN_RANGE}
            GROUP BY settlement_date
        )
        INSERT INTO {CURTAILMENT_DAILY.name} ({", ".join(CURTAILMENT_DAILY.columns)})
        SELECT settlement_date, sum(energy_mwh), sum(cashflow_gbp), sum(record_count)::integer,
               min(periods.periods_curtailed), count(DISTINCT bm_unit)::integer
        FROM unit_party JOIN periods USING (settlement_date)
        GROUP BY settlement_date"""


# What a day's recompute runs after deleting the range's DAY_TABLES rows: the three curtailment tables from
# one grouping of the records, the two bitcoin tables from one pass over the per-period totals.
DAY_INSERTS = (_curtailment_day_tables_insert(), _bitcoin_daily_and_moments_insert())
MONTH_TABLES = (CURTAILMENT_MONTHLY, BITCOIN_MONTHLY)
YEAR_TABLES = (CURTAILMENT_YEARLY, BITCOIN_YEARLY)
ALL_TABLES = DAY_TABLES + MONTH_TABLES + YEAR_TABLES
VERIFIED_TABLES = (BITCOIN_PERIOD_TOTALS, *ALL_TABLES)
TABLES_BY_GRAIN: dict[Grain, tuple[SummaryTable, ...]] = {
    "day": DAY_TABLES,
    "month": MONTH_TABLES,
    "year": YEAR_TABLES,
}
