"""Settings of every HTTP app that authenticates requests (the API, and each context service after it)."""

import json
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from windhash_common.http_server import ServerLimits
from windhash_common.settings import CommonSettings


class AccessSettings(CommonSettings):
    # Anonymous visitors may read the public analytics (the permission table's `public` cells).
    api_public_analytics: bool = True
    # Reverse proxies whose X-Forwarded-For (and location headers) are believed, as addresses or CIDR blocks
    # (JSON list or comma-separated). Empty: the peer's address is the client's, and no header is believed.
    api_trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Headers a trusted proxy sets with the client's city and country (e.g. a CDN's geolocation headers).
    api_client_city_header: str = "X-Client-City"
    api_client_country_header: str = "X-Client-Country"
    # What a client controls at the server, bounded (windhash_common.http_server): the whole request head
    # within api_header_timeout_seconds (else 408), idle keep-alive connections closed after
    # api_keep_alive_timeout_seconds, heads over api_max_header_bytes refused (431), and past
    # api_max_connections the connection that has waited longest for a request is closed.
    api_header_timeout_seconds: float = Field(default=10.0, gt=0)
    api_keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    api_max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    api_max_connections: int = Field(default=1000, ge=1)
    # Sessions end this long after login, or after this long unused (ASVS 3.3: 12 h / 30 min at level 2).
    auth_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    auth_session_idle_minutes: float = Field(default=30.0, gt=0)
    # The session cookie's Secure flag; browsers accept it on http://localhost and 127.0.0.1 too.
    auth_cookie_secure: bool = True
    # Brute-force defence: after this many failed logins for one email (since its last success) or from one
    # address, within the window, logins are refused for base_seconds × 2^(failures − limit), at most max.
    auth_lockout_account_failures: int = Field(default=5, ge=1)
    auth_lockout_address_failures: int = Field(default=20, ge=1)
    auth_lockout_window_minutes: float = Field(default=60.0, gt=0)
    auth_lockout_base_seconds: float = Field(default=30.0, gt=0)
    auth_lockout_max_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("api_trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("api_trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ip_network(entry, strict=False)  # raises ValueError with the bad entry
        return value

    @property
    def trusted_proxy_networks(self) -> list[IPv4Network | IPv6Network]:
        return [ip_network(entry, strict=False) for entry in self.api_trusted_proxies]

    @property
    def server_limits(self) -> ServerLimits:
        return ServerLimits(
            header_timeout_s=self.api_header_timeout_seconds,
            keep_alive_timeout_s=self.api_keep_alive_timeout_seconds,
            max_header_bytes=self.api_max_header_bytes,
            max_connections=self.api_max_connections,
        )
