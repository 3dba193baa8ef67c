"""The telemetry writer's own Prometheus metrics (served on `fleet_writer_metrics_port`, 9107); the consumer
runtime adds `windhash_consumer_*{consumer="windhash-fleet-writer"}` (lag, batches, dead letters)."""

from prometheus_client import Counter, Gauge, Histogram

ROWS_WRITTEN = Counter("windhash_fleet_writer_rows_total", "Telemetry rows written to miner_telemetry.")
DUPLICATES = Counter(
    "windhash_fleet_writer_duplicates_total", "Readings already stored (natural key), kept once."
)
READING_LAG = Histogram(
    "windhash_fleet_writer_reading_lag_seconds",
    "From a reading's time (the collector's receipt of the reply) to its row committed; every reading of a"
    " batch up to 1,000, a uniform sample of a larger one.",
    buckets=(0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0),
)
PARTITIONS = Gauge("windhash_fleet_telemetry_partitions", "Daily partitions of miner_telemetry.")
PARTITION_DAYS_AHEAD = Gauge(
    "windhash_fleet_telemetry_partition_days_ahead",
    "Days from today (UTC) to the newest partition: readings of later days would wait for theirs.",
)
MAINTENANCE_RUNS = Counter(
    "windhash_fleet_maintenance_runs_total",
    "Runs of the telemetry maintenance job (partitions ahead, retention drops, log pruning), by outcome.",
    ["outcome"],
)
MAINTENANCE_LAST_SUCCESS = Gauge(
    "windhash_fleet_maintenance_last_success_timestamp_seconds",
    "When the maintenance job last succeeded (by whichever writer holds its lease).",
)
MAINTENANCE_HELD = Gauge(
    "windhash_fleet_maintenance_lease_held", "1 while this writer holds the maintenance job's lease."
)
