"""Configuration of the query API (env prefix WINDHASH_, like every service)."""

import re
from pathlib import Path
from typing import Self

from pydantic import Field, HttpUrl, TypeAdapter, field_validator, model_validator
from windhash_common.access.settings import AccessSettings

DEFAULT_API_PORT = 8080
CONTEXT_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_HTTP_URL = TypeAdapter(HttpUrl)


class ApiSettings(AccessSettings):
    """The API's settings; who may do what and how logins and sessions behave come from AccessSettings."""

    api_host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    # uvicorn worker processes sharing the port. Each has its own pool, response cache and /metrics (so with
    # more than one, a Prometheus scrape sees one worker's counts). Measured on 2 cores: see the README.
    api_workers: int = 1
    # The longest span one request may cover; a span past it is refused with a hint rather than scanned.
    max_range_days: int = 1830
    # tCO2 per MWh of electricity from gas (CCGT) that curtailed wind could have displaced: an estimate's
    # parameter, derived and sourced in docs/CONTEXT_FIGURES.md.
    # A float, so worker processes receive it as JSON (main.settings_environment); used as its text's Decimal.
    gas_emissions_t_per_mwh: float = Field(default=0.366, gt=0, le=2)
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
    # Every query is cancelled by PostgreSQL past this (statement_timeout); the request gets a 503.
    api_query_timeout_seconds: float = Field(default=15.0, gt=0)
    # Heavy requests (reconciliation, spans over a month) that reach the database: at most this many at once
    # in all (kept below db_pool_max_size so light requests always find a connection), this many per client
    # with this many more waiting, each waiting at most api_heavy_wait_seconds for a slot. Default
    # concurrency: half the pool. (The server's own limits, on heads and connections: AccessSettings.)
    api_heavy_concurrency: int | None = Field(default=None, ge=1)
    api_heavy_per_client: int = Field(default=2, ge=1)
    api_heavy_per_client_queue: int = Field(default=8, ge=0)
    api_heavy_wait_seconds: float = Field(default=10.0, gt=0)
    # Forwarding (forwarding.py): the bounded-context services this API is the single origin for, as JSON
    # {"fleet": "http://127.0.0.1:9106", ...}: /api/v1/<context>/... goes to that service, which enforces the
    # permission table itself. Every resource the upstream controls is bounded: time to connect, between two
    # reads and for the whole exchange; requests in flight per context; the bytes of a request and a reply.
    api_upstreams: dict[str, str] = Field(default_factory=dict)
    api_upstream_connect_seconds: float = Field(default=2.0, gt=0)
    api_upstream_read_seconds: float = Field(default=30.0, gt=0)
    api_upstream_total_seconds: float = Field(default=300.0, gt=0)
    api_upstream_max_concurrent: int = Field(default=32, ge=1)
    api_upstream_max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    api_upstream_max_response_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    # The farm reference file /api/v1/farm-locations serves (farm_locations.py); None: the packaged one.
    api_farm_locations_file: Path | None = None

    @field_validator("api_upstreams")
    @classmethod
    def _upstreams(cls, value: dict[str, str]) -> dict[str, str]:
        upstreams = {}
        for context, url in value.items():
            if not CONTEXT_NAME.fullmatch(context):
                raise ValueError(f"upstream context {context!r} is not a lower-case name like 'fleet'")
            parsed = _HTTP_URL.validate_python(url)  # raises with the bad URL
            if parsed.query or parsed.fragment or parsed.username or parsed.password:
                raise ValueError(f"upstream URL of {context!r} must be scheme://host:port[/path] only")
            upstreams[context] = str(parsed).rstrip("/")
        return upstreams

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
