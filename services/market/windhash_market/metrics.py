"""The market service's Prometheus metrics (served on `metrics_port`, 9105 by default). The sources' requests
are counted by `windhash_source_requests_total` (windhash_common.market_sources) and their retries by
stamina's `stamina_retries_total`."""

import math
import time

from prometheus_client import Counter, Gauge

SNAPSHOTS = Counter(
    "windhash_market_snapshots_total",
    "Slots decided, by outcome: taken (live), backfilled (from history), refused (implausible values),"
    " missed (a source failed or has no history for it)",
    ["outcome"],
)
SOURCE_ERRORS = Counter(
    "windhash_market_source_errors_total",
    "Source reads that failed after their retries, by step (live, backfill, reference)",
    ["step"],
)
REFERENCE_WRITES = Counter(
    "windhash_market_reference_writes_total",
    "Days offered to the reference tables, by kind (difficulty, price) and outcome (written, unchanged,"
    " conflict, refused)",
    ["kind", "outcome"],
)
CYCLE_FAILURES = Counter("windhash_market_cycle_failures_total", "Cycles that failed on an error")
LAST_SNAPSHOT = Gauge(
    "windhash_market_last_snapshot_timestamp_seconds", "Start of the newest slot with a snapshot (unix time)"
)
LAST_SNAPSHOT_AGE = Gauge(
    "windhash_market_last_snapshot_age_seconds", "Seconds since the start of the newest slot with a snapshot"
)
LEASE_HELD = Gauge("windhash_market_lease_held", "1 while this process holds the market job's lease")
SIGNAL = Gauge("windhash_market_indicator_signal", "The newest snapshot's signal: 1 BUY, 0 NEUTRAL, -1 SELL")


def _age() -> float:
    newest = LAST_SNAPSHOT._value.get()
    return time.time() - newest if newest > 0 else math.nan


LAST_SNAPSHOT_AGE.set_function(_age)
