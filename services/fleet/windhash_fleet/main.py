"""The fleet collector service (`windhash fleet collector`): /metrics, /health and /ready, signals, the
collector."""

import asyncio
import signal

from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging
from windhash_common.worker_probes import serve_worker_probes, with_dependency_probes

from windhash_fleet.collector import run_collector
from windhash_fleet.settings import FleetSettings


async def serve(settings: FleetSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_collector(settings, stop)


def run() -> None:
    settings = FleetSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = serve_worker_probes("fleet", settings)
    event_loop.run(with_dependency_probes(serve(settings), readiness, settings))
