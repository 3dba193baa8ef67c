"""Month buckets summed from day points: pure, so a year's chart needs only the daily summaries."""

from collections.abc import Iterable
from decimal import Decimal

from windhash_api.models.mining import SeriesPoint


def _sum_known(values: list[Decimal | None]) -> Decimal | None:
    known = [value for value in values if value is not None]
    return sum(known, Decimal(0)) if known else None


def by_month(days: Iterable[SeriesPoint]) -> list[SeriesPoint]:
    """Day points (key YYYY-MM-DD) summed into month points (key YYYY-MM), in date order."""
    months: dict[str, list[SeriesPoint]] = {}
    for point in days:
        months.setdefault(point.key[:7], []).append(point)
    return [
        SeriesPoint(
            key=month,
            energy_mwh=sum((point.energy_mwh for point in points), Decimal(0)),
            cashflow_gbp=sum((point.cashflow_gbp for point in points), Decimal(0)),
            btc=_sum_known([point.btc for point in points]),
            value_gbp=_sum_known([point.value_gbp for point in points]),
            days_without_price=sum(point.days_without_price for point in points),
        )
        for month, points in sorted(months.items())
    ]
