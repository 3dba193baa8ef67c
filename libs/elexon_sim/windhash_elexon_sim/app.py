"""The synthetic Elexon Insights API as an ASGI app (Starlette), with admin endpoints for faults and
revisions.

Served under `/bmrs/api/v1`, as the real API is:
- `GET /balancing/settlement/stack/all/{bid|offer}/{date}/{period}` → `{"data": [...], "metadata": {...}}`;
  a period the day does not have (49 on a 48-period day, 47 on a spring clock-change day), a bad date or a bad
  side → 400 with a validation problem body, never an empty `data`, so a client asking the wrong question
  hears so.
- `GET /reference/bmunits/all` → a JSON array of `BmUnitData`.
Every response carries `X-Windhash-Synthetic: true`, and the stack's metadata says `"synthetic": true` (the
one field the real schema does not have), so synthetic data can never pass for Elexon's.

Admin (not part of Elexon's API): `POST|GET|DELETE /_sim/faults`, `POST|GET /_sim/revisions`, `GET
/_sim/stats`, `POST /_sim/reset`, `GET /_sim/health`.
"""

import asyncio
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from windhash_elexon_sim.faults import FaultBook, FaultRule
from windhash_elexon_sim.generator import DEFAULT_SEED, Side, settlement_stack
from windhash_elexon_sim.units import bm_unit_reference, wind_unit_ids

API_PREFIX = "/bmrs/api/v1"
SYNTHETIC_HEADER = "X-Windhash-Synthetic"


@dataclass
class SimState:
    """Everything the server remembers; tests in the same process may change it directly."""

    seed: int = DEFAULT_SEED
    latency_s: float = 0.0
    faults: FaultBook = field(default_factory=FaultBook)
    _revisions: dict[tuple[date, int], int] = field(default_factory=dict)
    _served: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def revise(self, settlement_date: date, settlement_period: int) -> int:
        """Make the next fetch of this period (both sides) return revised content; returns the revision."""
        with self._lock:
            key = (settlement_date, settlement_period)
            self._revisions[key] = self._revisions.get(key, 0) + 1
            return self._revisions[key]

    def revision(self, settlement_date: date, settlement_period: int) -> int:
        with self._lock:
            return self._revisions.get((settlement_date, settlement_period), 0)

    def revisions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"date": day.isoformat(), "period": period, "revision": revision}
                for (day, period), revision in sorted(self._revisions.items())
            ]

    def count(self, key: str) -> None:
        with self._lock:
            self._served[key] += 1

    def served(self) -> dict[str, int]:
        with self._lock:
            return dict(self._served)

    def reset(self) -> None:
        self.faults.clear()
        with self._lock:
            self._revisions.clear()
            self._served.clear()


class _RevisionRequest(BaseModel):
    settlement_date: date = Field(alias="date")
    period: int


_RULES = TypeAdapter(FaultRule | list[FaultRule])


def _problem(errors: dict[str, list[str]]) -> JSONResponse:
    body = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": errors,
    }
    return JSONResponse(body, status_code=400)


def _parse_stack_path(request: Request) -> tuple[Side, date, int] | JSONResponse:
    asked = request.path_params["side"]
    if asked not in ("bid", "offer"):
        return _problem({"bidOffer": [f"The value '{asked}' is not valid; use bid or offer."]})
    side: Side = "bid" if asked == "bid" else "offer"
    try:
        settlement_date = date.fromisoformat(request.path_params["settlement_date"])
    except ValueError:
        return _problem({"settlementDate": ["The settlement date must be in the format yyyy-MM-dd."]})
    try:
        settlement_period = int(request.path_params["settlement_period"])
    except ValueError:
        return _problem({"settlementPeriod": ["The settlement period must be an integer."]})
    return side, settlement_date, settlement_period


def _damage_rows(rows: list[dict[str, Any]], rule: FaultRule) -> None:
    wind = wind_unit_ids()
    targets = rows
    if not rule.all_rows:
        candidates = [r for r in rows if r["id"] in wind and r["soFlag"] is True and r["volume"] < 0]
        targets = candidates or rows[:1]
    for row in targets:
        if rule.kind == "missing_field":
            row.pop(rule.field, None)
        else:
            row[rule.field] = None


def _fault_response(rule: FaultRule) -> Response:
    headers = {} if rule.retry_after is None else {"Retry-After": f"{rule.retry_after:g}"}
    body = {"status": rule.status, "title": "Injected fault (windhash-elexon-sim)"}
    return JSONResponse(body, status_code=rule.status, headers=headers)


def build_app(state: SimState) -> Starlette:
    async def stack(request: Request) -> Response:
        parsed = _parse_stack_path(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        side, settlement_date, settlement_period = parsed
        state.count("stack")
        rule = state.faults.take("stack", settlement_date, settlement_period, side)
        if state.latency_s > 0:
            await asyncio.sleep(state.latency_s)
        if rule is not None and rule.kind == "status":
            return _fault_response(rule)
        if rule is not None and rule.kind == "slow":
            await asyncio.sleep(rule.delay_s)
        if rule is not None and rule.kind == "payload":
            return Response(rule.body, media_type="application/json")
        revision = state.revision(settlement_date, settlement_period)
        try:
            rows = settlement_stack(settlement_date, settlement_period, side, revision, state.seed)
        except ValueError as error:
            return _problem({"settlementPeriod": [str(error)]})
        if rule is not None and rule.kind in ("missing_field", "null_field"):
            _damage_rows(rows, rule)
        metadata = {"datasets": ["ISPSTACK"], "synthetic": True}
        text = json.dumps({"data": rows, "metadata": metadata}, separators=(",", ":"))
        if rule is not None and rule.kind == "malformed":
            text = text[: len(text) // 2]
        return Response(text, media_type="application/json")

    async def bm_units(request: Request) -> Response:
        state.count("bmunits")
        rule = state.faults.take("bmunits")
        if rule is not None and rule.kind == "status":
            return _fault_response(rule)
        text = json.dumps(bm_unit_reference(state.seed), separators=(",", ":"))
        if rule is not None and rule.kind == "malformed":
            text = text[: len(text) // 2]
        return Response(text, media_type="application/json")

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
            return Response(status_code=204)
        if request.method == "POST":
            try:
                parsed = _RULES.validate_json(await request.body())
            except ValidationError as error:
                return JSONResponse({"errors": json.loads(error.json())}, status_code=422)
            for rule in parsed if isinstance(parsed, list) else [parsed]:
                state.faults.add(rule)
        return JSONResponse([fault.model_dump(mode="json") for fault in state.faults.snapshot()])

    async def revisions(request: Request) -> Response:
        if request.method == "POST":
            try:
                asked = _RevisionRequest.model_validate_json(await request.body())
            except ValidationError as error:
                return JSONResponse({"errors": json.loads(error.json())}, status_code=422)
            revision = state.revise(asked.settlement_date, asked.period)
            return JSONResponse(
                {"date": asked.settlement_date.isoformat(), "period": asked.period, "revision": revision}
            )
        return JSONResponse(state.revisions())

    async def stats(request: Request) -> Response:
        return JSONResponse({"served": state.served()})

    async def reset(request: Request) -> Response:
        state.reset()
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "synthetic": True, "seed": state.seed})

    routes = [
        Route(
            API_PREFIX + "/balancing/settlement/stack/all/{side}/{settlement_date}/{settlement_period}", stack
        ),
        Route(API_PREFIX + "/reference/bmunits/all", bm_units),
        Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sim/revisions", revisions, methods=["GET", "POST"]),
        Route("/_sim/stats", stats),
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/health", health),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(_SyntheticLabel)
    return app


class _SyntheticLabel:
    """Labels every response, errors included, as synthetic."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (SYNTHETIC_HEADER.lower().encode(), b"true"),
                ]
            await send(message)

        await self.app(scope, receive, labelled)
