"""The farm reference file: the packaged one parses; a bad row stops the start, saying which row."""

import pytest
from windhash_api.farm_locations import COLUMNS, farm_locations, parse_farm_locations

HEADER = ",".join(COLUMNS)


def test_the_packaged_file_covers_every_wind_unit_and_places_most_of_the_capacity() -> None:
    farms = farm_locations(None)
    assert len(farms) == 212
    placed = [farm for farm in farms if farm.latitude is not None]
    assert all(farm.location == "approximate" for farm in placed)
    capacity = sum(farm.capacity_mw or 0 for farm in farms)
    assert sum(farm.capacity_mw or 0 for farm in placed) > capacity * 3 / 4


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        ("T_X-1,X,P,10,56.1,,approximate", "both latitude and longitude"),
        ("T_X-1,X,P,10,40.0,-3.0,approximate", "outside Great Britain"),
        ("T_X-1,X,P,ten,56.0,-3.0,approximate", "capacity_mw 'ten' is not a number"),
    ],
)
def test_a_bad_row_is_refused_with_its_line(row: str, complaint: str) -> None:
    with pytest.raises(ValueError, match="line 2") as refused:
        parse_farm_locations(f"{HEADER}\n{row}\n")
    assert complaint in str(refused.value)


def test_other_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        parse_farm_locations("code,lat,lon\nT_X-1,56,-3\n")
