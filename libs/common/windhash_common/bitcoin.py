"""The bitcoin maths: how many BTC a miner would earn from a given energy at the day's network difficulty.

    hashes expected per block = difficulty × 2^32
    seconds of mining        = energy (MWh) × 3.6e9 (J/MWh) / power (W)
    hashes computed          = seconds × hashrate (TH/s) × 1e12
    BTC                      = hashes computed / hashes per block × block reward

The block reward follows the halving schedule by the time each halving block was mined, compared with the
start of the settlement period (UTC). Fees are left out on purpose: they vary block by block and the subsidy
is the auditable part. Arithmetic is in `Decimal` with 40 significant digits, and the result is rounded
half-even to 8 decimal places (one satoshi), the precision stored in the database.

One implementation: `PeriodBitcoin` performs these operations, in this order and context, for one period's
difficulty and reward and a list of miners, with the factors that do not change within a period computed
once (the calculator's write path runs it for every record); `btc_mined` is the same arithmetic for one
record and one miner, the formula as written above.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

SATOSHI = Decimal("0.00000001")
INITIAL_REWARD_BTC = Decimal(50)
INITIAL_REWARD_SATOSHI = 50 * 100_000_000
JOULES_PER_MWH = Decimal("3.6e9")
HASHES_PER_TERAHASH = Decimal("1e12")
HASHES_PER_DIFFICULTY = Decimal(2**32)
_CONTEXT = Context(prec=40)
PRECISE = _CONTEXT  # the context of every figure derived from these formulas (hashprice.py too)


@dataclass(frozen=True)
class Halving:
    height: int
    mined_at: datetime


# Times of the blocks that halved the subsidy (block headers' timestamps, UTC).
MINED_HALVINGS: tuple[Halving, ...] = (
    Halving(210_000, datetime(2012, 11, 28, 15, 24, 38, tzinfo=UTC)),
    Halving(420_000, datetime(2016, 7, 9, 16, 46, 13, tzinfo=UTC)),
    Halving(630_000, datetime(2020, 5, 11, 19, 23, 43, tzinfo=UTC)),
    Halving(840_000, datetime(2024, 4, 20, 0, 9, 27, tzinfo=UTC)),
)


def halving_schedule(next_halving_at: datetime | None = None) -> tuple[Halving, ...]:
    """The mined halvings, plus the next one when its (expected or actual) time is configured."""
    if next_halving_at is None:
        return MINED_HALVINGS
    if next_halving_at.tzinfo is None:
        raise ValueError("the next halving needs a timezone-aware instant")
    last = MINED_HALVINGS[-1]
    return (*MINED_HALVINGS, Halving(last.height + 210_000, next_halving_at.astimezone(UTC)))


def block_reward_btc(at: datetime, schedule: Sequence[Halving] = MINED_HALVINGS) -> Decimal:
    if at.tzinfo is None:
        raise ValueError("block_reward_btc needs a timezone-aware instant")
    halvings = sum(1 for halving in schedule if halving.mined_at <= at)
    # The protocol halves the subsidy in whole satoshis (a right shift), which matters from the 10th halving
    # on, when 50 / 2^n stops being a whole number of satoshis.
    return Decimal(INITIAL_REWARD_SATOSHI >> halvings) * SATOSHI


class PeriodBitcoin:
    """The BTC each miner (hashrate TH/s, power W) mines with a record's energy at one period's difficulty and
    block reward, to the satoshi.

    Per period: difficulty × 2^32 once; per miner: hashrate × 1e12 once; per record: energy × 3.6e9 once;
    then per record and miner the rest of the formula, in the module docstring's order.
    """

    def __init__(
        self, miners: Iterable[tuple[Decimal, Decimal]], difficulty: Decimal, reward: Decimal
    ) -> None:
        if difficulty <= 0:
            raise ValueError(f"difficulty must be positive, got {difficulty}")
        self.reward = reward
        self._hashes_per_block = _CONTEXT.multiply(difficulty, HASHES_PER_DIFFICULTY)
        self._miners = []
        for hashrate_ths, power_w in miners:
            if hashrate_ths <= 0 or power_w <= 0:
                raise ValueError("a miner's hashrate and power must be positive")
            self._miners.append((power_w, _CONTEXT.multiply(hashrate_ths, HASHES_PER_TERAHASH)))

    def btc(self, energy_mwh: Decimal) -> list[Decimal]:
        """The BTC each miner (in the order given) mines with `energy_mwh`."""
        if energy_mwh < 0:
            raise ValueError(f"energy must not be negative, got {energy_mwh} MWh")
        multiply, divide = _CONTEXT.multiply, _CONTEXT.divide
        joules = multiply(energy_mwh, JOULES_PER_MWH)
        per_block, reward = self._hashes_per_block, self.reward
        # Decimal.quantize called with positional arguments: keyword parsing alone costs as much as the
        # rounding.
        return [
            _quantize(
                multiply(divide(multiply(divide(joules, power), per_second), per_block), reward),
                SATOSHI,
                ROUND_HALF_EVEN,
            )
            for power, per_second in self._miners
        ]


_quantize = Decimal.quantize


def btc_mined(
    energy_mwh: Decimal, hashrate_ths: Decimal, power_w: Decimal, difficulty: Decimal, reward_btc: Decimal
) -> Decimal:
    """BTC mined by `energy_mwh` spent on a miner of `hashrate_ths` drawing `power_w`, to the satoshi."""
    return PeriodBitcoin([(hashrate_ths, power_w)], difficulty, reward_btc).btc(energy_mwh)[0]
