"""The context figures' arithmetic (docs/CONTEXT_FIGURES.md), pure.

- Curtailed share of wind output: curtailed ÷ (wind output + curtailed), over the periods that have an output
  figure. The output was generated; the curtailed energy could have been; their sum is what the wind could
  have given, so the share is the part of it that was turned away.
- CO₂ avoided had curtailed wind displaced gas: curtailed MWh × the gas emissions factor (tCO₂/MWh of
  electricity). An estimate: it assumes every curtailed MWh would have replaced a MWh from gas.
"""

from decimal import Decimal

SHARE_PLACES = Decimal("0.000001")
TONNES_PLACES = Decimal("0.001")


def curtailed_share(curtailed_mwh: Decimal, output_mwh: Decimal | None) -> Decimal | None:
    """None without an output figure, or when there was neither output nor curtailment."""
    if output_mwh is None:
        return None
    potential = output_mwh + curtailed_mwh
    if potential <= 0:
        return None
    return (curtailed_mwh / potential).quantize(SHARE_PLACES)


def co2_avoided_t(curtailed_mwh: Decimal, factor_t_per_mwh: Decimal) -> Decimal:
    return (curtailed_mwh * factor_t_per_mwh).quantize(TONNES_PLACES)
