"""Leads: create, change, list, convert into a deal; duplicates named on creation."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from windhash_crm.domain.scoring import LeadSource, LeadStatus
from windhash_crm.models.fields import Email, Name, Phone, long_text, text

Notes = Annotated[str, long_text(5000)]
Reason = Annotated[str, text(500)]


class LeadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    company: Name | None = None
    source: LeadSource
    status: Literal["new", "contacted", "qualified"] = "new"
    owner_id: UUID | None = Field(default=None, description="an admin may assign it; staff own their own")
    notes: Notes = ""
    allow_duplicate: bool = Field(
        default=False, description="create it even though leads with the same email or company exist"
    )

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.email is None and self.phone is None:
            raise ValueError("a lead needs an email or a phone number")
        return self


class LeadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    company: Name | None = None
    source: LeadSource | None = None
    status: Literal["new", "contacted", "qualified", "lost"] | None = None
    owner_id: UUID | None = None
    notes: Notes | None = None
    lost_reason: Reason | None = None
    allow_duplicate: bool = False


class LeadOut(BaseModel):
    lead_id: int
    name: str
    email: str | None
    phone: str | None
    company: str | None
    source: LeadSource
    status: LeadStatus
    score: int = Field(description="0-100 by the scoring rule (windhash_crm.domain.scoring)")
    owner_id: UUID
    owner_email: str
    notes: str
    lost_reason: str | None
    deal_id: int | None = Field(description="the deal it was converted into")
    created_at: datetime
    updated_at: datetime
    converted_at: datetime | None


class DuplicateOut(BaseModel):
    lead_id: int
    owner_email: str = Field(description="whose lead it is (its contents stay with its owner)")
    status: LeadStatus
    matched_on: Literal["email", "company"]


class LeadConvert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Name | None = Field(default=None, description="default: the lead's company, or its name")
    value_usd: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    expected_close_date: date
    probability: int | None = Field(default=None, ge=0, le=100, description="default: discovery's")
