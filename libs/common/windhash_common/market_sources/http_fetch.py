"""GET a JSON document from a public market-data source, retrying transient failures, then failing loudly.

The rules are the Elexon client's (services/ingestor/windhash_ingestor/elexon_client.py):
- retried: connection errors, timeouts, 429 and every 5xx, with capped exponential backoff and jitter; a
  `Retry-After` (seconds or an HTTP date) is honoured when it asks for longer, capped at `retry_after_max_s`;
- not retried: any other 4xx (the question was wrong) and a 200 whose body is not JSON (an answer we cannot
  read is never "no data");
- when the attempts run out, `SourceError` — never an empty answer in place of an error.

The retry loop is stamina's (jittered exponential backoff over tenacity, with its retries counted in the
`stamina_retries_total` metric), not a hand-written one. Each attempt is bounded in what the peer controls:
its reply may not exceed `max_body_bytes` (counted as the body is decoded, so a gzip bomb stops at the limit)
and must arrive whole within `deadline_s` (a reply trickling one byte at a time fails in bounded time).
"""

import asyncio
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import stamina
import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)
# The header windhash's own simulators put on every answer: data behind it is synthetic, never market data.
SYNTHETIC_HEADER = "X-Windhash-Synthetic"

SOURCE_REQUESTS = Counter(
    "windhash_source_requests_total",
    "Requests to market-data sources, by source and outcome (ok, timeout, transport, status code, too_large,"
    " not_json)",
    ["source", "outcome"],
)


class SourceError(RuntimeError):
    """The source could not be read: after every attempt, or at once for an answer retrying cannot mend."""


class _RetryableFailure(Exception):
    def __init__(self, problem: str, retry_after_s: float | None = None) -> None:
        super().__init__(problem)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class FetchLimits:
    """How hard to try and how much a peer may make us wait for or hold."""

    attempts: int = 5
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    deadline_s: float = 60.0  # one whole attempt, headers to last byte
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0
    max_body_bytes: int = 32 * 1024 * 1024

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout_s, connect=self.connect_timeout_s)


def parse_retry_after_s(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` in seconds, given as seconds or as an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def parse_json(text: str | bytes) -> Any:
    """JSON with every number that has a fraction as a Decimal, so difficulty and prices stay exact; NaN and
    Infinity (which JSON does not have, but Python's parser accepts) are refused."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    return json.loads(text, parse_float=Decimal, parse_constant=refuse)


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    params: Mapping[str, str] | None = None,
    limits: FetchLimits = FetchLimits(),  # frozen: a shared default is safe
    source: str = "source",
) -> Any:
    """The JSON body of `GET url`; numbers with a fraction are parsed as Decimal."""

    def backoff(error: Exception) -> bool | float:
        if not isinstance(error, _RetryableFailure):
            return False
        log.warning("source request failed, retrying", source=source, url=url, problem=str(error))
        if error.retry_after_s:
            return min(error.retry_after_s, limits.retry_after_max_s)
        return True

    try:
        async for attempt in stamina.retry_context(
            on=backoff,
            attempts=limits.attempts,
            timeout=None,
            wait_initial=limits.backoff_initial_s,
            wait_max=limits.backoff_max_s,
            wait_jitter=limits.backoff_initial_s,
        ):
            with attempt:
                body = await _attempt(client, url, params, limits, source)
    except _RetryableFailure as failure:
        raise SourceError(f"{url} failed {limits.attempts} times, last: {failure}") from failure
    try:
        return parse_json(body)
    except ValueError as error:  # JSONDecodeError, a bad constant, undecodable bytes
        SOURCE_REQUESTS.labels(source, "not_json").inc()
        raise SourceError(f"{url} answered with something that is not JSON: {error}") from error


async def _attempt(
    client: httpx.AsyncClient,
    url: str,
    params: Mapping[str, str] | None,
    limits: FetchLimits,
    source: str,
) -> bytes:
    try:
        async with asyncio.timeout(limits.deadline_s):
            async with client.stream("GET", url, params=params, timeout=limits.timeout()) as response:
                if response.status_code != 200:
                    text = (await _read_bounded(response, 4096, url, source, truncate=True)).decode(
                        "utf-8", "replace"
                    )
                    _raise_for_status(response, text[:300], url, source)
                return await _read_bounded(response, limits.max_body_bytes, url, source)
    except TimeoutError as error:
        SOURCE_REQUESTS.labels(source, "timeout").inc()
        raise _RetryableFailure(f"no whole reply within {limits.deadline_s} s") from error
    except httpx.TimeoutException as error:
        SOURCE_REQUESTS.labels(source, "timeout").inc()
        raise _RetryableFailure(f"timeout ({type(error).__name__})") from error
    except httpx.TransportError as error:
        SOURCE_REQUESTS.labels(source, "transport").inc()
        raise _RetryableFailure(f"transport error ({type(error).__name__}: {error})") from error


def _raise_for_status(response: httpx.Response, text: str, url: str, source: str) -> None:
    status = response.status_code
    SOURCE_REQUESTS.labels(source, str(status)).inc()
    if status == 429 or status >= 500:
        retry_after = parse_retry_after_s(response.headers.get("Retry-After"))
        raise _RetryableFailure(f"HTTP {status}", retry_after)
    raise SourceError(f"{url} answered {status}: {text}")


async def _read_bounded(
    response: httpx.Response, limit: int, url: str, source: str, truncate: bool = False
) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        SOURCE_REQUESTS.labels(source, "too_large").inc()
        raise SourceError(f"{url} announced a reply of {declared} bytes, over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            if truncate:
                chunks.append(chunk[: limit - (size - len(chunk))])
                break
            SOURCE_REQUESTS.labels(source, "too_large").inc()
            raise SourceError(f"{url} sent a reply over the limit of {limit} bytes")
        chunks.append(chunk)
    if not truncate:
        SOURCE_REQUESTS.labels(source, "ok").inc()
    return b"".join(chunks)
