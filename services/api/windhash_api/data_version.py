"""The data version: a fingerprint of what the API's answers derive from, polled every few hundred ms.

The API only reads; the data changes when the calculator (facts) or the aggregator (summaries) commit, the
ingestor records a failed fetch, or someone loads prices, BM units or miner models. One cheap query, on a
connection of its own (never queued behind requests for the pool), fingerprints:

* every summary table the API reads (`curtailment_*`, `bitcoin_*`) and `btc_prices`, `wind_bm_units`,
  `miner_models`: each table's row count and the sum of its rows' `xmin`. Every INSERT, UPDATE (even to the
  same values) or DELETE changes one of the two, whatever order concurrent writers commit in, and the
  aggregator rewrites a day's, month's and year's rows in the transaction that also rewrites `bm_unit_daily`
  and `lead_party_daily`, so those two need no scan of their own.
* `max(id)` of `outbox`: the calculator writes each batch of facts (`curtailment_records`,
  `bitcoin_calculations`, `settlement_periods`) and its period-calculated events in one transaction, so its
  commit is seen before the aggregator's (which follows it and rewrites the summaries anyway).
* the failed rows of `ingestion_progress` (count, latest update; a partial index answers it).

The cost is one query of about a millisecond per year of data held, whatever the request rate. What this
does not see, a hand edit of a fact table that neither the calculator nor the aggregator follows, is
bounded by the response cache's maximum age instead (see `response_cache`).
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

log = structlog.get_logger(__name__)

# Rewritten whole (delete + insert) or upserted by their writers; small: a few thousand rows per year held.
FINGERPRINTED_TABLES = (
    "curtailment_daily",
    "curtailment_monthly",
    "curtailment_yearly",
    "bitcoin_daily",
    "bitcoin_monthly",
    "bitcoin_yearly",
    "btc_prices",
    "wind_bm_units",
    "miner_models",
    "wind_generation",
)
FINGERPRINT_SQL = "SELECT " + ",\n       ".join(
    [f"(SELECT row(count(*), sum(xmin::text::bigint))::text FROM {table})" for table in FINGERPRINTED_TABLES]
    + [
        "(SELECT max(id) FROM outbox)::text",
        "(SELECT row(count(*), max(updated_at))::text FROM ingestion_progress WHERE status = 'failed')",
    ]
)

Fingerprint = tuple[str | None, ...]
Connect = Callable[[], Awaitable[asyncpg.Connection]]


class DataVersion:
    """Polls the fingerprint every `interval_s` and calls `on_change` whenever it differs from the last one.

    `confirmed_at` is when the latest successful check was sent (monotonic seconds): every change committed
    before then is in `fingerprint`. A failed check forgets the fingerprint (`on_change` is called too), so a
    reader can tell "unchanged as of confirmed_at" from "unknown".
    """

    def __init__(self, connect: Connect, interval_s: float, on_change: Callable[[], None]) -> None:
        self.connect = connect
        self.interval_s = interval_s
        self.on_change = on_change
        self.fingerprint: Fingerprint | None = None
        self.confirmed_at = float("-inf")
        self.changes = 0
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    def confirmed_within(self, seconds: float, now: float) -> bool:
        return self.fingerprint is not None and now - self.confirmed_at <= seconds

    async def check(self) -> None:
        """One check now; raises nothing (a failure makes the version unknown until a check succeeds)."""
        sent = time.monotonic()
        try:
            async with asyncio.timeout(max(1.0, 4 * self.interval_s)):
                if self._connection is None or self._connection.is_closed():
                    self._connection = await self.connect()
                row = await self._connection.fetchrow(FINGERPRINT_SQL)
        except Exception as exc:  # whatever went wrong, the version is unknown until a check succeeds
            await self._drop_connection()
            if self.fingerprint is not None:
                log.warning("data version unknown: responses are not cached until it is read", error=str(exc))
            self._forget()
            return
        fingerprint = tuple(row)
        if fingerprint != self.fingerprint:
            if self.fingerprint is not None:
                self.changes += 1
            self.fingerprint = fingerprint
            self.on_change()
        self.confirmed_at = sent

    def _forget(self) -> None:
        if self.fingerprint is not None:
            self.fingerprint = None
            self.on_change()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # it failed already; only its socket is left to release
                connection.terminate()

    async def _poll(self) -> None:
        while True:
            started = time.monotonic()
            await self.check()
            await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))

    async def start(self) -> None:
        """Read the version once, then keep polling in the background."""
        await self.check()
        self._task = asyncio.create_task(self._poll(), name="windhash-api-data-version")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._forget()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # shutting down: a close that fails changes nothing
                await connection.close(timeout=2)
