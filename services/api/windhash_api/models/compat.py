"""The predecessor's response shapes (camelCase), kept for the clients that still call its five routes.

Each field is the predecessor's name for a figure /api/v1 serves under its own name; routes/compat.py says
which. `totalPayment` keeps the predecessor's sign (negative = paid to the farms), the opposite of v1's
`cashflow_gbp`.
"""

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

_ENERGY = "curtailed energy, positive MWh (v1: energy_mwh)"
_PAYMENT = "paid to the farms with the predecessor's sign: negative = farm paid (v1: -cashflow_gbp)"


class LegacyDailySummary(BaseModel):
    date: str = Field(description="settlement date, YYYY-MM-DD")
    totalCurtailedEnergy: Quantity = Field(description=_ENERGY)
    totalPayment: Quantity = Field(description=_PAYMENT)


class LegacyMonthlySummary(BaseModel):
    yearMonth: str = Field(description="YYYY-MM")
    totalCurtailedEnergy: Quantity = Field(description=_ENERGY)
    totalPayment: Quantity = Field(description=_PAYMENT)


class LegacyYearlySummary(BaseModel):
    year: str = Field(description="YYYY")
    totalCurtailedEnergy: Quantity = Field(description=_ENERGY)
    totalPayment: Quantity = Field(description=_PAYMENT)


class LegacyMiningPotential(BaseModel):
    bitcoinMined: Quantity = Field(description="BTC of the miner model (v1: models[].btc)")
    valueAtCurrentPrice: Quantity | None = Field(
        description="bitcoinMined × currentPrice, to the penny; null when no price is held"
    )
    difficulty: Quantity | None = Field(
        description="network difficulty averaged by energy (v1: difficulty_weighted); null without BTC"
    )
    currentPrice: Quantity | None = Field(
        description="the latest BTC price in GBP windhash holds (btc_prices); null when none"
    )
