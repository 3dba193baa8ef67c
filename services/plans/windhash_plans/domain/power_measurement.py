"""What a plan's shutdown achieved, measured from the miners' telemetry (pure; docs/PLANS.md, "Measuring").

For each miner the plan told to sleep:
    before = mean power (W) of its readings awake in the `before_window` that ends when the plan started;
    after  = mean power (W) of its readings taken at least `settle` after its sleep command succeeded.
    power_reduced (MW) = Σ (before − after) over the miners with both, / 1e6.
A miner whose `after` is more than `dropped_below` (a fraction) of its `before` did not drop.

The plan is confirmed when the reduction reaches `min_fraction` of its target; otherwise it fails, and the
reason names the miners that did not drop or could not be measured. No reading is ever assumed: a miner
without readings before or after is unmeasured, and a plan with no measured miner fails as unmeasurable.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

WATTS_PER_MW = Decimal(1_000_000)
MAX_NAMED = 10


@dataclass(frozen=True)
class MinerPower:
    serial: str
    before_w: Sequence[float]
    after_w: Sequence[float]


@dataclass(frozen=True)
class MeasuredMiner:
    serial: str
    before_w: Decimal | None
    after_w: Decimal | None

    @property
    def measured(self) -> bool:
        return self.before_w is not None and self.after_w is not None

    @property
    def reduced_w(self) -> Decimal:
        if self.before_w is None or self.after_w is None:
            return Decimal(0)
        return self.before_w - self.after_w


@dataclass(frozen=True)
class MeasurementRules:
    min_fraction: Decimal = Decimal("0.8")
    """Of the target, for the plan to count as executed."""
    dropped_below: Decimal = Decimal("0.5")
    """A miner still drawing more than this fraction of its power before did not drop."""


@dataclass(frozen=True)
class Measurement:
    miners: tuple[MeasuredMiner, ...]
    target_mw: Decimal
    confirmed: bool
    reason: str | None

    @property
    def before_mw(self) -> Decimal:
        return sum((m.before_w for m in self.miners if m.measured and m.before_w), Decimal(0)) / WATTS_PER_MW

    @property
    def after_mw(self) -> Decimal:
        return sum((m.after_w for m in self.miners if m.measured and m.after_w), Decimal(0)) / WATTS_PER_MW

    @property
    def reduced_mw(self) -> Decimal:
        return sum((m.reduced_w for m in self.miners), Decimal(0)) / WATTS_PER_MW


def _mean(values: Sequence[float]) -> Decimal | None:
    if not values:
        return None
    return sum((Decimal(str(value)) for value in values), Decimal(0)) / len(values)


def _named(serials: Sequence[str]) -> str:
    shown = ", ".join(serials[:MAX_NAMED])
    return shown + (f" and {len(serials) - MAX_NAMED} more" if len(serials) > MAX_NAMED else "")


def measure(
    powers: Sequence[MinerPower], target_mw: Decimal, rules: MeasurementRules = MeasurementRules()
) -> Measurement:
    miners = tuple(MeasuredMiner(p.serial, _mean(p.before_w), _mean(p.after_w)) for p in powers)
    unmeasured = [m.serial for m in miners if not m.measured]
    not_dropped = [
        m.serial
        for m in miners
        if m.measured
        and m.before_w
        and m.after_w is not None
        and m.after_w > m.before_w * rules.dropped_below
    ]
    measurement = Measurement(miners, target_mw, False, None)
    if not any(m.measured for m in miners):
        reason = "no miner could be measured: no telemetry before and after the shutdown"
        return Measurement(miners, target_mw, False, reason)
    reduced = measurement.reduced_mw
    if reduced >= target_mw * rules.min_fraction:
        return Measurement(miners, target_mw, True, None)
    target = f"{target_mw.normalize():f}"
    parts = [f"power fell by {reduced:.3f} MW, under {rules.min_fraction:%} of the {target} MW target"]
    if not_dropped:
        parts.append(f"did not drop: {_named(not_dropped)}")
    if unmeasured:
        parts.append(f"no telemetry: {_named(unmeasured)}")
    return Measurement(miners, target_mw, False, "; ".join(parts))


def readings_by_serial(
    rows: Sequence[tuple[str, float, bool]], serials: Sequence[str]
) -> Mapping[str, list[float]]:
    """(serial, power_w, in_window) rows → each serial's powers in its window (absent serials: empty)."""
    found: dict[str, list[float]] = {serial: [] for serial in serials}
    for serial, power_w, in_window in rows:
        if in_window and serial in found:
            found[serial].append(power_w)
    return found
