"""The fleet service's configuration (variables `WINDHASH_*`, e.g. `WINDHASH_FLEET_POLL_INTERVAL_S`): one
class for its three processes (the collector, the telemetry writer and the HTTP app, whose access settings
it inherits)."""

from typing import Self

from pydantic import Field, model_validator
from windhash_common.access.settings import AccessSettings
from windhash_common.miner_rpc import DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_S


class FleetSettings(AccessSettings):
    metrics_port: int = 9106
    # Every telemetry-enabled miner is polled once per interval; polls are spread over the interval.
    fleet_poll_interval_s: float = Field(default=60.0, gt=0)
    fleet_concurrency: int = Field(default=256, ge=1, description="Polls in flight per shard.")
    fleet_rpc_timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0, description="Deadline of one call.")
    fleet_rpc_max_reply_bytes: int = Field(default=DEFAULT_MAX_REPLY_BYTES, ge=1024)
    fleet_rpc_attempts: int = Field(default=2, ge=1, description="Tries of a poll that got no answer.")
    fleet_rpc_backoff_s: float = Field(default=0.5, ge=0, description="First wait before a retry; doubles.")
    # Consecutive polls without an answer before a miner is marked offline.
    fleet_offline_after_failures: int = Field(default=2, ge=1)
    fleet_shard_count: int = Field(
        default=1, ge=1, le=1024, description="Miners are split by miner_id mod this."
    )
    fleet_max_shards: int | None = Field(
        default=None, ge=1, description="Most shards one collector holds at once (default: all)."
    )
    fleet_lease_ttl_s: float = Field(default=30.0, gt=0)
    # The relay publishes the outbox (status changes, dead letters) at once when woken, else this often.
    fleet_relay_interval_s: float = Field(default=5.0, gt=0)
    fleet_relay_batch: int = Field(default=500, ge=1)

    # The telemetry writer (`windhash fleet writer`): Kafka → miner_telemetry and its rollups.
    fleet_writer_group: str = "windhash-fleet-writer"
    # Live, batches are what arrived within the wait; catching up, larger ones amortise the rollups' upserts
    # (one per miner-hour and one per miner a batch: docs/BENCHMARKS.md).
    fleet_writer_batch_messages: int = Field(default=50_000, ge=1)
    fleet_writer_batch_wait_ms: int = Field(default=200, ge=0, description="Wait for a batch to fill.")
    fleet_writer_metrics_port: int = 9107
    fleet_telemetry_retention_days: int = Field(default=90, ge=1, description="Days of raw telemetry kept.")
    fleet_partition_days_ahead: int = Field(default=3, ge=1, le=366)
    fleet_clock_skew_s: float = Field(
        default=300.0, ge=0, description="How far ahead of the writer's clock a reading may be stamped."
    )
    fleet_maintenance_interval_s: float = Field(default=3600.0, gt=0)
    fleet_operation_log_retention_days: int = Field(default=365, ge=1)
    fleet_miner_hourly_retention_days: int = Field(default=366, ge=1)

    # The HTTP app (`windhash fleet-api`), behind the API's /api/v1/fleet/...; /metrics on the same port.
    fleet_api_host: str = "127.0.0.1"
    fleet_api_port: int = 8086
    fleet_import_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, description="A CSV import's size.")
    fleet_import_max_rows: int = Field(default=20_000, ge=1)
    fleet_series_max_points: int = Field(default=1_000, ge=10, description="Points of a telemetry series.")

    @model_validator(mode="after")
    def _max_shards_fits(self) -> Self:
        if self.fleet_max_shards is not None and self.fleet_max_shards > self.fleet_shard_count:
            raise ValueError("fleet_max_shards cannot exceed fleet_shard_count")
        return self

    @property
    def shards_per_collector(self) -> int:
        return self.fleet_max_shards or self.fleet_shard_count
