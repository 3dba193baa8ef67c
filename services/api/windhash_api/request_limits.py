"""Bounds on the requests that cost the database most, so that no client can take the pool from the rest.

A request is *heavy* when it asks for the reconciliation report or for a timeframe longer than a month (a
year, or a range of more than `HEAVY_SPAN_DAYS` days); everything else reads a few summary rows. Only
requests that reach the app are counted: cache hits never touch the database (this middleware sits inside
the response cache).

- Per client (its address as `windhash_common.accounts.client_address` judges it: the peer, or behind a
  proxy named in WINDHASH_API_TRUSTED_PROXIES the address it forwarded): at most `per_client` heavy requests
  run at once; up to `per_client_queue` more wait their turn; one more is refused at once with 429 and
  `Retry-After`.
- In all: at most `concurrency` heavy requests run at once, fewer than the pool's connections, so light
  requests always find one; a heavy request that cannot start within `wait_seconds` is refused with 503 and
  `Retry-After` (the server is busy, not broken).
- Every query is bounded by the pool's `statement_timeout` (database.open_pool); `/ready` has a connection
  of its own (database.open_ready_pool). `/health` touches no database.

Waiting and running are `asyncio.Semaphore`s; the counts are exported as metrics.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date

from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send
from windhash_common.accounts.client_address import Network, client_address

from windhash_api.errors import error_response

HEAVY_SPAN_DAYS = 31
RETRY_AFTER_S = 2
_TIMEFRAME = re.compile(r"^/api/v1/[a-z/-]+/(daily|monthly|yearly|range)/([^/]+)$")
_RANGE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})$")
HEAVY_PATHS = frozenset({"/api/v1/reconciliation"})
HEAVY_PREFIXES = ("/api/v1/exports/",)


def is_heavy(path: str) -> bool:
    """Whether a request for `path` may read many days of facts (a malformed one is refused before any
    query, so it counts as light)."""
    if path in HEAVY_PATHS or path.startswith(HEAVY_PREFIXES):
        return True
    match = _TIMEFRAME.match(path)
    if match is None:
        return False
    kind, value = match.groups()
    if kind == "yearly":
        return True
    if kind != "range":
        return False
    dates = _RANGE.match(value)
    if dates is None:
        return False
    try:
        first, last = date.fromisoformat(dates.group(1)), date.fromisoformat(dates.group(2))
    except ValueError:
        return False
    return (last - first).days + 1 > HEAVY_SPAN_DAYS


@dataclass(frozen=True)
class HeavyLimits:
    concurrency: int
    per_client: int
    per_client_queue: int
    wait_seconds: float


class _Client:
    __slots__ = ("admitted", "running")

    def __init__(self, per_client: int) -> None:
        self.running = asyncio.Semaphore(per_client)
        self.admitted = 0  # running or waiting


class HeavyRequestLimiter:
    def __init__(self, limits: HeavyLimits, registry: CollectorRegistry) -> None:
        self.limits = limits
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._clients: dict[str, _Client] = {}
        self.refused = Counter(
            "windhash_api_heavy_refused_total",
            "Heavy requests refused: per_client (429: one client has too many) or busy (503: no slot)",
            ["reason"],
            registry=registry,
        )
        self.running = Gauge("windhash_api_heavy_running", "Heavy requests running", registry=registry)

    async def run(self, client: str, handle: Callable[[], Awaitable[None]], send: Send) -> None:
        state = self._clients.get(client)
        if state is None:
            state = self._clients[client] = _Client(self.limits.per_client)
        if state.admitted >= self.limits.per_client + self.limits.per_client_queue:
            self.refused.labels("per_client").inc()
            await _refuse(send, 429, "too_many_requests", "this client already has heavy requests running")
            return
        state.admitted += 1
        try:
            async with state.running:
                try:
                    await asyncio.wait_for(self._slots.acquire(), self.limits.wait_seconds)
                except TimeoutError:
                    self.refused.labels("busy").inc()
                    await _refuse(send, 503, "busy", "every slot for long queries is taken")
                    return
                self.running.inc()
                try:
                    await handle()
                finally:
                    self.running.dec()
                    self._slots.release()
        finally:
            state.admitted -= 1
            if state.admitted == 0:
                del self._clients[client]


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    response = error_response(
        status, code, message, f"retry in {RETRY_AFTER_S} s, or ask for a shorter span (a month at most)"
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class HeavyRequestMiddleware:
    """Pure ASGI, inside the response cache: only requests that reach the app are limited, and not those
    under `passed_on` (forwarded to a context service, which bounds its own database; the forwarder bounds
    how many are in flight)."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: HeavyRequestLimiter,
        proxies: Sequence[Network] = (),
        passed_on: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.proxies = proxies
        self.passed_on = passed_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.passed_on) or not is_heavy(scope["path"]):
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        forwarded = {name: value for name, value in scope["headers"]}.get(b"x-forwarded-for")
        forwarded_for = forwarded.decode("latin-1") if forwarded is not None else None
        address = client_address(peer[0] if peer else None, forwarded_for, self.proxies)
        await self.limiter.run(address or "unknown", lambda: self.app(scope, receive, send), send)
