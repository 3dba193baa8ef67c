"""The aggregator's Prometheus metrics (served on `metrics_port`, 9103 by default)."""

from prometheus_client import Counter, Histogram

SUMMARY_FRESHNESS = Histogram(
    "windhash_aggregator_summary_freshness_seconds",
    "Seconds from a period's calculation (event calculated_at) to its day's summaries being committed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
BATCH_SECONDS = Histogram(
    "windhash_aggregator_batch_seconds",
    "Seconds to apply one batch of events (recompute and commit).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_APPLIED = Counter("windhash_aggregator_events_applied_total", "Period-calculated events applied.")
EVENTS_SKIPPED = Counter(
    "windhash_aggregator_events_skipped_total", "Events at or below the stored position (already applied)."
)
DEAD_LETTERS = Counter(
    "windhash_aggregator_dead_letters_total", "Malformed messages sent to the dead-letter topic."
)
DAYS_RECOMPUTED = Counter(
    "windhash_aggregator_days_recomputed_total", "Days whose summaries were recomputed."
)
DB_RETRIES = Counter("windhash_aggregator_db_retries_total", "Database transactions retried after an error.")
