"""The fleet's HTTP app on the real PostgreSQL, as its own database role: staff create, edit, move and retire
miners and sites, each change audited, logged with who did it and announced; lists filter, sort, paginate and
export CSV; a CSV import reports each row and is idempotent by serial; a client sees its own miners only, in
the app and in an unfiltered SELECT."""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from test_accounts_support import Accounts, accounts_fixture  # type: ignore[import-not-found]  # noqa: F401
from windhash_common.access.identity import CredentialKind, Identity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.roles import Role
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_fleet.http.app import create_fleet_app
from windhash_fleet.telemetry_writer import TelemetryWriter, apply_messages
from windhash_testing.fleet_service import TOPIC_PREFIX, fleet_settings
from windhash_testing.fleet_telemetry import messages, reading

pytestmark = pytest.mark.integration
FLEET = "/api/v1/fleet"


class Fleet:
    def __init__(self, http: httpx.AsyncClient, accounts: Accounts, pool: asyncpg.Pool) -> None:
        self.http, self.accounts, self.pool = http, accounts, pool
        self.tokens: dict[str, str] = {}

    async def as_(self, email: str) -> dict[str, str]:
        if email not in self.tokens:
            self.tokens[email] = await self.accounts.session(email)
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    async def call(self, email: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, f"{FLEET}{path}", headers=await self.as_(email), **kwargs)


@pytest.fixture
async def fleet(pg_dsn: str, accounts: Accounts) -> AsyncIterator[Fleet]:
    await accounts.add("admin@example.com", Role.ADMIN)
    await accounts.add("staff@example.com", Role.USER)
    await accounts.add("a@acme.example", Role.CLIENT, client="Acme")
    await accounts.add("b@blue.example", Role.CLIENT, client="Blue Ridge")
    settings = fleet_settings(pg_dsn, {"fleet_poll_interval_s": 60})
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=3)
    app = create_fleet_app(settings, pool=pool)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://fleet.test") as http:
            yield Fleet(http, accounts, pool)
    finally:
        await pool.close()


async def _clients(accounts: Accounts) -> dict[str, UUID]:
    return {row["name"]: row["id"] for row in await accounts.superuser.fetch("SELECT id, name FROM clients")}


async def _site(fleet: Fleet, name: str) -> int:
    made = await fleet.call(
        "admin@example.com", "POST", "/sites", json={"name": name, "power_capacity_mw": "2.5"}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["site_id"])


async def test_every_change_is_audited_logged_with_its_author_and_announced(
    fleet: Fleet, accounts: Accounts
) -> None:
    north, south = await _site(fleet, "North (SYNTHETIC)"), await _site(fleet, "South (SYNTHETIC)")
    refused = await fleet.call(
        "staff@example.com", "POST", "/sites", json={"name": "x", "power_capacity_mw": 1}
    )
    assert refused.status_code == 403, "sites are the administrators'"
    acme = (await _clients(accounts))["Acme"]
    body = {"serial_number": "HTTP-1", "miner_model": "S21", "site_id": north, "api_host": "127.50.0.1"}
    created = await fleet.call("staff@example.com", "POST", "/miners", json={**body, "client_id": str(acme)})
    assert created.status_code == 201, created.text
    assert created.json()["client_name"] == "Acme" and created.json()["status"] == "active"
    duplicate = await fleet.call("staff@example.com", "POST", "/miners", json=body)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"

    changed = await fleet.call("staff@example.com", "PATCH", "/miners/HTTP-1", json={"status": "maintenance"})
    assert changed.json()["status"] == "maintenance"
    moved = await fleet.call("staff@example.com", "POST", "/miners/HTTP-1/move", json={"site_id": south})
    assert moved.json()["site_name"] == "South (SYNTHETIC)"
    retired = await fleet.call("staff@example.com", "POST", "/miners/HTTP-1/retire")
    assert retired.json()["status"] == "retired" and not retired.json()["telemetry_enabled"]
    again = await fleet.call("staff@example.com", "PATCH", "/miners/HTTP-1", json={"api_port": 4029})
    assert again.status_code == 409 and again.json()["error"]["code"] == "retired"

    superuser = accounts.superuser
    staff_id = accounts.ids["staff@example.com"]
    log = await superuser.fetch(
        "SELECT operation, performed_by, actor FROM miner_operation_log ORDER BY operation_id"
    )
    assert [row["operation"] for row in log] == ["create", "update", "move", "retire"]
    assert {row["performed_by"] for row in log} == {staff_id}
    assert {row["actor"] for row in log} == {"user:staff@example.com"}
    audits = await superuser.fetch(
        "SELECT action, target_id FROM audit_log WHERE target_type IN ('miner', 'site')"
    )
    assert [row["action"] for row in audits] == [
        "site.create", "site.create", "miner.create", "miner.update", "miner.move", "miner.retire",
    ]  # fmt: skip
    events = await superuser.fetch(
        "SELECT payload FROM outbox WHERE topic = $1 ORDER BY id", f"{TOPIC_PREFIX}.fleet-changes.v1"
    )
    kinds = [json.loads(row["payload"])["event_type"] for row in events]
    assert kinds == [
        "site.created",
        "site.created",
        "miner.created",
        "miner.updated",
        "miner.moved",
        "miner.retired",
    ]
    placements = await superuser.fetch(
        "SELECT site_id, removed_at IS NULL AS open FROM hosting_miner_placements ORDER BY placed_at"
    )
    assert [(row["site_id"], row["open"]) for row in placements] == [(north, False), (south, False)]


async def _miners(fleet: Fleet, accounts: Accounts, count: int) -> int:
    site = await _site(fleet, "Listed (SYNTHETIC)")
    clients = await _clients(accounts)
    for index in range(count):
        client = clients["Acme"] if index % 3 == 0 else clients["Blue Ridge"] if index % 3 == 1 else None
        body = {
            "serial_number": f"LIST-{index:02d}",
            "miner_model": ("S21", "M60S")[index % 2],
            "site_id": site,
            "api_host": f"127.51.0.{index + 1}",
            "client_id": str(client) if client else None,
        }
        assert (await fleet.call("staff@example.com", "POST", "/miners", json=body)).status_code == 201
    return site


async def test_a_site_or_model_change_is_recorded_once_and_a_patch_changing_nothing_records_nothing(
    fleet: Fleet, accounts: Accounts
) -> None:
    site = await _site(fleet, "East (SYNTHETIC)")
    renamed = await fleet.call("admin@example.com", "PATCH", f"/sites/{site}", json={"name": "Eastern"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Eastern", renamed.text
    same = await fleet.call("admin@example.com", "PATCH", f"/sites/{site}", json={"name": "Eastern"})
    assert same.status_code == 200
    missing = await fleet.call("admin@example.com", "PATCH", "/sites/999999", json={"name": "x"})
    assert missing.status_code == 404

    model = {"name": "SIM-X1", "manufacturer": "Synthetic", "hashrate_ths": "100", "power_w": "3000"}
    assert (await fleet.call("admin@example.com", "POST", "/models", json=model)).status_code == 201
    priced = await fleet.call("admin@example.com", "PATCH", "/models/SIM-X1", json={"msrp_usd": "4200.00"})
    assert priced.status_code == 200, priced.text
    unchanged = await fleet.call("admin@example.com", "PATCH", "/models/SIM-X1", json={})
    assert unchanged.status_code == 200
    missing_model = await fleet.call("admin@example.com", "PATCH", "/models/NO-SUCH", json={"msrp_usd": 1})
    assert missing_model.status_code == 404

    audits = await accounts.superuser.fetch(
        "SELECT action, target_id, before, after FROM audit_log WHERE target_type IN ('site', 'model')"
        " ORDER BY id"
    )
    assert [(row["action"], row["target_id"]) for row in audits] == [
        ("site.create", "East (SYNTHETIC)"),
        ("site.update", "Eastern"),
        ("model.create", "SIM-X1"),
        ("model.update", "SIM-X1"),
    ]
    site_before, site_after = json.loads(audits[1]["before"]), json.loads(audits[1]["after"])
    assert (site_before["name"], site_after["name"]) == ("East (SYNTHETIC)", "Eastern")
    assert json.loads(audits[3]["before"])["msrp_usd"] is None
    assert json.loads(audits[3]["after"])["msrp_usd"] == "4200.00"


async def test_lists_filter_sort_paginate_and_export_csv(fleet: Fleet, accounts: Accounts) -> None:
    site = await _miners(fleet, accounts, 12)
    page = await fleet.call("staff@example.com", "GET", "/miners", params={"limit": 5, "offset": 5})
    assert page.json()["total"] == 12
    assert [miner["serial_number"] for miner in page.json()["items"]] == [
        f"LIST-{i:02d}" for i in range(5, 10)
    ]
    by_model = await fleet.call(
        "staff@example.com", "GET", "/miners", params={"model": "M60S", "sort": "serial", "order": "desc"}
    )
    assert [m["serial_number"] for m in by_model.json()["items"]][:2] == ["LIST-11", "LIST-09"]
    acme = (await _clients(accounts))["Acme"]
    owned = await fleet.call("staff@example.com", "GET", "/miners", params={"client_id": str(acme)})
    assert owned.json()["total"] == 4
    exported = await fleet.call(
        "staff@example.com", "GET", "/miners", params={"format": "csv", "site_id": site}
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 12 and rows[0]["serial_number"] == "LIST-00" and "site_name" in rows[0]
    sites = await fleet.call("staff@example.com", "GET", "/sites", params={"format": "csv"})
    assert "power_now_kw" in sites.text.splitlines()[0]
    bad = await fleet.call("staff@example.com", "GET", "/miners", params={"sort": "password"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_parameter"


async def test_a_client_sees_only_its_own_miners_in_the_app_and_in_an_unfiltered_select(
    fleet: Fleet, accounts: Accounts, pg_dsn: str
) -> None:
    await _miners(fleet, accounts, 6)
    mine = await fleet.call("a@acme.example", "GET", "/miners")
    assert [m["serial_number"] for m in mine.json()["items"]] == ["LIST-00", "LIST-03"]
    other = await fleet.call("a@acme.example", "GET", "/miners/LIST-01")
    assert other.status_code == 404, "another client's miner is as absent as a missing one"
    assert (await fleet.call("a@acme.example", "GET", "/miners/LIST-03")).status_code == 200
    sites = await fleet.call("a@acme.example", "GET", "/sites")
    assert [site["miners"] for site in sites.json()] == [2], "its share of the site only"
    assert (await fleet.call("a@acme.example", "PATCH", "/miners/LIST-00", json={})).status_code == 403
    assert (await fleet.call("a@acme.example", "GET", "/sites/1/rollups")).status_code == 403

    # Readings for every miner, as the writer stores them; then a client's deliberately unfiltered SELECTs.
    ids = {
        r["serial_number"]: r["miner_id"]
        for r in await accounts.superuser.fetch("SELECT * FROM hosting_miners")
    }
    now = datetime.now(UTC)
    events = [reading(serial, now - timedelta(minutes=minute)) for serial in ids for minute in (1, 2)]
    writer_role = await asyncpg.connect(dsn_as(pg_dsn, DatabaseRole.FLEET))
    try:
        writer = TelemetryWriter("http.dead-letter", 90, timedelta(minutes=5))
        await apply_messages(writer_role, messages(events), writer, "http-writer")
    finally:
        await writer_role.close()
    acme = (await _clients(accounts))["Acme"]
    client = Identity(kind=CredentialKind.SESSION, user_id=UUID(int=1), role=Role.CLIENT, client_id=acme)
    async with identity_transaction(fleet.pool, client) as connection:
        miners = {row[0] for row in await connection.fetch("SELECT miner_id FROM miner_telemetry")}
        assert miners == {ids["LIST-00"], ids["LIST-03"]}
        hours = {row[0] for row in await connection.fetch("SELECT miner_id FROM miner_telemetry_hourly")}
        assert hours == miners
        assert {
            row[0] for row in await connection.fetch("SELECT miner_id FROM miner_telemetry_latest")
        } == miners
        assert await connection.fetchval("SELECT count(*) FROM site_telemetry_hourly") == 0, "staff only"
        assert {
            row[0] for row in await connection.fetch("SELECT miner_id FROM miner_operation_log")
        } == miners
    staff = Identity(kind=CredentialKind.SESSION, user_id=UUID(int=2), role=Role.USER)
    async with identity_transaction(fleet.pool, staff) as connection:
        assert await connection.fetchval("SELECT count(DISTINCT miner_id) FROM miner_telemetry") == 6
    async with fleet.pool.acquire() as connection:
        assert await connection.fetchval("SELECT count(*) FROM miner_telemetry") == 0, "no identity: nothing"

    series = await fleet.call("a@acme.example", "GET", "/miners/LIST-00/telemetry", params={"points": 10})
    assert series.status_code == 200 and sum(point["readings"] for point in series.json()["points"]) == 2
    overview = (await fleet.call("a@acme.example", "GET", "/overview")).json()
    assert overview["counts"]["miners"] == 2 and overview["counts"]["reporting"] == 2
    assert {m["serial_number"] for m in overview["hottest"]} == {"LIST-00", "LIST-03"}


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


async def test_a_csv_import_reports_each_row_and_is_idempotent_by_serial(fleet: Fleet) -> None:
    await _site(fleet, "Imported (SYNTHETIC)")
    good = [
        {"serial_number": f"IMP-{index}", "miner_model": "S21", "site": "Imported (SYNTHETIC)",
         "api_host": f"127.52.0.{index + 1}", "client": "Acme" if index == 0 else ""}
        for index in range(3)
    ]  # fmt: skip
    bad = [
        {**good[0], "serial_number": "IMP-bad serial"},
        {**good[0], "serial_number": "IMP-9", "site": "Nowhere"},
        {**good[0], "serial_number": "IMP-8", "miner_model": "NO-SUCH-MODEL", "api_host": "127.52.0.99"},
        {**good[0], "serial_number": "IMP-7", "api_host": "127.52.0.1"},  # IMP-0's address
    ]
    body = _csv(good + bad)
    first = await fleet.call("staff@example.com", "POST", "/miners/import", content=body)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["created"], report["errors"]) == (3, 4)
    errors = {row["line"]: row["error"] for row in report["results"] if row["outcome"] == "error"}
    assert sorted(errors) == [5, 6, 7, 8]
    assert "serial_number" in errors[5] and "Nowhere" in errors[6] and "model" in errors[7]
    assert errors[8] == "another miner in the fleet has this address (api_host, api_port)"

    second = (await fleet.call("staff@example.com", "POST", "/miners/import", content=_csv(good))).json()
    assert (second["unchanged"], second["created"], second["updated"]) == (3, 0, 0)
    changed = [{**good[1], "api_port": "4029"}]
    third = (await fleet.call("staff@example.com", "POST", "/miners/import", content=_csv(changed))).json()
    assert third["updated"] == 1

    header_only = await fleet.call("staff@example.com", "POST", "/miners/import", content=b"serial,model\n")
    assert header_only.status_code == 422 and header_only.json()["error"]["code"] == "unreadable_file"
    huge = b"serial_number,miner_model,site,api_host\n" + b"x" * (5 * 1024 * 1024)
    too_big = await fleet.call("staff@example.com", "POST", "/miners/import", content=huge)
    assert too_big.status_code == 413
    client = await fleet.call("a@acme.example", "POST", "/miners/import", content=_csv(good))
    assert client.status_code == 403
