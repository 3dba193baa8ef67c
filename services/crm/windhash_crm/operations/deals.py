"""Changing deals and moving them through the stages: each stage entered is a history row, a close is
announced (`crm.deal.won` / `crm.deal.lost`), every change audited."""

import asyncpg
from windhash_common.events_crm import DealClosedEvent

from windhash_crm.domain import pipeline
from windhash_crm.models.deals import DealUpdate, StageChangeRequest
from windhash_crm.operations.context import AuditedRecords, ChangeContext, CrmProblem
from windhash_crm.queries import deals as queries

AUDITED = (
    "title",
    "value_usd",
    "stage",
    "probability",
    "expected_close_date",
    "owner_id",
    "client_id",
    "miner_serials",
    "lost_reason",
)
DEALS = AuditedRecords("deal", queries.find_deal, AUDITED)


async def update_deal(
    connection: asyncpg.Connection, ctx: ChangeContext, deal_id: int, body: DealUpdate
) -> asyncpg.Record:
    before = await DEALS.locked(connection, deal_id)
    changes = body.model_dump(exclude_unset=True)
    if None in (changes.get(name, 0) for name in ("title", "value_usd", "expected_close_date")):
        raise CrmProblem(422, "invalid_parameter", "title, value_usd and expected_close_date cannot be null")
    if "owner_id" in changes:
        changes["owner_id"] = await ctx.owner(connection, changes["owner_id"])
    if "probability" in changes:
        try:
            if before["stage"] in pipeline.CLOSED_STAGES:
                raise pipeline.PipelineRuleBroken(f"the deal is {before['stage']}: a closed deal is final")
            changes["probability"] = pipeline.deal_probability(before["stage"], changes["probability"])
        except pipeline.PipelineRuleBroken as error:
            raise CrmProblem(409, "conflict", str(error)) from None
    if changes.get("miner_serials") is None and "miner_serials" in changes:
        changes["miner_serials"] = []
    values = {column: before[column] for column in queries.EDITABLE} | changes
    await queries.update_deal(connection, deal_id, values)
    return await DEALS.audited(connection, ctx, "crm.deal.update", deal_id, before)


async def change_stage(
    connection: asyncpg.Connection, ctx: ChangeContext, deal_id: int, body: StageChangeRequest
) -> asyncpg.Record:
    before = await DEALS.locked(connection, deal_id)
    try:
        change = pipeline.stage_change(before["stage"], body.stage, body.probability)
    except pipeline.PipelineRuleBroken as error:
        raise CrmProblem(409, "conflict", str(error)) from None
    lost_reason = body.lost_reason if change.stage_to == "closed_lost" else None
    await queries.set_stage(connection, deal_id, change.stage_to, change.probability, lost_reason)
    await queries.record_stage(
        connection,
        deal_id,
        change.stage_from,
        change.stage_to,
        change.probability,
        before["value_usd"],
        ctx.user_id,
        ctx.actor.name,
    )
    after = await DEALS.audited(connection, ctx, "crm.deal.stage", deal_id, before)
    if change.closes:
        await ctx.publish(
            connection,
            DealClosedEvent(
                event_type="crm.deal.won" if change.stage_to == "closed_won" else "crm.deal.lost",
                occurred_at=ctx.now,
                actor=ctx.actor.name,
                deal_id=deal_id,
                lead_id=after["lead_id"],
                owner_id=after["owner_id"],
                title=after["title"],
                value_usd=after["value_usd"],
                lost_reason=lost_reason,
            ),
        )
    return after
