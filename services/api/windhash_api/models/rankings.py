"""Top BM units and lead parties by curtailment."""

from pydantic import BaseModel
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import Filters, PageInfo, TimeframeInfo


class BmUnitRank(BaseModel):
    rank: int
    bm_unit: str
    bm_unit_name: str | None
    lead_party_name: str | None
    generation_capacity_mw: Quantity | None
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    cashflow_gbp_per_mwh: Quantity | None
    record_count: int
    days_curtailed: int


class BmUnitRanking(BaseModel):
    timeframe: TimeframeInfo
    filters: Filters
    order_by: str
    page: PageInfo
    items: list[BmUnitRank]


class LeadPartyRank(BaseModel):
    rank: int
    lead_party_name: str
    energy_mwh: Quantity
    cashflow_gbp: Quantity
    cashflow_gbp_per_mwh: Quantity | None
    record_count: int
    bm_units_curtailed: int
    days_curtailed: int


class LeadPartyRanking(BaseModel):
    timeframe: TimeframeInfo
    order_by: str
    page: PageInfo
    items: list[LeadPartyRank]
