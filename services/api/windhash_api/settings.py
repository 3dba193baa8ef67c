"""Configuration of the query API (env prefix WINDHASH_, like every service)."""

from windhash_common.settings import CommonSettings

DEFAULT_API_PORT = 8080


class ApiSettings(CommonSettings):
    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    # The longest span one request may cover; a span past it is refused with a hint rather than scanned.
    max_range_days: int = 1830
    db_pool_min_size: int = 2
    db_pool_max_size: int = 10
    # The API only reads, but running the (idempotent, advisory-locked) migrations lets it start first.
    migrate_on_start: bool = True
