"""CSV export: any list endpoint answers `?format=csv` or `Accept: text/csv` with one row per item.

The writer, the cell rule (CSV-injection neutralisation) and the format parameter are shared with the context
services (`windhash_common.csv_tables`); this module adds what only the API does: building big tables off the
event loop.
"""

from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from windhash_common.csv_tables import (
    CSV_MEDIA_TYPE,
    CSV_RESPONSES,
    FormatParam,
    OutputFormat,
    accept_asks_for_csv,
    csv_response,
    flat_row,
    wants_csv,
)

__all__ = [
    "CSV_MEDIA_TYPE",
    "CSV_RESPONSES",
    "ROWS_BUILT_OFF_LOOP",
    "FormatParam",
    "OutputFormat",
    "accept_asks_for_csv",
    "columns_of",
    "csv_response",
    "csv_table",
    "flat_row",
    "model_rows",
    "wants_csv",
]

# Past this many rows a table is built in a worker thread: a year of day points takes ~30 ms of CPU, which on
# the event loop would stall every other request for as long.
ROWS_BUILT_OFF_LOOP = 100


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
