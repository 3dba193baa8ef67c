"""BTC per miner model by day or month, and the difficulty and BTC price of each day (dashboard charts)."""

from datetime import date

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import Filters, TimeframeInfo


class ModelSeriesPoint(BaseModel):
    key: str = Field(description="ISO date or YYYY-MM")
    miner_model: str
    btc: Quantity
    value_gbp: Quantity | None = Field(description="each day's BTC at its price; null: no price at all")
    days_without_price: int


class ModelSeries(BaseModel):
    timeframe: TimeframeInfo
    filters: Filters
    by: str = Field(description="day or month")
    points: list[ModelSeriesPoint] = Field(
        description="one per bucket and model with BTC; a bucket without curtailment has none"
    )


class DifficultyPriceDay(BaseModel):
    day: date
    difficulty_min: Quantity | None = Field(description="lowest difficulty of the day's settlement periods")
    difficulty_max: Quantity | None
    periods_held: int | None = Field(description="settlement periods ingested that day (null: none)")
    price_gbp: Quantity | None = Field(description="the day's BTC price; null: none held (never defaulted)")
    price_usd: Quantity | None


class DifficultyPrice(BaseModel):
    timeframe: TimeframeInfo
    days: list[DifficultyPriceDay]
