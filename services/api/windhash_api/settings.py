"""Configuration of the query API (env prefix WINDHASH_, like every service)."""

from typing import Self

from pydantic import Field, model_validator
from windhash_common.http_server import ServerLimits
from windhash_common.settings import CommonSettings

DEFAULT_API_PORT = 8080


class ApiSettings(CommonSettings):
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
    # read every api_cache_check_ms, so a commit is served at most 2 x api_cache_check_ms later; a change the
    # version cannot see, at most api_cache_max_age_s later.
    api_cache: bool = True
    api_cache_check_ms: int = 500
    api_cache_max_age_s: float = 30.0
    api_cache_max_mb: int = 64
    # What a client controls, bounded (README "Limits"; windhash_common.http_server, request_limits.py).
    api_header_timeout_s: float = Field(default=10.0, gt=0, description="Whole request head within this.")
    api_keep_alive_timeout_s: int = Field(default=5, ge=1, description="Idle keep-alive connections close.")
    api_max_header_bytes: int = Field(default=16 * 1024, ge=1024, description="Larger heads get a 431.")
    api_max_connections: int = Field(default=1000, ge=1)
    # Addresses of reverse proxies whose X-Forwarded-For names the client (comma-separated); none by default,
    # so that a client cannot pick the address its per-client limits count against.
    api_forwarded_allow_ips: str = ""
    # Every query is cancelled by PostgreSQL past this (statement_timeout); the request gets a 503.
    api_query_timeout_s: float = Field(default=15.0, gt=0)
    # Heavy requests (reconciliation, spans over a month) that reach the database: at most this many at once
    # in all (kept below db_pool_max_size so light requests always find a connection), this many per client
    # with this many more waiting, each waiting at most api_heavy_wait_s for a slot. Default concurrency: half
    # the pool.
    api_heavy_concurrency: int | None = Field(default=None, ge=1)
    api_heavy_per_client: int = Field(default=2, ge=1)
    api_heavy_per_client_queue: int = Field(default=8, ge=0)
    api_heavy_wait_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _light_requests_keep_connections(self) -> Self:
        if self.api_heavy_concurrency is not None and self.api_heavy_concurrency >= self.db_pool_max_size:
            raise ValueError(
                "WINDHASH_API_HEAVY_CONCURRENCY must be below WINDHASH_DB_POOL_MAX_SIZE, so that light"
                " requests always find a connection"
            )
        return self

    @property
    def heavy_concurrency(self) -> int:
        return self.api_heavy_concurrency or max(1, self.db_pool_max_size // 2)

    @property
    def server_limits(self) -> ServerLimits:
        return ServerLimits(
            header_timeout_s=self.api_header_timeout_s,
            keep_alive_timeout_s=self.api_keep_alive_timeout_s,
            max_header_bytes=self.api_max_header_bytes,
            max_connections=self.api_max_connections,
        )
