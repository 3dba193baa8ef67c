"""The reconciler's configuration (environment `WINDHASH_*`)."""

from datetime import datetime

from pydantic import AwareDatetime, Field
from windhash_common.bitcoin import Halving, halving_schedule
from windhash_common.curtailment_facts.event_checks import DEFAULT_MAX_MESSAGE_BYTES
from windhash_common.settings import CommonSettings


class ReconcilerSettings(CommonSettings):
    metrics_port: int = 9104
    reconcile_periods_per_transaction: int = Field(default=200, ge=1)
    # Topic messages larger than this were dead-lettered by the calculator, so they are never replayed.
    calculator_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # The halving schedule the calculator computes with (WINDHASH_NEXT_HALVING_AT, as for the calculator).
    next_halving_at: AwareDatetime | None = None
    # A command run by hand waits out a PostgreSQL outage this many times, then fails; the service forever.
    reconcile_db_attempts: int = Field(default=8, ge=1)
    self_check_days: int = Field(default=7, ge=1, description="Days before today re-checked for revisions.")
    self_check_interval_seconds: float = Field(default=86400.0, gt=0, description="A daily check by default.")
    self_check_previous_month: bool = Field(
        default=True, description="Also reconcile the previous calendar month, once a day."
    )
    self_check_lease_seconds: float = Field(
        default=120.0, gt=0, description="The self-check's job lease: renewed every third, lapses after."
    )

    def halvings(self) -> tuple[Halving, ...]:
        when: datetime | None = self.next_halving_at
        return halving_schedule(when)
