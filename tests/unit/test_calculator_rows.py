import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal

from windhash_common.bitcoin import MINED_HALVINGS, block_reward_btc, btc_mined
from windhash_common.curtailment_facts.rows import (
    CALCULATION_COLUMNS,
    RecordEnergy,
    calculation_copy_text,
    calculation_rows,
    curtailment_copy_text,
    curtailment_rows,
    difficulty_date,
    event_record_energies,
    period_bitcoin,
)
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent
from windhash_common.miner_models import MinerModel
from windhash_common.money import curtailed_energy_mwh
from windhash_common.settlement_calendar import period_start_utc

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


# The one implementation (PeriodBitcoin, calculation_rows, calculation_copy_text) against the formula.

HALVING_840000 = MINED_HALVINGS[-1].mined_at
# 1e20 / 2^32 exactly: with 100 TH/s on 3,600 W, blocks found = energy (MWh) exactly, so the BTC is
# energy × reward with no rounding on the way, and an odd number of micro-MWh × 3.125 ends in a half satoshi.
TIE_DIFFICULTY = Decimal(10**20) / Decimal(2**32)
TIE_MODEL = MinerModel("TIE", "test", Decimal(100), Decimal(3600))


# The formula as windhash_common.bitcoin's docstring writes it, step by step in a 40-digit context: the
# reference the one implementation (PeriodBitcoin, and btc_mined over it) must equal digit for digit.
_SPEC = Context(prec=40)


def formula_btc(
    energy_mwh: Decimal, hashrate_ths: Decimal, power_w: Decimal, difficulty: Decimal, reward: Decimal
) -> Decimal:
    seconds = _SPEC.divide(_SPEC.multiply(energy_mwh, Decimal("3.6e9")), power_w)
    hashes = _SPEC.multiply(seconds, _SPEC.multiply(hashrate_ths, Decimal("1e12")))
    blocks = _SPEC.divide(hashes, _SPEC.multiply(difficulty, Decimal(2**32)))
    return _SPEC.multiply(blocks, reward).quantize(Decimal("1e-8"), rounding=ROUND_HALF_EVEN)


def reference_rows(
    settlement_date: date,
    settlement_period: int,
    start: datetime,
    records: list[RecordEnergy],
    models: list[MinerModel],
    difficulty: Decimal,
) -> list[tuple[object, ...]]:
    """The rows by the formula, record by record and model by model."""
    reward = block_reward_btc(start, MINED_HALVINGS)
    rows: list[tuple[object, ...]] = []
    for record in records:
        energy = curtailed_energy_mwh(record.volume_mwh)
        for model in models:
            btc = formula_btc(energy, model.hashrate_ths, model.power_w, difficulty, reward)
            rows.append(
                (settlement_date, settlement_period, record.bm_unit, record.acceptance_id,
                 record.bid_offer_pair_id, model.name, energy, difficulty, reward, btc)
            )  # fmt: skip
    return rows


def random_volume(rng: random.Random) -> Decimal:
    scale = rng.choice((1, 10, 1_000, 100_000, 10_000_000, 10**14 - 1))
    return -Decimal(rng.randint(1, scale)) / 1_000_000


def random_model(rng: random.Random, index: int) -> MinerModel:
    # numeric(12, 3) specs, like the table's, from a tiny hobby miner to a large container.
    hashrate = Decimal(rng.randint(1, 999_999_999)) / 1000
    power = Decimal(rng.randint(1, 999_999_999)) / 1000
    return MinerModel(f"M{index}", "test", hashrate, power)


def random_difficulty(rng: random.Random) -> Decimal:
    # Whole, and as published with fractions (numeric(34, 4)), from the early network's to far past today's.
    whole = rng.randint(1, 10**16)
    return Decimal(whole) if rng.random() < 0.5 else Decimal(whole * 10_000 + rng.randint(0, 9999)) / 10_000


def test_period_bitcoin_and_btc_mined_equal_the_formula_on_random_inputs() -> None:
    rng = random.Random(20240420)
    starts = [
        HALVING_840000 - timedelta(seconds=1),
        HALVING_840000,  # the halving block's own time: the new reward
        HALVING_840000 + timedelta(minutes=21),
        datetime(2016, 7, 9, 16, 46, 12, tzinfo=UTC),
        datetime(2021, 1, 1, tzinfo=UTC),
    ]
    compared = 0
    for _ in range(300):
        start = rng.choice(starts)
        models = [random_model(rng, index) for index in range(rng.randint(1, 7))]
        difficulty = random_difficulty(rng)
        reward = block_reward_btc(start, MINED_HALVINGS)
        maths = period_bitcoin(models, difficulty, reward)
        for _ in range(20):
            energy = curtailed_energy_mwh(random_volume(rng))
            expected = [formula_btc(energy, m.hashrate_ths, m.power_w, difficulty, reward) for m in models]
            assert maths.btc(energy) == expected
            assert [
                btc_mined(energy, m.hashrate_ths, m.power_w, difficulty, reward) for m in models
            ] == expected
            # Same digits and exponent too, not only the same value.
            assert [str(btc) for btc in maths.btc(energy)] == [str(btc) for btc in expected]
            compared += len(models)
    assert compared > 10_000


def test_half_satoshi_ties_round_to_even_as_btc_mined_does() -> None:
    after = HALVING_840000 + timedelta(minutes=1)
    maths = period_bitcoin([TIE_MODEL], TIE_DIFFICULTY, block_reward_btc(after, MINED_HALVINGS))
    ties = 0
    for micro_mwh in range(1, 400):
        energy = Decimal(micro_mwh) / 1_000_000
        expected = formula_btc(
            energy, TIE_MODEL.hashrate_ths, TIE_MODEL.power_w, TIE_DIFFICULTY, Decimal("3.125")
        )
        assert maths.btc(energy) == [expected]
        exact = energy * Decimal("3.125")
        if exact * 10**9 % 10 == 5:  # exactly half a satoshi past a whole one
            ties += 1
            # e.g. 0.000003125 → 0.00000312 (2 is even), 0.000009375 → 0.00000938 (7 is odd: up to 8)
            assert expected == exact.quantize(Decimal("1e-8"), rounding=ROUND_HALF_EVEN)
    assert ties > 100
    assert maths.btc(Decimal("0.000001")) == [Decimal("0.00000312")]
    assert maths.btc(Decimal("0.000003")) == [Decimal("0.00000938")]


def test_calculation_rows_equal_the_btc_mined_rows_either_side_of_the_halving() -> None:
    rng = random.Random(840_000)
    models = [S19J_PRO, S9, TIE_MODEL, *(random_model(rng, index) for index in range(3))]
    records = [RecordEnergy(f"T_U-{n}", 1000 + n, -(n % 3) - 1, random_volume(rng)) for n in range(40)] + [
        RecordEnergy("T_TIE", 1, 1, Decimal("-0.000001"))
    ]
    for period, expected_reward in ((3, Decimal("6.25")), (4, Decimal("3.125"))):
        start = period_start_utc(date(2024, 4, 20), period)
        for difficulty in (Decimal(86388558925171), Decimal("83126997340024.6"), TIE_DIFFICULTY):
            rows = calculation_rows(
                date(2024, 4, 20), period, start, records, models, difficulty, MINED_HALVINGS
            )
            assert rows == reference_rows(date(2024, 4, 20), period, start, records, models, difficulty)
            assert {row[8] for row in rows} == {expected_reward}


def test_calculation_copy_text_holds_the_rows_in_column_order() -> None:
    start = period_start_utc(date(2024, 4, 20), 4)
    records = [
        RecordEnergy("T_A-1", 1, -1, Decimal("-2.500000")),
        RecordEnergy("T_B\t\\x\n-1", 2**40, 7, Decimal("-0.000001")),  # must be escaped
    ]
    models = [S19J_PRO, TIE_MODEL]
    difficulty = TIE_DIFFICULTY
    text, count = calculation_copy_text(
        date(2024, 4, 20), 4, start, records, models, difficulty, MINED_HALVINGS
    )
    rows = calculation_rows(date(2024, 4, 20), 4, start, records, models, difficulty, MINED_HALVINGS)
    lines = text.split("\n")
    assert lines.pop() == "" and count == len(lines) == len(rows) == 4
    assert len(CALCULATION_COLUMNS) == 10
    for line, row in zip(lines, rows, strict=True):
        fields = line.split("\t")
        assert len(fields) == len(CALCULATION_COLUMNS)
        assert date.fromisoformat(fields[0]) == row[0]
        assert [int(fields[1]), int(fields[3]), int(fields[4])] == [row[1], row[3], row[4]]
        assert fields[2].replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\") == row[2]
        assert fields[5] == row[5]
        assert [Decimal(field) for field in fields[6:]] == list(row[6:])
    assert lines[2].split("\t")[2] == "T_B\\t\\\\x\\n-1"
    # The half satoshi of 0.000001 MWh × 3.125 BTC rounds to the even satoshi.
    assert lines[3].split("\t")[9] == "0.00000312"


def test_curtailment_copy_text_holds_the_rows_and_the_lead_party() -> None:
    created = datetime(2024, 5, 1, 10, 15, 30, 250_000, tzinfo=UTC)
    with_nulls = record(2, "-0.25")
    event = SettlementPeriodEvent.build(
        date(2024, 5, 1),
        10,
        (
            record(1, "-1.0000005").model_copy(update={"created_at": created, "cadl_flag": True}),
            with_nulls,
        ),
        FETCHED,
        synthetic=False,
    )
    rows = curtailment_rows(event)
    text = curtailment_copy_text(rows, {"T_A-1": "Party\\A"})
    lines = text.split("\n")
    assert lines.pop() == ""
    first = lines[0].split("\t")
    assert first == [
        "2024-05-01", "10", "T_A-1", "1", "-1", "2", "2024-05-01T10:15:30.250000+00:00", "-1.000000",
        "-50.0000", "\\N", "50.0001", "f", "t", "Party\\\\A",
    ]  # fmt: skip
    second = lines[1].split("\t")
    assert second[6] == "\\N" and second[12] == "\\N" and second[7] == "-0.250000"
    assert curtailment_copy_text(rows, {})[:-1].split("\n")[0].split("\t")[13] == "\\N"
