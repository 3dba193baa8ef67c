"""What every windhash HTTP app answers with, whatever the route: security headers, and HEAD wherever GET.

Security headers (OWASP's secure headers project): a Content-Security-Policy that lets a page load only
what its own origin serves (no inline script, no plugins, no framing: `frame-ancestors 'none'`),
`X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY` for browsers
that predate frame-ancestors. A response that sets its own Content-Security-Policy keeps it (the API docs
page allows its one inline start-up script by hash). The server banner is off in the server itself
(windhash_common.http_server).

HEAD: a HEAD request is answered as the GET of the same URL without its body (RFC 9110 §9.3.2), so it works
on every route, cached answers and static files included, with the same status and headers. Paths an app
passes on to another windhash app (the API's forwarding) keep their HEAD: the app behind answers it the same
way.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers above to every HTTP response start."""

    def __init__(self, app: ASGIApp, content_security_policy: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        self._csp = content_security_policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.extend(header for header in SECURITY_HEADERS if header[0] not in names)
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self._csp))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGetMiddleware:
    """Pure ASGI: HEAD runs as GET and the body is dropped (its headers, Content-Length included, stay);
    except under `passed_on` (path prefixes another app answers)."""

    def __init__(self, app: ASGIApp, passed_on: tuple[str, ...] = ()) -> None:
        self.app = app
        self.passed_on = passed_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"].startswith(self.passed_on):
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
