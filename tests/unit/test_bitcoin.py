"""Golden tests for the bitcoin maths. Every expected value is worked out by hand in the comments beside it.

BTC = (MWh × 3.6e9 J/MWh ÷ power W) × (hashrate TH/s × 1e12) ÷ (difficulty × 2^32) × block reward,
rounded half-even to 8 decimal places (one satoshi).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from windhash_common.bitcoin import MINED_HALVINGS, Halving, block_reward_btc, btc_mined, halving_schedule
from windhash_common.settlement_calendar import period_start_utc

HALVING_840000 = datetime(2024, 4, 20, 0, 9, 27, tzinfo=UTC)
S19J_PRO_THS, S19J_PRO_W = Decimal(100), Decimal(3050)
DIFFICULTY_2024_04_20 = Decimal(86388558925171)  # the reference file's value for 2024-04-20 (and 04-19)


def test_round_numbers_before_and_after_a_halving() -> None:
    # 1 MWh on a 3,600 W miner runs 1 MWh × 3.6e9 J/MWh ÷ 3,600 W = 1,000,000 s.
    # At 100 TH/s that is 1,000,000 s × 1e14 H/s = 1e20 hashes.
    # A block at difficulty 1e14 takes 1e14 × 2^32 = 1e14 × 4,294,967,296 hashes.
    # Blocks found = 1e20 ÷ (1e14 × 2^32) = 1e6 ÷ 4,294,967,296 = 0.00023283064365386962890625 (exact).
    # × 6.25 BTC = 0.00145519152283668518066406...  → 8 dp: 0.00145519 (9th digit 1: down)
    # × 3.125 BTC = 0.000727595761418342590332031... → 8 dp: 0.00072760 (9th digit 5, more follows: up)
    one_mwh, hashrate, power, difficulty = Decimal(1), Decimal(100), Decimal(3600), Decimal("1e14")
    assert btc_mined(one_mwh, hashrate, power, difficulty, Decimal("6.25")) == Decimal("0.00145519")
    assert btc_mined(one_mwh, hashrate, power, difficulty, Decimal("3.125")) == Decimal("0.00072760")


def test_s19j_pro_either_side_of_the_2024_halving() -> None:
    # Settlement day 2024-04-20 is in BST, so period 3 starts 00:00 UTC (before block 840,000 at 00:09:27 UTC)
    # and period 4 starts 00:30 UTC (after it). Both use the difficulty of UTC date 2024-04-20.
    before = period_start_utc(date(2024, 4, 20), 3)
    after = period_start_utc(date(2024, 4, 20), 4)
    assert before == datetime(2024, 4, 20, 0, 0, tzinfo=UTC) < HALVING_840000
    assert after == datetime(2024, 4, 20, 0, 30, tzinfo=UTC) > HALVING_840000
    assert block_reward_btc(before) == Decimal("6.25")
    assert block_reward_btc(after) == Decimal("3.125")
    # 12.5 MWh on an S19J Pro (100 TH/s, 3,050 W) at difficulty 86,388,558,925,171:
    #   numerator   = 12.5 × 3.6e9 × 100e12 × reward            = 4.5e25 × reward
    #   denominator = 3,050 × 86,388,558,925,171 × 4,294,967,296  = 1,131,659,907,763,143,986,433,228,800
    # reward 6.25:  2.8125e25 ÷ 1.1316599077631439864332288e27 = 0.0248528730293116935...  → 0.02485287
    # reward 3.125: 1.40625e25 ÷ 1.1316599077631439864332288e27 = 0.0124264365146558467...  → 0.01242644
    assert Decimal(3050) * DIFFICULTY_2024_04_20 * 2**32 == Decimal("1131659907763143986433228800")
    energy = Decimal("12.5")
    expected_before, expected_after = Decimal("0.02485287"), Decimal("0.01242644")
    assert (
        btc_mined(energy, S19J_PRO_THS, S19J_PRO_W, DIFFICULTY_2024_04_20, block_reward_btc(before))
        == expected_before
    )
    assert (
        btc_mined(energy, S19J_PRO_THS, S19J_PRO_W, DIFFICULTY_2024_04_20, block_reward_btc(after))
        == expected_after
    )


def test_rounding_is_half_even_to_the_satoshi() -> None:
    # Difficulty 1e20 ÷ 2^32 = 23,283,064,365.386962890625 makes a block exactly 1e20 hashes.
    # 0.00000025 MWh on 3,600 W at 1 TH/s: 0.00000025 × 3.6e9 ÷ 3,600 = 0.25 s; × 1e12 = 2.5e11 hashes
    # = 2.5e-9 blocks; × 50 BTC = 0.000000125 exactly: a tie, rounded to the even satoshi 0.00000012.
    # 0.00000027 MWh gives 0.000000135, also a tie, rounded to the even satoshi 0.00000014.
    difficulty = Decimal("23283064365.386962890625")
    assert difficulty * 2**32 == Decimal("1e20")
    tie_down = btc_mined(Decimal("0.00000025"), Decimal(1), Decimal(3600), difficulty, Decimal(50))
    tie_up = btc_mined(Decimal("0.00000027"), Decimal(1), Decimal(3600), difficulty, Decimal(50))
    assert (tie_down, tie_up) == (Decimal("0.00000012"), Decimal("0.00000014"))


def test_zero_energy_mines_nothing() -> None:
    assert btc_mined(Decimal(0), S19J_PRO_THS, S19J_PRO_W, DIFFICULTY_2024_04_20, Decimal("3.125")) == 0


@pytest.mark.parametrize(
    ("at", "reward"),
    [
        (datetime(2009, 1, 3, 18, 15, 5, tzinfo=UTC), "50"),
        (datetime(2012, 11, 28, 15, 24, 37, tzinfo=UTC), "50"),  # a second before block 210,000
        (datetime(2012, 11, 28, 15, 24, 38, tzinfo=UTC), "25"),
        (datetime(2016, 7, 9, 16, 46, 13, tzinfo=UTC), "12.5"),
        (datetime(2020, 5, 11, 19, 23, 43, tzinfo=UTC), "6.25"),
        (HALVING_840000 - timedelta(seconds=1), "6.25"),
        (HALVING_840000, "3.125"),
        (datetime(2030, 1, 1, tzinfo=UTC), "3.125"),  # the next halving counts only once configured
    ],
)
def test_reward_follows_the_mined_halvings(at: datetime, reward: str) -> None:
    assert block_reward_btc(at) == Decimal(reward)


def test_next_halving_when_configured() -> None:
    next_at = datetime(2028, 4, 17, 12, tzinfo=UTC)
    schedule = halving_schedule(next_at)
    assert schedule[-1].height == 1_050_000
    assert block_reward_btc(next_at - timedelta(seconds=1), schedule) == Decimal("3.125")
    assert block_reward_btc(next_at, schedule) == Decimal("1.5625")
    assert halving_schedule(None) == MINED_HALVINGS


def test_far_halvings_stay_whole_satoshis() -> None:
    # 5,000,000,000 sat >> 10 = 4,882,812 sat (the protocol truncates), not 50 / 1024 = 0.048828125 BTC.
    future = [Halving(210_000 * n, datetime(2012 + 4 * (n - 1), 1, 1, tzinfo=UTC)) for n in range(5, 11)]
    schedule = (*MINED_HALVINGS, *future)  # ten halvings by 2048
    assert block_reward_btc(datetime(2070, 1, 1, tzinfo=UTC), schedule) == Decimal("0.04882812")


@pytest.mark.parametrize(
    ("energy", "hashrate", "power", "difficulty"),
    [
        ("-1", "100", "3050", "1e14"),
        ("1", "0", "3050", "1e14"),
        ("1", "100", "0", "1e14"),
        ("1", "100", "3050", "0"),
    ],
)
def test_nonsense_inputs_are_refused(energy: str, hashrate: str, power: str, difficulty: str) -> None:
    with pytest.raises(ValueError):
        btc_mined(Decimal(energy), Decimal(hashrate), Decimal(power), Decimal(difficulty), Decimal("3.125"))


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        block_reward_btc(datetime(2024, 4, 20))
    with pytest.raises(ValueError):
        halving_schedule(datetime(2028, 4, 17))
