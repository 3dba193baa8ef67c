"""The local stack end to end, on its own state dir and ports so the shared session stack is untouched."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from windhash_stack import LocalStack, Server, StackSettings
from windhash_stack.ports import free_port
from windhash_stack.processes import is_running, port_open, process_tree

pytestmark = pytest.mark.integration


@pytest.fixture
async def own_stack() -> AsyncIterator[LocalStack]:
    base = StackSettings()
    # Its own state dir and free ports, so concurrent runs never stop each other's servers. Under the repo's
    # .windhash because PostgreSQL's unprivileged account cannot enter /tmp/pytest-of-root; jars are shared.
    state_dir = base.state_dir / "test-stacks" / str(os.getpid())
    settings = base.model_copy(
        update={
            "state_dir": state_dir,
            "jars_dir": base.jars_root,
            "kafka_port": free_port(),
            "kafka_controller_port": free_port(),
            "postgres_port": free_port(),
            "dynamodb_port": free_port(),
            "kafka_jmx_exporter_port": free_port(),
        }
    )
    stack = LocalStack(settings)
    try:
        yield stack
    finally:
        await stack.down()
        shutil.rmtree(state_dir, ignore_errors=True)


def _cli(settings: StackSettings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WINDHASH_STACK_STATE_DIR": str(settings.state_dir),
        "WINDHASH_STACK_JARS_DIR": str(settings.jars_root),
        "WINDHASH_STACK_KAFKA_PORT": str(settings.kafka_port),
        "WINDHASH_STACK_KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "WINDHASH_STACK_POSTGRES_PORT": str(settings.postgres_port),
        "WINDHASH_STACK_DYNAMODB_PORT": str(settings.dynamodb_port),
        "WINDHASH_STACK_KAFKA_JMX_EXPORTER_PORT": str(settings.kafka_jmx_exporter_port),
    }
    windhash = Path(sys.executable).parent / "windhash"
    return subprocess.run(
        [str(windhash), "stack", *args], env=env, capture_output=True, text=True, check=False
    )


async def _count_rows(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS survives_restart (id int PRIMARY KEY)")
        await connection.execute("INSERT INTO survives_restart VALUES (1) ON CONFLICT DO NOTHING")
        count: int = await connection.fetchval("SELECT count(*) FROM survives_restart")
        return count
    finally:
        await connection.close()


async def test_up_status_restart_down_leaves_nothing(own_stack: LocalStack) -> None:
    settings = own_stack.settings
    endpoints = await own_stack.up()
    assert endpoints.kafka_bootstrap == f"127.0.0.1:{settings.kafka_port}"
    assert own_stack.last_up is not None
    assert set(own_stack.last_up.started) == set(Server)

    status = await own_stack.status()
    assert status.healthy, status
    cli_status = _cli(settings, "status", "--json")
    assert cli_status.returncode == 0, cli_status.stderr
    reported = json.loads(cli_status.stdout)
    assert reported["kafka_bootstrap"] == endpoints.kafka_bootstrap
    assert reported["postgres_dsn"] == endpoints.postgres_dsn
    assert reported["dynamodb_endpoint"] == endpoints.dynamodb_endpoint
    assert all(server["healthy"] for server in reported["servers"].values())

    again = await own_stack.start()
    assert again.started == ()
    assert set(again.already_running) == set(Server)

    assert await _count_rows(endpoints.postgres_dsn) == 1
    before = own_stack.pids()
    await own_stack.restart(Server.KAFKA)
    await own_stack.restart(Server.POSTGRES)
    after = own_stack.pids()
    assert after[Server.KAFKA] != before[Server.KAFKA]
    assert after[Server.POSTGRES] != before[Server.POSTGRES]
    assert after[Server.DYNAMODB] == before[Server.DYNAMODB]
    assert (await own_stack.status()).healthy
    assert await _count_rows(endpoints.postgres_dsn) == 1  # committed data outlives the restart
    assert await own_stack.kill(Server.POSTGRES)  # a crash, not a clean stop
    await own_stack.start([Server.POSTGRES])
    assert await _count_rows(endpoints.postgres_dsn) == 1
    after = own_stack.pids()

    processes = set().union(*(process_tree(pid) for pid in after.values()))
    cli_down = _cli(settings, "down")
    assert cli_down.returncode == 0, cli_down.stderr

    assert own_stack.pids() == {}
    left = {pid for pid in processes if is_running(pid)}
    assert left == set(), f"processes left behind: {left}"
    ports = (
        settings.kafka_port,
        settings.kafka_controller_port,
        settings.postgres_port,
        settings.dynamodb_port,
    )
    assert [port for port in ports if port_open(settings.host, port)] == []
    status = await own_stack.status()
    assert not any(server.running for server in status.servers)
