"""Difficulty and daily prices for any date from 2019 on, from the sources (the synthetic market server over
HTTP) and from files, through `windhash difficulty|prices load|sync`; implausible values refused with a clear
message and exit code 2, the rest stored."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from windhash_common.difficulty_store import open_difficulty_store
from windhash_common.settings import CommonSettings
from windhash_market_sim.generator import DEFAULT_SEED, difficulty_at, price_usd
from windhash_market_sim.server import MarketSimServer

pytestmark = pytest.mark.integration


@pytest.fixture
def market() -> Iterator[MarketSimServer]:
    with MarketSimServer() as server:
        yield server


@pytest.fixture
async def db(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg_dsn)
    yield connection
    await connection.close()


async def windhash(env: dict[str, str], *args: str, expect: int = 0) -> str:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("windhash")),
        *args,
        env={**os.environ, **env, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == expect, output.decode()
    return output.decode()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


async def test_2019_history_loads_from_the_sources(
    service_env: dict[str, str], market: MarketSimServer, db: asyncpg.Connection
) -> None:
    env = {**service_env, "WINDHASH_EXPLORER_URL": market.url, "WINDHASH_PRICE_API_URL": market.url}
    output = await windhash(env, "difficulty", "sync", "--period", "all", "--until", "2019-03-31")
    assert "90 days written" in output and "0 refused" in output
    output = await windhash(env, "prices", "sync", "--start", "2019-01-01", "--end", "2019-03-31")
    assert "90 days of prices stored" in output

    async with open_difficulty_store(CommonSettings()) as store:
        stored = await store.difficulties([date(2019, 1, 1), date(2019, 3, 31)])
    assert stored == {day: difficulty_at(DEFAULT_SEED, midnight(day)) for day in stored}
    assert len(stored) == 2
    usd = await db.fetchval("SELECT usd FROM btc_prices WHERE price_date = '2019-01-01'")
    assert usd == price_usd(DEFAULT_SEED, midnight(date(2019, 1, 1)))


async def test_files_load_any_year_and_implausible_values_are_refused_with_the_reason(
    service_env: dict[str, str], db: asyncpg.Connection, tmp_path: Path
) -> None:
    difficulty = tmp_path / "difficulty_2019.json"
    difficulty.write_text(
        json.dumps({"2019-06-01": "7409399249090.25", "2019-06-02": "7409399249090.25", "2019-06-03": "0.5"})
    )
    output = await windhash(service_env, "difficulty", "load", str(difficulty), expect=2)
    assert "2 days written" in output and "1 refused" in output
    assert "refused 2019-06-03: difficulty 0.5000 is outside the plausible" in output

    prices = tmp_path / "prices_2019.json"
    prices.write_text(
        json.dumps(
            {
                "source": "manual",
                "prices": {
                    "2019-06-01": {"gbp": "6800.12", "usd": "8600.50"},
                    "2019-06-02": {"gbp": "6850.00", "usd": "8700.00"},
                    "2019-06-03": {"gbp": "68500.00", "usd": None},  # one zero too many
                },
            }
        )
    )
    output = await windhash(service_env, "prices", "load", str(prices), expect=2)
    assert "2 days of prices stored" in output
    assert "refused 2019-06-03: GBP price 68500.00 on 2019-06-03 is not within ×2" in output
    rows = await db.fetch("SELECT price_date, gbp FROM btc_prices ORDER BY 1")
    assert [(row[0], row[1]) for row in rows] == [
        (date(2019, 6, 1), Decimal("6800.12")),
        (date(2019, 6, 2), Decimal("6850.00")),
    ]
