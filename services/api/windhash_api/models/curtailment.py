"""Curtailment of one settlement date by settlement period and by wall-clock hour."""

from datetime import date, datetime

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import Filters


class PeriodCurtailment(BaseModel):
    settlement_period: int
    period_start_utc: datetime
    period_start_local: datetime = Field(description="Europe/London time with its UTC offset")
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    record_count: int
    bm_units_curtailed: int
    status: str | None = Field(description="calculated, pending_difficulty, or null when not ingested")


class PeriodCurtailmentDay(BaseModel):
    settlement_date: date
    periods_in_day: int = Field(description="46, 48 or 50")
    filters: Filters
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    periods: list[PeriodCurtailment]


class HourCurtailment(BaseModel):
    hour_start_local: datetime = Field(description="Europe/London wall-clock hour with its UTC offset")
    hour_start_utc: datetime
    utc_offset: str = Field(description="+01:00 or +00:00; tells the two 01:00 hours of an autumn day apart")
    label: str = Field(description="e.g. `01:00 (UTC+01:00)`")
    settlement_periods: list[int]
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    record_count: int


class HourCurtailmentDay(BaseModel):
    settlement_date: date
    hours_in_day: int = Field(description="23, 24 or 25")
    filters: Filters
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    hours: list[HourCurtailment]
