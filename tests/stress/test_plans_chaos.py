"""Chaos on the plans executor: the worker is SIGKILLed mid-plan — once between a command reaching a miner and
its record (a slow miner answers 1.5 s after it obeyed), once among the staggered shutdowns, once while the
miners sleep, staying dead past the plan's recovery time, and once between a wake-up and its record — and
restarted each time. Afterwards the simulator's own record says every miner got exactly one sleep and one
wake-up (no double command), every miner is awake and `active`, the plan is executed and recovered, and the
miners left asleep past the recovery time were woken as soon as an executor ran again."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from windhash_cli.service_processes import ServiceProcesses
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
MINERS = 10
SLOW_S = 1.5
STAGGER_S = 1.0


def kill(processes: ServiceProcesses, name: str) -> None:
    """SIGKILL, and forget it: a process killed on purpose is not a service that died."""
    processes.services.pop(name).kill()


async def _step_state(dsn: str, serial: str, command: str) -> str | None:
    rows = await fetch(
        dsn,
        "SELECT state FROM curtailment_plan_steps JOIN hosting_miners USING (miner_id)"
        " WHERE serial_number = $1 AND command = $2",
        serial,
        command,
    )
    return rows[0]["state"] if rows else None


async def test_a_killed_executor_resumes_without_double_commands_or_stranded_miners(
    service_env: dict[str, str], pg_dsn: str, tmp_path: Path
) -> None:
    topics = Topics(service_env["WINDHASH_TOPIC_PREFIX"])
    spec = FleetSpec(miners=MINERS, base_address=loopback_block(), seed=22, models=("S19J_PRO",))
    with FleetSimServer(spec) as sim:
        slow = [sim.miners[2].serial, sim.miners[7].serial]
        for serial in slow:
            sim.set_faults(serial, MinerFaults(slow_s=SLOW_S))  # obeys at once, answers 1.5 s later
        site_id = await register_sim_fleet(pg_dsn, sim, topics)
        world = await PlansWorld.open(pg_dsn, topics)
        await world.add("admin@example.com", Role.ADMIN)
        processes = service_processes(
            service_env, tmp_path, WINDHASH_PLANS_STAGGER_S=str(STAGGER_S), WINDHASH_FLEET_RPC_TIMEOUT_S="3"
        )

        def asleep() -> int:
            return sum(sim.sleeping(miner.serial) for miner in sim.miners)

        async def killed_between_command_and_record(command: str) -> None:
            async def obeyed_not_recorded() -> bool:
                for serial in slow:
                    modes = [c.mode for c in sim.commands(serial)]
                    if command in modes and await _step_state(pg_dsn, serial, command) == "sending":
                        return True
                return False

            await wait_until(obeyed_not_recorded, 120, processes)
            kill(processes, "plans")

        try:
            processes.start("collector", "fleet", "collector")
            processes.start("writer", "fleet", "writer")
            processes.start("plans", "plans")

            async def all_read() -> bool:
                rows = await fetch(pg_dsn, "SELECT count(DISTINCT miner_id) FROM miner_telemetry")
                return bool(rows[0][0] == MINERS)

            await wait_until(all_read, 90, processes)
            start = datetime.now(UTC) + timedelta(seconds=1)
            recovery_at = start + timedelta(seconds=60)
            body = {
                "site_id": site_id,
                "plan_type": "scheduled",
                "target_reduction_mw": "0.03",  # all ten S19J Pros
                "scheduled_at": start.isoformat(),
                "recovery_at": recovery_at.isoformat(),
            }
            plan_id = (await world.call("admin@example.com", "POST", "/api/v1/plans/", body)).json()[
                "plan_id"
            ]
            assert (
                await world.call("admin@example.com", "POST", f"/api/v1/plans/{plan_id}/approve")
            ).is_success

            await killed_between_command_and_record("sleep")  # 1: a sleep obeyed, not yet recorded
            processes.start("plans", "plans")

            async def half_asleep() -> bool:
                return asleep() >= MINERS // 2

            await wait_until(half_asleep, 120, processes)
            kill(processes, "plans")  # 2: among the staggered shutdowns
            processes.start("plans", "plans")

            async def holding() -> bool:
                plan = await world.plan(plan_id)
                return (plan["status"], plan["phase"]) == ("executed", "holding")

            await wait_until(holding, 120, processes)
            kill(processes, "plans")  # 3: dead while the miners sleep, past their recovery time

            async def recovery_passed() -> bool:
                return datetime.now(UTC) > recovery_at + timedelta(seconds=3)

            await wait_until(recovery_passed, 120, processes)
            assert asleep() == MINERS  # nobody else wakes them
            restarted_at = datetime.now(UTC)
            processes.start("plans", "plans")
            await killed_between_command_and_record("wakeup")  # 4: a wake-up obeyed, not yet recorded
            processes.start("plans", "plans")

            async def recovered() -> bool:
                plan = await world.plan(plan_id)
                return (plan["status"], plan["phase"]) == ("executed", "recovered")

            await wait_until(recovered, 120, processes)
        finally:
            processes.stop_all()
            await world.close()

        commands = {miner.serial: sim.commands(miner.serial) for miner in sim.miners}
        assert {serial: [c.mode for c in done] for serial, done in commands.items()} == {
            miner.serial: ["sleep", "wakeup"] for miner in sim.miners
        }, "a miner got a command twice, or missed one"
        assert asleep() == 0
        # Woken once an executor ran again: the first wake-up within seconds of the restart.
        first_wakeup = min(done[1].at for done in commands.values())
        assert first_wakeup - restarted_at.timestamp() < 15, first_wakeup - restarted_at.timestamp()
        assert min(done[1].at for done in commands.values()) > recovery_at.timestamp()

    steps = await fetch(pg_dsn, "SELECT command, state, observed FROM curtailment_plan_steps")
    assert {(row["command"], row["state"]) for row in steps} == {("sleep", "done"), ("wakeup", "done")}
    assert len(steps) == 2 * MINERS
    # The commands obeyed before the kills were found done on restart, not sent again.
    assert {row["command"] for row in steps if row["observed"]} == {"sleep", "wakeup"}
    statuses = await fetch(pg_dsn, "SELECT DISTINCT status FROM hosting_miners")
    assert [row["status"] for row in statuses] == ["active"]
    plan = (
        await fetch(pg_dsn, "SELECT power_reduced_mw FROM curtailment_plans WHERE plan_id = $1", plan_id)
    )[0]
    assert plan["power_reduced_mw"] > 0
