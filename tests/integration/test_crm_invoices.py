"""Invoices on the real database: numbers gapless and unique per year under concurrent creation (creators
that fail give their number back), a cancelled draft keeping its number, the PDF's text read back with
pypdf, and the rules of the status."""

import asyncio
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from test_accounts_support import accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from test_crm_support import CrmClient, crm_fixture  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.roles import Role
from windhash_common.audit import Actor
from windhash_crm.models.invoices import InvoiceCreate
from windhash_crm.operations.context import ChangeContext
from windhash_crm.operations.invoices import create_invoice

pytestmark = pytest.mark.integration
SALES, ADMIN = "sales@example.com", "admin@example.com"


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


class Abandoned(Exception):
    """A creator that fails after taking its number (its transaction rolls back)."""


async def test_concurrent_creators_get_gapless_unique_numbers_and_failed_ones_give_theirs_back(
    crm: CrmClient,
) -> None:
    deal = await crm.won_deal(SALES)
    identity = crm.identity(SALES)
    body = InvoiceCreate(deal_id=deal["deal_id"], amount_usd="100.00", description="Hosting")

    async def creator(index: int) -> str | None:
        ctx = ChangeContext(crm.settings, Actor(f"user:{SALES}", identity.user_id), Role.USER, crm.clock())
        try:
            async with identity_transaction(crm.pool, identity) as connection:
                created = await create_invoice(connection, ctx, body)
                if index % 5 == 0:
                    await asyncio.sleep(0.05)  # hold the year's counter while others queue behind it
                    raise Abandoned
                return str(created["invoice_number"])
        except Abandoned:
            return None

    numbers = [number for number in await asyncio.gather(*(creator(i) for i in range(60))) if number]
    assert len(numbers) == 48
    assert sorted(numbers) == [f"WH-2026-{seq:05d}" for seq in range(1, 49)]
    headers = await crm.as_(SALES)  # one session for all (sessions are opened on one connection)
    body_json = {"deal_id": deal["deal_id"], "amount_usd": "5", "description": "x"}
    over_http = await asyncio.gather(
        *(crm.http.post("/api/v1/crm/invoices", headers=headers, json=body_json) for _ in range(12))
    )
    assert sorted(response.json()["invoice_seq"] for response in over_http) == list(range(49, 61))
    listed = await crm.ok(ADMIN, "GET", "/invoices?limit=1000")
    assert sorted(invoice["invoice_seq"] for invoice in listed) == list(range(1, 61))


async def test_numbers_start_again_each_year_in_the_business_time_zone(crm: CrmClient) -> None:
    deal = await crm.won_deal(SALES)
    body = {"deal_id": deal["deal_id"], "amount_usd": "10", "description": "December hosting"}
    crm.clock.now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # still 31 December in London (GMT)
    december = await crm.ok(SALES, "POST", "/invoices", json=body)
    crm.clock.now = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    january = await crm.ok(SALES, "POST", "/invoices", json=body)
    crm.clock.now = datetime(2027, 6, 30, 23, 30, tzinfo=UTC)  # 1 July 00:30 in London (BST)
    summer = await crm.ok(SALES, "POST", "/invoices", json=body)
    assert [(i["invoice_number"], i["issue_date"]) for i in (december, january, summer)] == [
        ("WH-2026-00001", "2026-12-31"),
        ("WH-2027-00001", "2027-01-01"),
        ("WH-2027-00002", "2027-07-01"),
    ]
    assert summer["due_date"] == "2027-07-31"  # 30 days' terms by default


async def test_a_cancelled_draft_keeps_its_number_and_is_marked_so(crm: CrmClient) -> None:
    deal = await crm.won_deal(SALES)
    body = {"deal_id": deal["deal_id"], "amount_usd": "10", "description": "Hosting"}
    first, second, third = [await crm.ok(SALES, "POST", "/invoices", json=body) for _ in range(3)]
    cancelled = await crm.ok(SALES, "POST", f"/invoices/{second['invoice_id']}/cancel")
    assert (cancelled["invoice_number"], cancelled["status"]) == ("WH-2026-00002", "cancelled")
    fourth = await crm.ok(SALES, "POST", "/invoices", json=body)
    assert fourth["invoice_number"] == "WH-2026-00004"
    listed = await crm.ok(SALES, "GET", "/invoices")
    assert [(i["invoice_seq"], i["status"]) for i in listed] == [
        (4, "draft"),
        (3, "draft"),
        (2, "cancelled"),
        (1, "draft"),
    ]
    assert (await crm.call(SALES, "POST", f"/invoices/{second['invoice_id']}/send")).status_code == 409
    pdf = await crm.call(SALES, "GET", f"/invoices/{second['invoice_id']}/pdf")
    assert "CANCELLED — number kept in the sequence" in pdf_text(pdf.content)
    await crm.ok(SALES, "POST", f"/invoices/{first['invoice_id']}/send")
    assert (await crm.call(SALES, "POST", f"/invoices/{first['invoice_id']}/cancel")).status_code == 409
    assert third["invoice_number"] == "WH-2026-00003"


async def test_the_sent_pdf_holds_the_invoice_and_is_kept_as_sent(crm: CrmClient) -> None:
    deal = await crm.won_deal(SALES, value="36000.00", company="Zoë's Ørsted Hosting Ltd")
    created = await crm.ok(
        SALES,
        "POST",
        "/invoices",
        json={
            "deal_id": deal["deal_id"],
            "amount_usd": "12345.50",
            "description": "Hosting of 40 S21, March 2026",
        },
    )
    path = f"/invoices/{created['invoice_id']}"
    draft = await crm.call(SALES, "GET", f"{path}/pdf")
    assert draft.headers["content-type"] == "application/pdf"
    assert draft.headers["content-disposition"] == 'attachment; filename="WH-2026-00001.pdf"'
    assert "DRAFT — not a demand for payment" in pdf_text(draft.content)
    sent = await crm.ok(SALES, "POST", f"{path}/send")
    assert sent["status"] == "sent" and sent["sent_at"]
    document = (await crm.call(SALES, "GET", f"{path}/pdf")).content
    text = pdf_text(document)
    for expected in (
        "INVOICE WH-2026-00001",
        "Issue date: 2026-03-02",
        "Due date: 2026-04-01",
        "Zoë's Ørsted Hosting Ltd",
        "Hosting of 40 S21, March 2026",
        "USD 12,345.50",
        crm.settings.crm_invoice_issuer,
    ):
        assert expected in text, expected
    assert "DRAFT" not in text
    crm.clock.advance(days=20)
    await crm.ok(SALES, "POST", f"{path}/pay", json={"paid_date": "2026-03-20"})
    assert (await crm.call(SALES, "GET", f"{path}/pdf")).content == document  # the document of record


async def test_the_status_follows_its_rules(crm: CrmClient) -> None:
    open_lead = await crm.lead(SALES, email="open@deal.example", company="Open Deal")
    open_deal = await crm.ok(
        SALES,
        "POST",
        f"/leads/{open_lead['lead_id']}/convert",
        json={"value_usd": "1", "expected_close_date": "2026-09-01"},
    )
    refused = await crm.call(
        SALES,
        "POST",
        "/invoices",
        json={"deal_id": open_deal["deal_id"], "amount_usd": "5", "description": "x"},
    )
    assert refused.status_code == 409 and "won deals" in refused.json()["error"]["message"]
    deal = await crm.won_deal(SALES)
    created = await crm.ok(
        SALES, "POST", "/invoices", json={"deal_id": deal["deal_id"], "amount_usd": "5", "description": "x"}
    )
    path = f"/invoices/{created['invoice_id']}"
    assert (await crm.call(SALES, "POST", f"{path}/pay", json={})).status_code == 409  # a draft
    changed = await crm.ok(SALES, "PATCH", path, json={"amount_usd": "7.25", "due_date": "2026-03-16"})
    assert (changed["amount_usd"], changed["due_date"]) == ("7.25", "2026-03-16")
    early = await crm.call(SALES, "PATCH", path, json={"due_date": "2026-03-01"})
    assert early.status_code == 422
    await crm.ok(SALES, "POST", f"{path}/send")
    assert (await crm.call(SALES, "PATCH", path, json={"amount_usd": "9"})).status_code == 409
    assert (await crm.call(SALES, "POST", f"{path}/pay", json={"paid_date": "2026-03-01"})).status_code == 409
    assert (await crm.call(SALES, "POST", f"{path}/pay", json={"paid_date": "2026-03-03"})).status_code == 409
    paid = await crm.ok(SALES, "POST", f"{path}/pay", json={})
    assert (paid["status"], paid["paid_date"]) == ("paid", "2026-03-02")
    assert (await crm.call(SALES, "POST", f"{path}/pay", json={})).status_code == 409
