"""The Elexon Insights API over HTTP (httpx, async): bounded concurrency, timeouts, retries, then a loud
failure.

Retried: 429, every 5xx, timeouts and transport errors, up to `elexon_max_retries` times with backoff (see
backoff.py; `Retry-After` honoured). Not retried: other 4xx, which mean the question was wrong. When the
retries run out the client raises `ElexonFetchError`; it never returns an empty answer in place of an error.
The client only moves bytes: reading the JSON is the caller's job, so a malformed body can be dead-lettered
as is.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Literal, Self

import httpx
import structlog

from windhash_ingestor.backoff import retry_delay_s
from windhash_ingestor.metrics import ELEXON_FAILURES, ELEXON_LATENCY, ELEXON_REQUESTS, ELEXON_RETRIES
from windhash_ingestor.settings import IngestorSettings

SYNTHETIC_HEADER = "X-Windhash-Synthetic"
StackSide = Literal["bid", "offer"]
Sleep = Callable[[float], Awaitable[None]]

log = structlog.get_logger(__name__)


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
        self._http = httpx.AsyncClient(
            base_url=settings.elexon_base_url,
            timeout=httpx.Timeout(settings.elexon_read_timeout_s, connect=settings.elexon_connect_timeout_s),
            limits=httpx.Limits(max_connections=settings.elexon_concurrency * 2),
            headers={"Accept": "application/json", "User-Agent": "windhash-ingestor"},
            transport=transport,
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
            except httpx.TimeoutException:
                reason = outcome = "timeout"
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
                settings.elexon_backoff_initial_s,
                settings.elexon_backoff_max_s,
                settings.elexon_retry_after_max_s,
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
                response = await self._http.get(path)
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
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
