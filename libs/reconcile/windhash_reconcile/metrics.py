"""Reconciliation's Prometheus metrics (default registry: served by whichever service runs the self-check)."""

from prometheus_client import Counter, Gauge

COMPLETENESS = Gauge(
    "windhash_reconciliation_completeness_ratio",
    "Complete settlement days / days checked, by window (recent: the self-check's days; previous_month).",
    ["window"],
)
SELF_CHECK_RUNS = Counter(
    "windhash_reconciliation_self_check_runs_total",
    "Self-check attempts by outcome: ran, skipped (another instance held the lock), failed.",
    ["outcome"],
)
PERIODS_REPUBLISHED = Counter(
    "windhash_reconciliation_periods_republished_total",
    "Periods the self-check found revised at Elexon and republished.",
)
PERIODS_REPLAYED = Counter(
    "windhash_reconciliation_periods_replayed_total", "Periods replayed through the calculator's write path."
)
