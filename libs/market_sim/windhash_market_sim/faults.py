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

from typing import Any, Literal

from windhash_sim_support.fault_book import FaultBook as SharedFaultBook
from windhash_sim_support.fault_book import FaultRuleBase, FaultState

FaultKind = Literal["status", "slow", "malformed", "value", "missing_field", "stale", "payload"]
Endpoint = Literal["adjustments", "hashrate", "block", "price", "chart", "any"]

__all__ = ["Endpoint", "FaultBook", "FaultKind", "FaultRule", "FaultState", "rewrite"]


class FaultRule(FaultRuleBase):
    kind: FaultKind
    endpoint: Endpoint = "any"
    field: str = "usd"
    value: Any = None


class FaultBook(SharedFaultBook[FaultRule]):
    def take(self, endpoint: Endpoint) -> FaultRule | None:
        return self.take_first(lambda rule: rule.endpoint in (endpoint, "any"))


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
