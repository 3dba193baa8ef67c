"""What every fleet route needs from its request: the settings, who is acting (for the audit trail) and a
transaction that sees what the caller may see (row-level security)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import Query, Request
from windhash_common.access.identity import Identity
from windhash_common.access.request_identity import identity_transaction
from windhash_common.accounts.client_address import client_info
from windhash_common.audit import Actor
from windhash_common.http_errors import ApiError, InvalidParameter

from windhash_fleet.constraint_reasons import reason
from windhash_fleet.settings import FleetSettings

PREFIX = "/api/v1/fleet"
MAX_PERIOD = timedelta(days=400)
Start = Annotated[
    datetime | None, Query(description="From (ISO 8601 with a zone); default: a day before end.")
]
End = Annotated[datetime | None, Query(description="Until (exclusive); default: now.")]


def settings_of(request: Request) -> FleetSettings:
    settings: FleetSettings = request.app.state.settings
    return settings


def actor_of(request: Request, identity: Identity) -> Actor:
    settings = settings_of(request)
    info = client_info(
        request.client.host if request.client else None,
        dict(request.headers.items()),
        settings.trusted_proxy_networks,
        settings.api_client_city_header,
        settings.api_client_country_header,
    )
    return Actor(identity.actor, identity.user_id, info.address)


@asynccontextmanager
async def as_caller(request: Request, identity: Identity) -> AsyncIterator[asyncpg.Connection]:
    """A transaction as the caller: PostgreSQL's refusals become the API's error shape."""
    try:
        async with identity_transaction(request.app.state.pool, identity) as connection:
            yield connection
    except asyncpg.UniqueViolationError as error:
        raise ApiError(409, "conflict", reason(error)) from None
    except asyncpg.ForeignKeyViolationError as error:
        raise ApiError(422, "unknown_reference", reason(error)) from None
    except asyncpg.CheckViolationError as error:
        raise ApiError(422, "refused_value", reason(error)) from None


class NotVisible(ApiError):
    """Absent, or not the caller's to see: row-level security makes the two the same answer."""

    def __init__(self, what: str) -> None:
        super().__init__(404, "not_found", f"no {what}", "list what you may see at /api/v1/fleet/...")


def period(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    """The period asked for (aware datetimes), bounded: a caller cannot ask for years of rows at once."""
    end = end or datetime.now(UTC)
    start = start or end - default
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidParameter("start and end need a time zone", "e.g. ?start=2026-01-01T00:00:00Z")
    if start >= end or end - start > MAX_PERIOD:
        raise InvalidParameter(
            f"start must be before end, at most {MAX_PERIOD.days} days apart",
            "e.g. ?start=2026-01-01T00:00:00Z",
        )
    return start, end
