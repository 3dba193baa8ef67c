"""What data windhash holds and how healthy the service is."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class FailedPeriod(BaseModel):
    settlement_date: date
    settlement_period: int
    attempts: int
    error: str | None
    updated_at: datetime
    stage: Literal["fetch", "calculation"] = Field(
        description="fetch: the last fetch or publish failed; calculation: the calculator refused the period"
        " because a figure it derives cannot be stored (the error says which)"
    )


class WindOutputProblem(BaseModel):
    settlement_date: date
    kind: Literal["row_skipped", "day_failed"] = Field(
        description="row_skipped: a row of Elexon's FUELHH or AGWS answer windhash cannot store (the rest of"
        " the day is stored); day_failed: the day's fetch failed (what was stored before stays)"
    )
    detail: str
    noted_at: datetime


class DataStatus(BaseModel):
    first_date: date | None = Field(description="earliest settlement date ingested")
    last_date: date | None = Field(description="latest settlement date with any period ingested")
    latest_complete_date: date | None = Field(description="latest date with every period calculated")
    periods_ingested: int
    periods_calculated: int
    pending_difficulty_periods: int = Field(description="periods held until their difficulty is known")
    failed_periods_count: int = Field(description="failed fetches plus periods the calculator refused")
    unstorable_periods_count: int = Field(
        description="periods the calculator refused because a figure it derives cannot be stored"
    )
    failed_periods: list[FailedPeriod] = Field(description="the most recent failures, at most 50")
    wind_output_problems_count: int = Field(
        description="rows of wind output answers skipped and days whose wind output fetch failed"
    )
    wind_output_problems: list[WindOutputProblem] = Field(description="the most recent, at most 50")
    synthetic: bool = Field(description="true when any data held is synthetic sample data, not Elexon's")
    synthetic_periods: int
    summaries_updated_at: datetime | None


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
