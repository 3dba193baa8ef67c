"""Fiat values rounded to the penny half-even in SQL, as the aggregator's summaries and
windhash_common.btc_prices.fiat_value round them (PostgreSQL's round() goes half away from zero)."""


def penny_half_even(amount: str) -> str:
    """A SQL expression: `amount` (a non-negative numeric expression) to 2 places, ties to the even penny."""
    return (
        f"(CASE WHEN abs(({amount}) - trunc({amount}, 2)) = 0.005 AND mod(trunc({amount}, 2) * 100, 2) = 0"
        f" THEN trunc({amount}, 2) ELSE round({amount}, 2) END)"
    )
