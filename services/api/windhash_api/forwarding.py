"""The single origin: `/api/v1/<context>/...` passed to that context's service, its answer streamed back.

`WINDHASH_API_UPSTREAMS` names each bounded-context service (`{"fleet": "http://127.0.0.1:9106"}`); the API
adds one route, `/api/v1/{context}/{path:path}`, which matches only the contexts named there (any other path
is the API's own 404, 405 or redirect, as before) and sits after the API's own routes. The permission table
delegates it (`Grant.DELEGATED`): the API reads no credentials there; the service runs the same
`authorize` on its own route, with its own row, so each route is judged in one place.

Every resource the upstream controls is bounded (settings.py): connecting, each read, the whole exchange
(504 `upstream_timeout` before the answer starts; cut after), the requests in flight per context (503
`upstream_busy` once a slot has not come free within the connect time), the request body (413) and the
reply (502 `upstream_reply_too_large` when its declared length is too big; a longer stream is cut, the
connection closed so the client sees an incomplete answer, never a short one taken for whole). A service
that is down is a 502 `upstream_unavailable`. Bodies stream both ways in the chunks they come in, so memory
stays bounded whatever their size; forwarded answers never enter the response cache.

Built on httpx's public API rather than a proxy library: see services/api/README.md ("Single origin").
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy

import anyio
import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute, iter_route_contexts
from prometheus_client import CollectorRegistry, Counter
from starlette.routing import Match
from starlette.types import Receive, Scope, Send
from windhash_common.access.permission_table import FORWARDED_METHODS, FORWARDING_ROUTE
from windhash_common.access.request_actor import request_client

from windhash_api.errors import error_response
from windhash_api.forwarded_headers import client_response_headers, upstream_request_headers
from windhash_api.settings import ApiSettings

log = structlog.get_logger(__name__)
API_PREFIX = "/api/v1/"

REFUSALS: dict[str, tuple[int, str, str | None]] = {
    "unavailable": (502, "the {} service could not be reached", "retry later; the failure was logged"),
    "timeout": (504, "the {} service did not answer in time", "retry later, or ask for less at once"),
    "busy": (503, "the {} service has too many requests in flight", "retry after Retry-After seconds"),
    "request_too_large": (413, "the request body is larger than the API forwards to {}", "send less"),
    "reply_too_large": (502, "the {} service's answer is larger than the API passes on", "ask for less"),
}


class RequestTooLarge(Exception):
    pass


class ReplyTooLarge(Exception):
    pass


@dataclass
class Upstream:
    context: str
    base_url: str
    max_concurrent: int
    slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(self.max_concurrent)


class ForwardingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "windhash_api_upstream_requests_total",
            "Requests forwarded to a context service, by context and outcome: the upstream's status class "
            "(2xx..5xx) or what the API answered instead (unavailable, timeout, busy, request_too_large, "
            "reply_too_large) or did (cut: a reply stopped midway, too long, too slow or broken)",
            ["context", "outcome"],
            registry=registry,
        )

    def count(self, context: str, outcome: str) -> None:
        self.requests.labels(context, outcome).inc()


def _no_cookie_jar() -> CookieJar:
    """The shared client must never keep one user's cookies for the next: a jar that accepts none."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Forwarder:
    """One httpx client for every upstream (keep-alive connections), a concurrency cap per context."""

    def __init__(
        self,
        settings: ApiSettings,
        registry: CollectorRegistry,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        cap = settings.api_upstream_max_concurrent
        self.upstreams = {
            context: Upstream(context, url, cap) for context, url in settings.api_upstreams.items()
        }
        connect = settings.api_upstream_connect_seconds
        read = settings.api_upstream_read_seconds
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
            limits=httpx.Limits(
                max_connections=cap * max(1, len(self.upstreams)), max_keepalive_connections=cap
            ),
            follow_redirects=False,
            trust_env=False,  # no HTTP(S)_PROXY from the environment between the API and its services
            cookies=_no_cookie_jar(),
            transport=transport,
        )
        self.metrics = ForwardingMetrics(registry)

    def uncached_prefixes(self) -> tuple[str, ...]:
        return tuple(f"{API_PREFIX}{context}/" for context in self.upstreams)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def forward(self, request: Request, context: str) -> Response:
        upstream = self.upstreams[context]
        settings = self.settings
        deadline = asyncio.get_running_loop().time() + settings.api_upstream_total_seconds
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.api_upstream_max_request_bytes:
            return self._refused(upstream, "request_too_large")
        try:
            async with asyncio.timeout(settings.api_upstream_connect_seconds):
                await upstream.slots.acquire()
        except TimeoutError:
            return self._refused(upstream, "busy")
        try:
            reply = await self._send(request, upstream, deadline)
        except BaseException as error:
            upstream.slots.release()
            outcome = _failure(error)
            if outcome is None:
                raise
            if outcome == "unavailable":
                log.warning("context service unreachable", context=context, error=repr(error))
            return self._refused(upstream, outcome)
        limit = settings.api_upstream_max_response_bytes
        exchange = _Exchange(reply, upstream, limit, deadline, self.metrics)
        response = _Forwarded(exchange.chunks(), reply.status_code, exchange.close)
        response.raw_headers = client_response_headers(reply.headers.raw, upstream.base_url)
        return response

    async def _send(self, request: Request, upstream: Upstream, deadline: float) -> httpx.Response:
        settings = self.settings
        headers = upstream_request_headers(
            request.headers.items(),
            request_client(request, settings),
            settings.api_client_city_header,
            settings.api_client_country_header,
        )
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        query: bytes = request.scope.get("query_string", b"")
        url = upstream.base_url + raw_path.decode("latin-1")
        if query:
            url += "?" + query.decode("latin-1")
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        outgoing = httpx.Request(
            request.method, url, headers=headers, content=self._request_body(request) if has_body else None
        )
        async with asyncio.timeout_at(deadline):
            reply = await self.client.send(outgoing, stream=True)
        declared = reply.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.api_upstream_max_response_bytes:
            await reply.aclose()
            raise ReplyTooLarge(declared)
        return reply

    async def _request_body(self, request: Request) -> AsyncIterator[bytes]:
        limit = self.settings.api_upstream_max_request_bytes
        sent = 0
        async for chunk in request.stream():
            sent += len(chunk)
            if sent > limit:
                raise RequestTooLarge(limit)
            yield chunk

    def _refused(self, upstream: Upstream, outcome: str) -> Response:
        self.metrics.count(upstream.context, outcome)
        status, message, hint = REFUSALS[outcome]
        response = error_response(status, f"upstream_{outcome}", message.format(upstream.context), hint)
        if outcome == "busy":
            response.headers["Retry-After"] = "1"
        return response


def _failure(error: BaseException) -> str | None:
    """What the API answers for a failure before the upstream's answer started (None: not ours to map)."""
    if isinstance(error, RequestTooLarge):
        return "request_too_large"
    if isinstance(error, ReplyTooLarge):
        return "reply_too_large"
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(error, httpx.TransportError):
        return "unavailable"
    return None


class _Exchange:
    """The upstream's answer being relayed: its body, bounded in size and time, closed exactly once."""

    def __init__(
        self,
        reply: httpx.Response,
        upstream: Upstream,
        limit: int,
        deadline: float,
        metrics: ForwardingMetrics,
    ) -> None:
        self.reply = reply
        self.upstream = upstream
        self.limit = limit
        self.deadline = deadline
        self.metrics = metrics
        self.outcome = f"{reply.status_code // 100}xx"
        self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        received = 0
        raw = self.reply.aiter_raw()
        try:
            while True:
                async with asyncio.timeout_at(self.deadline):
                    chunk = await anext(raw, None)
                if chunk is None:
                    return
                received += len(chunk)
                if received > self.limit:
                    raise ReplyTooLarge(f"more than {self.limit} bytes")
                yield chunk
        except (ReplyTooLarge, TimeoutError, httpx.HTTPError) as error:
            # The status line has gone out: closing the connection midway is the only honest signal left.
            self.outcome = "cut"
            log.warning("forwarded reply cut", context=self.upstream.context, error=repr(error))
            raise

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.upstream.slots.release()
        self.metrics.count(self.upstream.context, self.outcome)
        with anyio.CancelScope(shield=True):
            await self.reply.aclose()


class _Forwarded(StreamingResponse):
    """Starlette's streaming response (it stops when the client goes away), closing the upstream's answer
    however it ends: finished, cut, or the client gone before the first byte."""

    def __init__(
        self, chunks: AsyncIterator[bytes], status_code: int, close: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(chunks, status_code=status_code)
        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._close()


def _context_route(contexts: frozenset[str]) -> type[APIRoute]:
    class ContextRoute(APIRoute):
        """Matches only a configured context: any other path stays the API's own 404, 405 or redirect."""

        def matches(self, scope: Scope) -> tuple[Match, Scope]:
            match, child = super().matches(scope)
            if match is not Match.NONE and child["path_params"].get("context") not in contexts:
                return Match.NONE, {}
            return match, child

    return ContextRoute


def _own_contexts(app: FastAPI) -> set[str]:
    """The first path segments under /api/v1/ of the API's own routes: no upstream may take one."""
    segments = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith(API_PREFIX):
            segments.add(path[len(API_PREFIX) :].split("/", 1)[0])
    return segments


def install_forwarding(app: FastAPI, forwarder: Forwarder) -> None:
    """Add the forwarding route; call it after the API's own routes (they are matched first). It is added
    to the app itself, not through a router, so that its own `matches` is what the app's router asks."""
    clash = set(forwarder.upstreams) & _own_contexts(app)
    if clash:
        raise ValueError(f"WINDHASH_API_UPSTREAMS names contexts the API serves itself: {sorted(clash)}")

    async def forward(request: Request, context: str, path: str) -> Response:
        if any(segment in (".", "..") for segment in path.split("/")):
            return error_response(404, "not_found", "no such path", "paths have no . or .. segments")
        return await forwarder.forward(request, context)

    app.router.add_api_route(
        FORWARDING_ROUTE,
        forward,
        methods=list(FORWARDED_METHODS),
        include_in_schema=False,
        route_class_override=_context_route(frozenset(forwarder.upstreams)),
    )
