"""Ingesting one settlement period: fetch the bid stack, apply the curtailment rule, publish, then record
progress.

Every path ends in a recorded state: published (progress ok, recorded after Kafka acknowledged; the store
writes ok rows in batches, always before a run ends: progress_store), unchanged (a re-fetch with the same
content hash as the last publish), or failed (progress failed with the reason; a bad payload, or one whose
figures cannot be stored exactly, also goes to the dead-letter topic). A failure is never turned into an
empty period. A run that is stopped lets each publish already under way finish and record its progress.
"""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal, Protocol

import structlog
from aiokafka.errors import KafkaError
from windhash_common.dead_letters import PAYLOAD_KEEP_BYTES, Rejection, Source, dead_letter
from windhash_common.events import SettlementPeriodEvent

from windhash_ingestor.bm_unit_registry import WindUnits
from windhash_ingestor.curtailment_rule import (
    InvalidStackPayload,
    curtailment_records,
    parse_stack_payload,
    period_energy_mwh,
)
from windhash_ingestor.elexon_client import ElexonFetchError, ElexonResponse, StackSide
from windhash_ingestor.event_sink import EventSink
from windhash_ingestor.metrics import (
    DEAD_LETTERS,
    PERIODS_FAILED,
    PERIODS_PUBLISHED,
    PERIODS_UNCHANGED,
    RECORDS_KEPT,
)
from windhash_ingestor.progress_store import ProgressStore

SERVICE = "ingestor"
OutcomeStatus = Literal["published", "unchanged", "skipped", "failed", "pending"]
# "always": publish whatever was fetched (a backfill); "if_changed": only when the content hash changed
# (follow).
PublishPolicy = Literal["always", "if_changed"]

# A dead letter keeps at most this much of a bad payload (windhash_common.dead_letters' one policy).
DEAD_LETTER_PAYLOAD_BYTES = PAYLOAD_KEEP_BYTES

log = structlog.get_logger(__name__)


class StackSource(Protocol):
    async def settlement_stack(
        self, side: StackSide, settlement_date: date, settlement_period: int
    ) -> ElexonResponse: ...


@dataclass(frozen=True)
class PeriodOutcome:
    settlement_date: date
    settlement_period: int
    status: OutcomeStatus
    record_count: int = 0
    energy_mwh: Decimal = Decimal(0)
    content_hash: str | None = None
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class PeriodIngestor:
    source: StackSource
    sink: EventSink
    progress: ProgressStore
    wind_units: frozenset[str]
    clock: Callable[[], datetime] = _now
    counts_until: Mapping[str, date] = field(default_factory=dict)
    """Withdrawn units: the settlement date each stops counting from (bm_unit_registry.WindUnits)."""

    def units_on(self, day: date) -> frozenset[str]:
        return WindUnits(self.wind_units, dict(self.counts_until)).on(day)

    async def ingest(self, day: date, period: int, policy: PublishPolicy = "always") -> PeriodOutcome:
        try:
            response = await self.source.settlement_stack("bid", day, period)
        except ElexonFetchError as error:
            return await self._fail(day, period, "fetch", str(error))
        try:
            payload = parse_stack_payload(response.body)
            records = curtailment_records(payload.rows, self.units_on(day), day, period)
            synthetic = response.synthetic or payload.synthetic
            event = SettlementPeriodEvent.build(day, period, records, self.clock(), synthetic)
            energy = period_energy_mwh(records)
        except (InvalidStackPayload, ValueError, ArithmeticError) as error:
            # Whatever cannot be turned into exact, storable figures quarantines this period only: the
            # rule's reasons, and (should a check ever miss one) a failed event or decimal operation.
            await self._dead_letter(day, period, str(error), response)
            return await self._fail(day, period, "invalid", f"invalid payload: {error}")
        if policy == "if_changed" and await self._unchanged(day, period, event.content_hash):
            PERIODS_UNCHANGED.inc()
            return PeriodOutcome(day, period, "unchanged", len(records), energy, event.content_hash)
        # A stop (Ctrl-C, SIGTERM) that arrives while the event is on its way waits for Kafka's answer and for
        # the progress it makes, then goes on: progress never lags an event this run saw acknowledged.
        publishing = asyncio.ensure_future(self._publish(event, energy))
        try:
            return await asyncio.shield(publishing)
        except asyncio.CancelledError:
            await asyncio.wait([publishing])
            raise

    async def _publish(self, event: SettlementPeriodEvent, energy: Decimal) -> PeriodOutcome:
        day, period, count = event.settlement_date, event.settlement_period, len(event.records)
        try:
            await self.sink.publish_period(event)
        except KafkaError as error:
            return await self._fail(day, period, "publish", f"publish failed: {error!r}")
        await self.progress.record_ok(day, period, count, energy, event.content_hash)
        PERIODS_PUBLISHED.inc()
        RECORDS_KEPT.inc(count)
        return PeriodOutcome(day, period, "published", count, energy, event.content_hash)

    async def _unchanged(self, day: date, period: int, content_hash: str) -> bool:
        previous = await self.progress.get(day, period)
        return previous is not None and previous.status == "ok" and previous.content_hash == content_hash

    async def _fail(self, day: date, period: int, reason: str, error: str) -> PeriodOutcome:
        log.warning(
            "period_failed", settlement_date=day.isoformat(), settlement_period=period, error=error[:300]
        )
        PERIODS_FAILED.labels(reason).inc()
        await self.progress.record_failure(day, period, error)
        return PeriodOutcome(day, period, "failed", error=error)

    async def _dead_letter(self, day: date, period: int, reason: str, response: ElexonResponse) -> None:
        rejection = Rejection("invalid_payload", f"{reason} (GET {response.url})")
        letter = dead_letter(SERVICE, rejection, response.body, self.clock(), Source(), day, period)
        try:
            await self.sink.publish_dead_letter(letter)
        except KafkaError as error:
            # The period is still recorded as failed, so nothing is lost: the next run fetches it again.
            log.error(
                "dead_letter_failed",
                settlement_date=day.isoformat(),
                settlement_period=period,
                error=repr(error),
            )
            return
        DEAD_LETTERS.inc()
