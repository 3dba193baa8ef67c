"""Every CSV windhash writes (the API's exports and the `--csv` tables of the CLI) goes through one rule: a
text cell that a spreadsheet would run as a formula is written with a leading `'`, numbers stay numbers, and
lines end with CRLF so that a bare CR inside a cell is quoted."""

import csv
import io
import string
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from windhash_common.csv_cells import csv_cell, write_csv

FORMULA_STARTS = st.sampled_from(["=", "+", "-", "@", "\t", "\r"])


def runs_as_formula(cell: str) -> bool:
    """OWASP's list, stated here rather than imported: a cell starting with = + - @ tab or CR that is not a
    plain number."""
    if not cell or cell[0] not in "=+-@\t\r":
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return cell.strip() != cell


def written(columns: list[str], rows: list[list[object]]) -> tuple[str, list[list[str]]]:
    stream = io.StringIO(newline="")
    write_csv(stream, columns, rows)
    text = stream.getvalue()
    return text, list(csv.reader(io.StringIO(text, newline="")))


@given(start=FORMULA_STARTS, rest=st.text(alphabet=string.printable, max_size=30))
def test_no_text_cell_runs_as_a_formula_and_its_text_survives(start: str, rest: str) -> None:
    hostile = start + rest
    _, [header, row] = written([hostile], [[hostile, [hostile, "x"]]])
    for cell in (*header, *row):
        assert not runs_as_formula(cell), cell
    assert row[0].endswith(hostile) and hostile in row[1]


def test_numbers_dates_and_nothing_are_written_as_they_are() -> None:
    values = [Decimal("-12.5000"), -3, 0.25, True, None, date(2024, 3, 31), datetime(2024, 3, 31, tzinfo=UTC)]
    assert [csv_cell(value) for value in values] == [
        "-12.5000",
        "-3",
        "0.25",
        "True",
        "",
        "2024-03-31",
        "2024-03-31T00:00:00+00:00",
    ]
    assert csv_cell("-0.5") == "-0.5"  # a negative figure given as text is still a figure
    assert csv_cell("-1+1") == "'-1+1"


def test_lines_end_with_crlf_and_a_bare_cr_is_quoted() -> None:
    text, rows = written(["name"], [["a\rb"], ["plain"]])
    assert text == 'name\r\n"a\rb"\r\nplain\r\n'
    assert rows == [["name"], ["a\rb"], ["plain"]]
