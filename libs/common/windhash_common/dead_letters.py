"""The one way a windhash service turns input it cannot accept into a `DeadLetter`, with one payload policy.

A dead letter keeps the reason, where the input came from (topic, partition, offset; the settlement date and
period when its key names them) and the raw payload: decoded as UTF-8 with replacement, NUL replaced (jsonb
cannot hold it), cut to `PAYLOAD_KEEP_BYTES` with a note of the full size (enough to see what it was, and
always small enough for a Kafka message: a proxy's error page or a runaway message may be megabytes).
"""

from dataclasses import dataclass
from datetime import date, datetime

from windhash_common.events import MAX_PERIODS_IN_DAY, DeadLetter

PAYLOAD_KEEP_BYTES = 65_536
REASON_KEEP_CHARS = 2_000


@dataclass(frozen=True)
class Rejection:
    """Why an input was refused: a short, bounded `kind` (a metric label) and a detail in words."""

    kind: str
    detail: str

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass(frozen=True)
class Source:
    """Where the refused input was read: a Kafka position, or nothing (an HTTP answer)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None


def settlement_of_key(key: bytes | None) -> tuple[date | None, int | None]:
    """Best effort: the (date, period) a `YYYY-MM-DD/PP` key names, or the date of a `YYYY-MM-DD` key."""
    try:
        text = (key or b"").decode()
        day, _, period = text.partition("/")
        settlement_date = date.fromisoformat(day)
        if not period:
            return settlement_date, None
        number = int(period)
        return settlement_date, number if 1 <= number <= MAX_PERIODS_IN_DAY else None
    except ValueError:
        return None, None


def kept_payload(raw: bytes | None) -> str:
    raw = raw or b""
    kept = raw[:PAYLOAD_KEEP_BYTES]
    payload = kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if len(raw) > len(kept):
        payload += f"\n[truncated: {len(raw)} bytes in all]"
    return payload


def dead_letter(
    service: str,
    rejection: Rejection,
    payload: bytes | None,
    failed_at: datetime,
    source: Source = Source(),
    settlement_date: date | None = None,
    settlement_period: int | None = None,
) -> DeadLetter:
    """The dead letter of `payload`; the settlement date and period default to what the source key names."""
    if settlement_date is None and settlement_period is None:
        settlement_date, settlement_period = settlement_of_key(source.key)
    reason = rejection.reason
    return DeadLetter(
        service=service,
        settlement_date=settlement_date,
        settlement_period=settlement_period,
        reason=reason if len(reason) <= REASON_KEEP_CHARS else reason[:REASON_KEEP_CHARS] + "…",
        source_topic=source.topic,
        source_partition=source.partition,
        source_offset=source.offset,
        payload=kept_payload(payload),
        failed_at=failed_at,
    )
