"""Faults the synthetic server injects on request, so tests can show what the ingestor does with each.

A rule matches requests by endpoint and, for the settlement stack, by date, period and side; for the two
generation datasets (`fuelhh`, `wind_and_solar`), by the first date asked (an omitted field matches
anything). The first matching rule with uses left applies, and uses one up; `times` None never runs out.

kinds:
- `status`: answer with `status` (e.g. 429 with a `Retry-After` of `retry_after` seconds, or 500);
- `slow`: wait `delay_s` seconds, then answer normally (a client timeout shorter than that sees a timeout);
- `malformed`: answer 200 with the first half of the JSON body, which does not parse;
- `missing_field` / `null_field`: drop `field`, or set it to null, in the rows that are wind curtailment (the
  rows the ingestor must keep), or in every row when `all_rows` is set;
- `payload`: answer 200 with `body`, byte for byte (the bad-input fuzz tests serve generated payloads this
  way; over HTTP the body is base64);
- `gzip_bomb`: answer 200 with `Content-Encoding: gzip` and a small body that inflates to `size` bytes;
- `oversized`: answer 200 with a body of `size` bytes, streamed in 64 KiB chunks without a Content-Length;
- `trickle`: answer 200 with the normal body, one byte every `delay_s` seconds.
"""

import datetime
import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal[
    "status",
    "slow",
    "malformed",
    "missing_field",
    "null_field",
    "payload",
    "gzip_bomb",
    "oversized",
    "trickle",
]
Endpoint = Literal["stack", "bmunits", "market_index", "fuelhh", "wind_and_solar"]


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    kind: FaultKind
    endpoint: Endpoint = "stack"
    date: datetime.date | None = None
    period: int | None = None
    side: Literal["bid", "offer"] | None = None
    times: int | None = Field(
        default=1, ge=1, description="How many matching requests it applies to; null: all."
    )
    status: int = 500
    retry_after: float | None = None
    delay_s: float = 0.0
    field: str = "volume"
    all_rows: bool = False
    body: bytes = b""
    size: int = Field(default=0, ge=0, le=2**32, description="gzip_bomb: bytes inflated; oversized: sent.")


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

    def take(
        self,
        endpoint: Endpoint,
        settlement_date: datetime.date | None = None,
        period: int | None = None,
        side: str | None = None,
    ) -> FaultRule | None:
        with self._lock:
            for state in self._rules:
                rule = state.rule
                if state.remaining == 0 or rule.endpoint != endpoint:
                    continue
                if rule.date is not None and rule.date != settlement_date:
                    continue
                if rule.period is not None and rule.period != period:
                    continue
                if rule.side is not None and rule.side != side:
                    continue
                if state.remaining is not None:
                    state.remaining -= 1
                state.applied += 1
                return rule
            return None
