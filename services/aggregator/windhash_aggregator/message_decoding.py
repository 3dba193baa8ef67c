"""Turning a Kafka message into a `PeriodCalculatedEvent`, or into a `DeadLetter` saying why it is not one."""

from datetime import UTC, datetime

from pydantic import ValidationError
from windhash_common.events import DeadLetter, PeriodCalculatedEvent

SERVICE_NAME = "aggregator"
_MAX_REASON_CHARS = 2000


def decode_period_calculated(value: bytes | None) -> PeriodCalculatedEvent:
    """The event in a message value; raises `ValueError` (as pydantic's `ValidationError`) if malformed."""
    if value is None:
        raise ValueError("message has no value (tombstone)")
    return PeriodCalculatedEvent.model_validate_json(value)


def dead_letter_for(
    value: bytes | None,
    reason: str,
    topic: str,
    partition: int,
    offset: int,
    failed_at: datetime | None = None,
) -> DeadLetter:
    return DeadLetter(
        service=SERVICE_NAME,
        reason=reason[:_MAX_REASON_CHARS],
        source_topic=topic,
        source_partition=partition,
        source_offset=offset,
        payload=(value or b"").decode("utf-8", errors="replace"),
        failed_at=failed_at or datetime.now(UTC),
    )


def rejection_reason(error: ValueError) -> str:
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '<message>'}: {problem['msg']}"
            for problem in error.errors()
        )
        return f"not a valid PeriodCalculatedEvent: {problems}"
    return str(error)
