"""The ingestor service (`windhash ingestor`, `windhash ingest follow`): follow mode; /metrics, /health and
/ready on WINDHASH_METRICS_PORT."""

import asyncio
import logging
import signal

import structlog
from windhash_common import event_loop
from windhash_common.logging_setup import configure_logging
from windhash_common.worker_probes import serve_worker_probes, with_dependency_probes

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
        await follow(runtime, stop)
    log.info("ingestor_stopped")


def quiet_http_logs() -> None:
    # httpx logs every request at INFO; the request metrics already count them, and retries are logged here.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run() -> None:
    settings = IngestorSettings()
    configure_logging(settings.log_level, settings.log_json)
    quiet_http_logs()
    readiness = serve_worker_probes("ingestor", settings)
    event_loop.run(with_dependency_probes(serve(settings), readiness, settings))
