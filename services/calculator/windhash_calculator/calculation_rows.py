"""Pure functions from a settlement period to the rows the calculator stores.

Records are stored at the precision of their columns (volume 6 dp, prices and cashflow 4 dp, rounded half-even
here so PostgreSQL never rounds anything itself), and the BTC is computed from the stored volume, so every
stored calculation can be recomputed from stored facts alone.

The calculator writes both as COPY text (`curtailment_copy_text`, `calculation_copy_text`): a calculation row
is joined from strings made once per period, record and model plus its BTC, rather than asyncpg encoding ten
binary values per row. PostgreSQL reads each text value into its column's type exactly as it reads the binary
one (numeric_in takes Python's exponent notation, e.g. 1E-8, exactly), so the stored rows are the same.
`PeriodBitcoin` computes what `windhash_common.bitcoin.btc_mined` computes, operation for operation in the
same 40-digit context, with the factors that do not change within a period computed once.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from windhash_common.bitcoin import (
    _CONTEXT,
    HASHES_PER_DIFFICULTY,
    HASHES_PER_TERAHASH,
    JOULES_PER_MWH,
    SATOSHI,
    Halving,
    block_reward_btc,
)
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


class RecordEnergy(NamedTuple):
    """What a calculation needs from a stored record: its key and its (stored) volume."""

    bm_unit: str
    acceptance_id: int
    bid_offer_pair_id: int
    volume_mwh: Decimal


# Decimal.quantize called with positional arguments: keyword parsing alone costs as much as the rounding.
_quantize = Decimal.quantize


def quantize(value: Decimal, precision: Decimal) -> Decimal:
    return _quantize(value, precision, ROUND_HALF_EVEN)


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


def row_energies(rows: Iterable[CurtailmentRow]) -> list[RecordEnergy]:
    """The energies of records already rounded to their columns (`curtailment_rows`), not rounded again."""
    return [RecordEnergy(row[2], row[3], row[4], row[7]) for row in rows]


class PeriodBitcoin:
    """`btc_mined` for one period's difficulty and reward and a list of models, per record energy.

    The same operations on the same operands in the same context as `windhash_common.bitcoin.btc_mined`, so
    the same results to the last digit (tests/unit/test_calculator_rows.py compares the two on random inputs):
    only the products that do not depend on the record (difficulty × 2^32, hashrate × 1e12) and the one that
    does not depend on the model (energy × 3.6e9) are computed once instead of once per row.
    """

    def __init__(self, models: Sequence[MinerModel], difficulty: Decimal, reward: Decimal) -> None:
        if difficulty <= 0:
            raise ValueError(f"difficulty must be positive, got {difficulty}")
        for model in models:
            if model.hashrate_ths <= 0 or model.power_w <= 0:
                raise ValueError("a miner's hashrate and power must be positive")
        self.reward = reward
        self._hashes_per_block = _CONTEXT.multiply(difficulty, HASHES_PER_DIFFICULTY)
        self._models = [
            (model.power_w, _CONTEXT.multiply(model.hashrate_ths, HASHES_PER_TERAHASH)) for model in models
        ]

    def btc(self, energy_mwh: Decimal) -> list[Decimal]:
        """The BTC each model (in the order given) mines with `energy_mwh`, to the satoshi."""
        if energy_mwh < 0:
            raise ValueError(f"energy must not be negative, got {energy_mwh} MWh")
        multiply, divide = _CONTEXT.multiply, _CONTEXT.divide
        joules = multiply(energy_mwh, JOULES_PER_MWH)
        per_block, reward = self._hashes_per_block, self.reward
        return [
            _quantize(
                multiply(divide(multiply(divide(joules, power), per_second), per_block), reward),
                SATOSHI,
                ROUND_HALF_EVEN,
            )
            for power, per_second in self._models
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
    maths = PeriodBitcoin(models, difficulty, reward)
    names = [model.name for model in models]
    rows: list[CalculationRow] = []
    for bm_unit, acceptance_id, bid_offer_pair_id, volume_mwh in records:
        energy = curtailed_energy_mwh(volume_mwh)
        rows.extend(
            (
                settlement_date,
                settlement_period,
                bm_unit,
                acceptance_id,
                bid_offer_pair_id,
                name,
                energy,
                difficulty,
                reward,
                btc,
            )
            for name, btc in zip(names, maths.btc(energy), strict=True)
        )
    return rows


def copy_text_value(value: str) -> str:
    """A text value as a field of COPY's text format (backslash, tab, newline and carriage return escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


_NULL = "\\N"
_BOOLEAN = {True: "t", False: "f", None: _NULL}


def curtailment_copy_text(rows: Iterable[CurtailmentRow], lead_parties: Mapping[str, str | None]) -> str:
    """Records (`curtailment_rows`) as lines of COPY text in CURTAILMENT_COLUMNS order, then the lead party of
    each record's BM unit (NULL for a unit `lead_parties` does not name)."""
    lines = []
    for (
        settlement_date,
        settlement_period,
        bm_unit,
        acceptance_id,
        bid_offer_pair_id,
        sequence_number,
        created_at,
        volume,
        original_price,
        final_price,
        cashflow,
        so_flag,
        cadl_flag,
    ) in rows:
        party = lead_parties.get(bm_unit)
        created = _NULL if created_at is None else created_at.isoformat()
        final = _NULL if final_price is None else str(final_price)
        lines.append(
            f"{settlement_date.isoformat()}\t{settlement_period}\t{copy_text_value(bm_unit)}\t{acceptance_id}"
            f"\t{bid_offer_pair_id}\t{sequence_number}\t{created}\t{volume!s}\t{original_price!s}\t{final}"
            f"\t{cashflow!s}\t{_BOOLEAN[so_flag]}\t{_BOOLEAN[cadl_flag]}"
            f"\t{_NULL if party is None else copy_text_value(party)}\n"
        )
    return "".join(lines)


def calculation_copy_text(
    settlement_date: date,
    settlement_period: int,
    period_start_utc: datetime,
    records: Iterable[RecordEnergy],
    models: Sequence[MinerModel],
    difficulty: Decimal,
    halvings: Sequence[Halving],
) -> tuple[str, int]:
    """The rows `calculation_rows` returns, as COPY text in CALCULATION_COLUMNS order, and their count."""
    reward = block_reward_btc(period_start_utc, halvings)
    maths = PeriodBitcoin(models, difficulty, reward)
    period = f"{settlement_date.isoformat()}\t{settlement_period}\t"
    constants = f"\t{difficulty}\t{reward}\t"
    names = [f"{copy_text_value(model.name)}\t" for model in models]
    lines: list[str] = []
    for bm_unit, acceptance_id, bid_offer_pair_id, volume_mwh in records:
        energy = curtailed_energy_mwh(volume_mwh)
        record = f"{period}{copy_text_value(bm_unit)}\t{acceptance_id}\t{bid_offer_pair_id}\t"
        values = f"{energy}{constants}"
        lines.extend(
            f"{record}{name}{values}{btc!s}\n" for name, btc in zip(names, maths.btc(energy), strict=True)
        )
    return "".join(lines), len(lines)


def difficulty_date(period_start_utc: datetime) -> date:
    """The UTC date whose difficulty a period is calculated with: that of the period's start."""
    return period_start_utc.astimezone(UTC).date()
