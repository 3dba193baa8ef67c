"""The ingestor's Prometheus metrics (served on `metrics_port` by the service)."""

from prometheus_client import Counter, Histogram
from windhash_common.kafka_broker import kafka_metrics

ELEXON_REQUESTS = Counter(
    "windhash_ingestor_elexon_requests_total",
    "Requests to Elexon by endpoint and outcome (HTTP status, or timeout / transport_error).",
    ["endpoint", "status"],
)
ELEXON_LATENCY = Histogram(
    "windhash_ingestor_elexon_request_seconds",
    "Time to a complete response from Elexon.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
ELEXON_RETRIES = Counter(
    "windhash_ingestor_elexon_retries_total", "Requests to Elexon retried, by reason.", ["endpoint", "reason"]
)
ELEXON_FAILURES = Counter(
    "windhash_ingestor_elexon_failures_total", "Requests that failed after every retry.", ["endpoint"]
)
PERIODS_PUBLISHED = Counter(
    "windhash_ingestor_periods_published_total", "Settlement-period events published (acknowledged by Kafka)."
)
PERIODS_UNCHANGED = Counter(
    "windhash_ingestor_periods_unchanged_total",
    "Re-fetched periods whose content had not changed (not published).",
)
PERIODS_FAILED = Counter(
    "windhash_ingestor_periods_failed_total",
    "Periods not published, by reason: fetch (Elexon failed), invalid (bad payload), publish (Kafka).",
    ["reason"],
)
WIND_OUTPUT_DAYS = Counter(
    "windhash_ingestor_wind_output_days_total",
    "Days of wind output (FUELHH + AGWS) fetched, by outcome: stored, or failed (the fetch failed).",
    ["outcome"],
)
WIND_OUTPUT_ROWS_SKIPPED = Counter(
    "windhash_ingestor_wind_output_rows_skipped_total",
    "Rows of wind output answers skipped because windhash cannot store them (table wind_output_problems).",
)
RECORDS_KEPT = Counter("windhash_ingestor_records_kept_total", "Curtailment records in published periods.")
DEAD_LETTERS = Counter("windhash_ingestor_dead_letters_total", "Payloads sent to the dead-letter topic.")
DB_RETRIES = Counter(
    "windhash_ingestor_db_retries_total", "Progress reads and writes retried after an error."
)
# FastStream's publish metrics (faststream_published_messages_*), registered here so they are known from the
# start; the service's broker (windhash_common.kafka_broker) reports into the same series.
KAFKA_PUBLISHES = kafka_metrics("ingestor")
