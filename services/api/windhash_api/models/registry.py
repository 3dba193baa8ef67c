"""Reference data: wind BM units, lead parties and miner models."""

from datetime import date, datetime

from pydantic import BaseModel
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import PageInfo


class BmUnit(BaseModel):
    elexon_bm_unit: str
    national_grid_bm_unit: str | None
    bm_unit_name: str | None
    lead_party_name: str | None
    generation_capacity_mw: Quantity | None
    fuel_type: str
    first_seen: datetime
    last_seen: datetime


class BmUnitPage(BaseModel):
    page: PageInfo
    items: list[BmUnit]


class LeadParty(BaseModel):
    lead_party_name: str
    bm_units: int
    generation_capacity_mw: Quantity | None


class LeadPartyPage(BaseModel):
    page: PageInfo
    items: list[LeadParty]


class MinerModel(BaseModel):
    name: str
    manufacturer: str
    hashrate_ths: Quantity
    power_w: Quantity
    efficiency_j_per_th: Quantity
    release_date: date | None
    active: bool


class MinerModelList(BaseModel):
    items: list[MinerModel]
