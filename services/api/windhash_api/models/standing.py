"""Where one BM unit or lead party stands among all in a span (the farm and lead-party pages)."""

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import TimeframeInfo


class BmUnitStanding(BaseModel):
    timeframe: TimeframeInfo
    order_by: str
    bm_unit: str
    rank: int | None = Field(description="its row in /top/bm-units for this span and order; null: none")
    units_ranked: int = Field(description="BM units curtailed in the span")
    lead_party_name: str | None
    rank_in_lead_party: int | None = Field(description="among the units of its lead party")
    units_in_lead_party: int | None = Field(description="units of its lead party curtailed in the span")
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    cashflow_gbp_per_mwh: Quantity | None
    record_count: int
    days_curtailed: int


class LeadPartyStanding(BaseModel):
    timeframe: TimeframeInfo
    order_by: str
    lead_party_name: str
    rank: int | None = Field(description="its row in /top/lead-parties for this span; null: not curtailed")
    parties_ranked: int = Field(description="lead parties curtailed in the span")
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    cashflow_gbp_per_mwh: Quantity | None
    record_count: int
    days_curtailed: int
    bm_units_curtailed: int
