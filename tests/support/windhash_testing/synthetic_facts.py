"""Writing facts the way the calculator does (one period replaced in one transaction), for the aggregator's
tests and benchmark, which must not depend on the calculator to exercise the summaries. Test support only."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
from windhash_common.calculation_lock import lock_calculations_shared
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.events import PeriodCalculatedEvent, PeriodStatus
from windhash_common.settlement_calendar import period_start_utc


@dataclass(frozen=True)
class CalculationFact:
    miner_model: str
    energy_mwh: Decimal
    difficulty: Decimal
    btc: Decimal


@dataclass(frozen=True)
class RecordFact:
    bm_unit: str
    acceptance_id: int
    bid_offer_pair_id: int
    lead_party_name: str | None
    volume_mwh: Decimal
    price_gbp_per_mwh: Decimal
    cashflow_gbp: Decimal
    calculations: tuple[CalculationFact, ...] = ()


def facts_hash(records: Sequence[RecordFact]) -> str:
    return hashlib.sha256(repr(sorted(records, key=repr)).encode()).hexdigest()


async def ensure_miner_models(connection: asyncpg.Connection, names: Sequence[str]) -> None:
    await connection.executemany(
        "INSERT INTO miner_models (name, manufacturer, hashrate_ths, power_w) VALUES ($1, 'test', 100, 3000)"
        " ON CONFLICT (name) DO NOTHING",
        [(name,) for name in names],
    )


async def write_period_facts(
    connection: asyncpg.Connection,
    settlement_date: date,
    settlement_period: int,
    records: Sequence[RecordFact],
    status: PeriodStatus = "calculated",
) -> None:
    """Replace one period's settlement_periods row, curtailment records and bitcoin calculations."""
    async with connection.transaction():
        await lock_calculations_shared(connection)  # as every writer of calculations does
        # Nothing cascades from curtailment_records (migration 0600): calculations are deleted explicitly.
        for table in ("bitcoin_calculations", "curtailment_records"):
            await connection.execute(
                f"DELETE FROM {table} WHERE settlement_date = $1 AND settlement_period = $2",
                settlement_date,
                settlement_period,
            )
        await connection.execute(
            "INSERT INTO settlement_periods (settlement_date, settlement_period, period_start_utc,"
            " content_hash, fetched_at, record_count, status, difficulty, synthetic)"
            " VALUES ($1, $2, $3, $4, now(), $5, $6, NULL, true)"
            " ON CONFLICT (settlement_date, settlement_period) DO UPDATE SET"
            " content_hash = EXCLUDED.content_hash, record_count = EXCLUDED.record_count,"
            " status = EXCLUDED.status, updated_at = now()",
            settlement_date,
            settlement_period,
            period_start_utc(settlement_date, settlement_period),
            facts_hash(records),
            len(records),
            status,
        )
        await connection.executemany(
            "INSERT INTO curtailment_records (settlement_date, settlement_period, bm_unit, acceptance_id,"
            " bid_offer_pair_id, sequence_number, lead_party_name, volume_mwh, original_price_gbp_per_mwh,"
            " cashflow_gbp, so_flag) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, false)",
            [
                (settlement_date, settlement_period, r.bm_unit, r.acceptance_id, r.bid_offer_pair_id,
                 r.lead_party_name, r.volume_mwh, r.price_gbp_per_mwh, r.cashflow_gbp)
                for r in records
            ],
        )  # fmt: skip
        await connection.executemany(
            "INSERT INTO bitcoin_calculations (settlement_date, settlement_period, bm_unit, acceptance_id,"
            " bid_offer_pair_id, miner_model, energy_mwh, difficulty, block_reward_btc, btc)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 3.125, $9)",
            [
                (settlement_date, settlement_period, r.bm_unit, r.acceptance_id, r.bid_offer_pair_id,
                 c.miner_model, c.energy_mwh, c.difficulty, c.btc)
                for r in records
                for c in r.calculations
            ],
        )  # fmt: skip


def period_calculated_event(
    settlement_date: date,
    settlement_period: int,
    records: Sequence[RecordFact],
    status: PeriodStatus = "calculated",
    calculated_at: datetime | None = None,
) -> PeriodCalculatedEvent:
    return PeriodCalculatedEvent(
        settlement_date=settlement_date,
        settlement_period=settlement_period,
        content_hash=facts_hash(records),
        record_count=len(records),
        status=status,
        calculated_at=calculated_at or datetime.now(UTC),
    )


def period_calculated_message(
    topic: str, partition: int, offset: int, event: PeriodCalculatedEvent
) -> ConsumedMessage:
    """The event as the aggregator consumes it from `topic` at that position."""
    return ConsumedMessage(topic, partition, offset, event.kafka_key, event.model_dump_json().encode())
