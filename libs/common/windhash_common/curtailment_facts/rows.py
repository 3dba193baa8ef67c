"""Pure functions from a settlement period to the rows the calculator stores.

Records are stored at the precision of their columns (volume 6 dp, prices and cashflow 4 dp, rounded half-even
here so PostgreSQL never rounds anything itself), and the BTC is computed from the stored volume, so every
stored calculation can be recomputed from stored facts alone.

The calculator and reconciliation's replay write both as COPY text (`curtailment_copy_text`,
`calculation_copy_text`): a calculation row is joined from strings made once per period, record and model plus
its BTC, rather than asyncpg encoding ten binary values per row. PostgreSQL reads each text value into its
column's type exactly as it reads the binary one (numeric_in takes Python's exponent notation, e.g. 1E-8,
exactly), so the stored rows are the same. The BTC comes from `windhash_common.bitcoin.PeriodBitcoin`, the one
implementation of the formula.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from windhash_common.bitcoin import Halving, PeriodBitcoin, block_reward_btc
from windhash_common.events import SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_common.money import MONEY_COLUMN_PRECISION, curtailed_energy_mwh, round_half_even

VOLUME_PRECISION = Decimal("0.000001")
MONEY_PRECISION = MONEY_COLUMN_PRECISION

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


quantize = round_half_even


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


def period_bitcoin(models: Sequence[MinerModel], difficulty: Decimal, reward: Decimal) -> PeriodBitcoin:
    return PeriodBitcoin([(model.hashrate_ths, model.power_w) for model in models], difficulty, reward)


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
    maths = period_bitcoin(models, difficulty, reward)
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
    maths = period_bitcoin(models, difficulty, reward)
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
