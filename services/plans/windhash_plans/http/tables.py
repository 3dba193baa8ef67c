"""CSV for every table the plans app serves (`?format=csv`): exact values, one header row."""

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import Response


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else row[column] for column in columns])
    return out.getvalue()


def csv_response(filename: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(csv_text(rows, columns), media_type="text/csv", headers=headers)
