"""Every worker serves /health and /ready on its metrics port (what the Docker HEALTHCHECK, compose and the
Kubernetes probes ask), and `windhash health` (the image's HEALTHCHECK) answers 0 for it.

Each service runs as its own process against the session's stack and the simulators, as in production."""

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from windhash_cli.service_processes import WINDHASH, ServiceProcesses, wait_for_http
from windhash_elexon_sim import ElexonSimServer
from windhash_market_sim.server import MarketSimServer
from windhash_stack.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WORKERS = {
    "ingestor": ["ingestor"],
    "calculator": ["calculator"],
    "aggregator": ["aggregator"],
    "reconciler": ["reconciler"],
    "market": ["market"],
    "fleet": ["fleet", "collector"],
}


@pytest.fixture
def sims() -> Iterator[tuple[ElexonSimServer, MarketSimServer]]:
    with ElexonSimServer() as elexon, MarketSimServer() as market:
        yield elexon, market


async def test_every_worker_answers_health_and_ready(
    service_env: dict[str, str], sims: tuple[ElexonSimServer, MarketSimServer], tmp_path: Path
) -> None:
    elexon, market = sims
    env = {
        **service_env,
        "WINDHASH_ELEXON_BASE_URL": elexon.base_url,
        "WINDHASH_EXPLORER_URL": market.url,
        "WINDHASH_PRICE_API_URL": market.url,
        "WINDHASH_FOLLOW_REVISION_DAYS": "0",
        "WINDHASH_SELF_CHECK_PREVIOUS_MONTH": "false",
        "WINDHASH_CALCULATOR_GROUP": f"probes-calc-{service_env['WINDHASH_TOPIC_PREFIX']}",
        "WINDHASH_AGGREGATOR_GROUP": f"probes-agg-{service_env['WINDHASH_TOPIC_PREFIX']}",
    }
    ports = {name: free_port() for name in WORKERS}
    processes = ServiceProcesses(env=env, log_dir=tmp_path)
    try:
        for name, args in WORKERS.items():
            processes.start(name, *args, extra_env={"WINDHASH_METRICS_PORT": str(ports[name])})
        for name, port in ports.items():
            base = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_for_http, f"{base}/health", 90, processes)
            await asyncio.to_thread(wait_for_http, f"{base}/ready", 90, processes)
            async with httpx.AsyncClient() as client:
                ready = (await client.get(f"{base}/ready")).json()
            assert ready["ready"] and ready["dependencies"]["postgresql"]["up"], (name, ready)
            checked = await asyncio.to_thread(
                subprocess.run,
                [*WINDHASH, "health"],
                env={**os.environ, **env, "WINDHASH_METRICS_PORT": str(port)},
                capture_output=True,
                text=True,
            )
            assert checked.returncode == 0, (name, checked.stderr)
    except BaseException:
        for service in processes.services.values():
            print(f"--- {service.name}\n{service.log_tail(20)}")
        raise
    finally:
        processes.stop_all()
