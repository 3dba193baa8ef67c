"""Applying a changed scoring rule to the stored leads (`windhash crm rescore`, as the operator, who sees
every owner's leads): each lead whose score changes is updated and audited in the caller's transaction."""

from datetime import UTC, datetime

import asyncpg
from windhash_common.audit import Actor

from windhash_crm.domain.scoring import LeadFacts, lead_score
from windhash_crm.operations.context import ChangeContext
from windhash_crm.settings import CrmSettings

_LEADS = (
    "SELECT lead_id, source, status, email, phone, company, score FROM crm_leads ORDER BY lead_id FOR UPDATE"
)


async def rescore_leads(connection: asyncpg.Connection, settings: CrmSettings, actor: Actor) -> int:
    """Returns how many leads' scores changed."""
    ctx = ChangeContext(settings, actor, None, datetime.now(UTC))
    changed = 0
    for lead in await connection.fetch(_LEADS):
        facts = LeadFacts(lead["source"], lead["status"], lead["email"], lead["phone"], lead["company"])
        score = lead_score(facts, settings.crm_scoring_rule)
        if score == lead["score"]:
            continue
        await connection.execute(
            "UPDATE crm_leads SET score = $2, updated_at = now() WHERE lead_id = $1", lead["lead_id"], score
        )
        await ctx.audit(
            connection,
            "crm.lead.rescore",
            "lead",
            lead["lead_id"],
            {"score": lead["score"]},
            {"score": score},
        )
        changed += 1
    return changed
