"""The fleet collector's Prometheus metrics (served on `metrics_port`)."""

from prometheus_client import Counter, Gauge, Histogram

POLLS = Counter(
    "windhash_fleet_polls_total",
    "Polls of miners by outcome: ok, or why not (refused, timeout, not_json, error_status, invalid, ...).",
    ["outcome"],
)
POLL_SECONDS = Histogram(
    "windhash_fleet_poll_seconds",
    "Time from connecting to a miner to its parsed reading.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
COLLECTOR_LAG = Gauge(
    "windhash_fleet_collector_lag_seconds",
    "How late the polls of a shard's last cycle started after their scheduled time, at most.",
    ["shard"],
)
CYCLE_SECONDS = Gauge(
    "windhash_fleet_cycle_seconds",
    "How long a shard's last polling cycle took, first poll to last.",
    ["shard"],
)
MINERS_POLLED = Gauge("windhash_fleet_miners_polled", "Telemetry-enabled miners of a shard.", ["shard"])
MINERS_UNREACHABLE = Gauge(
    "windhash_fleet_miners_unreachable", "Miners of a shard whose last poll got no answer.", ["shard"]
)
STATUS_CHANGES = Counter(
    "windhash_fleet_status_changes_total", "miner.offline / miner.online transitions written.", ["event"]
)
SHARDS_HELD = Gauge("windhash_fleet_shards_held", "Shards this collector holds the lease of.")
TELEMETRY_PUBLISHED = Counter(
    "windhash_fleet_telemetry_published_total", "Telemetry events acknowledged by Kafka."
)
