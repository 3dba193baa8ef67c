"""Reading a CSV import before anything is applied: the header must name the columns, the file is bounded in
rows, a row becomes the miner it describes or says why not."""

from uuid import UUID

import pytest
from pydantic import ValidationError
from windhash_fleet.miner_import import ImportRefused, Lookups, parse_csv, wanted

HEADER = "serial_number,miner_model,site,api_host,api_port,telemetry_enabled,client\n"
KNOWN = Lookups(sites={"North": 1}, clients={"acme": UUID(int=7)})


def test_a_file_names_its_columns_and_stays_within_its_row_count() -> None:
    rows = parse_csv(("\ufeff" + HEADER + "A-1,S21,North,127.0.0.1,4028,yes,Acme\n").encode(), max_rows=5)
    assert [(row.line, row.serial) for row in rows] == [(2, "A-1")]
    with pytest.raises(ImportRefused, match="missing: site"):
        parse_csv(b"serial_number,miner_model,api_host\n", max_rows=5)
    with pytest.raises(ImportRefused, match="unknown: password"):
        parse_csv(b"serial_number,miner_model,site,api_host,password\n", max_rows=5)
    with pytest.raises(ImportRefused, match="more than 1 rows"):
        parse_csv((HEADER + "A-1,S21,North,h\nA-2,S21,North,h\n").encode(), max_rows=1)
    with pytest.raises(ImportRefused, match="not UTF-8"):
        parse_csv(HEADER.encode() + b"\xff\xfe\n", max_rows=5)


def test_a_row_is_the_miner_it_describes_or_says_why_not() -> None:
    (row,) = parse_csv((HEADER + "A-1,S21,North,127.0.0.1,4029,no,ACME\n").encode(), max_rows=5)
    miner = wanted(row, KNOWN)
    assert (miner.site_id, miner.api_port, miner.telemetry_enabled, miner.client_id) == (
        1,
        4029,
        False,
        UUID(int=7),
    )
    (nowhere,) = parse_csv((HEADER + "A-2,S21,South,127.0.0.1,,,\n").encode(), max_rows=5)
    with pytest.raises(ValueError, match="no site named 'South'"):
        wanted(nowhere, KNOWN)
    (bad_flag,) = parse_csv((HEADER + "A-3,S21,North,127.0.0.1,,maybe,\n").encode(), max_rows=5)
    with pytest.raises(ValueError, match="true or false"):
        wanted(bad_flag, KNOWN)
    (bad_port,) = parse_csv((HEADER + "A-4,S21,North,127.0.0.1,70000,,\n").encode(), max_rows=5)
    with pytest.raises(ValidationError):
        wanted(bad_port, KNOWN)
