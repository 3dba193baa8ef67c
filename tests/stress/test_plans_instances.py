"""Many plans workers: up to 3 `windhash plans` instances in the executor's consumer group
(`windhash-plans-executor`), started, stopped (SIGTERM) and killed (SIGKILL, restarted at once as a supervisor
would) while several sites' plans shut their miners down and wake them again — every change a rebalance
of the group mid-batch and, when it hits the worker holding the `plans/executor` lease, a hand-over of the
executor mid-plan — leave every plans table as one undisturbed worker leaves it for the same plans: nothing
dead-lettered, and the simulator's own record says every miner obeyed exactly one sleep and one wake-up.

Both runs have their own database, topics and simulated fleet (one seed, so the same serials), and run the
fleet's collector and writer (a shutdown is confirmed by measuring it from telemetry). The plans are manual
ones, proposed before any telemetry exists, so each takes its miners in the same order in both runs
(nameplate efficiency, then serial), and approved once every miner has been read (they start when approved).
What legitimately differs is left out of the comparison: every time, the measured powers (live readings),
how many tries a command took, and whether a command obeyed just before a SIGKILL was recorded as sent or
found done on the restart (`observed`, the log's outcome) — the simulator's record shows it went once.
`--full` (WINDHASH_CHAOS_FULL=1) runs more sites and miners, longer holds and more changes; a seeded RNG
(WINDHASH_CHAOS_SEED) picks them.
"""

import asyncio
import os
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from windhash_cli.service_processes import ServiceProcesses
from windhash_common.access.roles import Role
from windhash_fleet_sim.fleet import FleetSpec
from windhash_fleet_sim.server import FleetSimServer
from windhash_testing.fleet_runs import end_offsets, writer_caught_up
from windhash_testing.pipeline_runs import RunEnvironment
from windhash_testing.plans_world import (
    PlansWorld,
    fetch,
    loopback_block,
    register_sim_fleet,
    service_processes,
    wait_until,
)
from windhash_testing.table_checksums import rows_of


@dataclass(frozen=True)
class Scale:
    sites: int
    miners_per_site: int
    hold_minutes: int  # from a plan's start to its recovery time
    min_disruptions: int  # instance stops and kills while plans shut down or recover, at least
    deadline_s: float


FULL = os.environ.get("WINDHASH_CHAOS_FULL") == "1"
SEED = int(os.environ.get("WINDHASH_CHAOS_SEED", "20240331"))
# Two minutes' hold: a shutdown must be measured before its recovery time, and the executor's hand-overs while
# plans shut down can take most of a minute on a busy machine (one run in four failed every plan with one).
SCALE = Scale(8, 12, 2, 12, 900.0) if FULL else Scale(4, 5, 2, 4, 360.0)
INSTANCES = 3
STAGGER_S = 2.0  # between two commands of one plan: a shutdown and a recovery each last a while
GROUP = "windhash-plans-executor"
ADMIN = "admin@example.com"
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(3600 if FULL else 900)]


@dataclass
class Run(RunEnvironment):
    env: dict[str, str]
    log_dir: Path
    changes: list[str] = field(default_factory=list)


async def _propose_and_register(run: Run, sim: FleetSimServer, world: PlansWorld) -> list[int]:
    """A site per slice of the fleet and a manual plan for all its miners."""
    nameplate = (await fetch(run.dsn, "SELECT power_w FROM miner_models WHERE name = 'S19J_PRO'"))[0][0]
    plan_ids = []
    for number in range(SCALE.sites):
        miners = sim.miners[number * SCALE.miners_per_site : (number + 1) * SCALE.miners_per_site]
        site_id = await register_sim_fleet(run.dsn, sim, run.topics, f"Site {number}", miners)
        body = {
            "site_id": site_id,
            "plan_type": "manual",
            "target_reduction_mw": str(Decimal(nameplate) * len(miners) / 1_000_000),  # all of them
            "hold_minutes": SCALE.hold_minutes,
        }
        proposed = await world.call(ADMIN, "POST", "/api/v1/plans/", body)
        assert proposed.status_code == 201, proposed.text
        plan_ids.append(proposed.json()["plan_id"])
    return plan_ids


async def _every_plan_recovered(dsn: str) -> bool:
    rows = await fetch(dsn, "SELECT DISTINCT status, phase FROM curtailment_plans")
    return [tuple(row) for row in rows] == [("executed", "recovered")]


async def _executor_holder(dsn: str, processes: ServiceProcesses) -> str | None:
    """The instance holding the executor's lease (by its process id), if any."""
    rows = await fetch(dsn, "SELECT pid FROM scheduler_locks WHERE job_key = 'plans/executor'")
    pids = {service.process.pid: name for name, service in processes.services.items() if service.process}
    return pids.get(rows[0]["pid"]) if rows else None


async def change_instances(run: Run, processes: ServiceProcesses, rng: random.Random) -> None:
    """Every 0.5 to 2 s while a plan starts, shuts down or recovers (nothing changes while every plan holds),
    until every plan recovered: start a stopped instance, or stop or kill a running one (the executor's lease
    holder half the time); at least one runs."""
    names = [f"plans#{number}" for number in range(1, INSTANCES + 1)]
    while (phases := await _phases(run.dsn)) != {"recovered": SCALE.sites}:
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        processes.check_alive()
        if phases == {"holding": SCALE.sites}:
            continue
        running = [name for name in names if name in processes.services and processes.services[name].running]
        idle = [name for name in names if name not in running]
        if idle and (len(running) < 2 or rng.random() < 0.4):
            name = rng.choice(idle)
            processes.start(name, "plans")
            run.changes.append(f"started {name}")
            continue
        holder = await _executor_holder(run.dsn, processes)
        victim = holder if holder in running and rng.random() < 0.5 else rng.choice(running)
        role = " (the executor)" if victim == holder else ""
        service = processes.services[victim]
        plans = ", ".join(f"{count} {phase}" for phase, count in (await _phases(run.dsn)).items())
        if rng.random() < 0.5:
            service.stop()
            run.changes.append(f"stopped {victim}{role}; plans {plans}")
        else:
            service.kill()
            service.start()
            run.changes.append(f"killed and restarted {victim}{role}; plans {plans}")


async def _phases(dsn: str) -> dict[str, int]:
    """How many plans are in each phase."""
    rows = await fetch(dsn, "SELECT phase, count(*) FROM curtailment_plans GROUP BY phase ORDER BY phase")
    return {row["phase"]: row["count"] for row in rows}


async def _settled(run: Run) -> bool:
    """Every plan recovered, every event published, and the group's positions at the ends of its topics."""
    if not await _every_plan_recovered(run.dsn):
        return False
    unpublished = await fetch(run.dsn, "SELECT count(*) FROM outbox WHERE status = 'pending'")
    if unpublished[0][0]:
        return False
    bootstrap = run.env["WINDHASH_KAFKA_BOOTSTRAP"]
    for topic in (run.topics.curtailment_plans, run.topics.miner_status):
        if not await writer_caught_up(run.dsn, bootstrap, topic, GROUP):
            return False
    return True


async def run_plans(run: Run, rng: random.Random | None) -> dict[str, list[tuple[str, bool]]]:
    """The plans of `SCALE` executed by one worker, or (with `rng`) by instances that come and go; returns
    every simulated miner's curtail commands as the simulator received them (mode, whether it obeyed)."""
    spec = FleetSpec(
        miners=SCALE.sites * SCALE.miners_per_site,
        base_address=loopback_block(),
        seed=SEED % 100_000,
        models=("S19J_PRO",),
    )
    with FleetSimServer(spec) as sim:
        world = await PlansWorld.open(run.dsn, run.topics)
        processes = service_processes(run.env, run.log_dir, WINDHASH_PLANS_STAGGER_S=str(STAGGER_S))
        try:
            await world.add(ADMIN, Role.ADMIN)
            plan_ids = await _propose_and_register(run, sim, world)
            processes.start("collector", "fleet", "collector")
            processes.start("writer", "fleet", "writer")

            async def all_read() -> bool:
                rows = await fetch(run.dsn, "SELECT count(DISTINCT miner_id) FROM miner_telemetry")
                return bool(rows[0][0] == len(sim.miners))

            await wait_until(all_read, 180, processes)
            processes.start("plans#1", "plans")
            for plan_id in plan_ids:
                approved = await world.call(ADMIN, "POST", f"/api/v1/plans/{plan_id}/approve")
                assert approved.is_success, approved.text
            if rng is not None:
                await change_instances(run, processes, rng)
            await wait_until(lambda: _settled(run), SCALE.deadline_s, processes)
        finally:
            processes.stop_all()
            await world.close()
        return {
            miner.serial: [(command.mode, command.changed) for command in sim.commands(miner.serial)]
            for miner in sim.miners
        }


_BY_SITE = " JOIN curtailment_plans AS p USING (plan_id) JOIN hosting_sites AS s ON s.site_id = p.site_id"
# Row by row, keyed by site name and serial (ids are each database's own).
PLANS_TABLES = {
    "curtailment_plans": "SELECT s.name, p.plan_type, p.target_reduction_mw, p.status, p.phase,"
    " p.failure_reason, p.miners_affected, p.power_reduced_mw > 0, p.created_by_actor"
    " FROM curtailment_plans AS p JOIN hosting_sites AS s USING (site_id)",
    "curtailment_plan_miners": "SELECT s.name, m.serial_number, pm.shutdown_order, pm.drawing_w,"
    " pm.efficiency_j_per_th, pm.temperature_c"
    " FROM curtailment_plan_miners AS pm JOIN hosting_miners AS m USING (miner_id)" + _BY_SITE,
    "curtailment_plan_steps": "SELECT s.name, m.serial_number, st.command, st.round, st.sequence, st.state,"
    " st.last_error FROM curtailment_plan_steps AS st JOIN hosting_miners AS m USING (miner_id)" + _BY_SITE,
    "curtailment_plan_events": "SELECT s.name, array_agg((e.event_type, e.status, e.phase, e.actor)::text"
    " ORDER BY e.event_id) FROM curtailment_plan_events AS e" + _BY_SITE + " GROUP BY s.name",
    "hosting_miners": "SELECT serial_number, status FROM hosting_miners",
    "miner_operation_log": "SELECT m.serial_number, o.operation, o.actor, o.details->>'round'"
    " FROM miner_operation_log AS o JOIN hosting_miners AS m USING (miner_id)"
    " WHERE o.operation LIKE 'curtail_%'",
    "audit_log (plans)": "SELECT a.actor, a.action, s.name, a.before->>'status', a.before->>'phase',"
    " a.after->>'status', a.after->>'phase' FROM audit_log AS a"
    " JOIN curtailment_plans AS p ON a.target_id = p.plan_id::text JOIN hosting_sites AS s USING (site_id)"
    " WHERE a.target_type = 'curtailment_plan'",
    "plan events in the outbox": "SELECT s.name, o.payload->>'event_type', o.payload->>'status',"
    " o.payload->>'phase' FROM outbox AS o"
    " JOIN curtailment_plans AS p ON (o.payload->>'plan_id')::bigint = p.plan_id"
    " JOIN hosting_sites AS s USING (site_id) WHERE o.topic LIKE '%.curtailment-plans.v1'",
    "dead letters in the outbox": "SELECT payload->>'reason' FROM outbox WHERE topic LIKE '%.dead-letter.v1'",
    "outbox rows not published": "SELECT status, payload FROM outbox WHERE status <> 'published'",
}


async def test_plans_workers_started_stopped_and_killed_mid_plan_leave_every_table_as_one_worker_does(
    service_env: dict[str, str], reference_dsn: str, reference_topic_prefix: str, tmp_path: Path
) -> None:
    started = asyncio.get_running_loop().time()
    reference_env = {
        **service_env,
        "WINDHASH_DATABASE_URL": reference_dsn,
        "WINDHASH_TOPIC_PREFIX": reference_topic_prefix,
    }
    single, scaled = Run(reference_env, tmp_path / "single"), Run(service_env, tmp_path / "scaled")
    single_commands = await run_plans(single, None)
    scaled_commands = await run_plans(scaled, random.Random(SEED))
    took = asyncio.get_running_loop().time() - started
    print(f"\nplans instances (seed {SEED}, {took:.0f} s):\n  " + "\n  ".join(scaled.changes))

    once_each = [("sleep", True), ("wakeup", True)]
    assert single_commands == {serial: once_each for serial in single_commands}
    assert scaled_commands == single_commands, "a miner got a command twice, or missed one"
    assert sum("executor" in change for change in scaled.changes) >= 1, "the executor never changed hands"
    assert sum(change.startswith(("stopped", "killed")) for change in scaled.changes) >= SCALE.min_disruptions
    for run in (single, scaled):
        bootstrap = run.env["WINDHASH_KAFKA_BOOTSTRAP"]
        assert sum((await end_offsets(bootstrap, run.topics.dead_letter)).values()) == 0
    expected, actual = await rows_of(single.dsn, PLANS_TABLES), await rows_of(scaled.dsn, PLANS_TABLES)
    assert len(expected["curtailment_plan_steps"]) == 2 * SCALE.sites * SCALE.miners_per_site
    assert expected["dead letters in the outbox"] == expected["outbox rows not published"] == []
    for table in PLANS_TABLES:
        assert actual[table] == expected[table], f"{table}: the scaled-out run differs from one worker's"
