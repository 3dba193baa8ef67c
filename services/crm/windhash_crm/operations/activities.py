"""Activities: added to a lead or a deal the caller may see, changed, completed; a reminder time follows its
due time (WINDHASH_CRM_REMINDER_MINUTES_BEFORE) unless given, and a new reminder time arms it again."""

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from windhash_crm.models.activities import ActivityCreate, ActivityUpdate
from windhash_crm.operations.context import AuditedRecords, ChangeContext, CrmProblem, not_found, state_of
from windhash_crm.queries import activities as queries
from windhash_crm.queries import deals as deal_queries
from windhash_crm.queries import leads as lead_queries

AUDITED = ("lead_id", "deal_id", "kind", "subject", "due_at", "remind_at", "completed_at", "owner_id")
ACTIVITIES = AuditedRecords("activity", queries.find_activity, AUDITED)


def reminder_time(
    due_at: datetime | None, remind_at: datetime | None, minutes_before: int
) -> datetime | None:
    if remind_at is not None or due_at is None:
        return remind_at
    return due_at - timedelta(minutes=minutes_before)


async def create_activity(
    connection: asyncpg.Connection, ctx: ChangeContext, body: ActivityCreate
) -> asyncpg.Record:
    if body.lead_id is not None and await lead_queries.find_lead(connection, body.lead_id) is None:
        raise not_found("lead", body.lead_id)
    if body.deal_id is not None and await deal_queries.find_deal(connection, body.deal_id) is None:
        raise not_found("deal", body.deal_id)
    values = body.model_dump()
    values["owner_id"] = await ctx.owner(connection, body.owner_id)
    values["remind_at"] = reminder_time(body.due_at, body.remind_at, ctx.settings.crm_reminder_minutes_before)
    activity_id = await queries.insert_activity(connection, values)
    created = await queries.find_activity(connection, activity_id)
    assert created is not None
    await ctx.audit(
        connection, "crm.activity.create", "activity", activity_id, None, state_of(created, AUDITED)
    )
    return created


async def update_activity(
    connection: asyncpg.Connection, ctx: ChangeContext, activity_id: int, body: ActivityUpdate
) -> asyncpg.Record:
    before = await ACTIVITIES.locked(connection, activity_id)
    changes = body.model_dump(exclude_unset=True, exclude={"completed"})
    if None in (changes.get(name, "") for name in ("kind", "subject", "body")):
        raise CrmProblem(422, "invalid_parameter", "kind, subject and body cannot be null")
    if "owner_id" in changes:
        changes["owner_id"] = await ctx.owner(connection, changes["owner_id"])
    values: dict[str, Any] = {column: before[column] for column in queries.EDITABLE} | changes
    if "due_at" in changes or "remind_at" in changes:
        values["remind_at"] = reminder_time(
            values["due_at"], changes.get("remind_at"), ctx.settings.crm_reminder_minutes_before
        )
        if values["remind_at"] is not None and values["due_at"] is None:
            raise CrmProblem(422, "invalid_parameter", "a reminder needs a due time (due_at)")
        if values["remind_at"] != before["remind_at"]:
            values["reminder_sent_at"] = None  # a new reminder time reminds again
    if body.completed is not None:
        values["completed_at"] = (before["completed_at"] or ctx.now) if body.completed else None
    await queries.update_activity(connection, activity_id, values)
    return await ACTIVITIES.audited(connection, ctx, "crm.activity.update", activity_id, before)
