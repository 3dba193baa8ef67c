"""The client's address and location, believing forwarded headers only from trusted proxies."""

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Network = IPv4Network | IPv6Network
_MAX_LOCATION_LENGTH = 100


@dataclass(frozen=True)
class ClientInfo:
    address: str | None
    city: str | None = None
    country: str | None = None
    user_agent: str | None = None


def _parsed(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: IPv4Address | IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str | None:
    """The connecting peer, unless it is a trusted proxy: then X-Forwarded-For read from the right, skipping
    trusted proxies, up to the first address that is not one (the rightmost address a client cannot forge).
    A malformed entry ends the walk at the proxy that passed it on."""
    current = _parsed(peer) if peer else None
    if current is None or not _trusted(current, proxies) or not forwarded_for:
        return str(current) if current else None
    for hop in reversed(forwarded_for.split(",")):
        address = _parsed(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)


def location_header(value: str | None) -> str | None:
    """A location header's text, if it is short printable text."""
    if value is None:
        return None
    text = value.strip()[:_MAX_LOCATION_LENGTH]
    return text if text and text.isprintable() else None


def client_info(
    peer: str | None,
    headers: dict[str, str],
    proxies: Sequence[Network],
    city_header: str,
    country_header: str,
) -> ClientInfo:
    """Address, location (from the trusted proxy's headers only) and user agent of a request."""
    address = client_address(peer, headers.get("x-forwarded-for"), proxies)
    peer_address = _parsed(peer) if peer else None
    from_proxy = peer_address is not None and _trusted(peer_address, proxies)
    agent = "".join(character for character in headers.get("user-agent") or "" if character.isprintable())
    user_agent = agent[:512] or None
    if not from_proxy:
        return ClientInfo(address, user_agent=user_agent)
    return ClientInfo(
        address,
        city=location_header(headers.get(city_header.lower())),
        country=location_header(headers.get(country_header.lower())),
        user_agent=user_agent,
    )
