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
    def miner_telemetry(self) -> str:
        """One `MinerTelemetryEvent` per poll of a miner (events_fleet.py), keyed by the miner's serial."""
        return f"{self.prefix}.miner-telemetry.v1"

    @property
    def miner_status(self) -> str:
        """`MinerStatusChangedEvent` (miner.offline / miner.online) through the outbox, keyed by serial."""
        return f"{self.prefix}.miner-status.v1"

    def all(self) -> tuple[str, ...]:
        return (
            self.settlement_periods,
            self.period_calculated,
            self.dead_letter,
            self.miner_telemetry,
            self.miner_status,
        )
