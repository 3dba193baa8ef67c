"""`windhash market`: run the market service until SIGTERM or SIGINT; exit non-zero when it fails. Its HTTP
app (routes, /health, /ready, /metrics) is served on WINDHASH_METRICS_HOST:WINDHASH_METRICS_PORT (runner)."""

import asyncio
import signal
import sys

import structlog
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging

from windhash_market.runner import run_market
from windhash_market.settings import MarketSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = MarketSettings()
    configure_logging(settings.log_level, settings.log_json)
    log.info("market service starting", http=f"{settings.metrics_host}:{settings.metrics_port}")
    try:
        event_loop.run(_run_with_signals(settings))
    except Exception:
        log.exception("market service stopped on an error")
        sys.exit(1)


async def _run_with_signals(settings: MarketSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    await run_market(settings, stop)
