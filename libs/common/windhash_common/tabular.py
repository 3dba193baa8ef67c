"""CSV tables for every windhash HTTP app (the API and the context services): one writer, one cell rule.

Any table answers `?format=csv` or `Accept: text/csv` (`wants_csv`) with one row per item, nested fields
flattened to `outer_inner` columns (`flat_row`), exact decimals, ISO dates and CRLF line ends (RFC 4180).

CSV injection (OWASP, "CSV Injection"): a spreadsheet runs a text cell that starts with `=`, `+`, `-`, `@`,
tab or carriage return as a formula. Names and reasons come from outside (Elexon, market sources, users), so
every text cell that would start one gets a leading `'` (`safe_text_cell`); numbers are written as numbers,
since a negative figure is data. CRLF line ends also make the writer quote any cell holding a bare CR, which a
spreadsheet would otherwise read as a new line whose first cell could start a formula.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

CSV_MEDIA_TYPE = "text/csv"
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "JSON, or CSV when asked",
    }
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Past this many rows a table is built in a worker thread: a year of day points takes ~30 ms of CPU, which on
# the event loop would stall every other request for as long.
ROWS_BUILT_OFF_LOOP = 100


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"


FormatParam = Annotated[
    OutputFormat | None,
    Query(alias="format", description="csv for a CSV table; the Accept header text/csv does the same"),
]


def accept_asks_for_csv(accept: str) -> bool:
    """Whether an Accept header selects CSV (and not JSON too)."""
    return CSV_MEDIA_TYPE in accept and "application/json" not in accept


def wants_csv(request: Request, output_format: OutputFormat | None) -> bool:
    if output_format is not None:
        return output_format is OutputFormat.csv
    return accept_asks_for_csv(request.headers.get("accept", ""))


def safe_text_cell(text: str) -> str:
    """Text as a spreadsheet shows it, never runs it: a cell that would start a formula gets a leading `'`."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_text_sql(expression: str) -> str:
    """`safe_text_cell` as a SQL expression, for the CSV PostgreSQL writes itself (COPY, in the exports): the
    same starts get the same leading `'`; NULL stays NULL."""
    starts = ", ".join(f"chr({ord(start)})" for start in FORMULA_STARTS)
    return (
        f"(CASE WHEN left({expression}, 1) IN ({starts}) THEN chr(39) || {expression} ELSE {expression} END)"
    )


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):  # numbers are written as numbers: a negative figure is data
        return format(value, "f")
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return safe_text_cell(" ".join(csv_cell(item) for item in value))
    return safe_text_cell(str(value))


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}_{key}" if prefix else key, inner, into)
    else:
        into[prefix] = csv_cell(value)


def flat_row(*parts: BaseModel | Mapping[str, Any]) -> dict[str, str]:
    """One CSV row from models or mappings; nested fields become `outer_inner` columns."""
    row: dict[str, str] = {}
    for part in parts:
        _flatten("", part.model_dump() if isinstance(part, BaseModel) else dict(part), row)
    return row


def csv_text(rows: Iterable[Mapping[str, str]], columns: Sequence[str]) -> str:
    """The table: a header of `columns`, then each row's cells in that order (missing cells empty)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def plain_csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A table of plain rows (the CLI's `--csv` tables), every cell through `csv_cell`."""
    cells = ({column: csv_cell(value) for column, value in zip(columns, row, strict=True)} for row in rows)
    return csv_text(cells, columns)


def csv_response(rows: Sequence[Mapping[str, str]], filename: str, columns: Sequence[str] = ()) -> Response:
    """`rows` as a CSV attachment `<filename>.csv`; the columns are `columns`, or the first row's keys."""
    header = list(columns) or (list(rows[0]) if rows else [])
    return Response(
        csv_text(rows, header),
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def model_rows(items: Sequence[BaseModel], *context: BaseModel | dict[str, Any]) -> list[dict[str, str]]:
    """CSV rows for `items`, each prefixed with the same context columns (timeframe, filters…)."""
    return [flat_row(*context, item) for item in items]


def columns_of(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


async def csv_table(
    items: Sequence[BaseModel], filename: str, *context: BaseModel | dict[str, Any]
) -> Response:
    """csv_response(model_rows(items, *context), filename), built off the event loop when the table is big."""
    if len(items) <= ROWS_BUILT_OFF_LOOP:
        return csv_response(model_rows(items, *context), filename)
    return await run_in_threadpool(lambda: csv_response(model_rows(items, *context), filename))
