"""Whether a period's derived figures fit the columns that store them: the one home of that rule.

The event schema (`windhash_common.events`) bounds every figure a record carries by its own column, but the
figures derived from a whole period (its BTC at the day's difficulty, their fiat value, the period's energy
and cashflow) are added up by the summaries, and the difficulty comes from reference data. A period whose
derived figures cannot be stored is refused before anything of it is written (the calculator dead-letters
it with this reason and records it in `unstorable_periods`), so a figure PostgreSQL would refuse can never
stop the write path on every replay.

A period is refused when, for a day of `MAX_PERIODS_IN_DAY` such periods, a daily summary could not hold
the sum (months and years have 100× the room of a day, two more integer digits, so they follow):

- **difficulty**: positive, finite, at most 4 decimal places and below `DIFFICULTY_LIMIT` (the summaries'
  `difficulty_weighted numeric(30, 2)`; the facts' `numeric(34, 4)` hold more);
- **energy**: the period's curtailed MWh at most `PERIOD_ENERGY_LIMIT` (`curtailment_daily`, `bitcoin_daily`,
  `bm_unit_daily.energy_mwh numeric(16, 6)`);
- **cashflow**: the sum of the period's |cashflow| at most `PERIOD_CASHFLOW_LIMIT` (`cashflow_gbp
  numeric(18, 4)` of the daily tables);
- **BTC and its value**: each model's BTC for the period at most `PERIOD_BTC_LIMIT`, so that a day of them
  fits `bitcoin_daily.btc numeric(20, 8)` and, priced at the highest price `reference_bounds` admits
  (`MAX_PRICE`), `value_gbp`/`value_usd numeric(20, 2)`.

The BTC is checked on the period's total energy: the stored per-record figures add up to it within half a
satoshi each, far inside the bound.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from windhash_common.bitcoin import Halving, PeriodBitcoin, block_reward_btc
from windhash_common.curtailment_facts.rows import CurtailmentRow, RecordEnergy
from windhash_common.events import MAX_PERIODS_IN_DAY
from windhash_common.miner_models import MinerModel
from windhash_common.money import curtailed_energy_mwh
from windhash_common.reference_bounds import MAX_PRICE

DIFFICULTY_LIMIT = Decimal("1e28")
DIFFICULTY_DECIMALS = 4
DAILY_ENERGY_LIMIT = Decimal("1e10")
DAILY_CASHFLOW_LIMIT = Decimal("1e14")
DAILY_BTC_LIMIT = Decimal("1e12")
DAILY_VALUE_LIMIT = Decimal("1e18")
PERIOD_ENERGY_LIMIT = DAILY_ENERGY_LIMIT / MAX_PERIODS_IN_DAY
PERIOD_CASHFLOW_LIMIT = DAILY_CASHFLOW_LIMIT / MAX_PERIODS_IN_DAY
PERIOD_BTC_LIMIT = min(DAILY_BTC_LIMIT, DAILY_VALUE_LIMIT / MAX_PRICE) / MAX_PERIODS_IN_DAY


def difficulty_problem(difficulty: Decimal) -> str | None:
    """Why `difficulty` cannot be calculated with and stored, or None."""
    if not difficulty.is_finite() or difficulty <= 0:
        return f"difficulty {difficulty} is not a positive number"
    if difficulty >= DIFFICULTY_LIMIT:
        return f"difficulty {difficulty:E} does not fit its columns (below {DIFFICULTY_LIMIT:E})"
    exponent = difficulty.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -DIFFICULTY_DECIMALS:
        return f"difficulty {difficulty} has more than {DIFFICULTY_DECIMALS} decimal places"
    return None


def records_problem(rows: Iterable[CurtailmentRow]) -> str | None:
    """Why the period's total energy or cashflow (records at column precision) cannot be summed, or None."""
    energy = Decimal(0)
    cashflow = Decimal(0)
    for row in rows:
        energy += -row[7]
        cashflow += abs(row[10])
    if energy > PERIOD_ENERGY_LIMIT:
        return f"the period's energy {energy:f} MWh is more than a period may hold ({PERIOD_ENERGY_LIMIT:f})"
    if cashflow > PERIOD_CASHFLOW_LIMIT:
        return (
            f"the period's cashflow {cashflow:f} GBP is more than a period may hold ({PERIOD_CASHFLOW_LIMIT})"
        )
    return None


def bitcoin_problem(
    energies: Iterable[RecordEnergy],
    models: Sequence[MinerModel],
    difficulty: Decimal,
    period_start_utc: datetime,
    halvings: Sequence[Halving],
) -> str | None:
    """Why the period's BTC at `difficulty` (or the difficulty itself) cannot be stored, or None."""
    problem = difficulty_problem(difficulty)
    if problem is not None or not models:
        return problem
    total = sum((curtailed_energy_mwh(record.volume_mwh) for record in energies), Decimal(0))
    reward = block_reward_btc(period_start_utc, halvings)
    maths = PeriodBitcoin([(model.hashrate_ths, model.power_w) for model in models], difficulty, reward)
    for model, btc in zip(models, maths.btc(total), strict=True):
        if btc > PERIOD_BTC_LIMIT:
            return (
                f"{model.name} would mine {btc:E} BTC in the period at difficulty {difficulty:E}, more than"
                f" the {PERIOD_BTC_LIMIT:f} BTC a period may hold (its day's BTC and value must fit)"
            )
    return None
