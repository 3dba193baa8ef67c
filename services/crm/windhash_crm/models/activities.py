"""Activities on a lead or a deal: calls, emails, meetings, notes, with due times and reminders."""

from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from windhash_crm.models.fields import long_text, text

ActivityKind = Literal["call", "email", "meeting", "note"]
Subject = Annotated[str, text(200)]
Body = Annotated[str, long_text(10000)]


class ActivityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_id: int | None = Field(default=None, ge=1)
    deal_id: int | None = Field(default=None, ge=1)
    kind: ActivityKind
    subject: Subject
    body: Body = ""
    due_at: AwareDatetime | None = None
    remind_at: AwareDatetime | None = Field(
        default=None, description="default: WINDHASH_CRM_REMINDER_MINUTES_BEFORE before due_at"
    )
    owner_id: UUID | None = Field(default=None, description="an admin may assign it; staff own their own")

    @model_validator(mode="after")
    def _one_subject_and_a_due_time_to_remind_of(self) -> Self:
        if (self.lead_id is None) == (self.deal_id is None):
            raise ValueError("an activity is on a lead or on a deal: give exactly one of lead_id, deal_id")
        if self.remind_at is not None and self.due_at is None:
            raise ValueError("a reminder needs a due time (due_at)")
        return self


class ActivityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ActivityKind | None = None
    subject: Subject | None = None
    body: Body | None = None
    due_at: AwareDatetime | None = None
    remind_at: AwareDatetime | None = None
    completed: bool | None = Field(default=None, description="true: done now; false: open again")
    owner_id: UUID | None = None


class ActivityOut(BaseModel):
    activity_id: int
    lead_id: int | None
    deal_id: int | None
    kind: ActivityKind
    subject: str
    body: str
    due_at: datetime | None
    remind_at: datetime | None
    reminder_sent_at: datetime | None
    completed_at: datetime | None
    owner_id: UUID
    owner_email: str
    created_at: datetime
    updated_at: datetime
