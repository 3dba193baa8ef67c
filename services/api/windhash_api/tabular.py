"""CSV export for the API's lists: the shared implementation lives in `windhash_common.tabular` (the context
services answer CSV the same way); the API's modules import it from here."""

from windhash_common.tabular import (
    CSV_MEDIA_TYPE,
    CSV_RESPONSES,
    ROWS_BUILT_OFF_LOOP,
    FormatParam,
    OutputFormat,
    accept_asks_for_csv,
    columns_of,
    csv_response,
    csv_table,
    flat_row,
    model_rows,
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
