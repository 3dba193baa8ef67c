"""Response models of the market's HTTP routes: the OpenAPI document is the contract. Units are in the field
names; a figure the service does not have is absent or null, never 0."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_market.indicators import Signal
from windhash_market.series_range import Resolution


class Snapshot(BaseModel):
    slot_at: datetime = Field(description="Start of the 15-minute slot (UTC)")
    price_usd: Quantity
    price_gbp: Quantity
    volume_24h_usd: Quantity
    hashrate_ehs: Quantity
    difficulty: Quantity
    block_height: int
    block_reward_btc: Quantity
    price_quoted_at: datetime
    block_mined_at: datetime
    collected_at: datetime
    backfilled: bool = Field(description="Taken later from the sources' history, not live in its slot")
    synthetic: bool = Field(description="From windhash's synthetic market server, not real market data")


class RangeInfo(BaseModel):
    start: datetime = Field(description="First bucket's start (UTC), inclusive")
    end: datetime = Field(description="End of the last bucket (UTC), exclusive")
    resolution: Resolution


class SnapshotBucket(BaseModel):
    bucket_at: datetime = Field(description="Start of the bucket (UTC)")
    snapshots: int = Field(description="Slots of the bucket with a snapshot (a missing slot is a gap)")
    backfilled: int = Field(description="Of those, taken from the sources' history")
    synthetic: bool
    price_usd_open: Quantity
    price_usd_high: Quantity
    price_usd_low: Quantity
    price_usd_close: Quantity
    price_gbp_open: Quantity
    price_gbp_high: Quantity
    price_gbp_low: Quantity
    price_gbp_close: Quantity
    volume_24h_usd: Quantity = Field(description="The last snapshot's")
    hashrate_ehs: Quantity = Field(description="Mean over the bucket's snapshots")
    difficulty: Quantity = Field(description="The last snapshot's")
    block_height: int = Field(description="The last snapshot's")
    block_reward_btc: Quantity = Field(description="The last snapshot's")


class SnapshotSeries(BaseModel):
    range: RangeInfo
    points: list[SnapshotBucket]


class IndicatorRow(BaseModel):
    slot_at: datetime
    price_usd: Quantity
    rsi_14: float | None = Field(description="null while warming up (the first 14 snapshots)")
    macd: float | None
    macd_signal: float | None
    macd_histogram: float | None
    bb_upper: float | None
    bb_middle: float | None
    bb_lower: float | None
    ema_12: float | None
    ema_26: float | None
    signal: Signal = Field(description="BUY or SELL when two of RSI, MACD histogram and Bollinger agree")
    synthetic: bool


class IndicatorSeries(BaseModel):
    start: datetime
    end: datetime
    rule: str = Field(description="How the signal is decided")
    items: list[IndicatorRow]


class ModelHashpriceRow(BaseModel):
    miner_model: str
    btc_per_mwh: Quantity
    gbp_per_mwh: Quantity = Field(description="What 1 MWh earns mining on this model: compare with £/MWh")
    btc_per_th_day: Quantity
    usd_per_th_day: Quantity
    usd_per_miner_day: Quantity = Field(description="One machine running all day")


class Hashprice(BaseModel):
    slot_at: datetime = Field(description="The snapshot the figures come from (the newest)")
    synthetic: bool
    difficulty: Quantity
    block_reward_btc: Quantity
    price_usd: Quantity
    price_gbp: Quantity
    models: list[ModelHashpriceRow] = Field(description="Every active miner model")


class HashpricePointRow(BaseModel):
    bucket_at: datetime
    snapshots: int
    gbp_per_mwh: Quantity = Field(description="Mean over the bucket's snapshots")
    usd_per_th_day: Quantity = Field(description="Mean over the bucket's snapshots")
    synthetic: bool


class HashpriceSeries(BaseModel):
    miner_model: str
    range: RangeInfo
    points: list[HashpricePointRow]


class SlotProblem(BaseModel):
    slot_at: datetime
    status: Literal["refused", "missed"]
    reason: str | None
    attempts: int
    updated_at: datetime


class SlotOutcomes(BaseModel):
    taken: int = 0
    backfilled: int = 0
    refused: int = 0
    missed: int = 0


class MarketStatus(BaseModel):
    now: datetime
    interval_minutes: int = Field(
        description="Minutes between snapshots (slots start at multiples from 00:00)"
    )
    latest: Snapshot | None = Field(description="The newest snapshot; null before the first")
    age_seconds: float | None = Field(description="Since the newest snapshot's slot started")
    last_day: SlotOutcomes = Field(description="The last 24 h's slots by outcome")
    collecting: bool = Field(description="A market service holds the job and takes snapshots")
    collecting_since: datetime | None
    indicators: IndicatorRow | None = Field(description="The newest snapshot's indicators")
    problems: list[SlotProblem] = Field(description="Recent refused and missed slots, newest first")
