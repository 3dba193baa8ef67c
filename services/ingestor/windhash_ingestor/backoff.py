"""How long to wait before retrying a request to Elexon: pure functions, so the policy is testable alone.

Exponential backoff with "equal jitter": attempt n waits between half and all of min(cap, initial × 2^n), so
concurrent clients spread out but never retry at once. A `Retry-After` from the server wins when it asks for
longer (capped, so a confused server cannot stall a backfill for hours).
"""

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def backoff_delay_s(attempt: int, initial_s: float, cap_s: float, rng: random.Random) -> float:
    """The wait after failed attempt number `attempt` (0 for the first attempt)."""
    ceiling: float = min(cap_s, initial_s * 2**attempt)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def parse_retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds, given as seconds or as an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_delay_s(
    attempt: int,
    retry_after: str | None,
    initial_s: float,
    cap_s: float,
    retry_after_cap_s: float,
    rng: random.Random,
) -> float:
    delay = backoff_delay_s(attempt, initial_s, cap_s, rng)
    asked = parse_retry_after_s(retry_after)
    if asked is not None:
        delay = max(delay, min(asked, retry_after_cap_s))
    return delay
