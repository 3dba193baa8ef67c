from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from windhash_common.difficulty_store import (
    DifficultyAdjustment,
    DifficultyStore,
    daily_difficulties,
    packaged_difficulty_2024,
    parse_difficulty_file,
)
from windhash_common.market_sources.explorer import parse_adjustments
from windhash_common.market_sources.http_fetch import SourceError


class FakeDynamoDB:
    """The two batch calls DifficultyStore makes, over a dict; the first get leaves one key unprocessed."""

    def __init__(self, items: dict[str, str]) -> None:
        self.items = dict(items)
        self.keys_read: list[str] = []
        self.throttle_once = True

    async def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        [(table, request)] = RequestItems.items()
        keys = [key["date"]["S"] for key in request["Keys"]]
        if self.throttle_once and len(keys) > 1:
            self.throttle_once = False
            unprocessed = {table: {**request, "Keys": [{"date": {"S": keys[-1]}}]}}
            keys = keys[:-1]
        else:
            unprocessed = {}
        self.keys_read += keys
        found = [{"date": {"S": k}, "difficulty": {"N": self.items[k]}} for k in keys if k in self.items]
        return {"Responses": {table: found}, "UnprocessedKeys": unprocessed}

    async def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        [(_, requests)] = RequestItems.items()
        for request in requests:
            item = request["PutRequest"]["Item"]
            self.items[item["date"]["S"]] = item["difficulty"]["N"]
        return {"UnprocessedItems": {}}


async def test_reads_by_key_cache_what_they_find_and_never_invent_the_rest() -> None:
    fake = FakeDynamoDB({"2024-01-01": "72006146478567", "2024-01-02": "72006146478567"})
    store = DifficultyStore(fake, "difficulty")
    days = [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    assert await store.difficulties(days) == {
        date(2024, 1, 1): Decimal(72006146478567),
        date(2024, 1, 2): Decimal(72006146478567),
    }
    fake.keys_read.clear()
    assert await store.difficulty(date(2024, 1, 1)) == Decimal(72006146478567)
    assert fake.keys_read == []  # cached
    assert await store.difficulty(date(2024, 1, 3)) is None
    assert fake.keys_read == ["2024-01-03"]  # unknown dates are asked again: they may arrive


async def test_writes_add_missing_days_report_conflicts_and_refuse_implausible_values() -> None:
    fake = FakeDynamoDB({"2024-01-01": "72006146478567", "2024-01-02": "72006146478000"})
    store = DifficultyStore(fake, "difficulty")
    outcome = await store.add_difficulties(
        {
            date(2024, 1, 1): Decimal(72006146478567),
            date(2024, 1, 2): Decimal(72006146478567),
            date(2024, 1, 3): Decimal("72006146478567.00005"),
            date(2024, 1, 4): Decimal("0.5"),  # the value that overflowed the calculator's columns
            date(2024, 1, 5): Decimal(720061464785670),  # one zero too many
        },
        source="test",
    )
    assert outcome.written == [date(2024, 1, 3)]
    assert outcome.unchanged == [date(2024, 1, 1)]
    assert outcome.conflicts == {date(2024, 1, 2): (Decimal(72006146478000), Decimal(72006146478567))}
    assert list(outcome.refused) == [date(2024, 1, 4), date(2024, 1, 5)]
    assert "outside the plausible" in outcome.refused[date(2024, 1, 4)]
    assert "neighbouring days" in outcome.refused[date(2024, 1, 5)]
    assert fake.items["2024-01-02"] == "72006146478000"  # left alone
    assert fake.items["2024-01-03"] == "72006146478567.0000"  # 4 dp, half-even
    assert "2024-01-04" not in fake.items and "2024-01-05" not in fake.items


async def test_an_overwrite_replaces_a_differing_day_reports_old_and_new_and_forgets_the_cached_value() -> (
    None
):
    fake = FakeDynamoDB({"2024-01-01": "72006146478567", "2024-01-02": "72006146478000"})
    store = DifficultyStore(fake, "difficulty", cache_seconds=3600)
    assert await store.difficulty(date(2024, 1, 2)) == Decimal(72006146478000)
    outcome = await store.add_difficulties(
        {date(2024, 1, 1): Decimal(72006146478567), date(2024, 1, 2): Decimal(72006146478567)},
        source="test",
        overwrite=True,
    )
    assert outcome.replaced == {date(2024, 1, 2): (Decimal(72006146478000), Decimal("72006146478567.0000"))}
    assert (outcome.written, outcome.unchanged, outcome.conflicts) == ([], [date(2024, 1, 1)], {})
    assert await store.difficulty(date(2024, 1, 2)) == Decimal(72006146478567)


async def test_a_value_read_is_trusted_for_cache_seconds_only() -> None:
    fake = FakeDynamoDB({"2024-01-01": "72006146478567"})
    store = DifficultyStore(fake, "difficulty", cache_seconds=0)
    await store.difficulty(date(2024, 1, 1))
    fake.items["2024-01-01"] = "72006146479999"  # corrected by another process
    assert await store.difficulty(date(2024, 1, 1)) == Decimal(72006146479999)


def test_the_packaged_2024_file_has_every_day_exactly() -> None:
    values = packaged_difficulty_2024()
    assert len(values) == 366
    assert values[date(2024, 4, 20)] == Decimal(86388558925171)
    assert values[date(2024, 3, 29)] == Decimal("83126997340024.6")  # fractions are kept


def test_a_difficulty_file_must_be_an_object_of_finite_values() -> None:
    with pytest.raises(ValueError):
        parse_difficulty_file("[1, 2]")
    with pytest.raises(ValueError):
        parse_difficulty_file('{"2024-01-01": "NaN"}')


def test_each_day_takes_the_difficulty_in_effect_at_its_midnight_utc() -> None:
    adjustments = [
        DifficultyAdjustment(
            datetime(2024, 1, 20, 0, 0, tzinfo=UTC), 826_560, Decimal("3")
        ),  # exactly midnight
        DifficultyAdjustment(datetime(2024, 1, 5, 14, 30, tzinfo=UTC), 824_544, Decimal("1")),
        DifficultyAdjustment(datetime(2024, 1, 7, 23, 59, tzinfo=UTC), 826_560, Decimal("2")),
    ]
    daily = daily_difficulties(adjustments, until=date(2024, 1, 21))
    assert min(daily) == date(2024, 1, 6)  # the 5th began before any adjustment we know: unknown
    assert daily[date(2024, 1, 6)] == daily[date(2024, 1, 7)] == Decimal(1)
    assert daily[date(2024, 1, 8)] == daily[date(2024, 1, 19)] == Decimal(2)
    assert daily[date(2024, 1, 20)] == daily[date(2024, 1, 21)] == Decimal(3)
    assert daily_difficulties([], until=date(2024, 1, 21)) == {}


def test_mempool_adjustments_are_read_exactly() -> None:
    payload = [
        [1714095296, 841_536, Decimal("88104191118793.16"), Decimal("1.0198")],
        [1712985600, 838_656, 86388558925171, 1.0],
    ]
    adjustments = parse_adjustments(payload)
    assert adjustments[0] == DifficultyAdjustment(
        datetime.fromtimestamp(1714095296, tz=UTC), 841_536, Decimal("88104191118793.16")
    )
    assert adjustments[1].difficulty == Decimal(86388558925171)
    with pytest.raises(SourceError):
        parse_adjustments({"not": "a list"})
