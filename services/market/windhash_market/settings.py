"""The market service's settings (environment `WINDHASH_*`); the sources' own are in MarketSourceSettings, who
may read its HTTP routes and how credentials behave in AccessSettings (shared with the API:
`WINDHASH_API_PUBLIC_ANALYTICS`, `WINDHASH_API_TRUSTED_PROXIES`, ...)."""

from datetime import datetime, timedelta

from pydantic import AwareDatetime, Field
from windhash_common.access.settings import AccessSettings
from windhash_common.bitcoin import Halving, halving_schedule
from windhash_common.market_sources.settings import MarketSourceSettings

JOB_KEY = "market/snapshots"


class MarketSettings(MarketSourceSettings, AccessSettings):
    # The service's one HTTP port: its routes under /api/v1/market/ (the API forwards there), /health, /ready
    # and /metrics.
    metrics_port: int = 9105
    # 15 minutes: 96 snapshots a day. Slots start at multiples of the interval from 00:00 UTC.
    market_interval_minutes: int = Field(default=15, ge=1, le=1440)
    market_lease_ttl_s: float = Field(default=60.0, gt=0)
    # Cycles run a few seconds after each slot starts; tests (and the demo) may poll every few seconds.
    market_cycle_delay_seconds: float = Field(default=5.0, ge=0)
    market_poll_seconds: float | None = Field(default=None, gt=0)
    # How far back missed slots are looked for and backfilled from the sources' history.
    market_backfill_hours: int = Field(default=48, ge=0, le=24 * 90)
    # A backfilled slot takes the chart point nearest its start, if one lies this close; otherwise a gap.
    market_backfill_tolerance_minutes: int = Field(default=5, ge=1)
    # How many times a slot is tried before it stays missed.
    market_slot_attempts: int = Field(default=3, ge=1)
    market_max_price_age_minutes: int = Field(default=30, ge=1)
    market_max_block_age_minutes: int = Field(default=180, ge=1)
    # Days of difficulty and daily price (today and before) written to the reference tables each cycle.
    market_reference_days: int = Field(default=7, ge=1, le=366)
    market_db_attempts: int = Field(default=6, ge=1)
    # The service's own outbox relay: woken after each cycle; the poll is for rows other writers leave
    # (whichever relay holds the lock publishes every service's rows).
    market_relay_interval_seconds: float = Field(default=5.0, gt=0)
    market_relay_batch: int = Field(default=500, ge=1)
    market_http_pool_size: int = Field(default=4, ge=1)
    market_db_backoff_seconds: float = Field(default=0.5, ge=0)
    # The 2028 halving, once its block is mined (or to model it ahead of time); None = four halvings so far.
    next_halving_at: AwareDatetime | None = None

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.market_interval_minutes)

    def halvings(self) -> tuple[Halving, ...]:
        when: datetime | None = self.next_halving_at
        return halving_schedule(when)
