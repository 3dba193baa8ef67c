"""The ingestor's configuration (environment variables `WINDHASH_*`, e.g. `WINDHASH_ELEXON_BASE_URL`)."""

from pydantic import Field
from windhash_common.settings import CommonSettings

ELEXON_BASE_URL = "https://data.elexon.co.uk/bmrs/api/v1"


class IngestorSettings(CommonSettings):
    elexon_base_url: str = ELEXON_BASE_URL
    # Elexon asks for fair use; 8 requests in flight is well within what it serves without throttling.
    elexon_concurrency: int = Field(default=8, ge=1)
    elexon_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    elexon_read_timeout_seconds: float = Field(default=30.0, gt=0)
    elexon_max_retries: int = Field(default=5, ge=0, description="Retries after the first attempt.")
    elexon_backoff_initial_seconds: float = Field(default=0.5, ge=0)
    elexon_backoff_max_seconds: float = Field(default=30.0, ge=0)
    elexon_retry_after_max_seconds: float = Field(
        default=120.0, ge=0, description="Cap on a server's Retry-After."
    )
    # What one reply may cost (elexon_client.py): the whole request within the deadline (a reply trickling a
    # byte at a time never trips the read timeout), the body at most this large as received and once
    # decompressed (a gzip bomb is refused as it inflates). A settlement stack is ~30 KB, the BM unit
    # reference a few MB.
    elexon_request_deadline_seconds: float = Field(default=60.0, gt=0)
    elexon_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    elexon_max_decoded_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    follow_poll_interval_seconds: float = Field(default=300.0, gt=0)
    follow_revision_days: int = Field(
        default=7, ge=0, description="Days before yesterday re-checked for revisions."
    )
    follow_revision_interval_seconds: float = Field(default=3600.0, gt=0)
    follow_retry_failed_days: int = Field(
        default=30, ge=0, description="How far back failed periods are retried."
    )
    follow_wind_output: bool = Field(
        default=True, description="Each follow cycle also fetches yesterday's and today's wind output."
    )
    # Progress reads and writes are retried this many times (windhash_common.dependency_retries' PostgreSQL
    # policy: waits doubling up to a cap, with jitter; enough for a PostgreSQL restart), then the run stops
    # with an error; running it again resumes.
    ingestor_db_attempts: int = Field(default=8, ge=1)
    metrics_port: int = 9101
