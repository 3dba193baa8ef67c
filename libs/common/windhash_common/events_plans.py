"""Event schema of curtailment plans (JSON, pydantic v2), like `events.py`: each carries `schema_version`.

One `PlanEvent` per transition of a plan (services/plans: windhash_plans.domain.plan_states), written to the
outbox in the transaction of the transition, keyed by the plan, so one plan's events stay in order. The plans
executor consumes them to plan its commands (sleeps when a plan is approved, wake-ups when it begins its
recovery); anyone else may follow a plan's life on the topic.
"""

from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

PlanEventType = Literal[
    "plan.created",
    "plan.approved",
    "plan.started",
    "plan.executed",
    "plan.failed",
    "plan.cancelled",
    "plan.ended_early",
    "plan.rescheduled",
    "plan.recovering",
    "plan.recovered",
]
PlanType = Literal["manual", "scheduled", "automatic"]
PlanStatusName = Literal["pending", "approved", "executing", "executed", "cancelled", "failed"]
PlanPhaseName = Literal["idle", "shutting_down", "holding", "recovering", "recovered"]


class PlanEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    event_type: PlanEventType
    plan_id: int = Field(ge=1)
    site_id: int = Field(ge=1)
    plan_type: PlanType
    status: PlanStatusName = Field(description="The plan's status after the transition.")
    phase: PlanPhaseName = Field(description="What its miners are doing after the transition.")
    actor: str = Field(min_length=1, max_length=200)
    actor_user_id: UUID | None = None
    occurred_at: AwareDatetime
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def kafka_key(self) -> bytes:
        return f"plan/{self.plan_id}".encode()
