"""A deterministic synthetic dataset written straight into the database: facts, then summaries of them.

The API's tests, its benchmark and local previews of the dashboard use it without running the pipeline.
Facts are built with windhash_common's money and bitcoin maths; the summaries are then built by the
aggregator's own definitions (windhash_common.summaries: every day recomputed from the facts, rolled up to
months and years, exactly as the aggregator keeps them), so no figure has a second definition. Everything is
marked synthetic. Into WINDHASH_DATABASE_URL:

    PYTHONPATH=tests/support .venv/bin/python -m windhash_testing.sample_dataset \
        --first 2024-03-01 --last 2024-04-30
"""

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
from windhash_common import event_loop
from windhash_common.bitcoin import block_reward_btc, btc_mined
from windhash_common.db import migrate
from windhash_common.money import cashflow_to_farm_gbp, curtailed_energy_mwh
from windhash_common.settings import CommonSettings
from windhash_common.settlement_calendar import dates_between, period_start_utc, settlement_periods
from windhash_common.summaries.recompute import recompute_days_and_rollups

MINER_MODELS = (
    ("S21", "Bitmain", Decimal("200"), Decimal("3500"), True),
    ("S19J_PRO", "Bitmain", Decimal("100"), Decimal("3050"), True),
    ("M20S", "MicroBT", Decimal("68"), Decimal("3360"), False),
)
LEAD_PARTIES = (
    "Seagreen Wind Energy Ltd",
    "Moray East Offshore",
    "SSE Generation Ltd",
    "Whitelee Windfarm Ltd",
)
UNITS_PER_PARTY = 3
_VOLUME_STEP = Decimal("0.001")


@dataclass
class SampleDataset:
    """What was written, so a test can name real units, parties and days."""

    days: list[date]
    bm_units: list[str] = field(default_factory=list)
    lead_parties: list[str] = field(default_factory=list)
    miner_models: list[str] = field(default_factory=list)
    models: list[tuple[str, str, Decimal, Decimal, bool]] = field(default_factory=list)
    days_without_price: list[date] = field(default_factory=list)
    pending_periods: list[tuple[date, int]] = field(default_factory=list)
    failed_periods: list[tuple[date, int]] = field(default_factory=list)


def _units() -> list[tuple[str, str, str, str, Decimal]]:
    units = []
    for party_index, party in enumerate(LEAD_PARTIES):
        for unit_index in range(UNITS_PER_PARTY):
            code = f"T_WHS{party_index}{unit_index}-1"
            capacity = Decimal(100 + 50 * unit_index + 25 * party_index)
            units.append(
                (
                    code,
                    f"WHS{party_index}{unit_index}",
                    f"Sample farm {party_index}.{unit_index}",
                    party,
                    capacity,
                )
            )
    return units


def _difficulty(day: date) -> Decimal:
    # Steps every 14 days, like the real retarget, from about the 2024 level.
    return Decimal(80_000_000_000_000 + 1_500_000_000_000 * (day.toordinal() // 14 % 10))


async def _reference_rows(connection: asyncpg.Connection, sample: SampleDataset) -> None:
    await connection.executemany(
        "INSERT INTO miner_models (name, manufacturer, hashrate_ths, power_w, active)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        MINER_MODELS,
    )
    units = _units()
    await connection.executemany(
        "INSERT INTO wind_bm_units (elexon_bm_unit, national_grid_bm_unit, bm_unit_name, lead_party_name,"
        " generation_capacity_mw) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (elexon_bm_unit) DO NOTHING",
        units,
    )
    sample.bm_units = [unit[0] for unit in units]
    sample.lead_parties = list(LEAD_PARTIES)
    # BTC is computed for every active model with the specs the database holds (a migration may seed them).
    rows = await connection.fetch(
        "SELECT name, manufacturer, hashrate_ths, power_w FROM miner_models WHERE active ORDER BY name"
    )
    sample.models = [
        (row["name"], row["manufacturer"], row["hashrate_ths"], row["power_w"], True) for row in rows
    ]
    sample.miner_models = [model[0] for model in sample.models]


Row = tuple[object, ...]


@dataclass
class _Facts:
    periods: list[Row] = field(default_factory=list)
    records: list[Row] = field(default_factory=list)
    calculations: list[Row] = field(default_factory=list)
    progress: list[Row] = field(default_factory=list)


def _record(day: date, period: int, acceptance_id: int, unit: str, party: str, rng: random.Random) -> Row:
    volume = -Decimal(rng.randint(500, 60_000)) * _VOLUME_STEP
    price = Decimal(rng.randint(-9_000, 2_000)) / 100
    cashflow = cashflow_to_farm_gbp(volume, price)
    start = period_start_utc(day, period)
    return (day, period, unit, acceptance_id, 1, 1, party, start, volume, price, price, cashflow, True, False)


def _period_facts(day: date, period: int, rng: random.Random, sample: SampleDataset, facts: _Facts) -> None:
    if (day, period) in sample.failed_periods:
        facts.progress.append((day, period, "failed", None, "HTTP 503 from Elexon after 5 attempts", 5))
        return
    pending = (day, period) in sample.pending_periods
    start = period_start_utc(day, period)
    chosen = rng.sample(_units(), rng.choice((0, 0, 1, 2, 3, 4)))
    for acceptance, unit in enumerate(chosen, start=1):
        acceptance_id = day.toordinal() * 1000 + period * 10 + acceptance
        record = _record(day, period, acceptance_id, unit[0], unit[3], rng)
        facts.records.append(record)
        if pending:
            continue
        reward = block_reward_btc(start)
        energy = curtailed_energy_mwh(Decimal(str(record[8])))
        for name, _, hashrate, power, _ in sample.models:
            btc = btc_mined(energy, hashrate, power, _difficulty(day), reward)
            facts.calculations.append(
                (day, period, unit[0], acceptance_id, 1, name, energy, _difficulty(day), reward, btc)
            )
    status = "pending_difficulty" if pending else "calculated"
    difficulty = None if pending else _difficulty(day)
    fetched = datetime.now(UTC)
    facts.periods.append(
        (day, period, start, f"sample-{day}-{period}", fetched, len(chosen), status, difficulty, True)
    )
    facts.progress.append((day, period, "ok", len(chosen), None, 1))


_COPY_COLUMNS = {
    "settlement_periods": (
        "settlement_date",
        "settlement_period",
        "period_start_utc",
        "content_hash",
        "fetched_at",
        "record_count",
        "status",
        "difficulty",
        "synthetic",
    ),
    "curtailment_records": (
        "settlement_date",
        "settlement_period",
        "bm_unit",
        "acceptance_id",
        "bid_offer_pair_id",
        "sequence_number",
        "lead_party_name",
        "created_at",
        "volume_mwh",
        "original_price_gbp_per_mwh",
        "final_price_gbp_per_mwh",
        "cashflow_gbp",
        "so_flag",
        "cadl_flag",
    ),
    "bitcoin_calculations": (
        "settlement_date",
        "settlement_period",
        "bm_unit",
        "acceptance_id",
        "bid_offer_pair_id",
        "miner_model",
        "energy_mwh",
        "difficulty",
        "block_reward_btc",
        "btc",
    ),
    "ingestion_progress": (
        "settlement_date",
        "settlement_period",
        "status",
        "record_count",
        "error",
        "attempts",
    ),
}


async def _facts(connection: asyncpg.Connection, sample: SampleDataset, seed: int) -> None:
    rng = random.Random(seed)
    facts = _Facts()
    for day in sample.days:
        for period in settlement_periods(day):
            _period_facts(day, period, rng, sample, facts)
    for day in sample.days:
        if day not in sample.days_without_price:
            gbp = Decimal(45_000 + 80 * (day.toordinal() % 97))
            usd = (gbp * Decimal("1.27")).quantize(Decimal("0.01"))
            await connection.execute(
                "INSERT INTO btc_prices (price_date, gbp, usd, source) VALUES ($1, $2, $3, 'sample')",
                day,
                gbp,
                usd,
            )
    for table, rows in (
        ("settlement_periods", facts.periods),
        ("curtailment_records", facts.records),
        ("bitcoin_calculations", facts.calculations),
        ("ingestion_progress", facts.progress),
    ):
        await connection.copy_records_to_table(table, records=rows, columns=list(_COPY_COLUMNS[table]))


async def load_sample(
    connection: asyncpg.Connection,
    days: Sequence[date],
    seed: int = 7,
    days_without_price: Sequence[date] = (),
    pending_periods: Sequence[tuple[date, int]] = (),
    failed_periods: Sequence[tuple[date, int]] = (),
) -> SampleDataset:
    """Write the sample into an empty, migrated database, in one transaction."""
    sample = SampleDataset(
        days=list(days),
        days_without_price=list(days_without_price),
        pending_periods=list(pending_periods),
        failed_periods=list(failed_periods),
    )
    async with connection.transaction():
        await _reference_rows(connection, sample)
        await _facts(connection, sample, seed)
        await recompute_days_and_rollups(connection, sample.days)
    return sample


async def _main(first: date, last: date, dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection)
        sample = await load_sample(connection, list(dates_between(first, last)))
    finally:
        await connection.close()
    print(f"wrote {len(sample.days)} synthetic days, {len(sample.bm_units)} BM units into {dsn}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--last", type=date.fromisoformat, required=True)
    parser.add_argument("--dsn", default=None, help="defaults to WINDHASH_DATABASE_URL")
    args = parser.parse_args()
    event_loop.run(_main(args.first, args.last, args.dsn or CommonSettings().database_url))


if __name__ == "__main__":
    main()
