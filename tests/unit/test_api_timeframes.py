"""Timeframe parsing: every accepted form, and refusals that say what to send instead."""

import contextlib
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from windhash_api.errors import InvalidParameter
from windhash_api.timeframes import TimeframeKind, month_end, parse_timeframe

MAX_DAYS = 1830


@pytest.mark.parametrize(
    ("kind", "value", "first", "last", "label"),
    [
        (TimeframeKind.daily, "2024-03-31", date(2024, 3, 31), date(2024, 3, 31), "2024-03-31"),
        (TimeframeKind.monthly, "2024-02", date(2024, 2, 1), date(2024, 2, 29), "2024-02"),
        (TimeframeKind.monthly, "2023-12", date(2023, 12, 1), date(2023, 12, 31), "2023-12"),
        (TimeframeKind.yearly, "2024", date(2024, 1, 1), date(2024, 12, 31), "2024"),
        (
            TimeframeKind.range,
            "2024-03-01..2024-04-30",
            date(2024, 3, 1),
            date(2024, 4, 30),
            "2024-03-01..2024-04-30",
        ),
    ],
)
def test_accepted_timeframes(kind: TimeframeKind, value: str, first: date, last: date, label: str) -> None:
    span = parse_timeframe(kind, value, MAX_DAYS)
    assert (span.first, span.last, span.label) == (first, last, label)


@pytest.mark.parametrize(
    ("kind", "value", "hint"),
    [
        (TimeframeKind.monthly, "2024-13", "01 to 12"),
        (TimeframeKind.monthly, "2024-00", "01 to 12"),
        (TimeframeKind.monthly, "2024-3", "YYYY-MM"),
        (TimeframeKind.daily, "2024-02-30", "existing date"),
        (TimeframeKind.daily, "15/03/2024", "YYYY-MM-DD"),
        (TimeframeKind.daily, "0001-01-01", "send dates from 2001-03-27"),
        (TimeframeKind.daily, "2001-03-26", "send dates from 2001-03-27"),
        (TimeframeKind.range, "2001-01-01..2001-12-31", "send dates from 2001-03-27"),
        (TimeframeKind.monthly, "2001-02", "send dates from 2001-03-27"),
        (TimeframeKind.monthly, "9999-12", "send dates from 2001-03-27"),
        (TimeframeKind.yearly, "24", "four-digit"),
        (TimeframeKind.yearly, "9999", "send dates from 2001-03-27"),
        (TimeframeKind.yearly, "2000", "send dates from 2001-03-27"),
        (TimeframeKind.range, "2024-01-01", "FIRST..LAST"),
        (TimeframeKind.range, "2024-05-01..2024-04-01", "FIRST <= LAST"),
        (TimeframeKind.range, "2004-01-01..2023-12-31", "at most 1830 days"),
        (TimeframeKind.range, "9999-12-30..9999-12-31", "send dates from 2001-03-27"),
    ],
)
def test_refusals_carry_a_hint(kind: TimeframeKind, value: str, hint: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        parse_timeframe(kind, value, MAX_DAYS)
    assert refused.value.status == 422
    assert refused.value.hint is not None and hint in refused.value.hint


def test_a_range_of_exactly_the_maximum_is_accepted() -> None:
    span = parse_timeframe(TimeframeKind.range, "2024-01-01..2024-01-10", 10)
    assert span.days == 10


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_month_end_is_the_last_day_of_the_month(day: date) -> None:
    end = month_end(day.replace(day=1))
    assert end.month == day.month
    assert (end + timedelta(days=1)).day == 1


@given(st.text(max_size=30), st.sampled_from(list(TimeframeKind)))
def test_any_text_is_parsed_or_refused_never_crashes(text: str, kind: TimeframeKind) -> None:
    with contextlib.suppress(InvalidParameter):
        parse_timeframe(kind, text, MAX_DAYS)
