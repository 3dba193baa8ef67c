"""A won deal becomes a client: its organisation and first account (through the accounts code of libs/common,
audited there as any account is), the deal's invoices billed to it, and the miners its contract hosts linked
to it by serial (`hosting_miners.client_id`, through migration 1400's crm_link_miners_to_client, which writes
each miner's operation log). One transaction: all of it happens, or none."""

import asyncio
from typing import Any

import asyncpg
from windhash_common.access.roles import Role
from windhash_common.accounts import users as accounts
from windhash_common.accounts.passwords import hash_password, one_time_password

from windhash_crm.models.deals import ClientAccountRequest
from windhash_crm.operations.context import ChangeContext, CrmProblem
from windhash_crm.operations.deals import DEALS
from windhash_crm.queries import deals as queries
from windhash_crm.queries import invoices as invoice_queries


async def create_client_account(
    connection: asyncpg.Connection, ctx: ChangeContext, deal_id: int, body: ClientAccountRequest
) -> dict[str, Any]:
    deal = await DEALS.locked(connection, deal_id)
    if deal["stage"] != "closed_won":
        raise CrmProblem(409, "conflict", f"only a won deal becomes a client; this deal is {deal['stage']}")
    if deal["client_id"] is not None:
        raise CrmProblem(409, "conflict", f"the deal's client is {deal['client_name']} already")
    created: dict[str, Any] = {"user_id": None, "user_email": None, "one_time_password": None}
    try:
        if body.client_id is not None:
            client = await connection.fetchrow("SELECT id, name FROM clients WHERE id = $1", body.client_id)
            if client is None:
                raise CrmProblem(
                    422, "invalid_parameter", f"no client organisation has the id {body.client_id}"
                )
        else:
            assert body.client_name is not None and body.user_email is not None
            client = await accounts.create_client(
                connection, ctx.settings.topics, ctx.actor, body.client_name
            )
            created = await _first_account(connection, ctx, client["id"], body)
    except accounts.AccountError as error:
        raise CrmProblem(409, "conflict", str(error)) from None
    serials = list(deal["miner_serials"]) if body.miner_serials is None else body.miner_serials
    await connection.execute("UPDATE crm_deals SET miner_serials = $2 WHERE deal_id = $1", deal_id, serials)
    await queries.set_client(connection, deal_id, client["id"])
    links = await _link_miners(connection, ctx, client["id"], serials)
    billed = await invoice_queries.bill_deal_invoices_to(connection, deal_id, client["id"])
    await ctx.audit(
        connection,
        "crm.deal.client-account",
        "deal",
        deal_id,
        {"client_id": None, "miner_serials": list(deal["miner_serials"])},
        {"client_id": client["id"], "miner_serials": serials, "miners": links, "invoices_billed": billed},
    )
    return {
        "deal_id": deal_id,
        "client_id": client["id"],
        "client_name": client["name"],
        **created,
        "miners": links,
        "invoices_billed": billed,
    }


async def _first_account(
    connection: asyncpg.Connection, ctx: ChangeContext, client_id: Any, body: ClientAccountRequest
) -> dict[str, Any]:
    """The organisation's first account, with a one-time password it must change at its first login."""
    assert body.user_email is not None
    password = one_time_password()
    password_hash = await asyncio.to_thread(hash_password, password)  # argon2 is CPU-heavy by design
    user = await accounts.create_user(
        connection,
        ctx.settings.topics,
        ctx.actor,
        email=body.user_email,
        name=body.user_name or body.user_email.split("@")[0],
        role=Role.CLIENT,
        client_id=client_id,
        password_hash=password_hash,
        must_change_password=True,
        access_until=None,
    )
    return {"user_id": user["id"], "user_email": user["email"], "one_time_password": password}


async def _link_miners(
    connection: asyncpg.Connection, ctx: ChangeContext, client_id: Any, serials: list[str]
) -> list[dict[str, str]]:
    if not serials:
        return []
    rows = await connection.fetch(
        "SELECT serial_number, outcome FROM crm_link_miners_to_client($1, $2, $3, $4)",
        client_id,
        serials,
        ctx.user_id,
        ctx.actor.name,
    )
    return [{"serial_number": row["serial_number"], "outcome": row["outcome"]} for row in rows]
