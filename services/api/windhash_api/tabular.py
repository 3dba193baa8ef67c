"""CSV export for the API's lists: windhash's one implementation, shared with the context services
(windhash_common.tabular)."""

from windhash_common.tabular import (
    CSV_MEDIA_TYPE,
    CSV_RESPONSES,
    FormatParam,
    OutputFormat,
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
    "FormatParam",
    "OutputFormat",
    "columns_of",
    "csv_response",
    "csv_table",
    "flat_row",
    "model_rows",
    "wants_csv",
]
