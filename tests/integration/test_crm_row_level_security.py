"""Who sees which CRM rows is PostgreSQL's decision, not the queries': deliberately unfiltered SELECTs as the
CRM's own role return a salesperson's own records, every record for an admin, a client's sent invoices only,
and nothing without an identity; writes outside one's rows are refused; a won deal's client account sees its
invoices over HTTP and owns the miners its contract hosts."""

from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from test_accounts_support import accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from test_crm_support import CrmClient, crm_fixture  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.identity import CredentialKind, Identity
from windhash_common.access.request_identity import identity_transaction, set_request_identity
from windhash_common.access.roles import Role
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_fleet.fleet_registry import NewMiner, register_miners, upsert_site

pytestmark = pytest.mark.integration
SALES, SALES2, ADMIN = "sales@example.com", "sales2@example.com", "admin@example.com"
TABLES = ("crm_leads", "crm_deals", "crm_deal_stage_history", "crm_activities", "crm_invoices")


async def counts(pool: asyncpg.Pool, identity: Identity | None) -> dict[str, int]:
    """Every CRM table counted with no WHERE at all, as `identity` (None: no identity set)."""
    async with pool.acquire() as connection, connection.transaction():
        if identity is not None:
            await set_request_identity(connection, identity)
        return {table: await connection.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


async def a_sale(crm: CrmClient, owner: str, company: str) -> dict[str, Any]:
    deal: dict[str, Any] = await crm.won_deal(
        owner, company=company, email=f"buyer@{company.lower()}.example"
    )
    await crm.ok(
        owner, "POST", "/activities", json={"deal_id": deal["deal_id"], "kind": "note", "subject": "Won"}
    )
    body = {"deal_id": deal["deal_id"], "amount_usd": "100", "description": "Hosting"}
    sent = await crm.ok(owner, "POST", "/invoices", json=body)
    await crm.ok(owner, "POST", f"/invoices/{sent['invoice_id']}/send")
    await crm.ok(owner, "POST", "/invoices", json=body)  # and a draft
    return deal


async def test_unfiltered_selects_see_only_what_the_identity_may(crm: CrmClient) -> None:
    await a_sale(crm, SALES, "Alpha")
    await a_sale(crm, SALES2, "Bravo")
    mine = {
        "crm_leads": 1,
        "crm_deals": 1,
        "crm_deal_stage_history": 2,
        "crm_activities": 1,
        "crm_invoices": 2,
    }
    assert await counts(crm.pool, crm.identity(SALES)) == mine
    assert await counts(crm.pool, crm.identity(SALES2)) == mine
    assert await counts(crm.pool, crm.identity(ADMIN)) == {table: 2 * n for table, n in mine.items()}
    assert await counts(crm.pool, None) == dict.fromkeys(TABLES, 0)
    guest = Identity(CredentialKind.SESSION, crm.accounts.ids[SALES], "g@example.com", Role.GUEST)
    assert await counts(crm.pool, guest) == dict.fromkeys(TABLES, 0)


async def test_writes_outside_ones_own_rows_are_refused_by_postgresql(crm: CrmClient) -> None:
    await a_sale(crm, SALES, "Alpha")
    async with identity_transaction(crm.pool, crm.identity(SALES2)) as connection:
        assert await connection.execute("UPDATE crm_leads SET name = 'taken'") == "UPDATE 0"
        assert await connection.execute("UPDATE crm_invoices SET amount_usd = 1") == "UPDATE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with identity_transaction(crm.pool, crm.identity(SALES2)) as connection:
            await connection.execute(
                "INSERT INTO crm_leads (name, email, source, score, owner_id)"
                " VALUES ('x', 'x@y.z', 'other', 0, $1)",
                crm.accounts.ids[SALES],
            )
    for statement in (
        "DELETE FROM crm_leads",
        "DELETE FROM crm_invoices",
        "UPDATE audit_log SET actor = 'x'",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with identity_transaction(crm.pool, crm.identity(ADMIN)) as connection:
                await connection.execute(statement)
    api = await asyncpg.connect(dsn_as(crm.settings.database_url, DatabaseRole.API))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await api.fetchval("SELECT count(*) FROM crm_leads")
    finally:
        await api.close()


async def test_a_won_deal_becomes_a_client_that_reads_its_sent_invoices_and_owns_its_miners(
    crm: CrmClient,
) -> None:
    superuser = crm.accounts.superuser
    site = await upsert_site(superuser, "Synthetic site", "Aberdeen", Decimal("10"))
    miners = [NewMiner(f"SIM-{n:04d}", "S21", "127.0.0.1", 40000 + n) for n in range(4)]
    await register_miners(superuser, site, miners, "test")
    other = await crm.won_deal(SALES2, company="Bravo", email="b@bravo.example")
    bravo = await crm.ok(
        ADMIN,
        "POST",
        f"/deals/{other['deal_id']}/client-account",
        json={"client_name": "Bravo", "user_email": "ops@bravo.example", "miner_serials": ["SIM-0003"]},
    )
    assert bravo["miners"] == [{"serial_number": "SIM-0003", "outcome": "linked"}]
    deal = await a_sale(crm, SALES, "Alpha")
    refused = await crm.call(
        SALES,
        "POST",
        f"/deals/{deal['deal_id']}/client-account",
        json={"client_name": "Alpha", "user_email": "ops@alpha.example"},
    )
    assert refused.status_code == 403  # making accounts is an admin's
    made = await crm.ok(
        ADMIN,
        "POST",
        f"/deals/{deal['deal_id']}/client-account",
        json={
            "client_name": "Alpha Hosting",
            "user_email": "ops@alpha.example",
            "user_name": "Alpha ops",
            "miner_serials": ["SIM-0000", "SIM-0001", "SIM-0003", "SIM-9999"],
        },
    )
    assert made["miners"] == [
        {"serial_number": "SIM-0000", "outcome": "linked"},
        {"serial_number": "SIM-0001", "outcome": "linked"},
        {"serial_number": "SIM-0003", "outcome": "other_client"},
        {"serial_number": "SIM-9999", "outcome": "unknown"},
    ]
    assert made["invoices_billed"] == 2 and len(made["one_time_password"]) >= 20
    owned = await superuser.fetch(
        "SELECT serial_number FROM hosting_miners WHERE client_id = $1 ORDER BY 1", made["client_id"]
    )
    assert [row[0] for row in owned] == ["SIM-0000", "SIM-0001"]
    logged = await superuser.fetchval(
        "SELECT count(*) FROM miner_operation_log WHERE operation = 'assign_client'"
    )
    assert logged == 3
    again = await crm.call(
        ADMIN, "POST", f"/deals/{deal['deal_id']}/client-account", json={"client_id": made["client_id"]}
    )
    assert again.status_code == 409
    # The client's account, as created, must first choose its password; then it reads its organisation's
    # sent invoice and nothing else of the CRM.
    client = made["user_email"]
    crm.accounts.ids[client] = made["user_id"]
    first = await crm.call(client, "GET", "/invoices")
    assert (first.status_code, first.json()["error"]["code"]) == (403, "password_change_required")
    await superuser.execute("UPDATE users SET must_change_password = false WHERE id = $1", made["user_id"])
    invoices = await crm.ok(client, "GET", "/invoices")
    assert [(i["status"], i["bill_to"]) for i in invoices] == [("sent", "Alpha")]
    pdf = await crm.call(client, "GET", f"/invoices/{invoices[0]['invoice_id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await crm.call(client, "GET", "/leads")).status_code == 403
    assert (await crm.call(client, "GET", "/deals")).status_code == 403
    assert (
        await crm.call(client, "POST", f"/invoices/{invoices[0]['invoice_id']}/pay", json={})
    ).status_code == 403
    drafts = await crm.ok(ADMIN, "GET", f"/invoices?deal_id={deal['deal_id']}&status=draft")
    assert (await crm.call(client, "GET", f"/invoices/{drafts[0]['invoice_id']}")).status_code == 404
