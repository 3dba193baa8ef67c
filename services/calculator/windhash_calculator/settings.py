"""The calculator's settings (environment `WINDHASH_*`); also used by the CLI commands that share its code."""

from datetime import datetime

from pydantic import AwareDatetime
from windhash_common.bitcoin import Halving, halving_schedule
from windhash_common.curtailment_facts.event_checks import DEFAULT_MAX_MESSAGE_BYTES
from windhash_common.settings import CommonSettings


class CalculatorSettings(CommonSettings):
    metrics_port: int = 9102
    calculator_group: str = "windhash-calculator"
    # A batch is one PostgreSQL transaction: bigger ones amortise round trips, smaller ones commit sooner.
    calculator_batch_messages: int = 200
    calculator_batch_wait_seconds: float = 0.5
    # Larger than any real period (a few hundred records); anything bigger is dead-lettered, not parsed.
    calculator_max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    # How soon Kafka hands a dead instance's partitions to another (broker minimum: 6 s by default).
    calculator_session_timeout_seconds: float = 10.0
    calculator_relay_interval_seconds: float = 0.5
    calculator_relay_batch: int = 500
    calculator_pending_sweep_seconds: float = 30.0
    # Tests only: "POINT:N" SIGKILLs the process the N-th time it reaches POINT (see crash_points.py).
    calculator_crash_at: str | None = None
    # The 2028 halving, once its block is mined (or to model it ahead of time); None = four halvings so far.
    next_halving_at: AwareDatetime | None = None

    def halvings(self) -> tuple[Halving, ...]:
        when: datetime | None = self.next_halving_at
        return halving_schedule(when)
