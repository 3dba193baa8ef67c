from decimal import Decimal

import pytest
from windhash_common.bitcoin import btc_mined
from windhash_common.hashprice import btc_per_mwh, btc_per_th_day, model_hashprice

# 2024-04-20, just after the fourth halving.
DIFFICULTY = Decimal(86388558925171)
REWARD = Decimal("3.125")


def test_hashprice_of_an_s19_pro_by_hand() -> None:
    # hashes per block = 86,388,558,925,171 × 2^32 = 3.7103604e23
    # 1 TH/s for a day = 8.64e16 hashes → 2.3286148e-7 blocks → × 3.125 = 7.2769212e-7 BTC
    # × $64,000 = $0.0465723 per TH/s per day; × 110 TH/s = $5.12295 per machine per day
    # 1 MWh at 3,250 W = 1,107,692.3 s × 110 TH/s = 1.2184615e20 hashes → 3.2839439e-4 blocks
    #   → × 3.125 = 1.0262325e-3 BTC per MWh → × £51,500 = £52.85 per MWh
    price = model_hashprice(
        "S19 Pro", Decimal(110), Decimal(3250), DIFFICULTY, REWARD, Decimal(64000), Decimal(51500)
    )
    assert price.btc_per_th_day == pytest.approx(Decimal("7.2769212e-7"), rel=Decimal("1e-7"))
    assert price.usd_per_th_day == pytest.approx(Decimal("0.0465723"), rel=Decimal("1e-6"))
    assert price.usd_per_miner_day == pytest.approx(Decimal("5.12295"), rel=Decimal("1e-6"))
    assert price.btc_per_mwh == pytest.approx(Decimal("1.0262325e-3"), rel=Decimal("1e-7"))
    assert price.gbp_per_mwh.quantize(Decimal("0.01")) == Decimal("52.85")


def test_btc_per_mwh_is_the_bitcoin_formula_before_rounding() -> None:
    exact = btc_per_mwh(Decimal(200), Decimal(3500), DIFFICULTY, REWARD)
    assert btc_mined(Decimal(1), Decimal(200), Decimal(3500), DIFFICULTY, REWARD) == exact.quantize(
        Decimal("0.00000001")
    )


def test_hashprice_halves_with_the_reward_and_doubling_difficulty() -> None:
    half = btc_per_th_day(DIFFICULTY, REWARD) / 2
    assert btc_per_th_day(DIFFICULTY, REWARD / 2) == pytest.approx(half, rel=Decimal("1e-25"))
    assert btc_per_th_day(DIFFICULTY * 2, REWARD) == pytest.approx(half, rel=Decimal("1e-25"))


def test_no_hashprice_without_a_positive_difficulty_or_reward() -> None:
    with pytest.raises(ValueError):
        btc_per_th_day(Decimal(0), REWARD)
    with pytest.raises(ValueError):
        btc_per_mwh(Decimal(110), Decimal(0), DIFFICULTY, REWARD)
