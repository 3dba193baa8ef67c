"""Where the market-data sources are and how hard to try them: shared by the market service and the CLI
(`windhash difficulty sync`, `prices sync`, `market ...`), so both reach the sources the same way."""

from pydantic import Field, SecretStr

from windhash_common.market_sources.http_fetch import FetchLimits
from windhash_common.settings import CommonSettings

MEMPOOL_URL = "https://mempool.space"
COINGECKO_URL = "https://api.coingecko.com"


class MarketSourceSettings(CommonSettings):
    # A mempool.space-compatible block explorer: difficulty adjustments, hashrate, blocks by time.
    explorer_url: str = MEMPOOL_URL
    # A CoinGecko-compatible price API: spot price and 24 h volume, market charts by range.
    price_api_url: str = COINGECKO_URL
    # A secret: never logged or shown (SecretStr).
    price_api_key: SecretStr | None = None
    source_attempts: int = Field(default=5, ge=1)
    source_connect_timeout_s: float = Field(default=10.0, gt=0)
    source_read_timeout_s: float = Field(default=30.0, gt=0)
    source_deadline_s: float = Field(default=60.0, gt=0, description="One whole reply, first to last byte.")
    source_backoff_initial_s: float = Field(default=0.5, ge=0)
    source_backoff_max_s: float = Field(default=30.0, ge=0)
    source_retry_after_max_s: float = Field(default=120.0, ge=0)
    source_max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)

    @property
    def price_api_key_value(self) -> str | None:
        return None if self.price_api_key is None else self.price_api_key.get_secret_value()

    def fetch_limits(self) -> FetchLimits:
        return FetchLimits(
            attempts=self.source_attempts,
            connect_timeout_s=self.source_connect_timeout_s,
            read_timeout_s=self.source_read_timeout_s,
            deadline_s=self.source_deadline_s,
            backoff_initial_s=self.source_backoff_initial_s,
            backoff_max_s=self.source_backoff_max_s,
            retry_after_max_s=self.source_retry_after_max_s,
            max_body_bytes=self.source_max_body_bytes,
        )
