"""The aggregator's configuration (environment variables prefixed `WINDHASH_`)."""

from windhash_common.settings import CommonSettings


class Settings(CommonSettings):
    metrics_port: int = 9103
    aggregator_group: str = "windhash-aggregator"
    aggregator_batch_max_records: int = 1000
    aggregator_poll_timeout_ms: int = 200
    # How often days marked stale by a price change are recomputed (see migration 0300).
    aggregator_stale_drain_seconds: float = 1.0
    # A batch's transaction is retried this many times (waits doubling from the backoff, about 15 s in all,
    # enough for a PostgreSQL restart), then the service stops with a non-zero exit.
    aggregator_db_attempts: int = 6
    aggregator_db_backoff_seconds: float = 0.5
