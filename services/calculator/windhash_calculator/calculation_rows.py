"""Pure functions from a settlement period to the rows the calculator stores.

Records are stored at the precision of their columns (volume 6 dp, prices and cashflow 4 dp, rounded half-even
here so PostgreSQL never rounds anything itself), and the BTC is computed from the stored volume, so every
stored calculation can be recomputed from stored facts alone.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from windhash_common.bitcoin import Halving, block_reward_btc, btc_mined
from windhash_common.events import SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_common.money import curtailed_energy_mwh

VOLUME_PRECISION = Decimal("0.000001")
MONEY_PRECISION = Decimal("0.0001")

CURTAILMENT_COLUMNS = (
    "settlement_date",
    "settlement_period",
    "bm_unit",
    "acceptance_id",
    "bid_offer_pair_id",
    "sequence_number",
    "created_at",
    "volume_mwh",
    "original_price_gbp_per_mwh",
    "final_price_gbp_per_mwh",
    "cashflow_gbp",
    "so_flag",
    "cadl_flag",
)
CALCULATION_COLUMNS = (
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
)
CurtailmentRow = tuple[
    date,
    int,
    str,
    int,
    int,
    int,
    datetime | None,
    Decimal,
    Decimal,
    Decimal | None,
    Decimal,
    bool,
    bool | None,
]
CalculationRow = tuple[date, int, str, int, int, str, Decimal, Decimal, Decimal, Decimal]


@dataclass(frozen=True)
class RecordEnergy:
    """What a calculation needs from a stored record: its key and its (stored) volume."""

    bm_unit: str
    acceptance_id: int
    bid_offer_pair_id: int
    volume_mwh: Decimal


def quantize(value: Decimal, precision: Decimal) -> Decimal:
    return value.quantize(precision, rounding=ROUND_HALF_EVEN)


def curtailment_rows(event: SettlementPeriodEvent) -> list[CurtailmentRow]:
    return [
        (
            event.settlement_date,
            event.settlement_period,
            record.bm_unit,
            record.acceptance_id,
            record.bid_offer_pair_id,
            record.sequence_number,
            record.created_at,
            quantize(record.volume_mwh, VOLUME_PRECISION),
            quantize(record.original_price_gbp_per_mwh, MONEY_PRECISION),
            None
            if record.final_price_gbp_per_mwh is None
            else quantize(record.final_price_gbp_per_mwh, MONEY_PRECISION),
            quantize(record.cashflow_gbp, MONEY_PRECISION),
            record.so_flag,
            record.cadl_flag,
        )
        for record in event.records
    ]


def event_record_energies(event: SettlementPeriodEvent) -> list[RecordEnergy]:
    return [
        RecordEnergy(
            record.bm_unit,
            record.acceptance_id,
            record.bid_offer_pair_id,
            quantize(record.volume_mwh, VOLUME_PRECISION),
        )
        for record in event.records
    ]


def calculation_rows(
    settlement_date: date,
    settlement_period: int,
    period_start_utc: datetime,
    records: Iterable[RecordEnergy],
    models: Sequence[MinerModel],
    difficulty: Decimal,
    halvings: Sequence[Halving],
) -> list[CalculationRow]:
    """One row per record × model: the BTC that model would have mined with the record's curtailed energy."""
    reward = block_reward_btc(period_start_utc, halvings)
    rows: list[CalculationRow] = []
    for record in records:
        energy = curtailed_energy_mwh(record.volume_mwh)
        for model in models:
            btc = btc_mined(energy, model.hashrate_ths, model.power_w, difficulty, reward)
            rows.append(
                (
                    settlement_date,
                    settlement_period,
                    record.bm_unit,
                    record.acceptance_id,
                    record.bid_offer_pair_id,
                    model.name,
                    energy,
                    difficulty,
                    reward,
                    btc,
                )
            )
    return rows


def difficulty_date(period_start_utc: datetime) -> date:
    """The UTC date whose difficulty a period is calculated with: that of the period's start."""
    return period_start_utc.astimezone(UTC).date()
