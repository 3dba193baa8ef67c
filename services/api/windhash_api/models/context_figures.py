"""Context no peer gives in one place: the curtailed share of wind output, the CO₂ it could have avoided."""

from typing import Literal

from pydantic import BaseModel, Field
from windhash_common.json_numbers import Quantity

from windhash_api.models.common import TimeframeInfo


class WindSharePoint(BaseModel):
    key: str = Field(description="'total', YYYY-MM-DD/PP, YYYY-MM-DD or YYYY-MM")
    curtailed_mwh: Quantity = Field(description="wind curtailed (accepted bids), MWh")
    metered_wind_mwh: Quantity | None = Field(
        description="transmission-metered wind output (Elexon FUELHH, fuel WIND); null without data"
    )
    curtailed_share_of_metered: Quantity | None = Field(
        description="curtailed ÷ (metered output + curtailed), over periods with an output figure"
    )
    outturn_wind_mwh: Quantity | None = Field(
        description="actual wind generation, offshore + onshore (Elexon AGWS); null without data"
    )
    curtailed_share_of_outturn: Quantity | None = Field(
        description="curtailed ÷ (AGWS output + curtailed), over periods with an output figure"
    )
    periods_with_output: int = Field(description="settlement periods with a metered wind figure")


class WindShare(BaseModel):
    timeframe: TimeframeInfo
    by: str
    total: WindSharePoint
    points: list[WindSharePoint]


class Co2Point(BaseModel):
    key: str
    curtailed_mwh: Quantity
    co2_avoided_t: Quantity = Field(description="estimate: curtailed_mwh × emissions_factor_t_per_mwh")


class Co2Avoided(BaseModel):
    timeframe: TimeframeInfo
    estimate: Literal[True] = True
    basis: str = Field(description="what the curtailed energy is assumed to have displaced")
    emissions_factor_t_per_mwh: Quantity = Field(description="WINDHASH_GAS_EMISSIONS_T_PER_MWH")
    method: str = Field(description="where the method and the factor's source are documented")
    by: str
    total: Co2Point
    points: list[Co2Point]
