"""Issue #20's end-to-end proof, every service its own process against the fleet simulator, PostgreSQL and
Kafka: a plan proposed by staff and approved by an administrator executes on the miners (staggered, in the
shutdown order), the telemetry shows the drop, `power_reduced` is measured from it, the recovery wakes the
miners in reverse order, and the operation log holds every command with the plan and the approver. A plan
whose miners accept the command but keep hashing is failed with the reason, and its miners are woken."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from windhash_common.access.roles import Role
from windhash_common.topics import Topics
from windhash_fleet_sim.fleet import FleetSpec
from windhash_fleet_sim.server import FleetSimServer
from windhash_fleet_sim.sim_miner import MinerFaults
from windhash_testing.plans_world import (
    PlansWorld,
    fetch,
    loopback_block,
    register_sim_fleet,
    service_processes,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
S19_KW = Decimal("3.05")


async def _every_miner_read(dsn: str, miners: int, readings: int) -> bool:
    rows = await fetch(
        dsn, "SELECT miner_id FROM miner_telemetry GROUP BY miner_id HAVING count(*) >= $1", readings
    )
    return len(rows) == miners


async def _plan_is(world: PlansWorld, plan_id: int, status: str, phase: str) -> bool:
    plan = await world.plan(plan_id)
    return (plan["status"], plan["phase"]) == (status, phase)


async def test_an_approved_plan_executes_is_measured_from_telemetry_and_recovers(
    service_env: dict[str, str], pg_dsn: str, tmp_path: Path
) -> None:
    topics = Topics(service_env["WINDHASH_TOPIC_PREFIX"])
    spec = FleetSpec(miners=8, base_address=loopback_block(), seed=20, models=("S19J_PRO", "S21"))
    with FleetSimServer(spec) as sim:
        site_id = await register_sim_fleet(pg_dsn, sim, topics)
        world = await PlansWorld.open(pg_dsn, topics)
        admin = await world.add("admin@example.com", Role.ADMIN)
        await world.add("staff@example.com", Role.USER)
        processes = service_processes(service_env, tmp_path)
        try:
            processes.start("collector", "fleet", "collector")
            processes.start("writer", "fleet", "writer")
            processes.start("plans", "plans")
            await wait_until(lambda: _every_miner_read(pg_dsn, 8, 3), 90, processes)

            # Three S19J Pros (the least efficient first) reach 9 kW; the S21s keep mining.
            start = datetime.now(UTC) + timedelta(seconds=2)
            body = {
                "site_id": site_id,
                "plan_type": "scheduled",
                "target_reduction_mw": "0.009",
                "scheduled_at": start.isoformat(),
                "recovery_at": (start + timedelta(seconds=25)).isoformat(),
                "note": "e2e",
            }
            created = await world.call("staff@example.com", "POST", "/api/v1/plans/", body)
            assert created.status_code == 201, created.text
            plan = created.json()
            plan_id = plan["plan_id"]
            chosen = [miner["serial_number"] for miner in plan["miners"]]
            assert [miner["miner_model"] for miner in plan["miners"]] == ["S19J_PRO"] * 3
            assert (
                await world.call("staff@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
            ).status_code == 403
            approved = await world.call("admin@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
            assert approved.status_code == 200 and approved.json()["status"] == "approved"

            await wait_until(lambda: _plan_is(world, plan_id, "executed", "holding"), 60, processes)
            executed = await world.plan(plan_id)
            assert all(sim.sleeping(serial) for serial in chosen)
            assert not any(sim.sleeping(m.serial) for m in sim.miners if m.serial not in chosen)
            # Measured, not assumed: three S19J Pros fell from ~3 kW each to ~25 W.
            reduced = executed["power_reduced_mw"]
            assert Decimal("0.0085") < reduced < Decimal("0.0095"), reduced
            assert executed["power_before_mw"] - executed["power_after_mw"] == reduced
            asleep = await fetch(
                pg_dsn,
                "SELECT count(*) FROM miner_telemetry JOIN hosting_miners USING (miner_id)"
                " WHERE serial_number = ANY($1::text[]) AND sleeping AND power_w < 100 AND recorded_at > $2",
                chosen,
                executed["started_at"],
            )
            assert asleep[0][0] >= 3
            statuses = await fetch(
                pg_dsn, "SELECT serial_number, status FROM hosting_miners ORDER BY serial_number"
            )
            assert {row["serial_number"] for row in statuses if row["status"] == "curtailed"} == set(chosen)

            await wait_until(lambda: _plan_is(world, plan_id, "executed", "recovered"), 60, processes)
        finally:
            processes.stop_all()
            await world.close()

        assert not any(sim.sleeping(miner.serial) for miner in sim.miners)
        commands = {serial: sim.commands(serial) for serial in chosen}
        assert all([c.mode for c in commands[serial]] == ["sleep", "wakeup"] for serial in chosen), commands
        slept = [commands[serial][0].at for serial in chosen]
        woken = [commands[serial][1].at for serial in chosen]
        assert slept == sorted(slept) and woken == sorted(woken, reverse=True)  # reverse order coming back
        assert min(b - a for a, b in itertools.pairwise(slept)) >= 0.45  # staggered

    log = await fetch(
        pg_dsn,
        "SELECT serial_number, operation, performed_by, actor, details FROM miner_operation_log"
        " JOIN hosting_miners USING (miner_id) WHERE operation LIKE 'curtail_%' ORDER BY operation_id",
    )
    assert [(row["serial_number"], row["operation"]) for row in log] == [
        *((serial, "curtail_sleep") for serial in chosen),
        *((serial, "curtail_wakeup") for serial in reversed(chosen)),
    ]
    assert {row["performed_by"] for row in log} == {admin}
    assert {row["actor"] for row in log} == {"plans-executor"}
    statuses = await fetch(pg_dsn, "SELECT DISTINCT status FROM hosting_miners")
    assert [row["status"] for row in statuses] == ["active"]
    timeline = await fetch(
        pg_dsn, "SELECT event_type FROM curtailment_plan_events WHERE plan_id = $1 ORDER BY event_id", plan_id
    )
    assert [row["event_type"] for row in timeline] == [
        "plan.created", "plan.approved", "plan.started", "plan.executed", "plan.recovering", "plan.recovered",
    ]  # fmt: skip


async def test_a_plan_whose_miners_do_not_drop_fails_with_the_reason_and_wakes_them(
    service_env: dict[str, str], pg_dsn: str, tmp_path: Path
) -> None:
    topics = Topics(service_env["WINDHASH_TOPIC_PREFIX"])
    spec = FleetSpec(miners=4, base_address=loopback_block(), seed=21, models=("S19J_PRO",))
    with FleetSimServer(spec) as sim:
        for miner in sim.miners:
            sim.set_faults(miner.serial, MinerFaults(ignore_curtail=True))  # accepts, keeps hashing
        site_id = await register_sim_fleet(pg_dsn, sim, topics)
        world = await PlansWorld.open(pg_dsn, topics)
        await world.add("admin@example.com", Role.ADMIN)
        processes = service_processes(service_env, tmp_path)
        try:
            processes.start("collector", "fleet", "collector")
            processes.start("writer", "fleet", "writer")
            processes.start("plans", "plans")
            await wait_until(lambda: _every_miner_read(pg_dsn, 4, 3), 90, processes)
            body = {
                "site_id": site_id,
                "plan_type": "manual",
                "target_reduction_mw": "0.006",
                "hold_minutes": 10,
            }
            plan_id = (await world.call("admin@example.com", "POST", "/api/v1/plans/", body)).json()[
                "plan_id"
            ]
            await world.call("admin@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
            await wait_until(lambda: _plan_is(world, plan_id, "failed", "recovered"), 90, processes)
        finally:
            processes.stop_all()
            await world.close()
        assert not any(sim.sleeping(miner.serial) for miner in sim.miners)
    rows = await fetch(
        pg_dsn, "SELECT failure_reason, power_reduced_mw FROM curtailment_plans WHERE plan_id = $1", plan_id
    )
    reason = rows[0]["failure_reason"]
    assert "under 80% of the 0.006 MW target" in reason and "did not drop:" in reason, reason
    assert abs(rows[0]["power_reduced_mw"]) < Decimal("0.001")
