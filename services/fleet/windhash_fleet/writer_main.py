"""`windhash fleet writer`: the telemetry writer until SIGTERM or SIGINT; exit non-zero when it fails.

`/metrics`, `/health` and `/ready` are served on `WINDHASH_FLEET_WRITER_METRICS_PORT` (9107).
"""

from windhash_common.logging_setup import configure_logging
from windhash_common.probe_server import serve_probes
from windhash_common.worker_process import run_until_signalled

from windhash_fleet.settings import FleetSettings
from windhash_fleet.writer_runner import new_readiness, run_writer


def run() -> None:
    settings = FleetSettings()
    configure_logging(settings.log_level, settings.log_json)
    readiness = new_readiness()
    if settings.fleet_writer_metrics_port:
        serve_probes(settings.metrics_host, settings.fleet_writer_metrics_port, readiness)
    run_until_signalled(lambda stop: run_writer(settings, stop, readiness=readiness), "telemetry writer")
