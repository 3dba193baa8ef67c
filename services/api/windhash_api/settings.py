"""Configuration of the query API (env prefix WINDHASH_, like every service)."""

from windhash_common.access.settings import AccessSettings

DEFAULT_API_PORT = 8080


class ApiSettings(AccessSettings):
    """The API's settings; who may do what and how logins and sessions behave come from AccessSettings."""

    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    # uvicorn worker processes sharing the port. Each has its own pool, response cache and /metrics (so with
    # more than one, a Prometheus scrape sees one worker's counts). Measured on 2 cores: see the README.
    api_workers: int = 1
    # The longest span one request may cover; a span past it is refused with a hint rather than scanned.
    max_range_days: int = 1830
    db_pool_min_size: int = 2
    db_pool_max_size: int = 10
    # The API only reads, but running the (idempotent, advisory-locked) migrations lets it start first.
    migrate_on_start: bool = True
    # Response cache (response_cache.py): answers are kept until the data version changes. The version is
    # read every api_cache_check_seconds, so a commit is served at most 2 x api_cache_check_seconds later; a
    # change the version cannot see, at most api_cache_max_age_seconds later.
    api_cache: bool = True
    api_cache_check_seconds: float = 0.5
    api_cache_max_age_seconds: float = 30.0
    api_cache_max_mb: int = 64
