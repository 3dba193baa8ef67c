"""The faults a synthetic server injects on request: the fields every simulator's rule has, and the book of
active rules. Each simulator's rule adds its kinds, endpoints and what a rule matches (its own `faults.py`).

The first matching rule with uses left applies, and uses one up; `times` None never runs out.
"""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny


class FaultRuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    times: int | None = Field(
        default=1, ge=1, description="How many matching requests it applies to; null: all."
    )
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    body: bytes = b""


RuleT = TypeVar("RuleT", bound=FaultRuleBase)


class FaultState(BaseModel, Generic[RuleT]):
    # SerializeAsAny: a simulator's rule is dumped with its own fields, not only the base's.
    rule: SerializeAsAny[RuleT]
    remaining: int | None
    applied: int = 0


class FaultBook(Generic[RuleT]):
    """The active rules; shared by the server thread and the test that sets them, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultState[RuleT]] = []

    def add(self, rule: RuleT) -> None:
        with self._lock:
            self._rules.append(FaultState(rule=rule, remaining=rule.times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def snapshot(self) -> list[FaultState[RuleT]]:
        with self._lock:
            return [state.model_copy() for state in self._rules]

    def take_first(self, matches: Callable[[RuleT], bool]) -> RuleT | None:
        """The first rule with uses left that `matches` the request, one use taken; None: serve normally."""
        with self._lock:
            for state in self._rules:
                if state.remaining == 0 or not matches(state.rule):
                    continue
                if state.remaining is not None:
                    state.remaining -= 1
                state.applied += 1
                return state.rule
            return None
