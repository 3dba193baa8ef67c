"""What a person may send to create or change a miner, a site or a model: the fleet HTTP app's request bodies
and the rows of a CSV import, validated the same way."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator
from windhash_common.events_fleet import SERIAL_PATTERN

Host = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\-\[\]]+$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ModelName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.+-]*$")]
OperatorStatus = Literal["active", "maintenance"]
"""The statuses a person sets; offline and curtailed are the collector's and the curtailment executor's."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Warranty(_Input):
    @model_validator(mode="after")
    def _warranty_after_purchase(self) -> Self:
        purchase, warranty = getattr(self, "purchase_date", None), getattr(self, "warranty_expires", None)
        if purchase is not None and warranty is not None and warranty < purchase:
            raise ValueError("warranty_expires is before purchase_date")
        return self


class MinerCreate(_Warranty):
    serial_number: str = Field(pattern=SERIAL_PATTERN)
    miner_model: ModelName
    site_id: int = Field(ge=1)
    api_host: Host
    api_port: Port = 4028
    telemetry_enabled: bool = True
    client_id: UUID | None = None
    purchase_date: date | None = None
    warranty_expires: date | None = None


class MinerUpdate(_Warranty):
    """Only the fields given change; `client_id: null` makes the miner the operator's own."""

    miner_model: ModelName | None = None
    api_host: Host | None = None
    api_port: Port | None = None
    telemetry_enabled: bool | None = None
    client_id: UUID | None = None
    purchase_date: date | None = None
    warranty_expires: date | None = None
    status: OperatorStatus | None = None


class MinerMove(_Input):
    site_id: int = Field(ge=1)


class SiteCreate(_Input):
    name: Name
    location: str = Field(default="", max_length=500)
    power_capacity_mw: Decimal = Field(gt=0, max_digits=10, decimal_places=3)


class SiteUpdate(_Input):
    name: Name | None = None
    location: str | None = Field(default=None, max_length=500)
    power_capacity_mw: Decimal | None = Field(default=None, gt=0, max_digits=10, decimal_places=3)


class ModelCreate(_Input):
    """A model added here is recorded in the registry, not calculated: `windhash miners` adds calculated
    models and computes their history."""

    name: ModelName
    manufacturer: Name
    hashrate_ths: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    power_w: Decimal = Field(gt=0, max_digits=12, decimal_places=3)
    release_date: date | None = None
    msrp_usd: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)


class ModelUpdate(_Input):
    """What can change without recalculating: the nominal hashrate and power are the calculations' inputs."""

    manufacturer: Name | None = None
    release_date: date | None = None
    msrp_usd: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
