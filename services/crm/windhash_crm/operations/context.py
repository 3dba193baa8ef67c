"""What every CRM change carries: who acts (as the audit trail names them), when, and the service's settings;
and the two things every change writes besides its rows: its audit record and its events."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from windhash_common.access.roles import STAFF, Role
from windhash_common.audit import Actor, record_audit
from windhash_common.events_crm import CrmEvent
from windhash_common.outbox import add_to_outbox, outbox_message

from windhash_crm.settings import CrmSettings


class CrmProblem(ValueError):
    """A change the CRM refuses; `status` says how (404 not found, 409 conflict, 403 not allowed, 422 bad)."""

    def __init__(self, status: int, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


def not_found(what: str, key: object) -> CrmProblem:
    return CrmProblem(404, "not_found", f"no {what} {key} that you may see")


@dataclass(frozen=True)
class ChangeContext:
    settings: CrmSettings
    actor: Actor
    role: Role | None
    now: datetime
    recorded: list[str] = field(default_factory=list)
    """The audited actions, in order (counted in the metrics once the transaction has committed)."""

    @property
    def user_id(self) -> UUID | None:
        return self.actor.user_id

    @property
    def sees_every_owner(self) -> bool:
        """Admins and owners act on anyone's records; sales staff (`user`) on their own."""
        return self.role in (Role.ADMIN, Role.OWNER)

    async def audit(
        self,
        connection: asyncpg.Connection,
        action: str,
        target_type: str,
        target_id: object,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        await record_audit(
            connection, self.settings.topics, self.actor, action, target_type, str(target_id), before, after
        )
        self.recorded.append(action)

    async def publish(self, connection: asyncpg.Connection, event: CrmEvent) -> None:
        await add_to_outbox(connection, [outbox_message(self.settings.topics.crm, event, event.kafka_key)])

    async def owner(self, connection: asyncpg.Connection, requested: UUID | None) -> UUID:
        """Who will own a record: the actor, or the staff member an admin assigns it to."""
        if requested is None or requested == self.user_id:
            if self.user_id is None:
                raise CrmProblem(422, "invalid_parameter", "an owner is needed (owner_id)")
            return self.user_id
        if not self.sees_every_owner:
            raise CrmProblem(403, "forbidden", "sales staff own their own records; an admin reassigns them")
        row = await connection.fetchrow("SELECT role, status FROM users WHERE id = $1", requested)
        if row is None or Role(row["role"]) not in STAFF or row["status"] != "active":
            raise CrmProblem(422, "invalid_parameter", f"{requested} is not an active staff account")
        return requested


def state_of(row: asyncpg.Record | None, columns: tuple[str, ...]) -> dict[str, Any] | None:
    """The audited state of a row: its business columns (never a PDF or a secret)."""
    return None if row is None else {column: row[column] for column in columns}
