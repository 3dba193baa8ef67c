"""Deals: change, move through the stages (history kept), pipeline, and the won deal's client account."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from windhash_crm.domain.pipeline import DealStage
from windhash_crm.models.fields import Email, Name, Serial, text

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class DealOut(BaseModel):
    deal_id: int
    lead_id: int
    lead_name: str
    lead_company: str | None
    title: str
    value_usd: Decimal
    stage: DealStage
    probability: int
    expected_close_date: date
    owner_id: UUID
    owner_email: str
    client_id: UUID | None = Field(description="the client organisation the won deal became")
    client_name: str | None
    miner_serials: list[str] = Field(description="the miners the contract hosts")
    lost_reason: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class DealUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Name | None = None
    value_usd: Money | None = None
    probability: int | None = Field(default=None, ge=0, le=100, description="an open deal's only")
    expected_close_date: date | None = None
    owner_id: UUID | None = None
    miner_serials: list[Serial] | None = Field(default=None, max_length=10000)


class StageChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: DealStage
    probability: int | None = Field(default=None, ge=0, le=100, description="default: the stage's")
    lost_reason: Annotated[str, text(500)] | None = None


class StageHistoryOut(BaseModel):
    change_id: int
    deal_id: int
    stage_from: DealStage | None
    stage_to: DealStage
    probability: int
    value_usd: Decimal
    changed_at: datetime
    actor: str


class StageTotalOut(BaseModel):
    stage: DealStage
    deals: int
    value_usd: Decimal
    weighted_usd: Decimal = Field(description="Σ value × probability / 100")


class MonthForecastOut(BaseModel):
    month: str = Field(description="YYYY-MM of the expected close dates")
    deals: int
    value_usd: Decimal
    weighted_usd: Decimal


class PipelineOut(BaseModel):
    by_stage: list[StageTotalOut]
    forecast_by_month: list[MonthForecastOut] = Field(description="open deals, weighted, by expected close")
    open_value_usd: Decimal
    open_weighted_usd: Decimal


class ClientAccountRequest(BaseModel):
    """A won deal's client: a new organisation with its first account, or an existing organisation; and the
    miners the contract hosts (default: the deal's `miner_serials`)."""

    model_config = ConfigDict(extra="forbid")
    client_id: UUID | None = Field(default=None, description="an existing organisation instead of a new one")
    client_name: Name | None = None
    user_email: Email | None = None
    user_name: Name | None = None
    miner_serials: list[Serial] | None = Field(default=None, max_length=10000)

    @model_validator(mode="after")
    def _new_or_existing(self) -> Self:
        new = (self.client_name, self.user_email, self.user_name) != (None, None, None)
        if self.client_id is not None and new:
            raise ValueError("give either client_id, or client_name and user_email, not both")
        if self.client_id is None and (self.client_name is None or self.user_email is None):
            raise ValueError("give either client_id, or client_name and user_email for a new organisation")
        return self


class MinerLinkOut(BaseModel):
    serial_number: str
    outcome: str = Field(description="linked, already_linked, other_client (left alone) or unknown")


class ClientAccountOut(BaseModel):
    deal_id: int
    client_id: UUID
    client_name: str
    user_id: UUID | None
    user_email: str | None
    one_time_password: str | None = Field(
        description="shown once: the new account must choose its own password at its first login"
    )
    miners: list[MinerLinkOut]
    invoices_billed: int = Field(description="the deal's invoices now visible to the client")
