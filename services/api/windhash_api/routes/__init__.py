"""HTTP routes, one module per resource; SQL lives in windhash_api.queries.

Each router carries the full `/api/v1` prefix itself (rather than through a parent router) so that a route's
own path is its full template, which is what the request metrics label it with.
"""

API_PREFIX = "/api/v1"
