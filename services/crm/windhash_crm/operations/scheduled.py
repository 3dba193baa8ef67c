"""The CRM's two scheduled steps, each one transaction: its change (through migration 1400's SECURITY DEFINER
function, which sees every owner's rows), an audit record per row changed and the events, so a crash loses
and doubles nothing. They run under job leases (windhash_crm.scheduler): one runner each at a time.

- overdue invoices: every sent invoice whose due date is before today (the business's day, from the injected
  clock) becomes overdue → `crm.invoice.overdue`;
- activity reminders: every open activity whose reminder time has come is marked reminded, once →
  `crm.activity.reminder` for its owner (and the owner's reminders list).
"""

from datetime import datetime

import asyncpg
from windhash_common.audit import Actor
from windhash_common.events_crm import ActivityReminderEvent

from windhash_crm.domain.invoices import business_date
from windhash_crm.operations.context import ChangeContext
from windhash_crm.operations.invoices import status_event
from windhash_crm.queries import activities as activity_queries
from windhash_crm.queries import invoices as invoice_queries
from windhash_crm.settings import OVERDUE_JOB, REMINDER_JOB, CrmSettings


def job_actor(job_key: str) -> Actor:
    return Actor(f"system:{job_key}")


async def mark_overdue_invoices(pool: asyncpg.Pool, settings: CrmSettings, now: datetime) -> int:
    """Returns how many invoices became overdue."""
    ctx = ChangeContext(settings, job_actor(OVERDUE_JOB), None, now)
    today = business_date(now, settings.crm_time_zone)
    async with pool.acquire() as connection, connection.transaction():
        rows = await invoice_queries.mark_overdue(connection, today)
        for row in rows:
            await ctx.audit(
                connection,
                "crm.invoice.overdue",
                "invoice",
                row["invoice_id"],
                {"status": "sent", "due_date": row["due_date"]},
                {"status": "overdue", "due_date": row["due_date"], "today": today},
            )
            await ctx.publish(connection, status_event(row, "crm.invoice.overdue", now, ctx.actor.name))
    return len(rows)


async def fire_activity_reminders(pool: asyncpg.Pool, settings: CrmSettings, now: datetime) -> int:
    """Returns how many reminders fired."""
    ctx = ChangeContext(settings, job_actor(REMINDER_JOB), None, now)
    async with pool.acquire() as connection, connection.transaction():
        rows = await activity_queries.fire_due_reminders(connection, now)
        for row in rows:
            await ctx.audit(
                connection,
                "crm.activity.remind",
                "activity",
                row["activity_id"],
                {"reminder_sent_at": None},
                {"reminder_sent_at": now, "owner_id": row["owner_id"]},
            )
            await ctx.publish(
                connection,
                ActivityReminderEvent(
                    occurred_at=now,
                    actor=ctx.actor.name,
                    activity_id=row["activity_id"],
                    lead_id=row["lead_id"],
                    deal_id=row["deal_id"],
                    kind=row["kind"],
                    subject=row["subject"],
                    due_at=row["due_at"],
                    owner_id=row["owner_id"],
                    owner_email=row["owner_email"],
                ),
            )
    return len(rows)
