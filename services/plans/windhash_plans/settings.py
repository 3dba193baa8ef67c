"""The plans service's configuration (variables `WINDHASH_*`, e.g. `WINDHASH_PLANS_STAGGER_S`): the worker
(`windhash plans`: executor, automatic policy, power prices) and the HTTP app (`windhash plans-api`)."""

from datetime import timedelta
from decimal import Decimal

from pydantic import Field
from windhash_common.access.settings import AccessSettings
from windhash_common.market_sources.http_fetch import FetchLimits
from windhash_common.miner_rpc import DEFAULT_MAX_REPLY_BYTES, DEFAULT_TIMEOUT_S

ELEXON_BASE_URL = "https://data.elexon.co.uk/bmrs/api/v1"


class PlansSettings(AccessSettings):
    # The worker's /metrics, /health and /ready; the HTTP app serves its own on its port.
    metrics_port: int = 9108
    plans_api_host: str = "127.0.0.1"
    plans_api_port: int = 8087

    # The executor: its consumer group, how often it looks for due commands, how far apart commands go.
    plans_executor_group: str = "windhash-plans-executor"
    plans_batch_messages: int = Field(default=200, ge=1)
    plans_batch_wait_ms: int = Field(default=200, ge=0)
    plans_tick_s: float = Field(default=1.0, gt=0, description="Due commands are looked for this often.")
    plans_stagger_s: float = Field(default=5.0, ge=0, description="Between two commands of one plan.")
    plans_rpc_timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    plans_rpc_max_reply_bytes: int = Field(default=DEFAULT_MAX_REPLY_BYTES, ge=1024)
    plans_sleep_attempts: int = Field(
        default=5, ge=1, description="Tries of a sleep command before giving up."
    )
    plans_wakeup_attempts: int = Field(
        default=30, ge=1, description="Tries of a wake-up command before the miner is reported not woken."
    )
    plans_retry_backoff_s: float = Field(default=2.0, gt=0, description="First wait before a retry; doubles.")
    plans_retry_backoff_max_s: float = Field(default=60.0, gt=0)
    plans_lease_ttl_s: float = Field(default=15.0, gt=0)
    plans_event_grace_s: float = Field(
        default=30.0,
        gt=0,
        description="A plan due for recovery whose wake-ups the consumer has not planned by then (Kafka away)"
        " gets them planned by the executor itself.",
    )
    plans_relay_interval_s: float = Field(default=2.0, gt=0)
    plans_relay_batch: int = Field(default=500, ge=1)

    # Measuring a shutdown (docs/PLANS.md, "Measuring").
    plans_measure_before_s: float = Field(default=600.0, gt=0, description="Window of readings before.")
    plans_measure_settle_s: float = Field(default=5.0, ge=0, description="After a sleep, before 'after'.")
    plans_measure_timeout_s: float = Field(
        default=300.0, gt=0, description="How long to wait for a reading of every miner after its sleep."
    )
    plans_min_reduction_fraction: Decimal = Field(default=Decimal("0.8"), gt=0, le=1)
    plans_dropped_below_fraction: Decimal = Field(default=Decimal("0.5"), gt=0, lt=1)

    # The automatic policy and its power prices.
    plans_policy_interval_s: float = Field(default=60.0, gt=0)
    plans_market_max_age_minutes: float = Field(
        default=60.0, gt=0, description="An older market snapshot is no hashprice: nothing is decided."
    )
    plans_price_sync_interval_s: float = Field(default=900.0, gt=0)
    plans_price_sync_days: int = Field(default=2, ge=1, description="Days back the price sync re-reads.")
    elexon_base_url: str = ELEXON_BASE_URL
    plans_source_attempts: int = Field(default=5, ge=1)
    plans_source_deadline_s: float = Field(default=60.0, gt=0)
    plans_backtest_max_days: int = Field(default=366, ge=1)

    @property
    def stagger(self) -> timedelta:
        return timedelta(seconds=self.plans_stagger_s)

    def source_limits(self) -> FetchLimits:
        return FetchLimits(attempts=self.plans_source_attempts, deadline_s=self.plans_source_deadline_s)
