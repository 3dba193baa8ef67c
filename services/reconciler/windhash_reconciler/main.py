"""The reconciler service (`windhash reconciler`): the daily self-check, until SIGTERM or SIGINT.

`/metrics` (`windhash_reconciliation_completeness_ratio`), `/health` and `/ready` are served on
`WINDHASH_METRICS_PORT` (9104). The re-fetching it needs is passed in by the entry point (`refetch`).
"""

import asyncio
import signal

import structlog
from windhash_common.db import migrate_database
from windhash_common.dependency_retries import POSTGRESQL, through_outages
from windhash_common.readiness import run_probes
from windhash_common.service_loops import run_loops
from windhash_common.worker_probes import dependency_probes, serve_worker_probes

from windhash_reconciler.refetch import PeriodRefetcher
from windhash_reconciler.self_check import run_self_check_loop
from windhash_reconciler.settings import ReconcilerSettings

log = structlog.get_logger(__name__)
SERVICE = "reconciler"


async def serve(settings: ReconcilerSettings, refetcher: PeriodRefetcher, stop: asyncio.Event) -> None:
    readiness = serve_worker_probes(SERVICE, settings)
    await through_outages(
        lambda: migrate_database(settings.database_url), "migrate", [POSTGRESQL], readiness=readiness
    )
    log.info("reconciler running", interval_seconds=settings.self_check_interval_seconds)
    await run_loops(
        {
            "self-check": run_self_check_loop(settings, refetcher, stop),
            "probes": run_probes(
                readiness,
                dependency_probes(settings),
                stop,
                interval_seconds=10.0,
            ),
        },
        stop,
    )
    log.info("reconciler stopped")


async def serve_until_signalled(settings: ReconcilerSettings, refetcher: PeriodRefetcher) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, refetcher, stop)
