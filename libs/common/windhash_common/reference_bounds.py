"""What a plausible difficulty, BTC price, hashrate and volume is: the one home of the bounds that reference
and market data must pass on the way in (`windhash difficulty|prices load|sync`, the market service).

A value outside them is refused with the reason, never stored and never replaced by another value:

- **difficulty**: 1e9 ≤ d ≤ 1e17, and within ×4 of the median of the day's own and the known days' values up
  to 3 days either side. 2019's difficulty was ~6e12 and 2026's ~1.5e14; the consensus rules cap one retarget
  at ×4 either way, and a week holds at most one retarget.
- **BTC price** (USD or GBP): 100 ≤ p ≤ 10,000,000, and within ×2 of the same median of prices. BTC has not
  been below $3,000 since 2019; its worst day (12 March 2020) lost ~40%.
- **GBP and USD of one day or snapshot**: 0.5 ≤ GBP/USD ≤ 1.0. £1 has cost $1.03 to $1.45 since 2019; a
  ratio outside means swapped or wrong currencies.
- **network hashrate**: 1 ≤ h ≤ 1,000,000 EH/s, and within ×3 of the hashrate the difficulty implies
  (d × 2³² / 600 s). Estimates vary ±20% around it; a ×1000 miss is a unit mistake (TH/s for EH/s).
- **24 h volume** (USD): 0 ≤ v ≤ 1e13.
- **a snapshot's source time**: no older than the market service's `max_*_age` settings; a stale quote is
  not the price now.

Zero, negative, NaN and infinite values fall outside every range. Neighbours are other values of the same
kind, offered together or already stored; a day without neighbours is judged by its absolute bounds only.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median

MIN_DIFFICULTY = Decimal("1e9")
MAX_DIFFICULTY = Decimal("1e17")
DIFFICULTY_NEIGHBOUR_FACTOR = Decimal(4)
MIN_PRICE = Decimal(100)
MAX_PRICE = Decimal("1e7")
PRICE_NEIGHBOUR_FACTOR = Decimal(2)
GBP_PER_USD = (Decimal("0.5"), Decimal("1.0"))
MIN_HASHRATE_EHS = Decimal(1)
MAX_HASHRATE_EHS = Decimal("1e6")
HASHRATE_VS_DIFFICULTY_FACTOR = Decimal(3)
MAX_VOLUME_USD = Decimal("1e13")
NEIGHBOUR_DAYS = 3
_SECONDS_PER_BLOCK = Decimal(600)
_HASHES_PER_DIFFICULTY = Decimal(2**32)
_HASHES_PER_EXAHASH = Decimal("1e18")


def _outside(value: Decimal, low: Decimal, high: Decimal, what: str) -> str | None:
    if not value.is_finite():
        return f"{what} {value} is not a finite number"
    if value <= 0:
        return f"{what} {value} is not positive"
    if not low <= value <= high:
        return f"{what} {value:f} is outside the plausible {low:,f} to {high:,f}"
    return None


def difficulty_problem(value: Decimal) -> str | None:
    """Why `value` cannot be a network difficulty, or None."""
    return _outside(value, MIN_DIFFICULTY, MAX_DIFFICULTY, "difficulty")


def price_problem(value: Decimal, currency: str) -> str | None:
    return _outside(value, MIN_PRICE, MAX_PRICE, f"{currency.upper()} price")


def currencies_problem(gbp: Decimal, usd: Decimal) -> str | None:
    """Why a GBP and a USD price of the same moment cannot both be right, or None."""
    low, high = GBP_PER_USD
    ratio = gbp / usd
    if not low <= ratio <= high:
        return f"GBP {gbp} and USD {usd} disagree: GBP/USD {ratio:.3f} is outside {low} to {high}"
    return None


def implied_hashrate_ehs(difficulty: Decimal) -> Decimal:
    """The hashrate at which blocks come every 600 s on average at this difficulty."""
    return difficulty * _HASHES_PER_DIFFICULTY / _SECONDS_PER_BLOCK / _HASHES_PER_EXAHASH


def hashrate_problem(hashrate_ehs: Decimal, difficulty: Decimal) -> str | None:
    problem = _outside(hashrate_ehs, MIN_HASHRATE_EHS, MAX_HASHRATE_EHS, "hashrate (EH/s)")
    if problem is not None:
        return problem
    implied = implied_hashrate_ehs(difficulty)
    if not implied / HASHRATE_VS_DIFFICULTY_FACTOR <= hashrate_ehs <= implied * HASHRATE_VS_DIFFICULTY_FACTOR:
        return (
            f"hashrate {hashrate_ehs:.3f} EH/s is not within ×{HASHRATE_VS_DIFFICULTY_FACTOR} of the"
            f" {implied:.3f} EH/s that difficulty {difficulty:f} implies"
        )
    return None


def volume_problem(volume_usd: Decimal) -> str | None:
    if not volume_usd.is_finite() or not 0 <= volume_usd <= MAX_VOLUME_USD:
        return f"24 h volume {volume_usd} USD is outside the plausible 0 to {MAX_VOLUME_USD:,f}"
    return None


def staleness_problem(what: str, observed_at: datetime, now: datetime, max_age: timedelta) -> str | None:
    age = now - observed_at
    if age > max_age:
        return f"{what} is stale: from {observed_at.isoformat()}, {age} old (at most {max_age})"
    return None


def price_jump_problem(value: Decimal, recent: Sequence[Decimal], currency: str) -> str | None:
    """Why a price is not within ×PRICE_NEIGHBOUR_FACTOR of the median of the recent ones, or None."""
    if not recent:
        return None
    middle = Decimal(median(recent))
    if not middle / PRICE_NEIGHBOUR_FACTOR <= value <= middle * PRICE_NEIGHBOUR_FACTOR:
        factor = PRICE_NEIGHBOUR_FACTOR
        return f"{currency.upper()} price {value:f} is not within ×{factor} of the recent {middle:f}"
    return None


def neighbour_problems(
    offered: Mapping[date, Decimal], known: Mapping[date, Decimal], factor: Decimal, what: str
) -> dict[date, str]:
    """The offered days whose value is not within ×`factor` of the median of the values (offered or known)
    of the day itself and up to NEIGHBOUR_DAYS days either side. With the day in the median, one wild day
    among two or more neighbours cannot move it, so it condemns only itself; of a lone pair that disagrees,
    both are refused (nothing says which is right)."""
    values = {**known, **offered}
    problems = {}
    for day, value in offered.items():
        around = [
            values[other]
            for offset in range(1, NEIGHBOUR_DAYS + 1)
            for other in (day - timedelta(days=offset), day + timedelta(days=offset))
            if other in values
        ]
        if not around:
            continue
        middle = Decimal(median([value, *around]))
        if not middle / factor <= value <= middle * factor:
            problems[day] = (
                f"{what} {value:f} on {day} is not within ×{factor} of its neighbouring days' {middle:f}"
            )
    return problems


def daily_difficulty_refusals(
    offered: Mapping[date, Decimal], stored: Mapping[date, Decimal]
) -> dict[date, str]:
    """Every offered day that is refused, with the reason. `stored`: the known days around them."""
    refusals = {
        day: problem for day, value in offered.items() if (problem := difficulty_problem(value)) is not None
    }
    plausible = {day: value for day, value in offered.items() if day not in refusals}
    refusals.update(neighbour_problems(plausible, stored, DIFFICULTY_NEIGHBOUR_FACTOR, "difficulty"))
    return dict(sorted(refusals.items()))


def daily_price_refusals(
    offered: Mapping[date, tuple[Decimal | None, Decimal | None]],
    stored: Mapping[date, tuple[Decimal | None, Decimal | None]],
) -> dict[date, str]:
    """Every offered day (date → (GBP, USD), either may be None) that is refused, with the reason."""
    refusals: dict[date, str] = {}
    for day, (gbp, usd) in offered.items():
        pairs = (("gbp", gbp), ("usd", usd))
        problems = [price_problem(value, name) for name, value in pairs if value is not None]
        if gbp is None and usd is None:
            problems.append("no price in either currency")
        elif gbp is not None and usd is not None and not any(problems):
            problems.append(currencies_problem(gbp, usd))
        found = [problem for problem in problems if problem]
        if found:
            refusals[day] = "; ".join(found)
    for index, currency in enumerate(("GBP", "USD")):
        plausible = {
            day: value
            for day, pair in offered.items()
            if (value := pair[index]) is not None and day not in refusals
        }
        around = {day: value for day, pair in stored.items() if (value := pair[index]) is not None}
        found_here = neighbour_problems(plausible, around, PRICE_NEIGHBOUR_FACTOR, f"{currency} price")
        for day, problem in found_here.items():
            refusals[day] = f"{refusals[day]}; {problem}" if day in refusals else problem
    return dict(sorted(refusals.items()))
