"""`windhash export` and GET /api/v1/exports/{what} over PostgreSQL filled with the sample: every export's
totals equal the API's figures for the same range (energy, cashflow, records, BTC per model), CSV and
Parquet alike; the CLI's peak RSS is printed (and bounded); the API's download is for administrators and
streams the same bytes the CLI writes.

WINDHASH_EXPORT_FULL_YEAR=1 exports all of 2024, the sample's year multiplied to about a real year's
size (the calculator's ~3 M calculation rows), as the brief's stress variants do.
"""

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pyarrow.parquet as pq
import pytest
from test_accounts_support import Accounts, accounts_fixture, api_settings, bearer  # type: ignore[import-not-found]  # noqa: F401
from test_api_support import AUTUMN, SPRING  # type: ignore[import-not-found]
from windhash_api.app import create_app
from windhash_common.access.roles import Role
from windhash_common.exports.export_stream import export_bytes
from windhash_common.exports.export_tables import ExportFormat, ExportKind, export_table
from windhash_common.settlement_calendar import dates_between
from windhash_common.summaries.recompute import recompute_days_and_rollups
from windhash_common.tabular import csv_cell
from windhash_testing.live_server import serving
from windhash_testing.sample_dataset import load_sample

pytestmark = pytest.mark.integration

WINDHASH = str(Path(sys.executable).with_name("windhash"))
FULL_YEAR = os.environ.get("WINDHASH_EXPORT_FULL_YEAR") == "1"
DAYS = list(dates_between(date(2024, 1, 1), date(2024, 12, 31))) if FULL_YEAR else SPRING + AUTUMN
FIRST, LAST = DAYS[0], DAYS[-1]
COPIES = 30 if FULL_YEAR else 1
PEAK_RSS_BOUND_MIB = 400
_MULTIPLY = """
INSERT INTO curtailment_records
SELECT settlement_date, settlement_period, bm_unit, acceptance_id + copy::bigint * 100000000,
       bid_offer_pair_id,
       sequence_number, lead_party_name, created_at, volume_mwh, original_price_gbp_per_mwh,
       final_price_gbp_per_mwh, cashflow_gbp, so_flag, cadl_flag
FROM curtailment_records, generate_series(1, $1) AS copy;
"""
_MULTIPLY_CALCULATIONS = """
INSERT INTO bitcoin_calculations
SELECT settlement_date, settlement_period, bm_unit, acceptance_id + copy::bigint * 100000000,
       bid_offer_pair_id,
       miner_model, energy_mwh, difficulty, block_reward_btc, btc
FROM bitcoin_calculations, generate_series(1, $1) AS copy;
"""


@dataclass
class Exported:
    env: dict[str, str]
    directory: Path
    api: httpx.AsyncClient


# The export runs under a small Python process that starts it and reads its rusage: Linux counts the RSS of
# the process that forked (the test, holding the rows it compares) in the child's ru_maxrss, so the test's
# own memory must not be the parent.
_MEASURE = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(process.pid, 0)
print(f"peak_rss_kib={usage.ru_maxrss}", file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_export(env: dict[str, str], *args: str) -> tuple[str, int]:
    """Runs `windhash export ...`; its output and its peak resident set size in KiB."""
    finished = subprocess.run(
        [sys.executable, "-c", _MEASURE, WINDHASH, "export", *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True,
        check=False,
    )
    output = finished.stdout.decode() + finished.stderr.decode()
    assert finished.returncode == 0, output
    return output, int(output.rsplit("peak_rss_kib=", 1)[1].split()[0])


async def export_file(exported: Exported, what: str, output_format: str) -> Path:
    path = exported.directory / f"{what}.{output_format}"
    args = ("--from", FIRST.isoformat(), "--to", LAST.isoformat(), "--what", what, "--format", output_format)
    output, peak_kib = await asyncio.to_thread(run_export, exported.env, *args, "--output", str(path))
    print(
        f"windhash export --what {what} --format {output_format}: peak RSS {peak_kib / 1024:.0f} MiB, "
        f"{path.stat().st_size:,} bytes, {len(DAYS)} days"
    )
    assert peak_kib / 1024 < PEAK_RSS_BOUND_MIB, output
    assert f"wrote {path}" in output
    return path


@dataclass
class Totals:
    """Sums of an exported file's numeric columns (exact), its rows, and sums by one text column."""

    rows: int
    sums: dict[str, Decimal]
    by: dict[str, Decimal]


def _number(cell: object) -> Decimal:
    return Decimal(0) if cell in (None, "") else Decimal(str(cell))


def totals(path: Path, columns: list[str], by: tuple[str, str] | None = None) -> Totals:
    """Read a file a batch at a time (a full year's calculations never sit in the test's memory)."""
    result = Totals(0, dict.fromkeys(columns, Decimal(0)), defaultdict(Decimal))
    if path.suffix == ".csv":
        with path.open(newline="") as file:
            batches: Any = ([row] for row in csv.DictReader(file))
            _add(result, batches, columns, by)
    else:
        wanted = [*columns, *(by or ())]
        _add(
            result,
            (batch.to_pylist() for batch in pq.ParquetFile(path).iter_batches(columns=wanted)),
            columns,
            by,
        )
    return result


def _add(result: Totals, batches: Any, columns: list[str], by: tuple[str, str] | None) -> None:
    for batch in batches:
        for row in batch:
            result.rows += 1
            for column in columns:
                result.sums[column] += _number(row[column])
            if by is not None:
                result.by[str(row[by[0]])] += _number(row[by[1]])


@pytest.fixture(name="exported")
async def exported_fixture(pg_dsn: str, accounts: Accounts, tmp_path: Path) -> AsyncIterator[Exported]:
    connection = await asyncpg.connect(pg_dsn)
    try:
        await load_sample(connection, DAYS)
        if COPIES > 1:
            async with connection.transaction():
                await connection.execute(_MULTIPLY_CALCULATIONS, COPIES - 1)
                await connection.execute(_MULTIPLY, COPIES - 1)
                await recompute_days_and_rollups(connection, DAYS)
    finally:
        await connection.close()
    settings = api_settings(pg_dsn)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    assert pool is not None
    try:
        async with (
            serving(create_app(settings, pool=pool)) as url,
            httpx.AsyncClient(base_url=url, timeout=120) as client,
        ):
            yield Exported({"WINDHASH_DATABASE_URL": pg_dsn}, tmp_path, client)
    finally:
        await pool.close()


async def api_figures(client: httpx.AsyncClient) -> tuple[dict[str, object], dict[str, Decimal]]:
    span = f"range/{FIRST}..{LAST}"
    summary = (await client.get(f"/api/v1/summaries/{span}")).json()
    mining = (await client.get(f"/api/v1/mining/{span}")).json()
    return summary, {model["miner_model"]: Decimal(str(model["btc"])) for model in mining["models"]}


@pytest.mark.parametrize("output_format", ["csv", "parquet"])
async def test_each_export_totals_equal_the_apis(exported: Exported, output_format: str) -> None:
    summary, btc = await api_figures(exported.api)
    mined = {model: value for model, value in btc.items() if value}

    records = totals(await export_file(exported, "records", output_format), ["volume_mwh", "cashflow_gbp"])
    assert records.rows == summary["record_count"]
    assert -records.sums["volume_mwh"] == Decimal(str(summary["energy_mwh"]))
    assert records.sums["cashflow_gbp"] == Decimal(str(summary["cashflow_gbp"])).quantize(Decimal("0.0001"))

    path = await export_file(exported, "calculations", output_format)
    calculations = totals(path, [], by=("miner_model", "btc"))
    assert dict(calculations.by) == mined
    assert calculations.rows == records.rows * len(mined)

    model_columns = [f"btc_{model}" for model in btc]
    days = totals(
        await export_file(exported, "summaries", output_format),
        ["energy_mwh", "record_count", *model_columns],
    )
    assert days.rows == len(DAYS)  # the sample curtails every day
    assert days.sums["energy_mwh"] == Decimal(str(summary["energy_mwh"]))
    assert days.sums["record_count"] == summary["record_count"]
    for model, value in btc.items():
        assert days.sums[f"btc_{model}"] == value


async def test_admins_download_the_same_file_and_no_one_else(exported: Exported, accounts: Accounts) -> None:
    await accounts.add("admin@windhash.test", Role.ADMIN)
    await accounts.add("analyst@windhash.test", Role.USER)
    query = f"?from={FIRST}&to={LAST}&format=csv"
    refused = await exported.api.get(f"/api/v1/exports/summaries{query}")
    assert refused.status_code == 401
    analyst = bearer(await accounts.session("analyst@windhash.test"))
    assert (await exported.api.get(f"/api/v1/exports/records{query}", headers=analyst)).status_code == 403

    admin = bearer(await accounts.session("admin@windhash.test"))
    for what in ("summaries", "records"):
        async with exported.api.stream("GET", f"/api/v1/exports/{what}{query}", headers=admin) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/csv")
            assert f'filename="windhash-{what}-{FIRST}-{LAST}.csv"' in answer.headers["content-disposition"]
            body = b"".join([piece async for piece in answer.aiter_bytes()])
        assert body == (await export_file(exported, what, "csv")).read_bytes()

    answer = await exported.api.get(
        f"/api/v1/exports/calculations?from={FIRST}&to={LAST}&format=parquet", headers=admin
    )
    assert answer.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(answer.content))
    _, btc = await api_figures(exported.api)
    assert table.num_rows > 0 and set(table.column("miner_model").to_pylist()) == {
        model for model, value in btc.items() if value
    }
    bad = await exported.api.get(f"/api/v1/exports/records?from={LAST}&to={FIRST}", headers=admin)
    assert bad.status_code == 422


async def test_csv_text_cells_follow_the_one_formula_rule(pg_dsn: str) -> None:
    """PostgreSQL writes the CSV (COPY), so the cell rule runs in SQL (tabular.safe_text_sql): every text
    cell must come out as tabular.csv_cell writes it in Python."""
    names = ['=HYPERLINK("http://x")', "+1", "-minus", "@at", "\ttab", "\rreturn", "plain", "café 'quoted'"]
    connection = await asyncpg.connect(pg_dsn)
    try:
        await connection.executemany(
            "INSERT INTO curtailment_records (settlement_date, settlement_period, bm_unit, acceptance_id,"
            " bid_offer_pair_id, sequence_number, lead_party_name, volume_mwh, original_price_gbp_per_mwh,"
            " cashflow_gbp, so_flag) VALUES ('2024-03-01', 1, $1, $2, 1, 1, $1, -1, 10, 10, true)",
            [(name, index) for index, name in enumerate(names)],
        )
        day = date(2024, 3, 1)
        table = await export_table(connection, ExportKind.records, day, day)
        body = b"".join(
            [piece async for piece in export_bytes(connection, table, day, day, ExportFormat.csv)]
        )
    finally:
        await connection.close()
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert sorted(row["lead_party_name"] for row in rows) == sorted(csv_cell(name) for name in names)
    assert sorted(row["bm_unit"] for row in rows) == sorted(csv_cell(name) for name in names)
