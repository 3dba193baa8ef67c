"""Which held dates a change of the wind BM unit registry touches (`registry_history.refresh_start`)."""

from datetime import date

from windhash_ingestor.registry_history import refresh_start

HELD = (date(2024, 3, 1), date(2024, 3, 31))


def test_nothing_held_is_touched_by_anything() -> None:
    assert refresh_start(None, True, date(2024, 3, 5), date(2024, 3, 6)) is None


def test_an_added_unit_touches_all_of_history() -> None:
    assert refresh_start(HELD, True, None) == HELD[0]


def test_a_withdrawal_touches_its_date_on_and_nothing_after_what_is_held() -> None:
    assert refresh_start(HELD, False, date(2024, 3, 10)) == date(2024, 3, 10)
    assert refresh_start(HELD, False, date(2024, 4, 1)) is None
    assert refresh_start(HELD, False, date(2024, 2, 1)) == HELD[0]


def test_a_unit_listed_again_touches_the_dates_from_which_it_had_stopped_counting() -> None:
    assert refresh_start(HELD, False, None, date(2024, 3, 20)) == date(2024, 3, 20)
    assert refresh_start(HELD, False, date(2024, 3, 25), date(2024, 3, 20)) == date(2024, 3, 20)
    assert refresh_start(HELD, False, None, date(2024, 4, 2)) is None
