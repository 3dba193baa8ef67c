"""Kafka topic names. docs/ARCHITECTURE.md says what flows on each, its key and why."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str = "windhash"

    @property
    def settlement_periods(self) -> str:
        """One `SettlementPeriodEvent` per (date, period), keyed `YYYY-MM-DD/PP`."""
        return f"{self.prefix}.settlement-periods.v1"

    @property
    def period_calculated(self) -> str:
        """One `PeriodCalculatedEvent` each time the calculator applies a period, keyed by settlement date."""
        return f"{self.prefix}.period-calculated.v1"

    @property
    def dead_letter(self) -> str:
        """`DeadLetter` records: anything a service could not accept, with the reason and the raw payload."""
        return f"{self.prefix}.dead-letter.v1"

    @property
    def audit(self) -> str:
        """`AuditEvent` (events_audit.py): every recorded state change, keyed `<target_type>/<target_id>`."""
        return f"{self.prefix}.audit.v1"

    def all(self) -> tuple[str, ...]:
        return (self.settlement_periods, self.period_calculated, self.dead_letter, self.audit)
