"""Creating, changing and converting leads: score and duplicate keys recomputed on every change, duplicates
refused unless the caller says to go ahead, every change audited, a conversion announced."""

from typing import Any

import asyncpg
from windhash_common.events_crm import LeadConvertedEvent

from windhash_crm.domain import pipeline
from windhash_crm.domain.duplicates import company_key, email_key
from windhash_crm.domain.scoring import LeadFacts, ScoringRule, lead_score
from windhash_crm.models.leads import LeadConvert, LeadCreate, LeadUpdate
from windhash_crm.operations.context import AuditedRecords, ChangeContext, CrmProblem, state_of
from windhash_crm.queries import deals as deal_queries
from windhash_crm.queries import leads as queries

AUDITED = (
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "score",
    "owner_id",
    "notes",
    "lost_reason",
)
LEADS = AuditedRecords("lead", queries.find_lead, AUDITED)


def with_derived(values: dict[str, Any], rule: ScoringRule) -> dict[str, Any]:
    """`values` with the duplicate keys and the score they imply."""
    facts = LeadFacts(values["source"], values["status"], values["email"], values["phone"], values["company"])
    return values | {
        "email_key": email_key(values["email"]),
        "company_key": company_key(values["company"]),
        "score": lead_score(facts, rule),
    }


async def refuse_duplicates(
    connection: asyncpg.Connection, values: dict[str, Any], exclude: int | None
) -> None:
    found = await queries.duplicates(connection, values["email_key"], values["company_key"], exclude)
    if found:
        raise CrmProblem(
            409,
            "duplicate_lead",
            f"{len(found)} lead(s) with this email or company exist; send allow_duplicate=true to go ahead",
            "; ".join(
                f"lead {row['lead_id']} ({row['status']}, owner {row['owner_email']}, {row['matched_on']})"
                for row in found
            ),
        )


async def create_lead(connection: asyncpg.Connection, ctx: ChangeContext, body: LeadCreate) -> asyncpg.Record:
    values = body.model_dump(exclude={"allow_duplicate"})
    values["owner_id"] = await ctx.owner(connection, body.owner_id)
    values = with_derived(values, ctx.settings.crm_scoring_rule)
    if not body.allow_duplicate:
        await refuse_duplicates(connection, values, None)
    lead_id = await queries.insert_lead(connection, values)
    created = await queries.find_lead(connection, lead_id)
    await ctx.audit(connection, "crm.lead.create", "lead", lead_id, None, state_of(created, AUDITED))
    assert created is not None
    return created


async def update_lead(
    connection: asyncpg.Connection, ctx: ChangeContext, lead_id: int, body: LeadUpdate
) -> asyncpg.Record:
    before = await LEADS.locked(connection, lead_id)
    changes = body.model_dump(exclude_unset=True, exclude={"allow_duplicate"})
    if "owner_id" in changes:
        changes["owner_id"] = await ctx.owner(connection, changes["owner_id"])
    if "status" in changes:
        try:
            changes["status"] = pipeline.lead_status_change(before["status"], changes["status"])
        except pipeline.PipelineRuleBroken as error:
            raise CrmProblem(409, "conflict", str(error)) from None
    values = with_derived(
        {column: before[column] for column in queries.EDITABLE} | changes, ctx.settings.crm_scoring_rule
    )
    if values["email"] is None and values["phone"] is None:
        raise CrmProblem(422, "invalid_parameter", "a lead needs an email or a phone number")
    keys_changed = (values["email_key"], values["company_key"]) != (
        before["email_key"],
        before["company_key"],
    )
    if keys_changed and not body.allow_duplicate:
        await refuse_duplicates(connection, values, lead_id)
    await queries.update_lead(connection, lead_id, values)
    return await LEADS.audited(connection, ctx, "crm.lead.update", lead_id, before)


async def convert_lead(
    connection: asyncpg.Connection, ctx: ChangeContext, lead_id: int, body: LeadConvert
) -> int:
    """The lead becomes a deal in discovery, owned by the lead's owner; returns the deal's id."""
    lead = await LEADS.locked(connection, lead_id)
    try:
        pipeline.may_convert(lead["status"])
        probability = pipeline.deal_probability("discovery", body.probability)
    except pipeline.PipelineRuleBroken as error:
        raise CrmProblem(409, "conflict", str(error)) from None
    values = {
        "title": body.title or lead["company"] or lead["name"],
        "value_usd": body.value_usd,
        "probability": probability,
        "expected_close_date": body.expected_close_date,
        "owner_id": lead["owner_id"],
    }
    deal_id = await deal_queries.insert_deal(connection, lead_id, values)
    await deal_queries.record_stage(
        connection, deal_id, None, "discovery", probability, body.value_usd, ctx.user_id, ctx.actor.name
    )
    await queries.mark_converted(connection, lead_id)
    converted = await queries.find_lead(connection, lead_id)
    await ctx.audit(
        connection, "crm.lead.convert", "lead", lead_id, state_of(lead, AUDITED), state_of(converted, AUDITED)
    )
    await ctx.audit(connection, "crm.deal.create", "deal", deal_id, None, values | {"lead_id": lead_id})
    await ctx.publish(
        connection,
        LeadConvertedEvent(
            occurred_at=ctx.now,
            actor=ctx.actor.name,
            lead_id=lead_id,
            deal_id=deal_id,
            owner_id=lead["owner_id"],
            company=lead["company"],
            title=values["title"],
            value_usd=body.value_usd,
        ),
    )
    return deal_id
