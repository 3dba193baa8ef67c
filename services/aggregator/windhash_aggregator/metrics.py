"""The aggregator's own Prometheus metrics (served on `metrics_port`, 9103 by default).

What every consumer exports (messages applied/skipped/dead-lettered, batch seconds, lag) comes from the
consumer runtime (`windhash_consumer_*{consumer="windhash-aggregator"}`); readiness and retries from
`windhash_ready`, `windhash_dependency_up` and `windhash_dependency_retries_total`.
"""

from prometheus_client import Counter, Histogram
from windhash_common.kafka_broker import kafka_metrics

SUMMARY_FRESHNESS = Histogram(
    "windhash_aggregator_summary_freshness_seconds",
    "Seconds from a period's calculation (event calculated_at) to its day's summaries being committed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
DAYS_RECOMPUTED = Counter(
    "windhash_aggregator_days_recomputed_total", "Days whose summaries were recomputed."
)
KAFKA_PUBLISHES = kafka_metrics("aggregator")
