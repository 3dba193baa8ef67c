"""`windhash calculator`: run the calculator until SIGTERM or SIGINT; exit non-zero when it fails.

`/metrics`, `/health` and `/ready` are served on `WINDHASH_METRICS_PORT` (9102).
"""

import structlog
from windhash_common.logging_setup import configure_logging
from windhash_common.probe_server import serve_probes
from windhash_common.worker_process import run_until_signalled

from windhash_calculator.runner import new_readiness, run_calculator
from windhash_calculator.settings import CalculatorSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = CalculatorSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = new_readiness()
    serve_probes(settings.metrics_host, settings.metrics_port, readiness)
    log.info("metrics and probes served", port=settings.metrics_port)
    run_until_signalled(lambda stop: run_calculator(settings, stop, readiness), "calculator")
