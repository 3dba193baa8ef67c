"""GET a JSON document from a public data source, retrying transient failures, then failing loudly.

Retried: connection errors, timeouts, 429 (waiting at least what `Retry-After` asks, capped) and 5xx. Anything
else (a 4xx, a body that is not JSON) is an error at once: an answer we cannot read is never "no data".
"""

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)
_RETRY_AFTER_CAP_SECONDS = 120.0


class SourceError(RuntimeError):
    """The source could not be read after every attempt."""


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    params: Mapping[str, str] | None = None,
    attempts: int = 5,
    backoff_seconds: float = 1.0,
) -> Any:
    """The JSON body; numbers with a fraction are parsed as Decimal (difficulty and prices stay exact)."""
    for attempt in range(1, attempts + 1):
        try:
            response = await client.get(url, params=params)
        except (httpx.TransportError, httpx.TimeoutException) as error:
            problem, wait = repr(error), backoff_seconds * 2 ** (attempt - 1)
        else:
            if response.status_code == 200:
                try:
                    return json.loads(response.text, parse_float=Decimal)
                except json.JSONDecodeError as error:
                    raise SourceError(f"{url} answered with something that is not JSON: {error}") from error
            if response.status_code != 429 and response.status_code < 500:
                raise SourceError(f"{url} answered {response.status_code}: {response.text[:300]}")
            problem, wait = f"HTTP {response.status_code}", backoff_seconds * 2 ** (attempt - 1)
            wait = max(wait, _retry_after_seconds(response.headers.get("Retry-After")))
        if attempt == attempts:
            raise SourceError(f"{url} failed {attempts} times, last: {problem}")
        log.warning("source request failed, retrying", url=url, attempt=attempt, wait=wait, problem=problem)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")


def _retry_after_seconds(value: str | None) -> float:
    try:
        return min(max(float(value or 0), 0.0), _RETRY_AFTER_CAP_SECONDS)
    except ValueError:
        return 0.0  # an HTTP-date Retry-After: fall back on our own backoff
