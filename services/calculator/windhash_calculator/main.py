"""`windhash calculator`: run the calculator until SIGTERM or SIGINT; exit non-zero when it fails."""

import asyncio
import signal
import sys

import structlog
from prometheus_client import start_http_server
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging

from windhash_calculator.runner import run_calculator
from windhash_calculator.settings import CalculatorSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = CalculatorSettings()
    configure_logging(settings.log_level, settings.log_json)
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    log.info("metrics served", port=settings.metrics_port)
    try:
        event_loop.run(_run_with_signals(settings))
    except Exception:
        log.exception("calculator stopped on an error")
        sys.exit(1)


async def _run_with_signals(settings: CalculatorSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    await run_calculator(settings, stop)
