"""`windhash calculator`: run the calculator until SIGTERM or SIGINT; exit non-zero when it fails.

`/metrics`, `/health` and `/ready` are served on `WINDHASH_METRICS_PORT` (9102).
"""

import asyncio
import signal
import sys

import structlog
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging
from windhash_common.probe_server import serve_probes
from windhash_common.readiness import Readiness

from windhash_calculator.runner import new_readiness, run_calculator
from windhash_calculator.settings import CalculatorSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = CalculatorSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = new_readiness()
    serve_probes(settings.metrics_host, settings.metrics_port, readiness)
    log.info("metrics and probes served", port=settings.metrics_port)
    try:
        event_loop.run(_run_with_signals(settings, readiness))
    except Exception:
        log.exception("calculator stopped on an error")
        sys.exit(1)


async def _run_with_signals(settings: CalculatorSettings, readiness: Readiness) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    await run_calculator(settings, stop, readiness)
