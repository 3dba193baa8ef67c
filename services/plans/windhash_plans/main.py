"""`windhash plans`: the plans worker until SIGTERM or SIGINT; exit non-zero when it fails.

`/metrics`, `/health` and `/ready` are served on `WINDHASH_METRICS_PORT` (9108).
"""

from windhash_common.logging_setup import configure_logging
from windhash_common.probe_server import serve_probes
from windhash_common.worker_process import run_until_signalled

from windhash_plans.settings import PlansSettings
from windhash_plans.worker import new_readiness, run_worker


def run() -> None:
    settings = PlansSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = new_readiness()
    if settings.metrics_port:
        serve_probes(settings.metrics_host, settings.metrics_port, readiness)
    run_until_signalled(lambda stop: run_worker(settings, stop, readiness=readiness), "plans worker")
