"""The farm reference file as the API serves it (the dashboard's map and farm pages)."""

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

SOURCE = (
    "Units, lead parties and capacities: Elexon BM unit reference data (/reference/bmunits/all, WIND), "
    "snapshot of mid-2025. Farm names and positions: approximate, matched by hand from each unit's site code "
    "and rounded to 0.1 degree; not surveyed (windhash_common/data/wind_farm_locations.md)."
)


class FarmLocation(BaseModel):
    elexon_bm_unit: str
    farm_name: str | None
    lead_party_name: str | None
    capacity_mw: Quantity | None
    latitude: Quantity | None = Field(description="degrees north, WGS84; null when the site is unknown")
    longitude: Quantity | None = Field(description="degrees east (west is negative)")
    location: str = Field(description="approximate, unknown, or what the operator's file says")


class FarmLocations(BaseModel):
    source: str
    items: list[FarmLocation]
