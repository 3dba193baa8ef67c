"""The farm reference file (names, capacities, approximate positions of the wind BM units), read once.

The packaged file is windhash_common/data/wind_farm_locations.csv (its source and method:
wind_farm_locations.md beside it); WINDHASH_API_FARM_LOCATIONS_FILE names another with the same columns.
A row that does not parse stops the API at start, saying which row: a map with silently missing farms would
be worse than none.
"""

import csv
import io
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path

from windhash_api.models.farm_locations import FarmLocation

PACKAGED = "wind_farm_locations.csv"
COLUMNS = (
    "elexon_bm_unit",
    "farm_name",
    "lead_party_name",
    "capacity_mw",
    "latitude",
    "longitude",
    "location",
)
# Great Britain and its waters, generously: a position outside is a typo in the file.
LATITUDES = (Decimal("49.5"), Decimal("61.5"))
LONGITUDES = (Decimal("-9"), Decimal("3"))


def _number(text: str, line: int, column: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"farm locations line {line}: {column} {text!r} is not a number") from None


def _within(value: Decimal | None, bounds: tuple[Decimal, Decimal], line: int, column: str) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"farm locations line {line}: {column} {value} is outside Great Britain")


def parse_farm_locations(text: str) -> list[FarmLocation]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"farm locations file must have the columns {', '.join(COLUMNS)}")
    farms = []
    for line, row in enumerate(reader, start=2):
        latitude = _number(row["latitude"], line, "latitude")
        longitude = _number(row["longitude"], line, "longitude")
        if (latitude is None) != (longitude is None):
            raise ValueError(f"farm locations line {line}: give both latitude and longitude, or neither")
        _within(latitude, LATITUDES, line, "latitude")
        _within(longitude, LONGITUDES, line, "longitude")
        farms.append(
            FarmLocation(
                elexon_bm_unit=row["elexon_bm_unit"],
                farm_name=row["farm_name"] or None,
                lead_party_name=row["lead_party_name"] or None,
                capacity_mw=_number(row["capacity_mw"], line, "capacity_mw"),
                latitude=latitude,
                longitude=longitude,
                location=row["location"],
            )
        )
    return farms


@cache
def farm_locations(path: Path | None) -> list[FarmLocation]:
    if path is None:
        text = resources.files("windhash_common.data").joinpath(PACKAGED).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return parse_farm_locations(text)
