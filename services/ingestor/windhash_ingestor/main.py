"""The ingestor service (`windhash ingestor`, `windhash ingest follow`): follow mode, Prometheus metrics."""

import asyncio
import logging
import signal

import structlog
from prometheus_client import start_http_server
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging

from windhash_ingestor.follow import follow
from windhash_ingestor.runtime import open_runtime
from windhash_ingestor.settings import IngestorSettings

log = structlog.get_logger(__name__)


async def serve(settings: IngestorSettings, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with open_runtime(settings) as runtime:
        log.info(
            "ingestor_started", elexon=settings.elexon_base_url, topic=settings.topics.settlement_periods
        )
        checker = asyncio.create_task(_self_check(settings, stop)) if settings.self_check else None
        try:
            await follow(runtime, stop)
        finally:
            if checker is not None:
                checker.cancel()  # safe: every step of a self-check is transactional and idempotent
    log.info("ingestor_stopped")


async def _self_check(settings: IngestorSettings, stop: asyncio.Event) -> None:
    # Imported here: reconciliation builds on the ingestor, not the other way round.
    from windhash_reconcile.self_check import run_self_check_loop
    from windhash_reconcile.settings import ReconcileSettings

    await run_self_check_loop(ReconcileSettings(), stop)


def quiet_http_logs() -> None:
    # httpx logs every request at INFO; the request metrics already count them, and retries are logged here.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run() -> None:
    settings = IngestorSettings()
    configure_logging(settings.log_level, settings.log_json)
    quiet_http_logs()
    start_http_server(settings.metrics_port, addr=settings.metrics_host)
    event_loop.run(serve(settings))
