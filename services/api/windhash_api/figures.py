"""Derived figures (per MWh, ratios), computed once here so every endpoint rounds them the same way."""

from decimal import ROUND_HALF_EVEN, Decimal

PER_MWH_PRECISION = Decimal("0.0001")
RATIO_PRECISION = Decimal("0.000001")


def _divide(numerator: Decimal | None, denominator: Decimal | None, precision: Decimal) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(precision, rounding=ROUND_HALF_EVEN)


def per_mwh(amount: Decimal | None, energy_mwh: Decimal | None) -> Decimal | None:
    """£ per MWh; None without energy (never a division by zero dressed up as 0)."""
    return _divide(amount, energy_mwh, PER_MWH_PRECISION)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    return _divide(numerator, denominator, RATIO_PRECISION)
