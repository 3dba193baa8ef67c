"""The Elexon Insights API over HTTP (httpx, async): bounded concurrency, timeouts, retries, then a loud
failure.

Requests are httpx `Request`s handed straight to an httpx transport: aiohttp's (`_AiohttpTransport`, on
httpx's public transport interface) unless a test injects another, for CPU (httpx's own transport, httpcore
+ anyio, costs more per fetch), and without `httpx.AsyncClient`'s layers (base URL, cookies, auth, redirects,
hooks), which a GET of a public document does not use (issue #24). A year's backfill is 17,568 fetches; the
measured costs are in docs/BENCHMARKS.md.

Retried: 429, every 5xx, timeouts and transport errors, up to `elexon_max_retries` times with backoff (see
backoff.py; `Retry-After` honoured). Not retried: other 4xx, which mean the question was wrong, and a reply
past the size limits. Bounded (`ReplyLimits`, from the settings): each request as a whole by a deadline
(aiohttp's `total` timeout: a reply trickling a byte at a time fails then), the body as received (read in
chunks, never past the limit) and once decompressed (gzip and deflate are undone here, by a decompressor
asked for at most one byte more than the limit, so a gzip bomb is refused as it inflates). When the
retries run out the client raises `ElexonFetchError`; it never returns an empty answer in place of an error.
The client only moves bytes: reading the JSON is the caller's job, so a malformed body can be dead-lettered
as is.
"""

import asyncio
import random
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Literal, Self

import aiohttp
import httpx
import structlog
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from windhash_ingestor.backoff import retry_delay_s
from windhash_ingestor.metrics import ELEXON_FAILURES, ELEXON_LATENCY, ELEXON_REQUESTS, ELEXON_RETRIES
from windhash_ingestor.settings import IngestorSettings

SYNTHETIC_HEADER = "X-Windhash-Synthetic"
StackSide = Literal["bid", "offer"]
Sleep = Callable[[float], Awaitable[None]]

log = structlog.get_logger(__name__)
_READ_CHUNK = 64 * 1024


class ReplyRefused(Exception):
    """A reply past the size limits (as received or once decompressed) or in an encoding that was not asked
    for; never read further than the limit, and not retried (the same question gets the same answer)."""


@dataclass(frozen=True)
class ReplyLimits:
    deadline_s: float
    max_body_bytes: int
    max_decoded_bytes: int


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decoded_body(body: bytes, encoding: str, max_decoded_bytes: int) -> bytes:
    """The body with its Content-Encoding (gzip or deflate) undone, refused as soon as it inflates past
    `max_decoded_bytes`: the decompressor is asked for at most one byte more than that."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    wbits = _WBITS.get(encoding)
    if wbits is None:
        raise ReplyRefused(f"unsupported Content-Encoding {encoding[:40]!r} (asked for gzip or deflate)")
    try:
        try:
            decompressor = zlib.decompressobj(wbits)
            decoded = decompressor.decompress(body, max_decoded_bytes + 1)
        except zlib.error:
            if encoding != "deflate":
                raise
            decompressor = zlib.decompressobj(-zlib.MAX_WBITS)  # deflate sent raw, without the zlib wrapper
            decoded = decompressor.decompress(body, max_decoded_bytes + 1)
    except zlib.error as error:  # damaged on the way, as a cut connection would be: retried
        raise httpx.RemoteProtocolError(f"the {encoding} body is corrupt: {error}") from error
    if len(decoded) > max_decoded_bytes or decompressor.unconsumed_tail:
        raise ReplyRefused(f"the reply inflates to more than {max_decoded_bytes} bytes ({encoding})")
    return decoded


class ElexonFetchError(Exception):
    """A request that did not succeed: after every retry, or at once for a non-retryable status."""

    def __init__(self, url: str, attempts: int, outcome: str) -> None:
        super().__init__(f"GET {url} failed after {attempts} attempt(s): {outcome}")
        self.url = url
        self.attempts = attempts
        self.outcome = outcome


@dataclass(frozen=True)
class ElexonResponse:
    url: str
    body: bytes
    synthetic: bool = False
    attempts: int = 1


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _httpx_error(error: BaseException) -> httpx.TransportError | None:
    """The httpx exception httpx's own transport would raise for this aiohttp one (None: not a transport
    failure), so the retry logic sees `httpx.TimeoutException` / `httpx.TransportError` whichever transport
    carried the request."""
    message = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):  # sock_connect, or the `pool` wait for a connection
        return httpx.ConnectTimeout(message)
    if isinstance(error, TimeoutError):  # SocketTimeoutError: nothing read for the read timeout
        return httpx.ReadTimeout(message)
    if isinstance(error, aiohttp.ClientConnectorError):  # refused, unreachable, DNS, TLS handshake
        return httpx.ConnectError(message)
    if isinstance(
        error,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | aiohttp.ClientResponseError
        | HttpProcessingError,
    ):  # closed before a whole response, or not HTTP
        return httpx.RemoteProtocolError(message)
    if isinstance(error, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(message)
    if isinstance(error, aiohttp.ClientError | OSError):  # reset, broken pipe, ...
        return httpx.ReadError(message)
    return None


class _AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport (httpx's public extension point) that carries requests over aiohttp: the failures
    mapped as httpx's own transport maps them, and the body read within the request, so that a failure while
    reading it is mapped too (nothing here streams). The aiohttp session is made on the first request, inside
    the running loop, and closed by `aclose()`.

    httpx's timeouts map to aiohttp's: `connect` to `sock_connect`, `read` to `sock_read` (the longest wait
    for any data, as in httpx), `pool` to `connect` (waiting for a pooled connection plus connecting).
    aiohttp has no write timeout; a GET has no body to write."""

    def __init__(self, max_connections: int, reply: ReplyLimits) -> None:
        self._max_connections = max_connections
        self._reply = reply
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _new_session(self) -> aiohttp.ClientSession:
        # Idle connections kept as long as httpx keeps its own (5 s); TLS verified with the system's CAs.
        connector = aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=5.0)
        # httpx keeps the cookies (and does redirects and decoding); aiohttp's cookie jar would be work twice.
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        asked = request.extensions.get("timeout", {})
        key = (asked.get("connect"), asked.get("read"), asked.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=self._reply.deadline_s, sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._new_session()
        try:
            async with self._session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=request.headers,
                data=request.content or None,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as it does its own transport's bodies
                compress=False,
                timeout=self._timeout(request),
            ) as response:
                body = await self._bounded_body(response)
        except ReplyRefused:
            raise
        except Exception as error:
            mapped = _httpx_error(error)
            if mapped is None:
                raise
            raise mapped from error
        encoding = response.headers.get("Content-Encoding", "")
        body = decoded_body(body, encoding, self._reply.max_decoded_bytes)
        # Decoded here, within the limit: httpx must not decode it again (nor trust the encoded length).
        headers = [
            (name, value)
            for name, value in response.raw_headers
            if name.lower() not in (b"content-encoding", b"content-length")
        ]
        extensions = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode()
        return httpx.Response(
            response.status, headers=headers, content=body, request=request, extensions=extensions
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _bounded_body(self, response: aiohttp.ClientResponse) -> bytes:
        """The body as received, read no further than `max_body_bytes` (a declared length past it is
        refused before reading)."""
        limit = self._reply.max_body_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            raise ReplyRefused(f"the reply declares {declared} bytes, more than {limit}")
        chunks = []
        size = 0
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise ReplyRefused(f"the reply is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


class ElexonClient:
    def __init__(
        self,
        settings: IngestorSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.elexon_concurrency)
        self._sleep = sleep
        self._rng = rng or random.Random()
        if transport is None:
            # The semaphore holds requests to the concurrency, so the pool needs no more connections.
            reply = ReplyLimits(
                settings.elexon_request_deadline_seconds,
                settings.elexon_max_body_bytes,
                settings.elexon_max_decoded_bytes,
            )
            transport = _AiohttpTransport(settings.elexon_concurrency, reply)
        # Requests go straight to the transport: the client's own layers (base URL merge, cookie jar,
        # auth and redirect handling, event hooks) are work for features a GET of a public JSON document does
        # not use, and cost as much CPU per request as parsing the answer's headers.
        self._transport = transport
        timeout = httpx.Timeout(
            settings.elexon_read_timeout_seconds, connect=settings.elexon_connect_timeout_seconds
        )
        self._extensions = {"timeout": timeout.as_dict()}
        self._headers = httpx.Headers(
            {
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",  # what decoded_body undoes, within its limit
                "User-Agent": "windhash-ingestor",
            }
        )

    async def settlement_stack(
        self, side: StackSide, settlement_date: date, settlement_period: int
    ) -> ElexonResponse:
        path = f"/balancing/settlement/stack/all/{side}/{settlement_date.isoformat()}/{settlement_period}"
        return await self.get(path, endpoint="settlement_stack")

    async def bm_units(self) -> ElexonResponse:
        return await self.get("/reference/bmunits/all", endpoint="bm_units")

    async def get(self, path: str, endpoint: str) -> ElexonResponse:
        settings = self._settings
        outcome = "not attempted"
        attempts = settings.elexon_max_retries + 1
        for attempt in range(attempts):
            retry_after: str | None = None
            try:
                response = await self._attempt(path, endpoint)
            except ReplyRefused as error:
                ELEXON_FAILURES.labels(endpoint).inc()
                raise ElexonFetchError(self._url(path), attempt + 1, f"reply refused: {error}") from error
            except httpx.TimeoutException as error:
                reason = "timeout"
                outcome = f"timeout ({error})" if str(error) else "timeout"
            except httpx.TransportError as error:
                reason, outcome = "transport_error", f"transport error ({type(error).__name__})"
            else:
                if response.status_code == 200:
                    synthetic = response.headers.get(SYNTHETIC_HEADER, "").lower() == "true"
                    return ElexonResponse(str(response.url), response.content, synthetic, attempt + 1)
                reason, outcome = (
                    str(response.status_code),
                    f"HTTP {response.status_code}: {response.text[:200]}",
                )
                if not _retryable(response.status_code):
                    ELEXON_FAILURES.labels(endpoint).inc()
                    raise ElexonFetchError(self._url(path), attempt + 1, outcome)
                retry_after = response.headers.get("Retry-After")
            if attempt + 1 == attempts:
                break
            delay = retry_delay_s(
                attempt,
                retry_after,
                settings.elexon_backoff_initial_seconds,
                settings.elexon_backoff_max_seconds,
                settings.elexon_retry_after_max_seconds,
                self._rng,
            )
            ELEXON_RETRIES.labels(endpoint, reason).inc()
            log.info(
                "elexon_retry", path=path, attempt=attempt + 1, outcome=outcome[:80], delay_s=round(delay, 3)
            )
            await self._sleep(delay)
        ELEXON_FAILURES.labels(endpoint).inc()
        raise ElexonFetchError(self._url(path), attempts, outcome)

    async def _attempt(self, path: str, endpoint: str) -> httpx.Response:
        # The slot is held for the request only, so a backoff sleep does not block other requests.
        async with self._slots:
            started = time.monotonic()
            try:
                request = httpx.Request(
                    "GET", self._url(path), headers=self._headers, extensions=self._extensions
                )
                response = await self._transport.handle_async_request(request)
                response.request = request  # as the client would: the answer's URL is the request's
                await response.aread()  # an injected transport may stream; ours never does
            except ReplyRefused:
                ELEXON_REQUESTS.labels(endpoint, "too_large").inc()
                raise
            except httpx.TimeoutException:
                ELEXON_REQUESTS.labels(endpoint, "timeout").inc()
                raise
            except httpx.TransportError:
                ELEXON_REQUESTS.labels(endpoint, "transport_error").inc()
                raise
            ELEXON_LATENCY.labels(endpoint).observe(time.monotonic() - started)
            ELEXON_REQUESTS.labels(endpoint, str(response.status_code)).inc()
            return response

    def _url(self, path: str) -> str:
        return self._settings.elexon_base_url.rstrip("/") + path

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
