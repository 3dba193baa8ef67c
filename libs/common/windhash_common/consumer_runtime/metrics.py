"""The metrics every consumer built on the runtime exports, labelled by consumer (its group id)."""

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter(
    "windhash_consumer_messages_total",
    "Messages consumed, by outcome: applied, skipped (below the stored position) or dead_lettered",
    ["consumer", "outcome"],
)
DEAD_LETTERS = Counter(
    "windhash_consumer_dead_letters_total", "Messages dead-lettered, by reason", ["consumer", "reason"]
)
BATCH_SECONDS = Histogram(
    "windhash_consumer_batch_seconds",
    "Time to apply one batch in its PostgreSQL transaction (retries included)",
    ["consumer"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
LAG = Gauge(
    "windhash_consumer_lag",
    "Messages behind the end of the partition (fetched but not applied count as behind)",
    ["consumer", "topic", "partition"],
)
