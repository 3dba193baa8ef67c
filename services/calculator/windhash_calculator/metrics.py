"""The calculator's Prometheus metrics (served on `metrics_port`, 9102 by default)."""

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
MESSAGES_SKIPPED = Counter(
    "windhash_calculator_messages_skipped_total", "Messages below the stored position (already applied)"
)
PERIODS_PENDING = Gauge(
    "windhash_calculator_periods_pending_difficulty", "Settlement periods waiting for their day's difficulty"
)
BATCH_SECONDS = Histogram(
    "windhash_calculator_batch_seconds",
    "Time to apply one batch in PostgreSQL",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DEAD_LETTERS = Counter(
    "windhash_calculator_dead_letters_total", "Messages dead-lettered, by reason", ["reason"]
)
OUTBOX_BACKLOG = Gauge("windhash_calculator_outbox_backlog", "Outbox rows not yet published")
OUTBOX_PUBLISHED = Counter("windhash_calculator_outbox_published_total", "Outbox rows published to Kafka")
CONSUMER_LAG = Gauge(
    "windhash_calculator_consumer_lag", "Messages behind the end of the partition", ["topic", "partition"]
)
DB_RETRIES = Counter("windhash_calculator_db_retries_total", "Database operations retried after an error")
# FastStream's publish metrics (faststream_published_messages_*), registered here so they are known from the
# start; the service's broker (windhash_common.kafka_broker) reports into the same series.
KAFKA_PUBLISHES = kafka_metrics("calculator")
