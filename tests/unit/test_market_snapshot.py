"""From a reading of the sources to a snapshot or a refusal, and the 15-minute slots."""

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from windhash_common.bitcoin import MINED_HALVINGS
from windhash_market.snapshot import (
    Freshness,
    MarketReading,
    MarketSnapshot,
    Refusal,
    judge_reading,
    slot_start,
    slots_between,
)

NOW = datetime(2026, 3, 1, 12, 7, 30, tzinfo=UTC)
SLOT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FRESH = Freshness(max_price_age=timedelta(minutes=30), max_block_age=timedelta(hours=3))
DIFFICULTY = Decimal("126271255279306")
READING = MarketReading(
    price_usd=Decimal("84123.456"),
    price_gbp=Decimal("66511.2"),
    volume_24h_usd=Decimal("25000000000"),
    price_quoted_at=NOW - timedelta(minutes=1),
    hashrate_hs=Decimal("9.1e20"),  # 910 EH/s; the difficulty implies ~904
    difficulty=DIFFICULTY,
    block_height=886_000,
    block_mined_at=NOW - timedelta(minutes=9),
    synthetic=False,
)


def judge(reading: MarketReading, recent: list[Decimal] | None = None, backfilled: bool = False) -> object:
    return judge_reading(SLOT, reading, NOW, backfilled, FRESH, recent or [], MINED_HALVINGS)


def test_a_plausible_fresh_reading_becomes_the_slots_snapshot_with_the_schedules_reward() -> None:
    snapshot = judge(READING)
    assert isinstance(snapshot, MarketSnapshot)
    assert (snapshot.slot_at, snapshot.price_usd, snapshot.hashrate_ehs) == (
        SLOT,
        Decimal("84123.46"),
        Decimal(910),
    )
    assert snapshot.block_reward_btc == Decimal("3.125") and not snapshot.backfilled
    event = snapshot.event()
    assert event.kafka_key == b"2026-03-01T12:00:00+00:00" and event.difficulty == DIFFICULTY


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price_usd": Decimal(0)}, "USD price 0 is not positive"),
        ({"price_gbp": Decimal(-3)}, "GBP price -3 is not positive"),
        ({"price_usd": Decimal("NaN")}, "not a finite number"),
        ({"difficulty": Decimal("0.5")}, "difficulty 0.5 is outside"),
        ({"hashrate_hs": Decimal("9.1e26")}, "hashrate"),  # H/s taken for EH/s somewhere upstream
        ({"volume_24h_usd": Decimal(-1)}, "24 h volume"),
        ({"price_gbp": Decimal(90000)}, "GBP/USD"),
        ({"price_quoted_at": NOW - timedelta(hours=2)}, "the price quote is stale"),
        ({"block_mined_at": NOW - timedelta(hours=5)}, "the tip block is stale"),
        ({"price_quoted_at": NOW + timedelta(hours=1)}, "after"),
    ],
)
def test_implausible_or_stale_readings_are_refused_whole_with_the_reason(
    change: dict[str, object], reason: str
) -> None:
    refused = judge(dataclasses.replace(READING, **change))  # type: ignore[arg-type]
    assert isinstance(refused, Refusal) and reason in refused.reason, refused


def test_a_jump_of_more_than_double_from_the_last_day_is_refused() -> None:
    assert isinstance(judge(READING, recent=[Decimal(84000)] * 8), MarketSnapshot)
    refused = judge(READING, recent=[Decimal(30000)] * 8)
    assert isinstance(refused, Refusal) and "recent" in refused.reason


def test_a_backfilled_reading_is_judged_as_of_its_slot() -> None:
    old = dataclasses.replace(READING, price_quoted_at=SLOT, block_mined_at=SLOT - timedelta(minutes=4))
    snapshot = judge(old, backfilled=True)
    assert isinstance(snapshot, MarketSnapshot) and snapshot.backfilled and snapshot.collected_at == NOW


def test_slots_are_quarter_hours_from_midnight_utc() -> None:
    assert slot_start(NOW, timedelta(minutes=15)) == SLOT
    assert slots_between(NOW - timedelta(minutes=31), NOW, timedelta(minutes=15)) == [
        SLOT - timedelta(minutes=30),
        SLOT - timedelta(minutes=15),
        SLOT,
    ]
    assert (
        len(slots_between(SLOT.replace(hour=0), SLOT.replace(hour=23, minute=59), timedelta(minutes=15)))
        == 96
    )
    with pytest.raises(ValueError):
        slot_start(datetime(2026, 1, 1), timedelta(minutes=15))
