"""The one signed-money convention of windhash.

Elexon's settlement stack gives each accepted bid a negative volume (the unit generates less) and a price in
£/MWh. windhash stores the volume as Elexon signs it and defines

    cashflow to the wind farm (£) = volume (MWh) × original price (£/MWh)

so a bid at a negative price (the usual case for subsidised wind) gives a positive cashflow: the system
operator paid the farm to switch off. A bid at a positive price gives a negative cashflow: the farm paid to be
curtailed.
Curtailed energy is reported as a positive number of MWh, `-volume`.
"""

from decimal import Decimal

PENNY_PRECISION = Decimal("0.0001")


def cashflow_to_farm_gbp(volume_mwh: Decimal, price_gbp_per_mwh: Decimal) -> Decimal:
    return (volume_mwh * price_gbp_per_mwh).quantize(PENNY_PRECISION)


def curtailed_energy_mwh(volume_mwh: Decimal) -> Decimal:
    if volume_mwh > 0:
        raise ValueError(f"a curtailment bid has a negative volume, got {volume_mwh} MWh")
    return -volume_mwh
