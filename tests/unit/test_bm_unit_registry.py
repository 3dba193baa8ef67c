import pytest
from windhash_ingestor.bm_unit_registry import ReferenceDataError, wind_units_from_reference_body


def test_a_deeply_nested_reference_response_is_refused() -> None:
    body = b"[" * 100_000 + b"]" * 100_000

    with pytest.raises(ReferenceDataError, match="malformed"):
        wind_units_from_reference_body(body)


def test_a_reference_response_with_wind_units_is_loaded() -> None:
    body = b'[{"elexonBmUnit": "T_WIND-1", "fuelType": "WIND", "generationCapacity": "100"}]'

    [unit] = wind_units_from_reference_body(body)

    assert unit.elexon_bm_unit == "T_WIND-1"
