"""A tiny bounded-context service for the API's forwarding tests: `create_service_app` with routes of every
kind the API must pass through, judged by a permission table of its own. Synthetic and for tests only.

    GET  /api/v1/specimen/whoami        who the service thinks asked, and from where (ETag, If-None-Match;
                                        HEAD too)
    POST /api/v1/specimen/notes         a state change: audited with the client's address, two cookies
    GET  /api/v1/specimen/export.csv    ?rows=N: a CSV streamed in chunks (no Content-Length)
    GET  /api/v1/specimen/blob          ?size=N: N bytes with a Content-Length
    GET  /api/v1/specimen/slow          ?seconds=S: answers after S seconds, counting its calls
The last three are public (like the analytics), so the transport tests need no account.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from windhash_common.access.enforcement import CurrentIdentity
from windhash_common.access.permission_table import PERMISSIONS
from windhash_common.access.permissions import (
    PUBLIC_READ,
    STAFF,
    STAFF_AND_OWN_CLIENT,
    PermissionTable,
    Rule,
)
from windhash_common.access.request_identity import identity_transaction
from windhash_common.access.service_app import create_service_app
from windhash_common.access.settings import AccessSettings
from windhash_common.accounts.client_address import client_info
from windhash_common.audit import Actor, record_audit
from windhash_common.db_roles import DatabaseRole, dsn_as
from windhash_common.topics import Topics

CONTEXT = "specimen"
PREFIX = f"/api/v1/{CONTEXT}"
TOPICS = Topics("specimen-test")
CSV_CHUNK_ROWS = 1000


def specimen_table() -> PermissionTable:
    service_rules = [PERMISSIONS.rule("probes", "read"), PERMISSIONS.rule("metrics", "read")]
    read = Rule("specimen", "read", "Who asked", STAFF_AND_OWN_CLIENT, routes=(f"GET {PREFIX}/whoami",))
    public = Rule(
        "specimen-figures",
        "read",
        "Public figures of the test service",
        PUBLIC_READ,
        routes=tuple(f"GET {PREFIX}{path}" for path in ("/export.csv", "/blob", "/slow")),
    )
    write = Rule("specimen", "write", "A change in the test service", STAFF, routes=(f"POST {PREFIX}/notes",))
    return PermissionTable((*service_rules, read, public, write))


class Note(BaseModel):
    text: str


def _client(request: Request) -> dict[str, Any]:
    settings: AccessSettings = request.app.state.settings
    info = client_info(
        request.client.host if request.client else None,
        dict(request.headers.items()),
        settings.trusted_proxy_networks,
        settings.api_client_city_header,
        settings.api_client_country_header,
    )
    return {
        "address": info.address,
        "city": info.city,
        "forwarded_for": request.headers.get("x-forwarded-for"),
        "user_agent": request.headers.get("user-agent"),
        "headers": sorted(request.headers.keys()),
    }


def specimen_router() -> APIRouter:
    router = APIRouter()

    @router.api_route(f"{PREFIX}/whoami", methods=["GET", "HEAD"])
    async def whoami(identity: CurrentIdentity, request: Request, response: Response) -> dict[str, Any]:
        body = {"actor": identity.actor, "role": identity.subject.value, "client": _client(request)}
        etag = '"' + hashlib.sha256(identity.actor.encode()).hexdigest()[:16] + '"'
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "private, no-cache"
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})  # type: ignore[return-value]
        return body

    @router.post(f"{PREFIX}/notes", status_code=201)
    async def add_note(note: Note, identity: CurrentIdentity, request: Request, response: Response) -> Any:
        client = _client(request)
        actor = Actor(identity.actor, identity.user_id, client["address"])
        async with identity_transaction(request.app.state.pool, identity) as connection:
            await record_audit(
                connection, TOPICS, actor, "specimen.note", "note", "1", None, note.model_dump()
            )
        response.headers["Location"] = f"{request.base_url}api/v1/{CONTEXT}/notes/1"
        response.set_cookie("specimen_a", "1", httponly=True)
        response.set_cookie("specimen_b", "2", httponly=True)
        return {"saved": note.text, "client": client}

    @router.get(f"{PREFIX}/export.csv")
    async def export(identity: CurrentIdentity, rows: int = 10) -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            yield b"row,miner,hashrate_th\n"
            for start in range(0, rows, CSV_CHUNK_ROWS):
                chunk = range(start, min(rows, start + CSV_CHUNK_ROWS))
                yield "".join(f"{row},M{row % 997:04d},{100 + row % 13}.5\n" for row in chunk).encode()

        headers = {"Content-Disposition": 'attachment; filename="specimen.csv"'}
        return StreamingResponse(lines(), media_type="text/csv", headers=headers)

    @router.get(f"{PREFIX}/blob")
    async def blob(identity: CurrentIdentity, size: int = 16) -> Response:
        return Response(b"x" * size, media_type="application/octet-stream")

    calls = [0]

    @router.get(f"{PREFIX}/slow")
    async def slow(identity: CurrentIdentity, seconds: float = 0.0) -> dict[str, float]:
        calls[0] += 1
        call = calls[0]
        await asyncio.sleep(seconds)
        return {"slept": seconds, "call": call}

    return router


def create_specimen_app(pg_dsn: str, overrides: Mapping[str, Any]) -> FastAPI:
    """The test service, connected as the API's role (which may read identities and write audit rows), and
    trusting the API on this machine as its proxy, as a deployment would."""
    settings = AccessSettings(
        **(
            {"database_url": dsn_as(pg_dsn, DatabaseRole.API), "api_trusted_proxies": ["127.0.0.1"]}
            | dict(overrides)
        )
    )
    return create_service_app(
        "windhash specimen (test)", settings, [specimen_router()], table=specimen_table()
    )
