"""Response cache: each GET under /api/v1 is computed once per data version and served from memory after.

What is cached: the complete 200 response (body and headers, JSON or CSV) of every GET under `/api/v1/`
asked without credentials (so only what anonymous visitors may read) except `/api/v1/reconciliation` (an
operator's live view) and what the API forwards to a context service (forwarding.py), keyed by path, query
string and Accept header. A hit never reaches FastAPI: no routing, validation, query or serialization, only
a dict lookup and two ASGI messages. Errors and other statuses are never cached.

When it is dropped (the staleness bound):

* `DataVersion` (data_version.py) fingerprints the tables the answers derive from every
  `WINDHASH_API_CACHE_CHECK_SECONDS` (0.5 s by default) and the whole cache is dropped when the
  fingerprint changes. The cache is only used while the last successful check was sent at most two intervals
  ago, so a change to a fingerprinted table is served at most 2 × WINDHASH_API_CACHE_CHECK_SECONDS (1 s)
  after its commit; when the database cannot be read, or the checks fall behind, requests bypass the cache.
* Whatever the fingerprint cannot see (a hand edit of a fact table that neither the calculator nor the
  aggregator follows) is served at most `WINDHASH_API_CACHE_MAX_AGE_SECONDS` (30 s) after its commit: no
  entry is served once that old. A requested entry past three quarters of that age is recomputed in the
  background while the current one is still served, so expiry costs no request a wait.

A response computed while the data changed is stored in the generation (the cache contents of one data
version) it started in; if that generation has been dropped meanwhile, the response is not kept. When many
clients ask for the same missing entry at once, one computes it and the others wait for its answer.

HTTP: every cached answer carries a strong `ETag` (a hash of the body, so every worker process gives the same
one), `Cache-Control: no-cache` (clients and proxies may keep it but must revalidate before each use) and
`Vary: Accept`; `If-None-Match` with the current ETag gets `304 Not Modified` with no body.
"""

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from windhash_common.access.credentials import carries_credentials

from windhash_api.data_version import DataVersion

log = structlog.get_logger(__name__)

CACHED_PREFIX = "/api/v1/"
UNCACHED_PATHS = frozenset({"/api/v1/reconciliation"})
CACHE_CONTROL = b"no-cache"
# Past this share of the maximum age, a hit also recomputes the entry in the background.
REFRESH_AT_AGE_SHARE = 0.75
# The key (path, query and Accept) and bookkeeping, counted against the size limit with the body.
ENTRY_OVERHEAD_BYTES = 512

Key = tuple[str, bytes, bytes]


@dataclass(frozen=True, slots=True)
class Entry:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    validators: list[tuple[bytes, bytes]]
    """The headers a 304 repeats: ETag, Cache-Control, Vary."""
    computed_at: float
    """Monotonic time at which computing it started: no data it holds is older than that."""
    route: Any
    """The FastAPI route that answered, so that request metrics label hits like misses."""
    size: int


class Generation:
    """The cache contents of one data version, and the entries being computed in it."""

    __slots__ = ("computing", "entries")

    def __init__(self) -> None:
        self.entries: OrderedDict[Key, Entry] = OrderedDict()
        self.computing: dict[Key, asyncio.Future[Entry | None]] = {}


class CacheMetrics:
    def __init__(self, registry: CollectorRegistry, cache: "ResponseCache") -> None:
        self.registry = registry
        requests = Counter(
            "windhash_api_cache_requests_total",
            "Cacheable GET requests by outcome: hit, not_modified (a 304 from the cache), miss (computed), "
            "joined (waited for another request computing the same answer) or bypass (data version unknown)",
            ["outcome"],
            registry=registry,
        )
        self.hit = requests.labels("hit")
        self.not_modified = requests.labels("not_modified")
        self.miss = requests.labels("miss")
        self.joined = requests.labels("joined")
        self.bypass = requests.labels("bypass")
        self.invalidations = Counter(
            "windhash_api_cache_invalidations_total",
            "Times the whole cache was dropped because the data version changed or could not be read",
            registry=registry,
        )
        self.refreshes = Counter(
            "windhash_api_cache_refreshes_total",
            "Entries recomputed in the background before they reached their maximum age",
            registry=registry,
        )
        entries = Gauge("windhash_api_cache_entries", "Responses held", registry=registry)
        entries.set_function(lambda: len(cache.generation.entries))
        held = Gauge("windhash_api_cache_bytes", "Bytes of responses held", registry=registry)
        held.set_function(lambda: cache.bytes_held)


class ResponseCache:
    """LRU store of complete responses, bounded in bytes, emptied whenever the data version changes."""

    def __init__(
        self,
        max_bytes: int,
        max_age_s: float,
        check_interval_s: float,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max(1, max_bytes // 8)
        self.max_age_s = max_age_s
        self.refresh_after_s = max_age_s * REFRESH_AT_AGE_SHARE
        # The fingerprint must have been confirmed this recently for the cache to be used at all.
        self.max_lag_s = 2 * check_interval_s
        self.generation = Generation()
        self.bytes_held = 0
        self.version: DataVersion | None = None
        self.metrics = CacheMetrics(registry or CollectorRegistry(), self)

    def usable(self, now: float) -> bool:
        version = self.version
        return version is not None and version.confirmed_within(self.max_lag_s, now)

    def invalidate(self) -> None:
        """Drop every entry; answers still being computed for the old generation are not kept."""
        self.generation = Generation()
        self.bytes_held = 0
        self.metrics.invalidations.inc()

    def lookup(self, key: Key, now: float) -> Entry | None:
        entries = self.generation.entries
        entry = entries.get(key)
        if entry is None:
            return None
        if now - entry.computed_at >= self.max_age_s:
            del entries[key]
            self.bytes_held -= entry.size
            return None
        entries.move_to_end(key)
        return entry

    def entry_of(self, messages: list[Message], route: Any, computed_at: float) -> Entry | None:
        """The cache entry for an app's answer, or None when it is not to be cached."""
        if not messages or messages[0]["type"] != "http.response.start" or messages[0]["status"] != 200:
            return None
        body = b"".join(message.get("body", b"") for message in messages[1:])
        if len(body) > self.max_entry_bytes:
            return None
        headers = list(messages[0].get("headers", []))
        if any(name.lower() in (b"etag", b"cache-control", b"set-cookie") for name, _ in headers):
            return None  # the route decided on its own caching
        etag = b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'
        validators = [(b"etag", etag), (b"cache-control", CACHE_CONTROL), (b"vary", b"Accept")]
        return Entry(
            headers + validators, body, etag, validators, computed_at, route, len(body) + ENTRY_OVERHEAD_BYTES
        )

    def store(self, generation: Generation, key: Key, entry: Entry) -> None:
        if generation is not self.generation:
            return  # the data changed while it was computed
        entries = generation.entries
        previous = entries.pop(key, None)
        if previous is not None:
            self.bytes_held -= previous.size
        entries[key] = entry
        self.bytes_held += entry.size
        while self.bytes_held > self.max_bytes and entries:
            _, evicted = entries.popitem(last=False)
            self.bytes_held -= evicted.size


def cacheable(scope: Scope, uncached_prefixes: tuple[str, ...] = ()) -> bool:
    """Only anonymous requests: a request with credentials goes through the authorization dependency every
    time (a revoked session is refused at once), so the cache only ever holds what anonymous may read.
    Never what is forwarded to a context service (`uncached_prefixes`): those answers are the service's to
    cache or not, and they stream rather than being held whole."""
    path: str = scope["path"]
    return (
        scope["method"] == "GET"
        and path.startswith(CACHED_PREFIX)
        and path not in UNCACHED_PATHS
        and not path.startswith(uncached_prefixes)
        and not carries_credentials(scope["headers"])
    )


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """The weak comparison RFC 9110 asks of If-None-Match."""
    if if_none_match.strip() == b"*":
        return True
    for candidate in if_none_match.split(b","):
        tag = candidate.strip()
        if tag.startswith(b"W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


async def send_entry(entry: Entry, if_none_match: bytes, send: Send) -> bool:
    """Answer from the cache; True when that answer was a 304."""
    if if_none_match and etag_matches(if_none_match, entry.etag):
        await send({"type": "http.response.start", "status": 304, "headers": list(entry.validators)})
        await send({"type": "http.response.body", "body": b""})
        return True
    await send({"type": "http.response.start", "status": 200, "headers": list(entry.headers)})
    await send({"type": "http.response.body", "body": entry.body})
    return False


async def _request_without_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class ResponseCacheMiddleware:
    """Pure ASGI, inside the metrics middleware (hits are counted and timed like any request)."""

    def __init__(
        self, app: ASGIApp, cache: ResponseCache | None, uncached_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.cache = cache
        self.uncached_prefixes = uncached_prefixes
        self._background: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.cache
        if cache is None or scope["type"] != "http" or not cacheable(scope, self.uncached_prefixes):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        if not cache.usable(now):
            cache.metrics.bypass.inc()
            await self.app(scope, receive, send)
            return
        accept = if_none_match = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
            elif name == b"if-none-match":
                if_none_match = value
        key: Key = (scope["path"], scope["query_string"], accept)
        generation = cache.generation
        entry = cache.lookup(key, now)
        if entry is not None:
            if now - entry.computed_at > cache.refresh_after_s and key not in generation.computing:
                self._refresh(cache, generation, key, scope)
            await self._answer(cache, scope, entry, if_none_match, send)
            return
        computing = generation.computing.get(key)
        if computing is not None:
            # shield: a waiter that goes away must not cancel the answer the others wait for
            entry = await asyncio.shield(computing)
            if entry is not None:
                cache.metrics.joined.inc()
                await self._answer(cache, scope, entry, if_none_match, send)
                return
            await self.app(scope, receive, send)  # it was not cacheable: compute this one too
            return
        cache.metrics.miss.inc()
        future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        generation.computing[key] = future
        messages: list[Message] = []
        try:
            await self.app(scope, receive, _appender(messages))
            entry = cache.entry_of(messages, scope.get("route"), now)
        finally:
            self._done(cache, generation, key, future, entry)
        if entry is None:
            for message in messages:
                await send(message)
            return
        if await send_entry(entry, if_none_match, send):
            cache.metrics.not_modified.inc()

    async def _answer(
        self, cache: ResponseCache, scope: Scope, entry: Entry, if_none_match: bytes, send: Send
    ) -> None:
        scope["route"] = entry.route
        if await send_entry(entry, if_none_match, send):
            cache.metrics.not_modified.inc()
        else:
            cache.metrics.hit.inc()

    @staticmethod
    def _done(
        cache: ResponseCache,
        generation: Generation,
        key: Key,
        future: asyncio.Future[Entry | None],
        entry: Entry | None,
    ) -> None:
        if generation.computing.get(key) is future:
            del generation.computing[key]
        if not future.done():
            future.set_result(entry)
        if entry is not None:
            cache.store(generation, key, entry)

    def _refresh(self, cache: ResponseCache, generation: Generation, key: Key, scope: Scope) -> None:
        """Recompute an ageing entry in the background; the current one is served until it is replaced."""
        future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        generation.computing[key] = future
        own_scope = dict(scope)
        own_scope["headers"] = [(name, value) for name, value in scope["headers"] if name != b"if-none-match"]
        own_scope["state"] = dict(scope.get("state", {}))
        task = asyncio.create_task(self._recompute(cache, generation, key, own_scope, future))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        cache.metrics.refreshes.inc()

    async def _recompute(
        self,
        cache: ResponseCache,
        generation: Generation,
        key: Key,
        scope: Scope,
        future: asyncio.Future[Entry | None],
    ) -> None:
        entry: Entry | None = None
        started = time.monotonic()
        messages: list[Message] = []
        try:
            await self.app(scope, _request_without_body, _appender(messages))
            entry = cache.entry_of(messages, scope.get("route"), started)
        except Exception:
            log.exception("background refresh of a cached response failed", path=scope["path"])
        finally:
            self._done(cache, generation, key, future, entry)


def _appender(messages: list[Message]) -> Send:
    async def append(message: Message) -> None:
        messages.append(message)

    return append
