"""The reconciler's Prometheus metric (served on its metrics port, 9104, by `windhash reconciler`).

One gauge only: the dashboards (business, pipeline health) and the WindhashCompletenessBelowTarget alert read
it. What each self-check did (ran or skipped, periods republished and replayed) is in its structured log.
"""

from prometheus_client import Gauge

COMPLETENESS = Gauge(
    "windhash_reconciliation_completeness_ratio",
    "Complete settlement days / days checked, by window (recent: the self-check's days; previous_month).",
    ["window"],
)
