"""Daily BTC prices in GBP and USD (`btc_prices`), and fiat values that use the price of the day.

A day's price is the one at 00:00 UTC (the daily point of the usual public sources). A day without a price has
no fiat value: `fiat_value` returns None and callers show it as missing, never a price from another day.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg

from windhash_common.input_values import InputRefused, bounded_decimal, checked_name
from windhash_common.json_input import parse_json_text, read_json_file
from windhash_common.money import PENNY, to_penny
from windhash_common.reference_bounds import NEIGHBOUR_DAYS, daily_price_refusals
from windhash_common.settlement_range import parse_iso_date

__all__ = ["PENNY", "DailyPrice", "fiat_value"]
_WIDE = Context(prec=80)  # an absurd price is kept whole, for reference_bounds to refuse
# What the price columns (numeric(14, 2)) can hold: a file's figure beyond it is not a price at all. Whether a
# figure within it is a plausible price is for `reference_bounds` to say when it is stored.
PRICE_MAX = Decimal("999999999999.99")
SYNTHETIC_2024_FILE = "btc_prices_2024_synthetic.json"


@dataclass(frozen=True)
class DailyPrice:
    price_date: date
    gbp: Decimal | None
    usd: Decimal | None
    source: str


def fiat_value(btc: Decimal, price: Decimal | None) -> Decimal | None:
    """BTC × the day's price, to the penny (half-even); None when the day has no price."""
    if price is None:
        return None
    return to_penny(btc * price)


def _money(value: Any) -> Decimal | None:
    """To the penny; whether the amount is a plausible price is for `reference_bounds` to say."""
    if value is None:
        return None
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(f"a BTC price must be a finite number, got {value}")
    return amount.quantize(PENNY, rounding=ROUND_HALF_EVEN, context=_WIDE)


def _file_money(value: object, what: str) -> Decimal | None:
    """A price as a file gives it: a number of at least a penny that the price columns can hold, to the
    penny; InputRefused (one sentence) for anything else."""
    if value is None:
        return None
    amount = _money(bounded_decimal(value, what, above=Decimal(0), at_most=PRICE_MAX))
    if amount is None or amount <= 0:
        raise InputRefused(f"{what} must be at least a penny, got {value}")
    return amount


def parse_price_file(text: str, default_source: str) -> list[DailyPrice]:
    """`{"source": "...", "prices": {"YYYY-MM-DD": {"gbp": "...", "usd": "..."}}}`; a currency may be null."""
    return prices_of(parse_json_text(text.encode(), default_source), default_source)


def prices_of(raw: object, default_source: str) -> list[DailyPrice]:
    """The prices of a parsed price file (strict JSON: windhash_common.json_input); InputRefused (one
    sentence) for anything else."""
    if not isinstance(raw, dict) or not isinstance(raw.get("prices"), dict):
        raise InputRefused(
            f'{default_source} is not a price file: a JSON object whose "prices" maps dates to {{gbp, usd}}'
        )
    source = checked_name(raw.get("source") or default_source, "the price source", max_length=200)
    prices = []
    for day, value in sorted(raw["prices"].items()):
        try:
            if not isinstance(value, dict):
                raise InputRefused(f'the prices of {day} must be an object {{"gbp": ..., "usd": ...}}')
            gbp = _file_money(value.get("gbp"), f"the GBP price of {day}")
            usd = _file_money(value.get("usd"), f"the USD price of {day}")
            prices.append(DailyPrice(parse_iso_date(day), gbp, usd, source))
        except ValueError as error:
            raise InputRefused(f"{default_source}: {error}") from None
    return prices


def read_price_file(path: Path) -> list[DailyPrice]:
    return prices_of(read_json_file(path), default_source=f"file:{path.name}")


def packaged_synthetic_prices_2024() -> list[DailyPrice]:
    text = resources.files("windhash_common.data").joinpath(SYNTHETIC_2024_FILE).read_text()
    return parse_price_file(text, default_source="synthetic")


def daily_prices_from_market_chart(payload: Mapping[str, Any]) -> dict[date, Decimal]:
    """CoinGecko `market_chart/range` JSON (`{"prices": [[unix_ms, price], ...]}`) → the first price of each
    UTC date (the 00:00 point when the range is long enough for daily granularity)."""
    points = payload.get("prices")
    if not isinstance(points, list):
        raise ValueError('market chart JSON has no "prices" list')
    daily: dict[date, tuple[int, Decimal]] = {}
    for point in points:
        timestamp_ms, price = int(point[0]), Decimal(str(point[1]))
        day = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC).date()
        if day not in daily or timestamp_ms < daily[day][0]:
            daily[day] = (timestamp_ms, price)
    return {day: value for day, (_, value) in sorted(daily.items())}


def combine_currencies(
    gbp: Mapping[date, Decimal], usd: Mapping[date, Decimal], source: str
) -> list[DailyPrice]:
    days = sorted(set(gbp) | set(usd))
    return [DailyPrice(day, _money(gbp.get(day)), _money(usd.get(day)), source) for day in days]


@dataclass
class PriceWrite:
    written: list[date] = field(default_factory=list)
    unchanged: list[date] = field(default_factory=list)
    conflicts: dict[date, tuple[DailyPrice, DailyPrice]] = field(default_factory=dict)  # (stored, offered)
    replaced: dict[date, tuple[DailyPrice, DailyPrice]] = field(default_factory=dict)  # (old, new), overwrite
    refused: dict[date, str] = field(default_factory=dict)  # why the price is implausible


async def store_prices(
    connection: asyncpg.Connection, prices: Iterable[DailyPrice], overwrite: bool
) -> PriceWrite:
    """Write the plausible prices (`reference_bounds`, judged with the stored days around them) and refuse the
    rest with their reasons. A day that already holds another price is replaced when `overwrite` (the CLI's
    explicit load or sync) and otherwise reported as a conflict and left alone (the market service)."""
    offered = {price.price_date: price for price in prices}
    if not offered:
        return PriceWrite()
    first, last = min(offered), max(offered)
    stored = await prices_between(
        connection, first - timedelta(days=NEIGHBOUR_DAYS), last + timedelta(days=NEIGHBOUR_DAYS)
    )
    outcome = PriceWrite(
        refused=daily_price_refusals(
            {day: (price.gbp, price.usd) for day, price in offered.items()},
            {day: (price.gbp, price.usd) for day, price in stored.items() if day not in offered},
        )
    )
    to_write = []
    for day, price in sorted(offered.items()):
        if day in outcome.refused:
            continue
        known = stored.get(day)
        if known is not None and (known.gbp, known.usd) == (price.gbp, price.usd):
            outcome.unchanged.append(day)
        elif known is not None and not overwrite:
            outcome.conflicts[day] = (known, price)
        else:
            to_write.append(price)
            if known is not None:
                outcome.replaced[day] = (known, price)
    await _upsert_prices(connection, to_write)
    outcome.written = [price.price_date for price in to_write]
    return outcome


async def _upsert_prices(connection: asyncpg.Connection, prices: Iterable[DailyPrice]) -> None:
    rows = [(price.price_date, price.gbp, price.usd, price.source) for price in prices]
    await connection.execute(
        "INSERT INTO btc_prices (price_date, gbp, usd, source)"
        " SELECT * FROM unnest($1::date[], $2::numeric[], $3::numeric[], $4::text[])"
        " ON CONFLICT (price_date) DO UPDATE SET gbp = excluded.gbp, usd = excluded.usd,"
        " source = excluded.source, updated_at = now()",
        [row[0] for row in rows],
        [row[1] for row in rows],
        [row[2] for row in rows],
        [row[3] for row in rows],
    )


async def prices_between(connection: asyncpg.Connection, first: date, last: date) -> dict[date, DailyPrice]:
    rows = await connection.fetch(
        "SELECT price_date, gbp, usd, source FROM btc_prices WHERE price_date BETWEEN $1 AND $2 ORDER BY 1",
        first,
        last,
    )
    return {
        row["price_date"]: DailyPrice(row["price_date"], row["gbp"], row["usd"], row["source"])
        for row in rows
    }
