"""CSV that a spreadsheet shows and never runs: the one rule for every CSV windhash writes (the API's exports,
`windhash_api.tabular`, and every `windhash ... --csv` table).

CSV injection (OWASP): a cell starting with `=`, `+`, `-`, `@`, tab or CR is run as a formula by
spreadsheets. Names from Elexon, emails, user agents and the reasons upstreams give are data, never trusted,
so such a text cell gets a leading `'`, as OWASP recommends; a plain number (a negative figure is data) is
written as it is. Lines end with CRLF (RFC 4180), which also makes the csv writer quote any cell holding a
bare CR, which a spreadsheet would otherwise read as a new line whose first cell could start a formula.
"""

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_END = "\r\n"
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def safe_text_cell(text: str) -> str:
    """`text` as a spreadsheet shows it, never runs it."""
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    """One cell: nothing for None, numbers as numbers, dates in ISO 8601, anything else as safe text (a list
    as its items joined by spaces)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return safe_text_cell(" ".join(csv_cell(item) for item in value))
    return safe_text_cell(str(value))


def write_csv(stream: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header and the rows, every cell through `csv_cell`."""
    writer = csv.writer(stream, lineterminator=LINE_END)
    writer.writerow([safe_text_cell(column) for column in columns])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
