"""The calculator's own Prometheus metrics (served on `metrics_port`, 9102 by default).

What every consumer exports (messages applied/skipped/dead-lettered, batch seconds, lag) comes from the
consumer runtime (`windhash_consumer_*{consumer="windhash-calculator"}`), the outbox relay's from
`windhash_outbox_*{service="calculator"}`, readiness and retries from `windhash_ready`,
`windhash_dependency_up` and `windhash_dependency_retries_total`.
"""

from prometheus_client import Counter, Gauge, Histogram
from windhash_common.kafka_broker import kafka_metrics

RECORDS_WRITTEN = Counter("windhash_calculator_records_written_total", "Curtailment records written")
CALCULATIONS_WRITTEN = Counter(
    "windhash_calculator_calculations_written_total", "Bitcoin calculation rows written (record × model)"
)
PERIODS_APPLIED = Counter(
    "windhash_calculator_periods_applied_total", "Period snapshots applied, by resulting status", ["status"]
)
SNAPSHOTS_IGNORED = Counter(
    "windhash_calculator_snapshots_ignored_total", "Snapshots older than the stored one, ignored"
)
WRITE_SECONDS = Histogram(
    "windhash_calculator_write_seconds",
    "Time to write one batch's periods, records and calculations inside its transaction",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
PERIODS_PENDING = Gauge(
    "windhash_calculator_periods_pending_difficulty", "Settlement periods waiting for their day's difficulty"
)
PERIODS_UNSTORABLE = Gauge(
    "windhash_calculator_periods_unstorable",
    "Settlement periods refused because their derived figures cannot be stored (table unstorable_periods)",
)
PERIODS_REFUSED = Counter(
    "windhash_calculator_periods_refused_total",
    "Period snapshots refused and dead-lettered because their derived figures cannot be stored",
)
# FastStream's publish metrics (faststream_published_messages_*), registered here so they are known from the
# start; the service's broker (windhash_common.kafka_broker) reports into the same series.
KAFKA_PUBLISHES = kafka_metrics("calculator")
