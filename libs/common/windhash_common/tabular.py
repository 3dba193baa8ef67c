"""CSV export: any list endpoint (of the API or a context service) answers `?format=csv` or
`Accept: text/csv` with one row per item."""

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

CSV_MEDIA_TYPE = "text/csv"
# Past this many rows a table is built in a worker thread: a year of day points takes ~30 ms of CPU, which on
# the event loop would stall every other request for as long.
ROWS_BUILT_OFF_LOOP = 100
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        "description": "JSON, or CSV when asked",
    }
}


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"


FormatParam = Annotated[
    OutputFormat | None,
    Query(alias="format", description="csv for a CSV table; the Accept header text/csv does the same"),
]


def wants_csv(request: Request, output_format: OutputFormat | None) -> bool:
    if output_format is not None:
        return output_format is OutputFormat.csv
    accept = request.headers.get("accept", "")
    return CSV_MEDIA_TYPE in accept and "application/json" not in accept


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(_cell(item) for item in value)
    return str(value)


def _flatten(prefix: str, value: Any, into: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}_{key}" if prefix else key, inner, into)
    else:
        into[prefix] = _cell(value)


def flat_row(*parts: BaseModel | dict[str, Any]) -> dict[str, str]:
    """One CSV row from models or dicts; nested fields become `outer_inner` columns."""
    row: dict[str, str] = {}
    for part in parts:
        _flatten("", part.model_dump() if isinstance(part, BaseModel) else part, row)
    return row


def csv_response(rows: Sequence[dict[str, str]], filename: str, columns: Sequence[str] = ()) -> Response:
    header = list(columns) or (list(rows[0]) if rows else [])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
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
