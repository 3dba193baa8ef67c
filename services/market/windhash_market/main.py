"""`windhash market`: run the market service until SIGTERM or SIGINT; exit non-zero when it fails. Its HTTP
app (routes, /health, /ready, /metrics) is served on WINDHASH_METRICS_HOST:WINDHASH_METRICS_PORT (runner)."""

import structlog
from windhash_common.logging_setup import configure_logging
from windhash_common.worker_process import run_until_signalled

from windhash_market.runner import run_market
from windhash_market.settings import MarketSettings

log = structlog.get_logger(__name__)


def run() -> None:
    settings = MarketSettings()
    configure_logging(settings.log_level, settings.log_json)
    log.info("market service starting", http=f"{settings.metrics_host}:{settings.metrics_port}")
    run_until_signalled(lambda stop: run_market(settings, stop), "market service")
