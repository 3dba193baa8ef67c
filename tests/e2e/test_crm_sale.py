"""A whole sale, end to end: the CRM service running as `windhash crm` runs it (its HTTP app on uvicorn, the
outbox relay to Kafka, its leased jobs) with an injected clock, behind the API (the single origin forwarding
/api/v1/crm/...), on the real database roles and Kafka.

lead → deal → won → the client's account and its miners → invoice (draft PDF) → sent (PDF read back) → the
client logs in and downloads it → paid; a second invoice becomes overdue when the clock passes its due date.
Every step is on Kafka (the CRM topic, keyed by the deal) and in the audit trail (audit_log and its topic).
"""

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pypdf import PdfReader
from windhash_api.app import create_app
from windhash_api.settings import ApiSettings
from windhash_common.access.roles import Role
from windhash_common.accounts.passwords import hash_password
from windhash_common.accounts.sessions import open_session
from windhash_common.accounts.users import create_user
from windhash_common.audit import cli_actor
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.events_audit import AuditEvent
from windhash_common.events_crm import parse_crm_event
from windhash_common.topics import Topics
from windhash_crm.service import run_crm
from windhash_crm.settings import CrmSettings
from windhash_fleet.fleet_registry import NewMiner, register_miners, upsert_site
from windhash_stack import StackEndpoints
from windhash_stack.ports import free_port
from windhash_testing.live_server import serving

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TIMEOUT_S = 120.0
SALES, ADMIN = "sales@example.com", "admin@example.com"
CLIENT_PASSWORD = "our own hosting passphrase 2026"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def seed_staff(pg_dsn: str) -> dict[str, str]:
    """A salesperson and an admin, each with a session: email → bearer header value."""
    operator = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.OPERATOR))
    tokens = {}
    try:
        for email, role in ((SALES, Role.USER), (ADMIN, Role.ADMIN)):
            async with operator.transaction():
                user = await create_user(
                    operator, Topics(), cli_actor(), email=email, name=email.split("@")[0], role=role,
                    client_id=None, password_hash=hash_password("staff passphrase of the north"),
                    must_change_password=False, access_until=None,
                )  # fmt: skip
            token, _ = await open_session(operator, user["id"], timedelta(hours=1), "127.0.0.1", "e2e")
            tokens[email] = f"Bearer {token}"
    finally:
        await operator.close()
    return tokens


async def seed_miners(pg_dsn: str) -> None:
    superuser = await asyncpg.connect(pg_dsn)
    try:
        site = await upsert_site(superuser, "Synthetic Aberdeen", "Aberdeen", Decimal("12"))
        miners = [NewMiner(f"SYN-S21-{n}", "S21", "127.0.0.1", 41000 + n) for n in range(3)]
        await register_miners(superuser, site, miners, "e2e")
    finally:
        await superuser.close()


class Sale:
    """The API's origin, as each party calls it."""

    def __init__(self, http: httpx.AsyncClient, tokens: dict[str, str]) -> None:
        self.http = http
        self.tokens = tokens

    async def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": self.tokens[who]} if who in self.tokens else {}
        return await self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    async def ok(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.call(who, method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path} as {who}: {response.status_code} {response.text}"
        return response.json() if "json" in response.headers.get("content-type", "") else response.content


@pytest.fixture
async def crm_behind_the_api(
    stack: StackEndpoints, pg_dsn: str, topic_prefix: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Clock]]:
    clock = Clock()
    port = free_port()
    settings = CrmSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.CRM),
        kafka_bootstrap=stack.kafka_bootstrap,
        topic_prefix=topic_prefix,
        topic_partitions=3,
        crm_port=port,
        crm_job_interval_seconds=0.2,
        crm_relay_interval_seconds=0.2,
        api_trusted_proxies=["127.0.0.1"],  # the API is its proxy
    )
    stop = asyncio.Event()
    service = asyncio.create_task(run_crm(settings, stop, clock))
    crm_url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=crm_url) as probe:
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while not await _ready(probe):
            assert not service.done(), service.exception()
            assert asyncio.get_running_loop().time() < deadline, "the CRM never became ready"
            await asyncio.sleep(0.1)
    api = ApiSettings(
        database_url=dsn_as(pg_dsn, DatabaseRole.API),
        migrate_on_start=False,
        api_cache=False,
        topic_prefix=topic_prefix,
        api_upstreams={"crm": crm_url},
        auth_cookie_secure=False,
    )
    try:
        async with (
            serving(create_app(api)) as api_url,
            httpx.AsyncClient(base_url=api_url, timeout=30) as http,
        ):
            yield http, clock
    finally:
        stop.set()
        await asyncio.wait_for(service, timeout=60)


async def _ready(probe: httpx.AsyncClient) -> bool:
    try:
        return (await probe.get("/ready")).status_code == 200
    except httpx.TransportError:
        return False


async def collect(bootstrap: str, topics: list[str], until: Any) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of every message on `topics` from the start, until `until(messages)` holds."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    messages: list[tuple[str, bytes, bytes]] = []
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while not until(messages):
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    messages += [(r.topic, r.key or b"", r.value or b"") for r in records]
    finally:
        await consumer.stop()
    return messages


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_sale_from_lead_to_paid_invoice_with_its_events_and_audit_trail(
    stack: StackEndpoints,
    pg_dsn: str,
    topic_prefix: str,
    crm_behind_the_api: tuple[httpx.AsyncClient, Clock],
) -> None:
    http, clock = crm_behind_the_api
    sale = Sale(http, await seed_staff(pg_dsn))
    await seed_miners(pg_dsn)

    lead = await sale.ok(SALES, "POST", "/crm/leads", json={
        "name": "Ann Turbine", "email": "ann@northwind.example", "company": "Northwind Hosting Ltd",
        "phone": "+44 1224 000000", "source": "referral",
    })  # fmt: skip
    assert lead["score"] == 75
    deal = await sale.ok(SALES, "POST", f"/crm/leads/{lead['lead_id']}/convert", json={
        "title": "Northwind: 3 S21 hosted", "value_usd": "36000", "expected_close_date": "2026-03-31",
    })  # fmt: skip
    deal_id = deal["deal_id"]
    await sale.ok(SALES, "POST", f"/crm/deals/{deal_id}/stage", json={"stage": "proposal"})
    await sale.ok(SALES, "PATCH", f"/crm/deals/{deal_id}", json={"miner_serials": ["SYN-S21-0", "SYN-S21-1"]})
    won = await sale.ok(SALES, "POST", f"/crm/deals/{deal_id}/stage", json={"stage": "closed_won"})
    assert (won["stage"], won["lead_id"]) == ("closed_won", lead["lead_id"])

    account = await sale.ok(ADMIN, "POST", f"/crm/deals/{deal_id}/client-account", json={
        "client_name": "Northwind Hosting", "user_email": "ops@northwind.example",
    })  # fmt: skip
    assert [m["outcome"] for m in account["miners"]] == ["linked", "linked"]

    body = {"deal_id": deal_id, "amount_usd": "12000.00", "description": "Hosting, March 2026"}
    first = await sale.ok(SALES, "POST", "/crm/invoices", json=body)
    draft_pdf = await sale.ok(SALES, "GET", f"/crm/invoices/{first['invoice_id']}/pdf")
    assert "DRAFT" in pdf_text(draft_pdf)
    sent = await sale.ok(SALES, "POST", f"/crm/invoices/{first['invoice_id']}/send")
    assert (sent["invoice_number"], sent["status"], sent["client_id"]) == (
        "WH-2026-00001",
        "sent",
        account["client_id"],
    )
    second = await sale.ok(SALES, "POST", "/crm/invoices", json=body | {"payment_terms_days": 14})
    await sale.ok(SALES, "POST", f"/crm/invoices/{second['invoice_id']}/send")

    # The client's first login through the API, its own password, then its invoices and a PDF.
    login = await sale.ok("client", "POST", "/auth/login", json={
        "email": "ops@northwind.example", "password": account["one_time_password"],
    })  # fmt: skip
    sale.tokens["client"] = f"Bearer {login['token']}"
    await sale.ok("client", "POST", "/auth/password", json={
        "current_password": account["one_time_password"], "new_password": CLIENT_PASSWORD,
    })  # fmt: skip
    login = await sale.ok("client", "POST", "/auth/login", json={
        "email": "ops@northwind.example", "password": CLIENT_PASSWORD,
    })  # fmt: skip
    sale.tokens["client"] = f"Bearer {login['token']}"
    mine = await sale.ok("client", "GET", "/crm/invoices")
    assert [invoice["invoice_number"] for invoice in mine] == ["WH-2026-00002", "WH-2026-00001"]
    text = pdf_text(await sale.ok("client", "GET", f"/crm/invoices/{first['invoice_id']}/pdf"))
    for expected in ("INVOICE WH-2026-00001", "Northwind Hosting", "USD 12,000.00", "Due date: 2026-04-01"):
        assert expected in text
    assert (await sale.call("client", "GET", "/crm/leads")).status_code == 403

    clock.now += timedelta(days=10)
    paid = await sale.ok(SALES, "POST", f"/crm/invoices/{first['invoice_id']}/pay", json={})
    assert (paid["status"], paid["paid_date"]) == ("paid", "2026-03-12")
    clock.now += timedelta(days=10)  # the second invoice was due on 16 March: the overdue job finds it
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while (await sale.ok(SALES, "GET", f"/crm/invoices/{second['invoice_id']}"))["status"] != "overdue":
        assert asyncio.get_running_loop().time() < deadline, "the overdue job never marked the invoice"
        await asyncio.sleep(0.2)

    topics = Topics(topic_prefix)
    wanted = ["crm.lead.converted", "crm.deal.won", "crm.invoice.sent", "crm.invoice.sent",
              "crm.invoice.paid", "crm.invoice.overdue"]  # fmt: skip

    def crm_types(messages: list[tuple[str, bytes, bytes]]) -> list[str]:
        return [parse_crm_event(value).event_type for topic, _, value in messages if topic == topics.crm]

    messages = await collect(
        stack.kafka_bootstrap, [topics.crm, topics.audit], lambda m: crm_types(m) == wanted
    )
    assert {key for topic, key, _ in messages if topic == topics.crm} == {f"deal/{deal_id}".encode()}
    audited = {AuditEvent.model_validate_json(v).action for t, _, v in messages if t == topics.audit}
    assert audited >= {
        "crm.lead.create", "crm.lead.convert", "crm.deal.create", "crm.deal.stage", "crm.deal.update",
        "client.create", "user.create", "crm.deal.client-account", "crm.invoice.create", "crm.invoice.send",
        "crm.invoice.pay", "crm.invoice.overdue",
    }  # fmt: skip
    superuser = await asyncpg.connect(pg_dsn)
    try:
        trail = await superuser.fetch(
            "SELECT actor, action, before, after FROM audit_log WHERE target_type = 'invoice' ORDER BY id"
        )
        owned = await superuser.fetch(
            "SELECT serial_number FROM hosting_miners WHERE client_id = $1 ORDER BY 1", account["client_id"]
        )
    finally:
        await superuser.close()
    assert [(row["actor"], row["action"]) for row in trail][-1] == (
        "system:crm/overdue-invoices",
        "crm.invoice.overdue",
    )
    assert f"user:{SALES}" in {row["actor"] for row in trail}
    assert [row[0] for row in owned] == ["SYN-S21-0", "SYN-S21-1"]
