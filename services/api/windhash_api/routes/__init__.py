"""HTTP routes, one module per resource; SQL lives in windhash_api.queries.

Each router carries the full `/api/v1` prefix itself (rather than through a parent router) so that a route's
own path is its full template, which is what the request metrics label it with.
"""

from typing import Any

from windhash_api.errors import ERROR_RESPONSES
from windhash_api.tabular import CSV_RESPONSES

API_PREFIX = "/api/v1"
ERROR_AND_CSV_RESPONSES: dict[int | str, dict[str, Any]] = {**ERROR_RESPONSES, **CSV_RESPONSES}
"""What a route answering a table (JSON, or CSV when asked) documents beside its success."""
