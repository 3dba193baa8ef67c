"""`windhash aggregator`: run the aggregator until SIGTERM or SIGINT; exit non-zero when it fails.

`/metrics`, `/health` and `/ready` are served on `WINDHASH_METRICS_PORT` (9103).
"""

import structlog
from windhash_common.logging_setup import configure_logging
from windhash_common.probe_server import serve_probes
from windhash_common.worker_process import run_until_signalled

from windhash_aggregator.runner import new_readiness, run_aggregator
from windhash_aggregator.settings import AggregatorSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = AggregatorSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = new_readiness()
    if settings.metrics_port:
        serve_probes(settings.metrics_host, settings.metrics_port, readiness)
        log.info("metrics and probes served", host=settings.metrics_host, port=settings.metrics_port)
    run_until_signalled(lambda stop: run_aggregator(settings, stop, readiness=readiness), "aggregator")
    log.info("aggregator stopped")
