"""Leads and deals through the CRM's HTTP app on its own database role: scores, duplicates across owners,
filters, search and CSV, conversion that keeps the link, stages with their history, the pipeline."""

import csv
import io

import pytest
from test_accounts_support import accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from test_crm_support import CrmClient, crm_fixture  # type: ignore[import-not-found]  # noqa: F401

pytestmark = pytest.mark.integration
SALES, SALES2, ADMIN = "sales@example.com", "sales2@example.com", "admin@example.com"


async def test_a_lead_is_scored_by_the_rule_and_rescored_when_it_changes(crm: CrmClient) -> None:
    lead = await crm.lead(SALES, phone="+44 20 7946 0000", company="Northwind Energy Ltd")
    # referral 30 + company 15 + business email 20 + phone 10 + new 0
    assert (lead["score"], lead["status"], lead["owner_email"]) == (75, "new", SALES)
    qualified = await crm.ok(SALES, "PATCH", f"/leads/{lead['lead_id']}", json={"status": "qualified"})
    assert qualified["score"] == 100
    lost = await crm.ok(
        SALES, "PATCH", f"/leads/{lead['lead_id']}", json={"status": "lost", "lost_reason": "price"}
    )
    assert (lost["score"], lost["lost_reason"]) == (0, "price")


async def test_a_duplicate_email_or_company_is_refused_across_owners_unless_asked(crm: CrmClient) -> None:
    first = await crm.lead(SALES, email="Ann+crm@Northwind.example", company="Northwind Energy Ltd.")
    same_email = await crm.call(
        SALES2,
        "POST",
        "/leads",
        json={"name": "A. T.", "email": "ann@northwind.example", "source": "website"},
    )
    assert same_email.status_code == 409
    error = same_email.json()["error"]
    assert error["code"] == "duplicate_lead"
    assert f"lead {first['lead_id']} (new, owner {SALES}, email)" in error["hint"]
    same_company = await crm.call(
        SALES2,
        "POST",
        "/leads",
        json={
            "name": "Bo",
            "phone": "01224 000000",
            "company": "NORTHWIND ENERGY LIMITED",
            "source": "event",
        },
    )
    assert same_company.status_code == 409 and "company" in same_company.json()["error"]["hint"]
    allowed = await crm.ok(
        SALES2,
        "POST",
        "/leads",
        json={
            "name": "Bo",
            "phone": "01224 000000",
            "company": "Northwind Energy",
            "source": "event",
            "allow_duplicate": True,
        },
    )
    duplicates = await crm.ok(SALES2, "GET", f"/leads/{allowed['lead_id']}/duplicates")
    assert duplicates == [
        {"lead_id": first["lead_id"], "owner_email": SALES, "status": "new", "matched_on": "company"}
    ]
    as_csv = await crm.call(SALES2, "GET", f"/leads/{allowed['lead_id']}/duplicates?format=csv")
    assert as_csv.text.splitlines() == [
        "lead_id,owner_email,status,matched_on",
        f"{first['lead_id']},{SALES},new,company",
    ]
    # The other salesperson learns whose lead it is, never its contents.
    assert (await crm.call(SALES2, "GET", f"/leads/{first['lead_id']}")).status_code == 404


async def test_leads_filter_search_and_export_as_csv(crm: CrmClient) -> None:
    await crm.lead(SALES, name="Ann", email="ann@a.example", source="website")
    await crm.lead(SALES, name="Bob", email="bob@gmail.com", company="Bobcat Mining", source="cold_call")
    await crm.lead(ADMIN, name="Cy", email="cy@c.example", source="referral")
    mine = await crm.ok(SALES, "GET", "/leads")
    assert [lead["name"] for lead in mine] == ["Ann", "Bob"]  # best score first; not the admin's
    assert [lead["name"] for lead in await crm.ok(ADMIN, "GET", "/leads")] == ["Cy", "Ann", "Bob"]
    assert [lead["name"] for lead in await crm.ok(SALES, "GET", "/leads?q=bobcat")] == ["Bob"]
    assert [lead["name"] for lead in await crm.ok(SALES, "GET", "/leads?source=website")] == ["Ann"]
    assert [lead["name"] for lead in await crm.ok(ADMIN, "GET", "/leads?min_score=40")] == ["Cy", "Ann"]
    response = await crm.call(SALES, "GET", "/leads?format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["name"] for row in rows] == ["Ann", "Bob"] and rows[1]["company"] == "Bobcat Mining"


async def test_converting_a_lead_makes_a_deal_that_keeps_the_link_and_its_stage_history(
    crm: CrmClient,
) -> None:
    lead = await crm.lead(SALES, company="Northwind Energy")
    deal = await crm.ok(
        SALES,
        "POST",
        f"/leads/{lead['lead_id']}/convert",
        json={"value_usd": "50000", "expected_close_date": "2026-05-15"},
    )
    assert (deal["lead_id"], deal["title"], deal["stage"], deal["probability"]) == (
        lead["lead_id"],
        "Northwind Energy",
        "discovery",
        10,
    )
    converted = await crm.ok(SALES, "GET", f"/leads/{lead['lead_id']}")
    assert (converted["status"], converted["deal_id"]) == ("converted", deal["deal_id"])
    again = await crm.call(
        SALES,
        "POST",
        f"/leads/{lead['lead_id']}/convert",
        json={"value_usd": "1", "expected_close_date": "2026-05-15"},
    )
    assert again.status_code == 409
    path = f"/deals/{deal['deal_id']}"
    await crm.ok(SALES, "POST", f"{path}/stage", json={"stage": "proposal"})
    await crm.ok(SALES, "POST", f"{path}/stage", json={"stage": "negotiation", "probability": 75})
    won = await crm.ok(SALES, "POST", f"{path}/stage", json={"stage": "closed_won"})
    assert (won["probability"], won["closed_at"] is not None) == (100, True)
    history = await crm.ok(SALES, "GET", f"{path}/stages")
    assert [(h["stage_from"], h["stage_to"], h["probability"]) for h in history] == [
        (None, "discovery", 10),
        ("discovery", "proposal", 30),
        ("proposal", "negotiation", 75),
        ("negotiation", "closed_won", 100),
    ]
    reopened = await crm.call(SALES, "POST", f"{path}/stage", json={"stage": "proposal"})
    assert reopened.status_code == 409 and "final" in reopened.json()["error"]["message"]


async def test_the_pipeline_sums_value_by_stage_and_weights_the_forecast_by_month(crm: CrmClient) -> None:
    async def deal(value: str, close: str, stage: str | None = None) -> None:
        lead = await crm.lead(SALES, email=f"{value}@x{close}.example", company=f"Co {value} {close}")
        made = await crm.ok(
            SALES,
            "POST",
            f"/leads/{lead['lead_id']}/convert",
            json={"value_usd": value, "expected_close_date": close},
        )
        if stage:
            await crm.ok(SALES, "POST", f"/deals/{made['deal_id']}/stage", json={"stage": stage})

    await deal("10000", "2026-04-10")  # discovery 10%: 1,000
    await deal("20000", "2026-04-20", "proposal")  # 30%: 6,000
    await deal("40000", "2026-05-01", "negotiation")  # 60%: 24,000
    await deal("5000", "2026-05-02", "closed_won")  # not a forecast
    pipeline = await crm.ok(SALES, "GET", "/pipeline")
    stages = {
        row["stage"]: (row["deals"], row["value_usd"], row["weighted_usd"]) for row in pipeline["by_stage"]
    }
    assert stages == {
        "discovery": (1, "10000.00", "1000.00"),
        "proposal": (1, "20000.00", "6000.00"),
        "negotiation": (1, "40000.00", "24000.00"),
        "closed_won": (1, "5000.00", "5000.00"),
        "closed_lost": (0, "0", "0"),
    }
    assert [(m["month"], m["deals"], m["weighted_usd"]) for m in pipeline["forecast_by_month"]] == [
        ("2026-04", 2, "7000.00"),
        ("2026-05", 1, "24000.00"),
    ]
    assert (pipeline["open_value_usd"], pipeline["open_weighted_usd"]) == ("70000.00", "31000.00")
    assert (await crm.ok(SALES2, "GET", "/pipeline"))["open_value_usd"] == "0"  # only their own deals
    csv_text = (await crm.call(SALES, "GET", "/pipeline?format=csv")).text
    assert "forecast,,2026-05,1,40000.00,24000.00" in csv_text


async def test_staff_own_their_records_and_an_admin_reassigns_them(crm: CrmClient) -> None:
    lead = await crm.lead(SALES)
    refused = await crm.call(
        SALES, "PATCH", f"/leads/{lead['lead_id']}", json={"owner_id": str(crm.accounts.ids[SALES2])}
    )
    assert refused.status_code == 403
    assert (
        await crm.call(SALES2, "PATCH", f"/leads/{lead['lead_id']}", json={"name": "Mine now"})
    ).status_code == 404
    moved = await crm.ok(
        ADMIN, "PATCH", f"/leads/{lead['lead_id']}", json={"owner_id": str(crm.accounts.ids[SALES2])}
    )
    assert moved["owner_email"] == SALES2
    assert (await crm.call(SALES, "GET", f"/leads/{lead['lead_id']}")).status_code == 404
    assert (await crm.ok(SALES2, "GET", f"/leads/{lead['lead_id']}"))["owner_email"] == SALES2
