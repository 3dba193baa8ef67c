"""What an export holds: its columns, their SQL and their PostgreSQL types, per kind of table.

- `records`: `curtailment_records`, one row per accepted bid (its natural key first).
- `calculations`: `bitcoin_calculations`, one row per record and miner model.
- `summaries`: one row per settlement date: `curtailment_daily`'s totals, then for each miner model with a
  `bitcoin_daily` row in the range (and every active one) its `btc_<model>`, `value_gbp_<model>`,
  `value_usd_<model>` and `difficulty_<model>` (weighted by energy), so summing a column over the rows gives
  the range's total (a long table would repeat the day's energy once per model).

Types come from the catalogue (`information_schema.columns`), so a migration that widens a column changes the
Parquet schema with it; a summary's per-model column takes the type of the `bitcoin_daily` column it reads.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import asyncpg


class ExportKind(StrEnum):
    records = "records"
    calculations = "calculations"
    summaries = "summaries"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


@dataclass(frozen=True)
class ColumnType:
    data_type: str
    precision: int | None = None
    scale: int | None = None


@dataclass(frozen=True)
class ExportColumn:
    name: str
    sql: str
    column_type: ColumnType

    @property
    def is_text(self) -> bool:
        return self.column_type.data_type == "text"


@dataclass(frozen=True)
class ExportTable:
    kind: ExportKind
    columns: tuple[ExportColumn, ...]
    source: str
    """FROM ... WHERE, with $1 and $2 the first and last settlement date of a chunk."""
    order_by: str
    arguments: tuple[object, ...] = ()
    """Arguments after the two dates ($3...)."""

    def select(self, expressions: list[str]) -> str:
        listed = ", ".join(
            f'{sql} AS "{column.name}"' for sql, column in zip(expressions, self.columns, strict=True)
        )
        return f"SELECT {listed} {self.source} ORDER BY {self.order_by}"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_RECORD_KEY = ("settlement_date", "settlement_period", "bm_unit", "acceptance_id", "bid_offer_pair_id")
_RECORDS = (
    *_RECORD_KEY,
    "sequence_number",
    "lead_party_name",
    "created_at",
    "volume_mwh",
    "original_price_gbp_per_mwh",
    "final_price_gbp_per_mwh",
    "cashflow_gbp",
    "so_flag",
    "cadl_flag",
)
_CALCULATIONS = (*_RECORD_KEY, "miner_model", "energy_mwh", "difficulty", "block_reward_btc", "btc")
_DAILY = (
    "settlement_date",
    "energy_mwh",
    "cashflow_gbp",
    "record_count",
    "periods_curtailed",
    "bm_units_curtailed",
)
_PER_MODEL = (
    ("btc", "btc"),
    ("value_gbp", "value_gbp"),
    ("value_usd", "value_usd"),
    ("difficulty", "difficulty_weighted"),
)
_TYPES_SQL = """
    SELECT table_name, column_name, data_type, numeric_precision, numeric_scale
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ANY($1::text[])"""
_MODELS_SQL = """
    SELECT name FROM miner_models WHERE active
    UNION SELECT DISTINCT miner_model FROM bitcoin_daily WHERE settlement_date BETWEEN $1 AND $2
    ORDER BY 1"""


async def _types(connection: asyncpg.Connection, tables: list[str]) -> dict[tuple[str, str], ColumnType]:
    rows = await connection.fetch(_TYPES_SQL, tables)
    return {
        (row["table_name"], row["column_name"]): ColumnType(
            row["data_type"], row["numeric_precision"], row["numeric_scale"]
        )
        for row in rows
    }


def _plain(
    table: str, names: tuple[str, ...], types: dict[tuple[str, str], ColumnType]
) -> tuple[ExportColumn, ...]:
    return tuple(ExportColumn(name, name, types[(table, name)]) for name in names)


async def export_table(
    connection: asyncpg.Connection, kind: ExportKind, first: date, last: date
) -> ExportTable:
    """The export of `kind` for settlement dates `first..last` (the models of a summary export are those of
    that range)."""
    types = await _types(
        connection, ["curtailment_records", "bitcoin_calculations", "curtailment_daily", "bitcoin_daily"]
    )
    if kind is ExportKind.records:
        return ExportTable(
            kind,
            _plain("curtailment_records", _RECORDS, types),
            "FROM curtailment_records WHERE settlement_date BETWEEN $1 AND $2",
            ", ".join(_RECORD_KEY),
        )
    if kind is ExportKind.calculations:
        return ExportTable(
            kind,
            _plain("bitcoin_calculations", _CALCULATIONS, types),
            "FROM bitcoin_calculations WHERE settlement_date BETWEEN $1 AND $2",
            ", ".join((*_RECORD_KEY, "miner_model")),
        )
    models = [row["name"] for row in await connection.fetch(_MODELS_SQL, first, last)]
    columns = [ExportColumn(name, f"c.{name}", types[("curtailment_daily", name)]) for name in _DAILY]
    for index, model in enumerate(models):
        for prefix, source in _PER_MODEL:
            sql = f"max(b.{source}) FILTER (WHERE b.miner_model = ${index + 3})"
            columns.append(ExportColumn(f"{prefix}_{model}", sql, types[("bitcoin_daily", source)]))
    grouped = ", ".join(f"c.{name}" for name in _DAILY)
    return ExportTable(
        kind,
        tuple(columns),
        "FROM curtailment_daily AS c LEFT JOIN bitcoin_daily AS b USING (settlement_date)"
        f" WHERE c.settlement_date BETWEEN $1 AND $2 GROUP BY {grouped}",
        "c.settlement_date",
        tuple(models),
    )
