"""Parts shared by several responses."""

from datetime import date

from pydantic import BaseModel, Field

from windhash_api.timeframes import Timeframe, TimeframeKind


class TimeframeInfo(BaseModel):
    timeframe: TimeframeKind
    value: str = Field(description="the timeframe as asked, e.g. 2024-03 for monthly")
    first_date: date = Field(description="first settlement date covered (inclusive)")
    last_date: date = Field(description="last settlement date covered (inclusive)")
    days: int

    @classmethod
    def of(cls, span: Timeframe) -> "TimeframeInfo":
        return cls(
            timeframe=span.kind, value=span.label, first_date=span.first, last_date=span.last, days=span.days
        )


class Filters(BaseModel):
    lead_party: str | None = Field(default=None, description="only this lead party's BM units")
    bm_unit: str | None = Field(default=None, description="only this Elexon BM unit")
    miner_model: str | None = Field(default=None, description="only this miner model")


class PageInfo(BaseModel):
    total: int = Field(description="rows matching, across all pages")
    limit: int
    offset: int
