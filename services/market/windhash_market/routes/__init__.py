"""The market's HTTP routes, under /api/v1/market/ (the API forwards them from the single origin), and what
each route takes from the request: the pool, the settings, the range asked, whether the answer is CSV."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime
from windhash_common.http_errors import InvalidParameter, error_shape_responses
from windhash_common.tabular import FormatParam, wants_csv

from windhash_market.series_range import InvalidRange, Resolution, SeriesRange, series_range
from windhash_market.settings import MarketSettings

PREFIX = "/api/v1/market"
ERROR_RESPONSES = error_shape_responses(
    {
        404: "Nothing to answer with yet, or the named thing is unknown",
        422: "A parameter is malformed or out of range; see `hint`",
    }
)
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def read_route(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """GET `path`, and HEAD (the same answer without its body, as the API forwards it; left out of the
    OpenAPI document, where it would repeat the GET operation)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.head(path, include_in_schema=False, **options)(endpoint)
        return router.get(path, **options)(endpoint)

    return register


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


def _settings(request: Request) -> MarketSettings:
    settings: MarketSettings = request.app.state.settings
    return settings


def _csv(request: Request, output_format: FormatParam = None) -> bool:
    return wants_csv(request, output_format)


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Settings = Annotated[MarketSettings, Depends(_settings)]
AsCsv = Annotated[bool, Depends(_csv)]
StartParam = Annotated[
    AwareDatetime | None,
    Query(description="Start of the range, inclusive, with its UTC offset (default: the resolution's span)"),
]
EndParam = Annotated[
    AwareDatetime | None, Query(description="End of the range, exclusive, with its UTC offset (default: now)")
]
ResolutionParam = Annotated[
    Resolution,
    Query(description="Bucket length: 15min (at most 31 days), hour (366 days) or day (3660 days)"),
]


def bounded_range(start: datetime | None, end: datetime | None, resolution: Resolution) -> SeriesRange:
    try:
        return series_range(start, end, resolution, datetime.now(UTC))
    except InvalidRange as error:
        raise InvalidParameter(error.message, error.hint) from error


def _series_range(
    start: StartParam = None, end: EndParam = None, resolution: ResolutionParam = Resolution.quarter_hour
) -> SeriesRange:
    return bounded_range(start, end, resolution)


def _snapshot_range(start: StartParam = None, end: EndParam = None) -> SeriesRange:
    """Per-snapshot rows (indicators): the quarter-hour bounds, at most 31 days."""
    return bounded_range(start, end, Resolution.quarter_hour)


AskedSeries = Annotated[SeriesRange, Depends(_series_range)]
AskedSnapshots = Annotated[SeriesRange, Depends(_snapshot_range)]


def file_stamp(at: datetime) -> str:
    """A time for a file name: no colons."""
    return at.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
