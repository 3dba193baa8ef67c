"""The audit topic's event: one per recorded state change (windhash_common.audit writes it with the row)."""

from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class AuditEvent(BaseModel):
    """Who did what to what, when, and the state before and after (secrets already redacted)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    audit_id: int = Field(description="The audit_log row it mirrors.")
    occurred_at: AwareDatetime
    actor: str = Field(description="`user:<email>`, `cli:<account>@<host>` or `system`.")
    actor_user_id: UUID | None = None
    action: str = Field(description="`<resource>.<verb>`, e.g. `user.create`, `access.revoke`.")
    target_type: str
    target_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    ip: str | None = None

    @property
    def kafka_key(self) -> bytes:
        # Keyed by what changed, so the changes to one thing stay in order.
        return f"{self.target_type}/{self.target_id or ''}".encode()
