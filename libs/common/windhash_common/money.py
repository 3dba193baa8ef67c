"""The one signed-money convention of windhash, and the one way money is rounded (in Python and in SQL).

Elexon's settlement stack gives each accepted bid a negative volume (the unit generates less) and a price in
£/MWh. windhash stores the volume as Elexon signs it and defines

    cashflow to the wind farm (£) = volume (MWh) × original price (£/MWh)

so a bid at a negative price (the usual case for subsidised wind) gives a positive cashflow: the system
operator paid the farm to switch off. A bid at a positive price gives a negative cashflow: the farm paid to be
curtailed.
Curtailed energy is reported as a positive number of MWh, `-volume`.

Rounding is half-even everywhere: prices and cashflows are stored to a hundredth of a penny
(`MONEY_COLUMN_PRECISION`, their columns' 4 decimals), fiat values of BTC to the penny (`PENNY`), in Python
by `round_half_even` and in SQL by `penny_half_even_sql` (PostgreSQL's round() goes half away from zero).
"""

from decimal import ROUND_HALF_EVEN, Decimal

PENNY = Decimal("0.01")
MONEY_COLUMN_PRECISION = Decimal("0.0001")
# Decimal.quantize called with positional arguments: keyword parsing alone costs as much as the rounding.
_quantize = Decimal.quantize


def round_half_even(value: Decimal, precision: Decimal) -> Decimal:
    return _quantize(value, precision, ROUND_HALF_EVEN)


def to_penny(amount: Decimal) -> Decimal:
    return _quantize(amount, PENNY, ROUND_HALF_EVEN)


def penny_half_even_sql(amount: str) -> str:
    """A SQL expression: `amount` (a non-negative numeric expression) to the penny, ties to the even penny,
    as `to_penny` rounds it."""
    return (
        f"(CASE WHEN abs(({amount}) - trunc({amount}, 2)) = 0.005 AND mod(trunc({amount}, 2) * 100, 2) = 0"
        f" THEN trunc({amount}, 2) ELSE round({amount}, 2) END)"
    )


def cashflow_to_farm_gbp(volume_mwh: Decimal, price_gbp_per_mwh: Decimal) -> Decimal:
    return round_half_even(volume_mwh * price_gbp_per_mwh, MONEY_COLUMN_PRECISION)


def curtailed_energy_mwh(volume_mwh: Decimal) -> Decimal:
    if volume_mwh > 0:
        raise ValueError(f"a curtailment bid has a negative volume, got {volume_mwh} MWh")
    return -volume_mwh
