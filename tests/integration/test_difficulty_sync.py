"""`windhash difficulty load|sync` against DynamoDB Local, PostgreSQL and a local server speaking the
mempool.space difficulty-adjustments JSON; the arrival of difficulty completes the periods waiting for it."""

import asyncio
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import asyncpg
import pytest
from windhash_calculator.handler import apply_messages
from windhash_calculator.settings import CalculatorSettings
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.difficulty_store import open_difficulty_store
from windhash_testing.curtailment_samples import period_snapshot, wind_record

pytestmark = pytest.mark.integration

# Two adjustments as mempool.space lists them (newest first): [unix time, height, difficulty, change ratio].
ADJUSTMENTS = [
    [int(datetime(2024, 5, 5, 9, 30, tzinfo=UTC).timestamp()), 842_688, 88104191118793.16, 1.0198],
    [int(datetime(2024, 4, 24, 3, 0, tzinfo=UTC).timestamp()), 840_672, 88104191118793.16, 1.0198],
    [int(datetime(2024, 4, 11, 4, 50, tzinfo=UTC).timestamp()), 838_656, 86388558925171, 1.0392],
]


class MempoolServer(BaseHTTPRequestHandler):
    failures_left = 1  # the first request fails with 503: sync must retry, not give up or record nothing
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        MempoolServer.paths.append(self.path)
        if MempoolServer.failures_left:
            MempoolServer.failures_left -= 1
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        body = json.dumps(ADJUSTMENTS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def mempool_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), MempoolServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def windhash(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("windhash")),
        *args,
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest.fixture
async def db(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    yield connection
    await connection.close()


async def store_pending_period(
    db: asyncpg.Connection, settings: CalculatorSettings, day: date, period: int
) -> None:
    """Through the calculator's own write path, with no difficulty known."""
    event = period_snapshot(day, period, datetime(2024, 6, 1, tzinfo=UTC), wind_record(period, "-4", "-30"))
    offset = day.toordinal() * 100 + period  # increasing in the order the test stores periods
    message = ConsumedMessage("test", 0, offset, event.kafka_key, event.model_dump_json().encode())
    outcome = await apply_messages(db, [message], "test", settings.topics, {}, MINED_HALVINGS)
    assert outcome.result.applied == {(day, period): "pending_difficulty"}


async def test_sync_fills_days_and_completes_pending_periods(
    service_env: dict[str, str], mempool_url: str, db: asyncpg.Connection
) -> None:
    settings = CalculatorSettings()
    await store_pending_period(db, settings, date(2024, 5, 1), 20)  # 2024-05-01 09:30 UTC
    await store_pending_period(db, settings, date(2024, 5, 6), 20)  # 2024-05-06: after the 05-05 adjustment
    await store_pending_period(db, settings, date(2024, 6, 1), 20)  # past --until: stays pending

    output = await windhash(
        {**service_env, "WINDHASH_EXPLORER_URL": mempool_url},
        "difficulty", "sync", "--period", "1y", "--until", "2024-05-31",
    )  # fmt: skip
    assert "2 completed" in output and "1 still waiting" in output
    assert MempoolServer.paths == ["/api/v1/mining/difficulty-adjustments/1y"] * 2  # one 503, one retry

    async with open_difficulty_store(settings) as store:
        stored = await store.difficulties(
            [date(2024, 4, 11), date(2024, 4, 12), date(2024, 5, 5), date(2024, 5, 6)]
        )
    assert stored == {
        date(2024, 4, 12): Decimal(86388558925171),  # the 11th began before the first adjustment we know
        date(2024, 5, 5): Decimal("88104191118793.16"),  # adjusted 24 April
        date(2024, 5, 6): Decimal("88104191118793.16"),
    }
    rows = await db.fetch("SELECT settlement_date, status, difficulty FROM settlement_periods ORDER BY 1")
    assert [tuple(row) for row in rows] == [
        (date(2024, 5, 1), "calculated", Decimal("88104191118793.1600")),
        (date(2024, 5, 6), "calculated", Decimal("88104191118793.1600")),
        (date(2024, 6, 1), "pending_difficulty", None),
    ]
    assert await db.fetchval("SELECT count(*) FROM bitcoin_calculations") == 2 * 6
    events = await db.fetch("SELECT payload->>'status' FROM outbox ORDER BY id")
    assert [row[0] for row in events] == ["pending_difficulty"] * 3 + ["calculated"] * 2


async def test_load_seeds_the_2024_reference_and_show_reads_by_key(
    service_env: dict[str, str], db: asyncpg.Connection
) -> None:
    settings = CalculatorSettings()
    await store_pending_period(db, settings, date(2024, 3, 31), 46)  # the short day's last period
    output = await windhash(service_env, "difficulty", "load")
    assert "366 days written" in output and "1 completed" in output
    again = await windhash(service_env, "difficulty", "load")
    assert "0 days written, 366 already present" in again
    shown = await windhash(service_env, "difficulty", "show", "2024-04-20", "2025-01-01")
    assert "2024-04-20: 86388558925171" in shown and "2025-01-01: missing" in shown
    row = await db.fetchrow("SELECT status, difficulty FROM settlement_periods")
    assert row is not None and row["status"] == "calculated"
    assert row["difficulty"] == Decimal("83126997340024.6")  # period 46 of 03-31 starts 22:30 UTC on the 31st
