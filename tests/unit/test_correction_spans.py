"""Which settlement dates a corrected day's difficulty can touch."""

from datetime import date

from windhash_cli.reference_corrections import affected_settlement_spans


def test_a_day_touches_its_own_settlement_date_and_the_next_one() -> None:
    # In summer settlement day D+1 begins at 23:00 UTC on D, so its first periods use D's difficulty.
    assert affected_settlement_spans([date(2024, 6, 10)]) == [(date(2024, 6, 10), date(2024, 6, 11))]


def test_neighbouring_days_share_one_span_and_distant_ones_do_not() -> None:
    days = [date(2024, 6, 12), date(2024, 6, 10), date(2024, 6, 11), date(2024, 6, 20)]
    assert affected_settlement_spans(days) == [
        (date(2024, 6, 10), date(2024, 6, 13)),
        (date(2024, 6, 20), date(2024, 6, 21)),
    ]
