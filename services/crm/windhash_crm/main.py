"""`windhash crm`: run the CRM service until SIGTERM or SIGINT; exit non-zero when it fails."""

import asyncio
import signal
import sys

import structlog
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging

from windhash_crm.service import run_crm
from windhash_crm.settings import CrmSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = CrmSettings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        event_loop.run(_run_with_signals(settings))
    except Exception:
        log.exception("crm service stopped on an error")
        sys.exit(1)


async def _run_with_signals(settings: CrmSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop.set)
    await run_crm(settings, stop)
