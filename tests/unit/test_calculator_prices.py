from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from windhash_common.btc_prices import (
    combine_currencies,
    daily_prices_from_market_chart,
    fiat_value,
    packaged_synthetic_prices_2024,
    parse_price_file,
)


def ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


def test_fiat_value_uses_the_days_price_or_nothing() -> None:
    assert fiat_value(Decimal("0.02485287"), Decimal("51115.30")) == Decimal("1270.36")  # 1270.3623... → .36
    assert fiat_value(Decimal("0.02485287"), None) is None


def test_the_packaged_prices_are_labelled_synthetic() -> None:
    prices = packaged_synthetic_prices_2024()
    assert len(prices) == 366
    assert {price.source for price in prices} == {"synthetic"}
    assert all(price.gbp and price.usd for price in prices)


def test_a_price_file_may_leave_a_currency_out() -> None:
    text = '{"source": "manual", "prices": {"2024-01-02": {"gbp": "33000.005", "usd": null}}}'
    [price] = parse_price_file(text, default_source="file")
    assert (price.price_date, price.gbp, price.usd, price.source) == (
        date(2024, 1, 2),
        Decimal("33000.00"),
        None,
        "manual",
    )
    with pytest.raises(ValueError):
        parse_price_file('{"prices": {"2024-01-02": {"gbp": "Infinity"}}}', default_source="file")


def test_market_chart_gives_the_first_price_of_each_utc_day() -> None:
    payload = {
        "prices": [
            [ms(2024, 1, 2, 6), Decimal("34000")],
            [ms(2024, 1, 2), Decimal("33500.5")],
            [ms(2024, 1, 3), 34100.25],
        ],
        "market_caps": [],
        "total_volumes": [],
    }
    assert daily_prices_from_market_chart(payload) == {
        date(2024, 1, 2): Decimal("33500.5"),
        date(2024, 1, 3): Decimal("34100.25"),
    }
    combined = combine_currencies(
        {date(2024, 1, 2): Decimal("33500.5")}, {date(2024, 1, 3): Decimal(43000)}, "cg"
    )
    assert [(p.price_date, p.gbp, p.usd) for p in combined] == [
        (date(2024, 1, 2), Decimal("33500.50"), None),
        (date(2024, 1, 3), None, Decimal("43000.00")),
    ]
