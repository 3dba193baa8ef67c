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
from typing import Literal

from pydantic import Field
from windhash_sim_support.fault_book import FaultBook as SharedFaultBook
from windhash_sim_support.fault_book import FaultRuleBase, FaultState

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

__all__ = ["Endpoint", "FaultBook", "FaultKind", "FaultRule", "FaultState"]


class FaultRule(FaultRuleBase):
    kind: FaultKind
    endpoint: Endpoint = "stack"
    date: datetime.date | None = None
    period: int | None = None
    side: Literal["bid", "offer"] | None = None
    field: str = "volume"
    all_rows: bool = False
    size: int = Field(default=0, ge=0, le=2**32, description="gzip_bomb: bytes inflated; oversized: sent.")


class FaultBook(SharedFaultBook[FaultRule]):
    def take(
        self,
        endpoint: Endpoint,
        settlement_date: datetime.date | None = None,
        period: int | None = None,
        side: str | None = None,
    ) -> FaultRule | None:
        return self.take_first(
            lambda rule: (
                rule.endpoint == endpoint
                and rule.date in (None, settlement_date)
                and rule.period in (None, period)
                and rule.side in (None, side)
            )
        )
