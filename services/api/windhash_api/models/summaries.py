"""Curtailment totals for a timeframe."""

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import Filters, TimeframeInfo


class Coverage(BaseModel):
    """How much of the timeframe windhash holds; figures are only final when `complete`."""

    periods_expected: int = Field(description="settlement periods in the timeframe (46/48/50 a day)")
    periods_ingested: int
    periods_pending_difficulty: int = Field(description="ingested periods whose BTC awaits a difficulty")
    periods_failed: int = Field(description="periods whose last fetch failed")
    complete: bool


class Summary(BaseModel):
    timeframe: TimeframeInfo
    filters: Filters
    energy_mwh: Quantity = Field(description="curtailed energy, positive MWh")
    cashflow_gbp: Quantity = Field(
        description="paid to the farms (volume × original price); positive = farm paid"
    )
    cashflow_gbp_per_mwh: Quantity | None = Field(
        description="cashflow per curtailed MWh; null without energy"
    )
    record_count: int = Field(description="accepted bids counted")
    periods_curtailed: int | None = Field(
        description="settlement periods with curtailment; null when filtered"
    )
    bm_units_curtailed: int
    coverage: Coverage
