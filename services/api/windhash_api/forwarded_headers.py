"""Which headers cross the API on the way to a context service and back (pure; forwarding.py uses them).

Both directions are allow-lists: a header not named here is not passed on, so hop-by-hop headers
(RFC 9110 §7.6.1: Connection and the headers it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
Proxy-*) never cross, nor does anything a client or an upstream made up.
"""

from collections.abc import Iterable

from windhash_common.access.credentials import CSRF_HEADER
from windhash_common.accounts.client_address import ClientInfo

REQUEST_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        CSRF_HEADER,
        "accept",
        "accept-language",
        "content-type",
        "content-length",
        "if-none-match",
        "if-modified-since",
        "user-agent",
    }
)
"""What the service needs to judge and answer the request: credentials (it authenticates them itself),
the CSRF header, content negotiation and validators."""

RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "content-disposition",
        "content-language",
        "etag",
        "last-modified",
        "cache-control",
        "vary",
        "set-cookie",
        "retry-after",
        "location",
        "www-authenticate",
    }
)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def _named_by_connection(headers: Iterable[tuple[str, str]]) -> set[str]:
    return {
        name.strip().lower()
        for key, value in headers
        if key.lower() == "connection"
        for name in value.split(",")
    }


def upstream_request_headers(
    headers: Iterable[tuple[str, str]], client: ClientInfo, city_header: str, country_header: str
) -> list[tuple[str, str]]:
    """The headers sent to the context service.

    `X-Forwarded-For` carries the client's address as the API judged it (its peer, or, behind a proxy the
    API trusts, the address that proxy forwarded): what the API does not believe is not passed on, so a
    service that trusts the API (its `WINDHASH_API_TRUSTED_PROXIES`) records the real client. The location
    headers likewise carry only what the API believed from its own trusted proxy.
    """
    pairs = list(headers)
    dropped = HOP_BY_HOP | _named_by_connection(pairs)
    forwarded = [
        (name, value)
        for name, value in pairs
        if name.lower() in REQUEST_HEADERS and name.lower() not in dropped
    ]
    forwarded.append(("accept-encoding", "identity"))  # bytes pass through as they come, and are counted
    if client.address:
        forwarded.append(("x-forwarded-for", client.address))
    if client.city:
        forwarded.append((city_header, client.city))
    if client.country:
        forwarded.append((country_header, client.country))
    return forwarded


def client_response_headers(
    headers: Iterable[tuple[bytes, bytes]], upstream_base: str
) -> list[tuple[bytes, bytes]]:
    """The upstream's response headers passed back to the client (raw, so that several Set-Cookie survive).
    A `Location` pointing at the upstream itself is made relative: the client only ever talks to the API."""
    pairs = [(name.decode("latin-1").lower(), value) for name, value in headers]
    dropped = HOP_BY_HOP | _named_by_connection((name, value.decode("latin-1")) for name, value in pairs)
    base = upstream_base.encode("latin-1") + b"/"
    passed = []
    for name, value in pairs:
        if name not in RESPONSE_HEADERS or name in dropped:
            continue
        if name == "location" and value.startswith(base):
            value = value[len(base) - 1 :]
        passed.append((name.encode("latin-1"), value))
    return passed
