"""Which stretch of the snapshot series a request reads: whole UTC buckets, defaults from now, each resolution
bounded, and every refusal says what to ask instead."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from windhash_market.series_range import (
    BUCKET,
    MAX_SPAN,
    InvalidRange,
    Resolution,
    bucket_start,
    series_range,
)

NOW = datetime(2026, 3, 1, 12, 7, 30, tzinfo=UTC)


def test_without_bounds_the_range_ends_now_and_spans_the_resolution_s_default_in_whole_buckets() -> None:
    quarter = series_range(None, None, Resolution.quarter_hour, NOW)
    assert (quarter.start, quarter.end) == (
        datetime(2026, 2, 28, 12, 0, tzinfo=UTC),
        NOW.replace(minute=15, second=0),
    )
    day = series_range(None, None, Resolution.day, NOW)
    assert (day.start, day.end) == (datetime(2025, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))


def test_a_range_given_with_an_offset_is_read_in_utc_and_widened_to_its_buckets() -> None:
    summer = timezone(timedelta(hours=1))
    span = series_range(
        datetime(2026, 6, 1, 0, 30, tzinfo=summer),
        datetime(2026, 6, 1, 3, 0, tzinfo=summer),
        Resolution.hour,
        NOW,
    )
    assert (span.start, span.end) == (
        datetime(2026, 5, 31, 23, tzinfo=UTC),
        datetime(2026, 6, 1, 2, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("start", "end", "resolution", "hint"),
    [
        (NOW, NOW, Resolution.hour, "start < end"),
        (NOW, NOW - timedelta(hours=1), Resolution.hour, "start < end"),
        (NOW - timedelta(days=32), NOW, Resolution.quarter_hour, "resolution=hour"),
        (NOW - timedelta(days=400), NOW, Resolution.hour, "resolution=day"),
        (NOW - timedelta(days=4000), NOW, Resolution.day, "a shorter range"),
        (datetime(2008, 12, 31, tzinfo=UTC), None, Resolution.day, "from 2009-01-03"),
        (None, datetime(1, 1, 1, tzinfo=UTC), Resolution.day, "from 2009-01-03"),
        (None, datetime(9999, 12, 31, tzinfo=UTC), Resolution.day, "from 2009-01-03"),
    ],
)
def test_what_cannot_be_answered_is_refused_with_what_to_ask_instead(
    start: datetime | None, end: datetime | None, resolution: Resolution, hint: str
) -> None:
    with pytest.raises(InvalidRange) as refused:
        series_range(start, end, resolution, NOW)
    assert hint in refused.value.hint


@given(
    st.datetimes(min_value=datetime(2009, 1, 3), max_value=datetime(2199, 1, 1), timezones=st.just(UTC)),
    st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3660)),
    st.sampled_from(list(Resolution)),
)
def test_any_range_is_answered_in_whole_buckets_covering_it_or_refused(
    start: datetime, length: timedelta, resolution: Resolution
) -> None:
    try:
        span = series_range(start, start + length, resolution, NOW)
    except InvalidRange:
        assert length > MAX_SPAN[resolution] or start + length >= datetime(2200, 1, 1, tzinfo=UTC)
        return
    bucket = BUCKET[resolution]
    assert span.start <= start and span.end >= start + length
    assert bucket_start(span.start, bucket) == span.start and bucket_start(span.end, bucket) == span.end
    assert span.end - span.start <= MAX_SPAN[resolution] + 2 * bucket
