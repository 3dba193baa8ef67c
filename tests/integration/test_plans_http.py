"""The plans' HTTP app on its own database role: proposing (idempotent with a key), the miners chosen in their
order, approving and cancelling by role and rule, illegal transitions refused, row-level security for a
client, CSV, and a site policy set by an administrator (audited)."""

from decimal import Decimal

import asyncpg
import pytest
from windhash_common.access.roles import Role
from windhash_common.topics import Topics
from windhash_testing.fleet_telemetry import register_site
from windhash_testing.plans_world import PlansWorld

pytestmark = pytest.mark.integration
TOPICS = Topics("plans-http-test")


async def test_proposing_approving_cancelling_and_what_a_client_sees(pg_dsn: str) -> None:
    superuser = await asyncpg.connect(pg_dsn)
    world = await PlansWorld.open(pg_dsn, TOPICS)
    try:
        site_id, ids = await register_site(superuser, "HTTP site", [f"H-{n}" for n in range(6)], 83, TOPICS)
        acme = await world.client("Acme")
        await superuser.execute("UPDATE hosting_miners SET client_id = $1 WHERE serial_number = 'H-3'", acme)
        await superuser.execute(
            "UPDATE hosting_miners SET status = 'maintenance' WHERE serial_number = 'H-0'"
        )
        for email, role in (("admin@example.com", Role.ADMIN), ("staff@example.com", Role.USER),
                            ("other@example.com", Role.USER)):  # fmt: skip
            await world.add(email, role)
        await world.add("client@acme.example", Role.CLIENT, client_id=acme)

        body = {"site_id": site_id, "plan_type": "manual", "target_reduction_mw": "0.005", "hold_minutes": 30}
        key = {"Idempotency-Key": "plan-h-1"}
        first = await world.http.post(
            "/api/v1/plans/", json=body, headers={**await world.as_("staff@example.com"), **key}
        )
        again = await world.http.post(
            "/api/v1/plans/", json=body, headers={**await world.as_("staff@example.com"), **key}
        )
        assert (first.status_code, again.status_code) == (201, 200)
        plan = first.json()
        assert again.json()["plan_id"] == plan["plan_id"]
        # The S19J Pro first (30.5 J/TH; H-0 is in maintenance), then an M60S (18.5 J/TH) before any S21.
        assert [m["serial_number"] for m in plan["miners"]] == ["H-3", "H-2"]
        assert [m["shutdown_order"] for m in plan["miners"]] == [1, 2]
        assert plan["status"] == "pending" and plan["timeline"][0]["event_type"] == "plan.created"

        too_much = await world.call(
            "staff@example.com", "POST", "/api/v1/plans/", body | {"target_reduction_mw": "5"}
        )
        assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "target_unreachable"
        bad_schedule = await world.call(
            "staff@example.com", "POST", "/api/v1/plans/", body | {"plan_type": "scheduled"}
        )
        assert bad_schedule.status_code == 422

        plan_id = plan["plan_id"]
        refused = await world.call(
            "other@example.com", "POST", f"/api/v1/plans/{plan_id}/cancel", {"reason": "no"}
        )
        assert refused.status_code == 403  # staff cancel only their own pending proposals
        assert (
            await world.call("staff@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
        ).status_code == 403
        approved = await world.call("admin@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
        assert approved.status_code == 200 and approved.json()["recovery_at"] is not None
        twice = await world.call("admin@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "illegal_transition"
        late = await world.call(
            "staff@example.com", "POST", f"/api/v1/plans/{plan_id}/cancel", {"reason": "late"}
        )
        assert late.status_code == 403  # approved: no longer the proposer's to cancel

        policy = {"automatic_enabled": True, "price_source": "tariff", "tariff_gbp_per_mwh": "95.50",
                  "client_minimums": {str(acme): 1}}  # fmt: skip
        assert (
            await world.call("staff@example.com", "PUT", f"/api/v1/plans/policies/{site_id}", policy)
        ).status_code == 403
        put = await world.call("admin@example.com", "PUT", f"/api/v1/plans/policies/{site_id}", policy)
        assert put.status_code == 200 and put.json()["client_minimums"] == {str(acme): 1}
        assert Decimal(str(put.json()["tariff_gbp_per_mwh"])) == Decimal("95.50")
        audit = await superuser.fetch("SELECT action FROM audit_log WHERE target_type = 'site' ORDER BY id")
        assert [row["action"] for row in audit][-1] == "plans-policy.set"

        second = (
            await world.call(
                "other@example.com", "POST", "/api/v1/plans/", body | {"target_reduction_mw": "0.003"}
            )
        ).json()
        assert "H-3" not in [m["serial_number"] for m in second["miners"]]  # Acme keeps its one miner
        own = await world.call(
            "other@example.com", "POST", f"/api/v1/plans/{second['plan_id']}/cancel", {"reason": "mine"}
        )
        assert own.status_code == 200 and own.json()["status"] == "cancelled"
        assert own.json()["timeline"][-1]["details"] == {"reason": "mine"}

        # The client sees the plan with its miner H-3 (and only that miner), not the other.
        listed = await world.call("client@acme.example", "GET", "/api/v1/plans/")
        assert [p["plan_id"] for p in listed.json()["plans"]] == [plan_id]
        detail = await world.call("client@acme.example", "GET", f"/api/v1/plans/{plan_id}")
        assert [m["serial_number"] for m in detail.json()["miners"]] == ["H-3"]
        hidden = await world.call("client@acme.example", "GET", f"/api/v1/plans/{second['plan_id']}")
        assert hidden.status_code == 404
        assert (
            await world.call("client@acme.example", "POST", f"/api/v1/plans/{plan_id}/cancel")
        ).status_code == 403

        csv_text = (await world.call("admin@example.com", "GET", "/api/v1/plans/", format="csv")).text
        assert csv_text.splitlines()[0].startswith("plan_id,site_id,site_name,plan_type")
        assert len(csv_text.splitlines()) == 3

        assert ids  # the site's miners were registered
    finally:
        await world.close()
        await superuser.close()
