"""What every CRM change carries: who acts (as the audit trail names them), when, and the service's settings;
and the two things every change writes besides its rows: its audit record and its events. `AuditedRecords`:
how a change of one record reads it locked first and audits it before → after last."""

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
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


class FindRecord(Protocol):
    """A query reading one record by id (None: none the identity may see), optionally locked for update."""

    def __call__(
        self, connection: asyncpg.Connection, record_id: int, /, for_update: bool = False
    ) -> Awaitable[asyncpg.Record | None]: ...


@dataclass(frozen=True)
class AuditedRecords:
    """One kind of CRM record as its changes treat it: `what` it is called (errors, the audit's target type),
    the query that reads it, and the columns its audit records."""

    what: str
    find: FindRecord
    columns: tuple[str, ...]

    async def locked(self, connection: asyncpg.Connection, record_id: int) -> asyncpg.Record:
        """The record, locked until the change commits; 404 when the identity may not see it."""
        row = await self.find(connection, record_id, for_update=True)
        if row is None:
            raise not_found(self.what, record_id)
        return row

    async def audited(
        self,
        connection: asyncpg.Connection,
        ctx: ChangeContext,
        action: str,
        record_id: int,
        before: asyncpg.Record,
    ) -> asyncpg.Record:
        """The record as the change left it, its audit (`action`, before → after) recorded."""
        after = await self.find(connection, record_id)
        assert after is not None
        await ctx.audit(
            connection,
            action,
            self.what,
            record_id,
            state_of(before, self.columns),
            state_of(after, self.columns),
        )
        return after
