"""Bearer tokens: session tokens and API keys, how a request carries them and how they are stored.

Both are 256 random bits, so a SHA-256 digest is what the database keeps (a stolen table gives no usable
token, and a lookup is one index probe); a prefix tells the two kinds apart. A request carries one as
`Authorization: Bearer <token>` (scripts, Grafana, tests) or, for the dashboard, in the HttpOnly session
cookie; a cookie-borne request that changes state must also carry the CSRF header, which no other site's
page can set.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

SESSION_PREFIX = "whs_"
API_KEY_PREFIX = "whk_"
SESSION_COOKIE = "windhash_session"
CSRF_HEADER = "x-windhash-csrf"
_TOKEN_BYTES = 32
_MAX_TOKEN_LENGTH = 128
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class PresentedToken:
    token: str
    via_cookie: bool

    @property
    def is_api_key(self) -> bool:
        return self.token.startswith(API_KEY_PREFIX)

    @property
    def digest(self) -> bytes:
        return token_digest(self.token)


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def presented_token(authorization: str | None, cookie: str | None) -> PresentedToken | None:
    """The token a request presents (the Authorization header wins over the cookie), or None. A malformed
    one is still returned, so that it is refused rather than taken for no credentials."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        return PresentedToken(value.strip() if scheme.lower() == "bearer" else "", via_cookie=False)
    if cookie:
        return PresentedToken(cookie, via_cookie=True)
    return None


def well_formed(token: str) -> bool:
    return (
        len(token) <= _MAX_TOKEN_LENGTH
        and token.startswith((SESSION_PREFIX, API_KEY_PREFIX))
        and token.isascii()
        and token.isprintable()
    )


def carries_credentials(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether raw ASGI headers present a token (what a shared response cache must never answer)."""
    for name, value in headers:
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE.encode() in value):
            return True
    return False
