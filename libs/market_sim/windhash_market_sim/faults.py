"""Faults the synthetic market server injects on request, so tests can show what windhash does with each.

A rule matches requests by endpoint (`adjustments`, `hashrate`, `block`, `price`, `chart`, or `any`). The
first matching rule with uses left applies, and uses one up; `times` None never runs out.

kinds:
- `status`: answer with `status` (e.g. 429 with a `Retry-After` of `retry_after` seconds, or 503);
- `slow`: wait `delay_s` seconds, then answer normally (a client deadline shorter than that sees a timeout);
- `malformed`: answer 200 with the first half of the JSON body, which does not parse;
- `value`: set `field` to `value` (any JSON: 0, -1, 1e30, null, a string) wherever the answer has it, e.g.
  `usd` of the price, `currentDifficulty` or `currentHashrate` of the hashrate;
- `missing_field`: drop `field` wherever the answer has it;
- `stale`: date the answer `delay_s` seconds back (the price's `last_updated_at`, the block's `timestamp`);
- `payload`: answer 200 with `body`, byte for byte (over HTTP the body is base64).
"""

import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["status", "slow", "malformed", "value", "missing_field", "stale", "payload"]
Endpoint = Literal["adjustments", "hashrate", "block", "price", "chart", "any"]


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    kind: FaultKind
    endpoint: Endpoint = "any"
    times: int | None = Field(
        default=1, ge=1, description="How many matching requests it applies to; null: all."
    )
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    field: str = "usd"
    value: Any = None
    body: bytes = b""


class FaultState(BaseModel):
    rule: FaultRule
    remaining: int | None
    applied: int = 0


class FaultBook:
    """The active rules; shared by the server thread and the test that sets them, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultState] = []

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(FaultState(rule=rule, remaining=rule.times))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def snapshot(self) -> list[FaultState]:
        with self._lock:
            return [state.model_copy() for state in self._rules]

    def take(self, endpoint: Endpoint) -> FaultRule | None:
        with self._lock:
            for state in self._rules:
                rule = state.rule
                if state.remaining == 0 or rule.endpoint not in (endpoint, "any"):
                    continue
                if state.remaining is not None:
                    state.remaining -= 1
                state.applied += 1
                return rule
            return None


def rewrite(value: Any, rule: FaultRule) -> Any:
    """`value` with the rule's field set (`value`) or dropped (`missing_field`) wherever it occurs."""
    if isinstance(value, dict):
        result = {key: rewrite(item, rule) for key, item in value.items()}
        if rule.field in result:
            if rule.kind == "missing_field":
                del result[rule.field]
            else:
                result[rule.field] = rule.value
        return result
    if isinstance(value, list):
        return [rewrite(item, rule) for item in value]
    return value
