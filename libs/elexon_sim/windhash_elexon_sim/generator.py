"""Deterministic synthetic settlement stacks (ISPSTACK) for any (date, period, side, revision).

SYNTHETIC DATA: nothing here is a real Elexon figure. The numbers are shaped like 2024's: about 8.3 TWh of
wind bids accepted for system reasons and about £393m paid to the farms over the year, on heavy-tailed days
(a calm day has almost nothing, a stormy one tens of GWh), mostly from a few large Scottish units, with
several acceptances per unit and period. Each bid stack also carries rows the ingestor must leave out:
non-wind units, wind bids not flagged for system reasons (soFlag false) and positive-volume wind rows; the
offer stack holds only rows that are never curtailment.

The same inputs always give the same rows: every random draw comes from a generator seeded by a hash of
(seed, date, period, side), never from process state. A revision (`revision` > 0) stands for Elexon re-running
the calculation: rows get a later `createdDateTime` and extra accepted volume, so the content always changes.
"""

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import Any, Literal

from windhash_common.settlement_calendar import PERIOD, day_start_utc, settlement_periods_in_day

from windhash_elexon_sim.units import NON_WIND_UNITS, SimUnit, sim_wind_units, stable_random

Side = Literal["bid", "offer"]
DEFAULT_SEED = 2024

# Mean accepted wind volume per period before the day and period shapes (calibrated: a year ≈ 8.3 TWh).
MWH_PER_PERIOD_SCALE = 441.0
CALM_DAY_SHARE = 0.2
MAX_DAY_INTENSITY = 4.0
MAX_PERIOD_MWH = 2200.0
# Acceptances are split into several of these at most (and a unit turned down by at most this share).
MAX_ACCEPTANCES_PER_UNIT = 4
MAX_TURN_DOWN_SHARE = 0.95


@lru_cache(maxsize=1024)
def day_intensity(settlement_date: date, seed: int = DEFAULT_SEED) -> float:
    """How windy (and constrained) a day is: seasonal, and log-normal so a few storms dominate a year."""
    rng = stable_random(seed, "day", settlement_date.isoformat())
    season = 1.0 + 0.45 * math.cos(2 * math.pi * (settlement_date.timetuple().tm_yday - 15) / 365.25)
    if rng.random() < CALM_DAY_SHARE:
        return season * rng.uniform(0.0, 0.03)
    return season * min(MAX_DAY_INTENSITY, rng.lognormvariate(-0.1, 1.05))


def target_period_mwh(settlement_date: date, settlement_period: int, seed: int = DEFAULT_SEED) -> float:
    """The wind volume the system operator turns down in a period (before splitting it into acceptances)."""
    rng = stable_random(seed, "period", settlement_date.isoformat(), settlement_period)
    hour = (settlement_period - 1) / 2
    # More curtailment overnight, when demand is low and the wind keeps blowing.
    profile = 1.0 + 0.35 * math.cos(2 * math.pi * (hour - 3) / 24)
    noise = rng.lognormvariate(0.0, 0.35)
    return min(MAX_PERIOD_MWH, MWH_PER_PERIOD_SCALE * day_intensity(settlement_date, seed) * profile * noise)


def settlement_stack(
    settlement_date: date, settlement_period: int, side: Side, revision: int = 0, seed: int = DEFAULT_SEED
) -> list[dict[str, Any]]:
    """The rows `/balancing/settlement/stack/all/{side}/{date}/{period}` returns, as JSON-ready dicts.
    Raises ValueError for a period the day does not have. The list is a copy: callers may change it."""
    return [dict(row) for row in shared_stack(settlement_date, settlement_period, side, revision, seed)]


def shared_stack(
    settlement_date: date, settlement_period: int, side: Side, revision: int = 0, seed: int = DEFAULT_SEED
) -> tuple[dict[str, Any], ...]:
    """`settlement_stack` without the copy, for a caller that only reads the rows (the server serialising
    them): the rows are the cache's own and must not be changed."""
    periods = _periods_in_day(settlement_date)
    if not 1 <= settlement_period <= periods:
        raise ValueError(f"settlement period {settlement_period} is not in 1..{periods} on {settlement_date}")
    return _cached_stack(settlement_date, settlement_period, side, revision, seed)


@lru_cache(maxsize=4096)
def _cached_stack(
    settlement_date: date, settlement_period: int, side: Side, revision: int, seed: int
) -> tuple[dict[str, Any], ...]:
    builder = _StackBuilder(settlement_date, settlement_period, side, revision, seed)
    if side == "bid":
        builder.add_wind_curtailment()
        builder.add_wind_noise()
    else:
        builder.add_wind_offers()
    builder.add_non_wind()
    return tuple(builder.finish())


class _StackBuilder:
    def __init__(self, settlement_date: date, settlement_period: int, side: Side, revision: int, seed: int):
        self.settlement_date = settlement_date
        self.settlement_period = settlement_period
        self.side = side
        self.revision = revision
        self.seed = seed
        self.rng = stable_random(seed, "stack", settlement_date.isoformat(), settlement_period, side)
        # period_start_utc's sum, on a day start worked out once per date (the zone conversions are slow).
        self.start = _day_start(settlement_date) + (settlement_period - 1) * PERIOD
        self.created = self.start + PERIOD + timedelta(minutes=17, days=revision)
        # Formatted once: every row of the stack shares them.
        self.date_text = settlement_date.isoformat()
        self.start_text = _iso(self.start)
        self.created_text = _iso(self.created)
        self.rows: list[dict[str, Any]] = []
        self.next_acceptance: dict[str, int] = {}

    def acceptance_id(self, unit: str) -> int:
        """Acceptance numbers rise through a unit's day, as Elexon's do, and never repeat within a period."""
        if unit not in self.next_acceptance:
            self.next_acceptance[unit] = _acceptance_base(self.seed, unit) + self.settlement_period * 40
        self.next_acceptance[unit] += 1
        return self.next_acceptance[unit]

    def add_wind_curtailment(self) -> None:
        units = sim_wind_units(self.seed)
        cumulative = _cumulative_weights(self.seed)
        remaining = target_period_mwh(self.settlement_date, self.settlement_period, self.seed)
        used: dict[str, float] = {}
        misses = 0
        while remaining > 0.5 and misses < 40:
            unit = self.rng.choices(units, cum_weights=cumulative)[0]
            headroom = unit.capacity_mw * 0.5 * MAX_TURN_DOWN_SHARE - used.get(unit.elexon_bm_unit, 0.0)
            if headroom < 1.0:
                misses += 1
                continue
            volume = min(remaining, headroom * self.rng.uniform(0.4, 1.0))
            used[unit.elexon_bm_unit] = used.get(unit.elexon_bm_unit, 0.0) + volume
            remaining -= volume
            self.add_unit_acceptances(unit, volume)
        for extra in range(self.revision):
            # A revision always adds accepted volume, so a re-fetch sees different content.
            self.add_unit_acceptances(units[extra % len(units)], 5.0 * (extra + 1))

    def add_unit_acceptances(self, unit: SimUnit, volume: float) -> None:
        rng = self.rng
        count = rng.randint(1, MAX_ACCEPTANCES_PER_UNIT)
        shares = [rng.uniform(0.2, 1.0) for _ in range(count)]
        total = sum(shares)
        name = unit.elexon_bm_unit
        for share in shares:
            acceptance = self.acceptance_id(name)
            part = volume * share / total
            pairs = 2 if rng.random() < 0.3 else 1
            for pair in range(1, pairs + 1):
                price = unit.bid_price * rng.uniform(0.9, 1.1) - (pair - 1) * 3.0
                self.add_row(name, acceptance, -pair, -part / pairs, price, so_flag=True)

    def add_wind_noise(self) -> None:
        """Wind rows that are not curtailment: energy-flagged bids and positive-volume rows."""
        units = sim_wind_units(self.seed)
        for _ in range(self.rng.randint(0, 2)):
            unit = self.rng.choice(units)
            volume = -self.rng.uniform(1.0, 20.0)
            self.add_row(
                unit.elexon_bm_unit, self.acceptance_id(unit.elexon_bm_unit), -1, volume, -20.0, False
            )
        if self.rng.random() < 0.3:
            unit = self.rng.choice(units)
            volume = self.rng.uniform(0.5, 5.0)
            self.add_row(unit.elexon_bm_unit, self.acceptance_id(unit.elexon_bm_unit), -1, volume, 10.0, True)

    def add_wind_offers(self) -> None:
        units = sim_wind_units(self.seed)
        for _ in range(self.rng.randint(0, 3)):
            unit = self.rng.choice(units)
            volume = self.rng.uniform(1.0, 30.0)
            price = self.rng.uniform(60.0, 140.0)
            self.add_row(unit.elexon_bm_unit, self.acceptance_id(unit.elexon_bm_unit), 1, volume, price, True)

    def add_non_wind(self) -> None:
        sign = -1.0 if self.side == "bid" else 1.0
        for _ in range(self.rng.randint(3, 10)):
            unit = self.rng.choice(NON_WIND_UNITS)
            volume = sign * self.rng.uniform(5.0, unit.capacity_mw * 0.25)
            price = self.rng.uniform(20.0, 95.0) if self.side == "bid" else self.rng.uniform(80.0, 250.0)
            pair = -1 if self.side == "bid" else 1
            so_flag = self.rng.random() < 0.7
            self.add_row(
                unit.elexon_bm_unit, self.acceptance_id(unit.elexon_bm_unit), pair, volume, price, so_flag
            )

    def add_row(
        self, unit: str, acceptance: int, pair: int, volume: float, price: float, so_flag: bool
    ) -> None:
        volume = round(volume, 3) or math.copysign(0.001, volume)
        price = round(price, 2)
        # One draw decides the row's minor attributes: the stack is built row by row, so this is the hot path.
        draw = self.rng.random()
        tlm = round(0.98 + 0.03 * draw, 7)
        cadl = (draw * 97.0) % 1.0
        final_price = None if (draw * 89.0) % 1.0 < 0.05 else price
        tlm_volume = volume * tlm
        self.rows.append(
            {
                "settlementDate": self.date_text,
                "settlementPeriod": self.settlement_period,
                "startTime": self.start_text,
                "createdDateTime": self.created_text,
                "sequenceNumber": 0,
                "id": unit,
                "acceptanceId": acceptance,
                "bidOfferPairId": pair,
                "cadlFlag": None if cadl < 0.05 else cadl < 0.12,
                "soFlag": so_flag,
                "storProviderFlag": False,
                "repricedIndicator": final_price is not None and (draw * 83.0) % 1.0 < 0.02,
                "reserveScarcityPrice": None,
                "originalPrice": price,
                "volume": volume,
                "dmatAdjustedVolume": volume,
                "arbitrageAdjustedVolume": volume,
                "nivAdjustedVolume": volume if so_flag else 0.0,
                "parAdjustedVolume": 0.0,
                "finalPrice": final_price,
                "transmissionLossMultiplier": tlm,
                "tlmAdjustedVolume": round(tlm_volume, 6),
                "tlmAdjustedCost": None if final_price is None else round(tlm_volume * final_price, 4),
            }
        )

    def finish(self) -> list[dict[str, Any]]:
        """Order the stack by price as Elexon does (cheapest bid or offer first) and number it."""
        self.rows.sort(key=_PRICE_ORDER)
        for number, row in enumerate(self.rows, start=1):
            row["sequenceNumber"] = number
        return self.rows


_periods_in_day = lru_cache(maxsize=1024)(settlement_periods_in_day)
_day_start = lru_cache(maxsize=1024)(day_start_utc)
_PRICE_ORDER = itemgetter("originalPrice", "id", "acceptanceId")


@lru_cache(maxsize=8)
def _cumulative_weights(seed: int) -> list[float]:
    total = 0.0
    cumulative = []
    for unit in sim_wind_units(seed):
        total += unit.weight
        cumulative.append(total)
    return cumulative


@lru_cache(maxsize=1024)
def _acceptance_base(seed: int, unit: str) -> int:
    return stable_random(seed, "acceptance", unit).randrange(1000, 90000)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
