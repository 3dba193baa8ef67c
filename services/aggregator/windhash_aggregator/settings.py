"""The aggregator's configuration (environment variables prefixed `WINDHASH_`)."""

from windhash_common.settings import CommonSettings


class AggregatorSettings(CommonSettings):
    metrics_port: int = 9103
    aggregator_group: str = "windhash-aggregator"
    aggregator_batch_max_records: int = 1000
    aggregator_poll_timeout_seconds: float = 0.2
    # How often days marked stale by a price change are recomputed (see migration 0300).
    aggregator_stale_drain_seconds: float = 1.0
    # The aggregator adds only dead letters to the outbox, and wakes its relay when it does; the poll is for
    # rows other writers leave (whichever relay holds the lock publishes every service's rows).
    aggregator_relay_interval_seconds: float = 5.0
    aggregator_relay_batch: int = 500
