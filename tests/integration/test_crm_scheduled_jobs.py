"""The CRM's scheduled jobs on the real database, run as the CRM's role with an injected clock: overdue
invoices found the day after their due date (in London), reminders fired once for their owner, each change
audited with its event in the outbox; and one runner per job across processes (job leases)."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from test_accounts_support import accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from test_crm_support import START, CrmClient, MovableClock, crm_fixture, eventually  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.events_crm import ActivityReminderEvent, InvoiceStatusEvent, parse_crm_event
from windhash_crm.scheduler import run_job, run_step
from windhash_crm.settings import OVERDUE_JOB, REMINDER_JOB

pytestmark = pytest.mark.integration
SALES, ADMIN = "sales@example.com", "admin@example.com"


async def crm_events(superuser: asyncpg.Connection, topic: str) -> list[object]:
    rows = await superuser.fetch("SELECT payload::text FROM outbox WHERE topic = $1 ORDER BY id", topic)
    return [parse_crm_event(row[0]) for row in rows]


async def audited(superuser: asyncpg.Connection, action: str) -> list[asyncpg.Record]:
    return list(await superuser.fetch("SELECT * FROM audit_log WHERE action = $1 ORDER BY id", action))


async def test_a_sent_invoice_becomes_overdue_the_day_after_it_is_due_once(crm: CrmClient) -> None:
    deal = await crm.won_deal(SALES)
    body = {
        "deal_id": deal["deal_id"],
        "amount_usd": "900",
        "description": "Hosting",
        "payment_terms_days": 14,
    }
    sent = await crm.ok(
        SALES, "POST", f"/invoices/{(await crm.ok(SALES, 'POST', '/invoices', json=body))['invoice_id']}/send"
    )
    draft = await crm.ok(SALES, "POST", "/invoices", json=body)  # a draft is never overdue
    assert sent["due_date"] == "2026-03-16"
    job_clock = MovableClock(datetime(2026, 3, 16, 23, 59, tzinfo=UTC))  # still the due day in London
    assert await run_step(OVERDUE_JOB, crm.pool, crm.settings, job_clock) == 0
    job_clock.advance(minutes=2)
    assert await run_step(OVERDUE_JOB, crm.pool, crm.settings, job_clock) == 1
    assert await run_step(OVERDUE_JOB, crm.pool, crm.settings, job_clock) == 0
    overdue = await crm.ok(SALES, "GET", f"/invoices/{sent['invoice_id']}")
    assert (overdue["status"], overdue["overdue_at"] is not None) == ("overdue", True)
    assert (await crm.ok(SALES, "GET", f"/invoices/{draft['invoice_id']}"))["status"] == "draft"
    superuser = crm.accounts.superuser
    [record] = await audited(superuser, "crm.invoice.overdue")
    assert record["actor"] == f"system:{OVERDUE_JOB}" and record["target_id"] == str(sent["invoice_id"])
    events = [
        e for e in await crm_events(superuser, crm.settings.topics.crm) if isinstance(e, InvoiceStatusEvent)
    ]
    assert [(e.event_type, e.invoice_number) for e in events] == [
        ("crm.invoice.sent", sent["invoice_number"]),
        ("crm.invoice.overdue", sent["invoice_number"]),
    ]
    crm.clock.now = job_clock.now
    paid = await crm.ok(SALES, "POST", f"/invoices/{sent['invoice_id']}/pay", json={})
    assert (paid["status"], paid["paid_date"]) == ("paid", "2026-03-17")


async def test_a_reminder_fires_once_for_the_owner_before_the_due_time(crm: CrmClient) -> None:
    lead = await crm.lead(SALES)
    due = START + timedelta(hours=3)
    call = await crm.ok(
        SALES,
        "POST",
        "/activities",
        json={
            "lead_id": lead["lead_id"],
            "kind": "call",
            "subject": "Call about the site visit",
            "due_at": due.isoformat(),
        },
    )
    assert call["remind_at"] == (due - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    note = await crm.ok(
        SALES,
        "POST",
        "/activities",
        json={"lead_id": lead["lead_id"], "kind": "note", "subject": "Met at the expo"},
    )
    assert note["remind_at"] is None
    job_clock = MovableClock(START + timedelta(hours=1, minutes=59))
    assert await run_step(REMINDER_JOB, crm.pool, crm.settings, job_clock) == 0
    assert await crm.ok(SALES, "GET", "/reminders") == []
    job_clock.advance(minutes=1)
    assert await run_step(REMINDER_JOB, crm.pool, crm.settings, job_clock) == 1
    assert await run_step(REMINDER_JOB, crm.pool, crm.settings, job_clock) == 0
    assert [r["activity_id"] for r in await crm.ok(SALES, "GET", "/reminders")] == [call["activity_id"]]
    assert await crm.ok(ADMIN, "GET", "/reminders") == []  # reminders are the owner's
    events = [
        e
        for e in await crm_events(crm.accounts.superuser, crm.settings.topics.crm)
        if isinstance(e, ActivityReminderEvent)
    ]
    assert [(e.activity_id, e.owner_email, e.subject) for e in events] == [
        (call["activity_id"], SALES, "Call about the site visit")
    ]
    await crm.ok(SALES, "PATCH", f"/activities/{call['activity_id']}", json={"completed": True})
    assert await crm.ok(SALES, "GET", "/reminders") == []
    moved = await crm.ok(
        SALES,
        "PATCH",
        f"/activities/{call['activity_id']}",
        json={"completed": False, "due_at": (due + timedelta(days=1)).isoformat()},
    )
    assert moved["reminder_sent_at"] is None  # a new reminder time reminds again
    job_clock.advance(days=1)
    assert await run_step(REMINDER_JOB, crm.pool, crm.settings, job_clock) == 1
    [_, second] = await audited(crm.accounts.superuser, "crm.activity.remind")
    assert json.loads(second["after"])["owner_id"] == str(crm.accounts.ids[SALES])


async def test_each_job_has_one_runner_and_another_takes_over_when_it_stops(crm: CrmClient) -> None:
    settings = crm.settings.model_copy(update={"crm_lease_ttl_seconds": 1.5, "crm_job_interval_seconds": 0.2})
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    second_pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert second_pool is not None

    async def holders() -> list[str]:
        rows = await crm.accounts.superuser.fetch(
            "SELECT holder FROM scheduler_locks WHERE job_key = $1 AND expires_at > now()", OVERDUE_JOB
        )
        return [row[0] for row in rows]

    async def held() -> bool:
        return bool(await holders())

    first = asyncio.create_task(run_job(OVERDUE_JOB, crm.pool, settings, first_stop, crm.clock))
    await eventually(held, "a holder of the job")
    [holder] = await holders()
    second = asyncio.create_task(run_job(OVERDUE_JOB, second_pool, settings, second_stop, crm.clock))
    await asyncio.sleep(1.0)  # the second tries (every ttl/3) and finds the job held
    assert await holders() == [holder]
    first_stop.set()
    await first

    async def taken_over() -> bool:
        found = await holders()
        return bool(found) and found != [holder]

    await eventually(taken_over, "the second runner to take over")
    second_stop.set()
    await second
    await second_pool.close()
