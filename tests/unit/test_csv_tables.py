"""The one CSV writer of every windhash HTTP app: formulas neutralised per OWASP, numbers kept as numbers,
exact decimals, CRLF rows that a spreadsheet cannot split into a formula line."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel
from windhash_common.tabular import csv_cell, csv_response, csv_text, flat_row, safe_text_cell


@pytest.mark.parametrize("text", ["=1+1", "+44 20", "-2+3", "@SUM(A1)", "\tcmd", "\rline"])
def test_a_text_cell_that_would_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert safe_text_cell(text) == "'" + text
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Whitelee", "a-b", "T_WHILW-1", "", "1=1"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert csv_cell(text) == text


def test_numbers_dates_and_missing_values_are_written_as_data() -> None:
    assert csv_cell(Decimal("-12.50")) == "-12.50"
    assert csv_cell(Decimal("1E+3")) == "1000"
    assert csv_cell(-3) == "-3"
    assert csv_cell(-0.25) == "-0.25"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "True"
    assert csv_cell(date(2024, 3, 31)) == "2024-03-31"
    assert csv_cell(datetime(2024, 3, 31, 1, tzinfo=UTC)) == "2024-03-31T01:00:00+00:00"
    assert csv_cell(["=a", "b"]) == "'=a b"


class Inner(BaseModel):
    gbp: Decimal
    note: str


class Outer(BaseModel):
    name: str
    price: Inner


def test_nested_fields_become_outer_inner_columns() -> None:
    row = flat_row(Outer(name="@x", price=Inner(gbp=Decimal("-1.5"), note="-ok")), {"extra": 1})
    assert row == {"name": "'@x", "price_gbp": "-1.5", "price_note": "'-ok", "extra": "1"}


def test_a_bare_carriage_return_inside_a_cell_is_quoted_and_read_back_as_one_cell() -> None:
    text = csv_text([{"reason": "fine\r=HYPERLINK(1)", "n": "1"}], ["reason", "n"])
    assert text.endswith("\r\n")
    assert text.splitlines()[0] == "reason,n"
    (row,) = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row == {"reason": "fine\r=HYPERLINK(1)", "n": "1"}


def test_a_response_is_an_attachment_with_the_first_row_s_columns_unless_told() -> None:
    response = csv_response([{"a": "1", "b": "2"}], "table")
    assert response.headers["content-disposition"] == 'attachment; filename="table.csv"'
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert bytes(response.body).decode() == "a,b\r\n1,2\r\n"
    empty = csv_response([], "empty", ["x", "y"])
    assert bytes(empty.body).decode() == "x,y\r\n"
