"""Bitcoin that curtailed energy could have mined, per miner model, and its comparison with the cashflow."""

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import Filters, TimeframeInfo


class MiningPotential(BaseModel):
    miner_model: str
    energy_mwh: Quantity = Field(description="curtailed energy with a BTC figure (excludes pending periods)")
    btc: Quantity
    value_gbp: Quantity | None = Field(
        description="BTC × each day's GBP price, summed; null when no day had one"
    )
    value_usd: Quantity | None
    value_gbp_per_mwh: Quantity | None
    difficulty_min: Quantity | None = Field(description="lowest network difficulty used")
    difficulty_max: Quantity | None
    difficulty_weighted: Quantity | None = Field(description="difficulty averaged by energy")
    days_without_price: int = Field(description="days with BTC but no price: their BTC has no fiat value")


class Mining(BaseModel):
    timeframe: TimeframeInfo
    filters: Filters
    models: list[MiningPotential]


class ComparisonRow(BaseModel):
    miner_model: str
    btc: Quantity
    value_gbp: Quantity | None
    value_gbp_per_mwh: Quantity | None = Field(description="value of the BTC per MWh it was computed from")
    value_to_cashflow_ratio: Quantity | None = Field(
        description="value_gbp / cashflow_gbp; above 1 = mining pays more"
    )
    days_without_price: int


class Comparison(BaseModel):
    timeframe: TimeframeInfo
    filters: Filters
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    cashflow_gbp_per_mwh: Quantity | None
    models: list[ComparisonRow]


class SeriesPoint(BaseModel):
    key: str = Field(description="settlement period number, ISO date or YYYY-MM")
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    btc: Quantity | None = Field(
        description="null without a miner model, or while the period awaits difficulty"
    )
    value_gbp: Quantity | None
    days_without_price: int


class Series(BaseModel):
    timeframe: TimeframeInfo
    filters: Filters
    by: str = Field(description="period, day or month")
    points: list[SeriesPoint]
