"""Configuration of the query API (env prefix WINDHASH_, like every service)."""

import re

from pydantic import Field, HttpUrl, TypeAdapter, field_validator
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
