"""The tables `windhash demo` prints: read from the summary tables, the same ones the API serves."""

from datetime import date

import asyncpg
from rich.table import Table

SYNTHETIC_NOTE = "SYNTHETIC sample data from windhash's local Elexon server, not real Elexon figures."


def _money(value: object) -> str:
    return "—" if value is None else f"£{float(str(value)):,.0f}"


async def summary_tables(connection: asyncpg.Connection, first: date, last: date) -> list[Table]:
    months = await connection.fetch(
        """
        SELECT date_trunc('month', settlement_date)::date AS month, sum(energy_mwh) AS energy_mwh,
               sum(cashflow_gbp) AS cashflow_gbp, sum(record_count) AS records,
               sum(periods_curtailed) AS periods
        FROM curtailment_daily WHERE settlement_date BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1
        """,
        first,
        last,
    )
    curtailment = Table(title=f"Wind curtailment {first} to {last}", caption=SYNTHETIC_NOTE)
    for column in ("month", "energy MWh", "cashflow to farms", "records", "periods curtailed"):
        curtailment.add_column(column, justify="right")
    for row in months:
        curtailment.add_row(
            row["month"].strftime("%Y-%m"),
            f"{row['energy_mwh']:,.1f}",
            _money(row["cashflow_gbp"]),
            f"{row['records']:,}",
            f"{row['periods']:,}",
        )

    models = await connection.fetch(
        """
        SELECT b.miner_model, sum(b.btc) AS btc, sum(b.energy_mwh) AS energy_mwh,
               sum(b.value_gbp) AS value_gbp,
               count(*) FILTER (WHERE b.value_gbp IS NULL) AS days_without_price,
               (SELECT sum(cashflow_gbp) FROM curtailment_daily
                WHERE settlement_date BETWEEN $1 AND $2) AS cashflow_gbp
        FROM bitcoin_daily b WHERE b.settlement_date BETWEEN $1 AND $2
        GROUP BY b.miner_model ORDER BY sum(b.btc) DESC
        """,
        first,
        last,
    )
    mining = Table(title="Bitcoin the curtailed energy could have mined", caption=SYNTHETIC_NOTE)
    for column in ("miner model", "BTC", "value (day's price)", "value £/MWh", "paid to farms £/MWh"):
        mining.add_column(column, justify="right")
    for row in models:
        energy = float(row["energy_mwh"]) or 1.0
        value = row["value_gbp"]
        mining.add_row(
            row["miner_model"],
            f"{row['btc']:,.8f}",
            _money(value) + (" (some days unpriced)" if row["days_without_price"] else ""),
            "—" if value is None else f"£{float(value) / energy:,.2f}",
            f"£{float(row['cashflow_gbp']) / energy:,.2f}",
        )
    return [curtailment, mining]
