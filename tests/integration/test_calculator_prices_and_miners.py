"""`windhash prices load|sync` and `windhash miners list|add` against PostgreSQL, with a local server speaking
CoinGecko's market_chart/range JSON. Adding a miner model computes its history from the stored records."""

import asyncio
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from windhash_calculator.handler import apply_messages
from windhash_calculator.settings import CalculatorSettings
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_common.consumer_runtime.messages import ConsumedMessage
from windhash_common.events import CurtailmentRecord, SettlementPeriodEvent

pytestmark = pytest.mark.integration


def _ms(day: int, hour: int = 0) -> int:
    return int(datetime(2024, 1, day, hour, tzinfo=UTC).timestamp() * 1000)


# Daily points at 00:00 UTC, plus an hourly point that must not win; USD lacks 3 January.
CHARTS = {
    "gbp": [[_ms(2), 35100.12], [_ms(2, 5), 36000.0], [_ms(3), 35555.555], [_ms(4), 36000.0]],
    "usd": [[_ms(2), 44700.5], [_ms(4), 45000.0]],
}


class CoinGeckoServer(BaseHTTPRequestHandler):
    queries: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        CoinGeckoServer.queries.append(query)
        assert url.path == "/api/v3/coins/bitcoin/market_chart/range"
        body = json.dumps({"prices": CHARTS[query["vs_currency"][0]], "market_caps": [], "total_volumes": []})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def coingecko_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CoinGeckoServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def windhash(env: dict[str, str], *args: str, expect: int = 0) -> str:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("windhash")),
        *args,
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == expect, output.decode()
    return output.decode()


@pytest.fixture
async def db(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    yield connection
    await connection.close()


async def test_prices_sync_keeps_missing_days_missing(
    service_env: dict[str, str], coingecko_url: str, db: asyncpg.Connection
) -> None:
    env = {**service_env, "WINDHASH_PRICE_API_URL": coingecko_url}
    output = await windhash(env, "prices", "sync", "--start", "2024-01-02", "--end", "2024-01-03")
    assert "2 days of prices stored" in output
    rows = await db.fetch("SELECT price_date, gbp, usd, source FROM btc_prices ORDER BY 1")
    assert [tuple(row) for row in rows] == [
        (date(2024, 1, 2), Decimal("35100.12"), Decimal("44700.50"), "coingecko"),
        (date(2024, 1, 3), Decimal("35555.56"), None, "coingecko"),  # no USD price: NULL, never borrowed
    ]
    assert sorted(q["vs_currency"][0] for q in CoinGeckoServer.queries) == ["gbp", "usd"]
    shown = await windhash(env, "prices", "show", "--start", "2024-01-03", "--end", "2024-01-04")
    assert "missing" in shown


async def test_prices_load_marks_the_packaged_file_synthetic(
    service_env: dict[str, str], db: asyncpg.Connection
) -> None:
    output = await windhash(service_env, "prices", "load")
    assert "SYNTHETIC" in output and "366 days" in output
    assert await db.fetchval("SELECT array_agg(DISTINCT source) FROM btc_prices") == ["synthetic"]


async def test_adding_a_model_computes_its_history(
    service_env: dict[str, str], db: asyncpg.Connection
) -> None:
    settings = CalculatorSettings()
    difficulty = Decimal(86388558925171)
    events = [
        SettlementPeriodEvent.build(
            date(2024, 4, 20),
            period,
            tuple(
                CurtailmentRecord(
                    bm_unit=f"T_U-{index}",
                    acceptance_id=period * 10 + index,
                    bid_offer_pair_id=-1,
                    sequence_number=1,
                    created_at=None,
                    volume_mwh=Decimal(f"-{period}.5"),
                    original_price_gbp_per_mwh=Decimal(-20),
                    final_price_gbp_per_mwh=None,
                    cashflow_gbp=Decimal(f"{period}.5") * 20,
                    so_flag=True,
                    cadl_flag=None,
                )
                for index in range(2)
            ),
            datetime(2024, 6, 1, tzinfo=UTC),
            synthetic=True,
        )
        for period in (3, 4)
    ]
    messages = [
        ConsumedMessage("test", 0, offset, e.kafka_key, e.model_dump_json().encode())
        for offset, e in enumerate(events)
    ]
    difficulties = {date(2024, 4, 20): difficulty}
    await apply_messages(db, messages, "test", settings.topics, difficulties, MINED_HALVINGS)
    outbox_before = await db.fetchval("SELECT max(id) FROM outbox")

    args = (
        "miners",
        "add",
        "S21_PRO",
        "--manufacturer",
        "Bitmain",
        "--hashrate-ths",
        "234",
        "--power-w",
        "3510",
    )
    output = await windhash(service_env, *args, "--release-date", "2024-10-01")
    assert "4 calculations written for 2 periods" in output
    rows = await db.fetch(
        "SELECT settlement_period, energy_mwh, btc FROM bitcoin_calculations WHERE miner_model = 'S21_PRO'"
    )
    assert len(rows) == 4
    for row in rows:
        # Period 3 starts before block 840,000 (6.25 BTC), period 4 after (3.125 BTC).
        reward = Fraction(625, 100) if row["settlement_period"] == 3 else Fraction(3125, 1000)
        exact = (
            Fraction(row["energy_mwh"])
            * 3_600_000_000
            / 3510
            * 234
            * 10**12
            / (Fraction(difficulty) * 2**32)
            * reward
        )
        assert abs(Fraction(row["btc"]) - exact) <= Fraction(1, 2 * 10**8)
    events_after = await db.fetch(  # (the command's audit event goes to the outbox too, on its own topic)
        "SELECT payload->>'settlement_date', payload->>'settlement_period' FROM outbox"
        " WHERE id > $1 AND topic = $2",
        outbox_before,
        settings.topics.period_calculated,
    )
    assert sorted(tuple(row) for row in events_after) == [("2024-04-20", "3"), ("2024-04-20", "4")]

    again = await windhash(service_env, *args, "--release-date", "2024-10-01")  # idempotent
    assert "already present (same specs); 4 calculations written" in again
    assert await db.fetchval("SELECT count(*) FROM bitcoin_calculations WHERE miner_model = 'S21_PRO'") == 4
    conflict = await windhash(
        service_env,
        "miners",
        "add",
        "S21_PRO",
        "--manufacturer",
        "Bitmain",
        "--hashrate-ths",
        "200",
        "--power-w",
        "3500",
        expect=1,
    )
    assert "other specs" in conflict
    listed = await windhash(service_env, "miners", "list")
    assert "S21_PRO" in listed and "S19J_PRO" in listed and "15.00" in listed  # 3510 W / 234 TH/s
