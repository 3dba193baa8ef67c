"""The plans app's request and response models (its OpenAPI document is the contract)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: int = Field(ge=1)
    plan_type: Literal["manual", "scheduled", "automatic"]
    target_reduction_mw: Decimal = Field(gt=0, le=10_000, decimal_places=6)
    hold_minutes: int | None = Field(
        default=None, ge=1, le=7 * 24 * 60, description="Manual plans: how long."
    )
    scheduled_at: AwareDatetime | None = Field(default=None, description="Scheduled plans: when it starts.")
    recovery_at: AwareDatetime | None = Field(default=None, description="Scheduled plans: when it ends.")
    note: str = Field(default="", max_length=1000)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class PlanSummary(BaseModel):
    plan_id: int
    site_id: int
    site_name: str
    plan_type: str
    miner_model: str | None
    target_reduction_mw: Decimal
    scheduled_at: datetime | None
    recovery_at: datetime | None
    status: str
    phase: str
    miners_affected: int
    power_reduced_mw: Decimal | None = Field(description="Measured from telemetry after the shutdown.")
    failure_reason: str | None
    created_by_actor: str
    created_at: datetime
    executed_at: datetime | None
    recovered_at: datetime | None


class PlanList(BaseModel):
    total: int
    plans: list[PlanSummary]


class TimelineEntry(BaseModel):
    event_type: str
    status: str
    phase: str
    actor: str
    occurred_at: datetime
    details: dict[str, Any]


class PlanMiner(BaseModel):
    shutdown_order: int
    serial_number: str
    miner_model: str
    status: str
    client_id: UUID | None
    drawing_w: Decimal = Field(description="What it drew when chosen.")
    efficiency_j_per_th: Decimal
    temperature_c: float | None
    power_before_w: Decimal | None
    power_after_w: Decimal | None
    sleep_state: str | None
    slept_at: datetime | None
    sleep_observed: bool | None
    wakeup_state: str | None
    woken_at: datetime | None
    wakeup_observed: bool | None
    last_error: str | None


class PlanDetail(PlanSummary):
    hold_minutes: int | None
    note: str
    power_before_mw: Decimal | None
    power_after_mw: Decimal | None
    started_at: datetime | None
    recovery_started_at: datetime | None
    approved_at: datetime | None
    timeline: list[TimelineEntry]
    miners: list[PlanMiner]


class SitePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    automatic_enabled: bool = False
    price_source: Literal["tariff", "market_index"] = "market_index"
    tariff_gbp_per_mwh: Decimal | None = Field(default=None, ge=-10_000, le=10_000, decimal_places=2)
    hysteresis_fraction: Decimal = Field(default=Decimal("0.05"), ge=0, lt=1, decimal_places=4)
    min_on_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    min_off_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    max_hold_minutes: int = Field(default=240, ge=1, le=7 * 24 * 60)
    client_minimums: dict[UUID, int] = Field(
        default_factory=dict, description="Client → miners kept running."
    )


class SitePolicyView(SitePolicy):
    site_id: int
    updated_by_actor: str | None = None
    updated_at: datetime | None = None


class Decision(BaseModel):
    decision_id: int
    site_id: int
    miner_model: str
    decided_at: datetime
    period_start: datetime
    action: str
    reason: str
    price_source: str
    power_price_gbp_per_mwh: Decimal | None
    hashprice_gbp_per_mwh: Decimal | None
    difficulty: Decimal | None
    block_reward_btc: Decimal | None
    btc_price_gbp: Decimal | None
    market_observed_at: datetime | None
    plan_id: int | None


class PowerPrice(BaseModel):
    start_time: datetime
    price_gbp_per_mwh: Decimal
    synthetic: bool


class BacktestFigures(BaseModel):
    curtailed_mwh: Decimal
    saved_gbp: Decimal = Field(description="Power not bought: curtailed MWh × the half hour's price.")
    btc_forgone: Decimal
    forgone_gbp: Decimal = Field(description="BTC not mined × the day's BTC price in £.")
    net_gbp: Decimal = Field(description="Saved − forgone: positive when curtailing paid.")


class BacktestDay(BacktestFigures):
    day: date


class BacktestPolicy(BaseModel):
    policy: str
    totals: BacktestFigures
    curtailed_periods: int
    changes: int
    by_day: list[BacktestDay]


class BacktestResult(BaseModel):
    site_id: int
    first: date
    last: date
    periods_evaluated: int
    periods_skipped: dict[str, int]
    synthetic_prices: bool
    results: list[BacktestPolicy]
