from datetime import UTC, date, datetime
from decimal import Decimal

from windhash_calculator.calculation_rows import (
    RecordEnergy,
    calculation_rows,
    curtailment_rows,
    difficulty_date,
    event_record_energies,
)
from windhash_common.bitcoin import MINED_HALVINGS, btc_mined
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.miner_models import MinerModel

S19J_PRO = MinerModel("S19J_PRO", "Bitmain", Decimal(100), Decimal(3050))
S9 = MinerModel("S9", "Bitmain", Decimal("13.5"), Decimal(1323))
FETCHED = datetime(2024, 5, 1, tzinfo=UTC)


def record(acceptance_id: int, volume: str, price: str = "-50.00005") -> CurtailmentRecord:
    return CurtailmentRecord(
        bm_unit="T_A-1",
        acceptance_id=acceptance_id,
        bid_offer_pair_id=-1,
        sequence_number=2,
        created_at=None,
        volume_mwh=Decimal(volume),
        original_price_gbp_per_mwh=Decimal(price),
        final_price_gbp_per_mwh=None,
        cashflow_gbp=Decimal(volume) * Decimal(price),
        so_flag=False,
        cadl_flag=None,
    )


def test_one_row_per_record_and_model_with_the_reward_of_the_period_start() -> None:
    records = [RecordEnergy("T_A-1", 1, -1, Decimal("-2.5")), RecordEnergy("T_B-1", 2, 1, Decimal("-0.5"))]
    start = datetime(2024, 4, 20, 0, 30, tzinfo=UTC)  # after block 840,000
    difficulty = Decimal(86388558925171)
    rows = calculation_rows(date(2024, 4, 20), 4, start, records, [S19J_PRO, S9], difficulty, MINED_HALVINGS)
    assert [(row[2], row[5], row[6]) for row in rows] == [
        ("T_A-1", "S19J_PRO", Decimal("2.5")),
        ("T_A-1", "S9", Decimal("2.5")),
        ("T_B-1", "S19J_PRO", Decimal("0.5")),
        ("T_B-1", "S9", Decimal("0.5")),
    ]
    assert {row[8] for row in rows} == {Decimal("3.125")}
    assert rows[1][9] == btc_mined(
        Decimal("2.5"), Decimal("13.5"), Decimal(1323), difficulty, Decimal("3.125")
    )


def test_records_are_stored_at_column_precision_and_computed_from_what_is_stored() -> None:
    # 6 dp for volume, 4 dp for money, half-even: -1.0000005 → -1.000000 and -1.0000015 → -1.000002.
    event = SettlementPeriodEvent.build(
        date(2024, 5, 1), 10, (record(1, "-1.0000005"), record(2, "-1.0000015")), FETCHED, synthetic=False
    )
    rows = curtailment_rows(event)
    assert [row[7] for row in rows] == [Decimal("-1.000000"), Decimal("-1.000002")]
    assert [row[8] for row in rows] == [Decimal("-50.0000"), Decimal("-50.0000")]  # -50.00005 → even
    assert [energy.volume_mwh for energy in event_record_energies(event)] == [
        Decimal("-1.000000"),
        Decimal("-1.000002"),
    ]


def test_difficulty_is_that_of_the_utc_date_of_the_period_start() -> None:
    # Period 1 of 2024-04-20 starts at 23:00 UTC on the 19th (BST).
    event = SettlementPeriodEvent.build(date(2024, 4, 20), 1, (), FETCHED, synthetic=False)
    assert difficulty_date(event.period_start_utc) == date(2024, 4, 19)
    assert difficulty_date(datetime(2024, 1, 10, 0, 0, tzinfo=UTC)) == date(2024, 1, 10)
