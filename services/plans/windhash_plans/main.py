"""`windhash plans`: the plans worker until SIGTERM or SIGINT; exit non-zero when it fails.

`/metrics`, `/health` and `/ready` are served on `WINDHASH_METRICS_PORT` (9108).
"""

import asyncio
import signal
import sys

import structlog
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging
from windhash_common.probe_server import serve_probes
from windhash_common.readiness import Readiness

from windhash_plans.settings import PlansSettings
from windhash_plans.worker import new_readiness, run_worker

log = structlog.get_logger(__name__)


def run() -> None:
    settings = PlansSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = new_readiness()
    if settings.metrics_port:
        serve_probes(settings.metrics_host, settings.metrics_port, readiness)
    try:
        event_loop.run(_run_until_signalled(settings, readiness))
    except Exception:
        log.exception("plans worker stopped on an error")
        sys.exit(1)


async def _run_until_signalled(settings: PlansSettings, readiness: Readiness) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, stop, readiness=readiness)
