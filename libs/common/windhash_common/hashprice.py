"""Hashprice: what mining earns now, from the network difficulty, the block reward and the BTC price.

    BTC per TH/s per day = 86,400 s × 1e12 hashes / (difficulty × 2^32) × block reward
    $ per TH/s per day   = BTC per TH/s per day × BTC price in USD
    BTC per MWh (model)  = bitcoin.btc_mined(1 MWh, hashrate, power, difficulty, reward), unrounded
    £ per MWh (model)    = BTC per MWh × BTC price in GBP

The first two are the same for every machine (the market's usual "hashprice"); the last two depend on the
model's efficiency and compare directly with the £/MWh a wind farm is paid to switch off: when curtailment
pays more per MWh than the model earns by mining it, running that model loses money. Fees are left out as in
bitcoin.py. Arithmetic in the same 40-digit Decimal context; the caller rounds for display.
"""

from dataclasses import dataclass
from decimal import Decimal

from windhash_common.bitcoin import HASHES_PER_DIFFICULTY, HASHES_PER_TERAHASH, JOULES_PER_MWH
from windhash_common.bitcoin import PRECISE as _CONTEXT

SECONDS_PER_DAY = Decimal(86_400)


@dataclass(frozen=True)
class ModelHashprice:
    miner_model: str
    btc_per_mwh: Decimal
    gbp_per_mwh: Decimal
    btc_per_th_day: Decimal
    usd_per_th_day: Decimal
    usd_per_miner_day: Decimal  # one machine running all day


def _check(difficulty: Decimal, reward_btc: Decimal) -> None:
    if difficulty <= 0:
        raise ValueError(f"difficulty must be positive, got {difficulty}")
    if reward_btc <= 0:
        raise ValueError(f"block reward must be positive, got {reward_btc}")


def btc_per_th_day(difficulty: Decimal, reward_btc: Decimal) -> Decimal:
    """BTC earned by 1 TH/s in a day at this difficulty and reward (expected value)."""
    _check(difficulty, reward_btc)
    hashes = _CONTEXT.multiply(SECONDS_PER_DAY, HASHES_PER_TERAHASH)
    blocks = _CONTEXT.divide(hashes, _CONTEXT.multiply(difficulty, HASHES_PER_DIFFICULTY))
    return _CONTEXT.multiply(blocks, reward_btc)


def btc_per_mwh(hashrate_ths: Decimal, power_w: Decimal, difficulty: Decimal, reward_btc: Decimal) -> Decimal:
    """BTC earned by spending 1 MWh on a machine of this hashrate and power."""
    _check(difficulty, reward_btc)
    if hashrate_ths <= 0 or power_w <= 0:
        raise ValueError("a miner's hashrate and power must be positive")
    seconds = _CONTEXT.divide(JOULES_PER_MWH, power_w)
    hashes = _CONTEXT.multiply(seconds, _CONTEXT.multiply(hashrate_ths, HASHES_PER_TERAHASH))
    blocks = _CONTEXT.divide(hashes, _CONTEXT.multiply(difficulty, HASHES_PER_DIFFICULTY))
    return _CONTEXT.multiply(blocks, reward_btc)


def model_hashprice(
    miner_model: str,
    hashrate_ths: Decimal,
    power_w: Decimal,
    difficulty: Decimal,
    reward_btc: Decimal,
    price_usd: Decimal,
    price_gbp: Decimal,
) -> ModelHashprice:
    per_mwh = btc_per_mwh(hashrate_ths, power_w, difficulty, reward_btc)
    per_th_day = btc_per_th_day(difficulty, reward_btc)
    usd_per_th_day = _CONTEXT.multiply(per_th_day, price_usd)
    return ModelHashprice(
        miner_model=miner_model,
        btc_per_mwh=per_mwh,
        gbp_per_mwh=_CONTEXT.multiply(per_mwh, price_gbp),
        btc_per_th_day=per_th_day,
        usd_per_th_day=usd_per_th_day,
        usd_per_miner_day=_CONTEXT.multiply(usd_per_th_day, hashrate_ths),
    )
