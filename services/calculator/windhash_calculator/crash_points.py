"""Test-only crash hook: `WINDHASH_CALCULATOR_CRASH_AT=POINT:N` makes the process SIGKILL itself the N-th time
it reaches POINT, so the crash tests can stop it exactly where a real crash hurts most. Unset in production,
where `reached` costs one comparison.

Points: `mid_batch` (rows written, transaction not committed), `after_db_commit` (committed, Kafka offset not
committed), `during_relay` (outbox rows sent to Kafka, not yet marked published).
"""

import os
import signal

POINTS = ("mid_batch", "after_db_commit", "during_relay")


class CrashPoints:
    def __init__(self, spec: str | None) -> None:
        self._point: str | None = None
        self._remaining = 0
        if spec:
            point, _, count = spec.partition(":")
            if point not in POINTS:
                raise ValueError(f"unknown crash point {point!r}; known: {', '.join(POINTS)}")
            self._point, self._remaining = point, int(count or "1")

    def reached(self, point: str) -> None:
        if point != self._point:
            return
        self._remaining -= 1
        if self._remaining <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
