"""The synthetic Elexon Insights API as an ASGI app (`SimApp`, Starlette behind it), with admin endpoints for
faults and revisions.

Served under `/bmrs/api/v1`, as the real API is:
- `GET /balancing/settlement/stack/all/{bid|offer}/{date}/{period}` → `{"data": [...], "metadata": {...}}`;
  a period the day does not have (49 on a 48-period day, 47 on a spring clock-change day), a bad date or a bad
  side → 400 with a validation problem body, never an empty `data`, so a client asking the wrong question
  hears so.
- `GET /reference/bmunits/all` → a JSON array of `BmUnitData`.
- `GET /balancing/pricing/market-index?from=&to=[&settlementPeriodFrom=&settlementPeriodTo=&dataProviders=]`
  → `{"data": [...]}`, Market Index Data per period and provider (`market_index.py`).
- `GET /datasets/FUELHH` and `GET /generation/actual/per-type/wind-and-solar`: generation outturn by fuel
  type and actual wind (and solar) generation (generation.py), through Starlette.
Every response carries `X-Windhash-Synthetic: true`, and the stack's metadata says `"synthetic": true` (the
one field the real schema does not have), so synthetic data can never pass for Elexon's.

Admin (not part of Elexon's API): `POST|GET|DELETE /_sim/faults`, `POST|GET /_sim/revisions`, `GET
/_sim/stats`, `POST /_sim/reset`, `GET /_sim/health`.

A GET of the two Elexon endpoints is answered by `SimApp` itself, as plain ASGI messages, and everything else
by Starlette: a year's backfill is 17,568 stack requests, and the router, the middleware stack and the
`Request`/`Response` objects cost more CPU per request than building the answer's messages. Both ways share
`stack_answer`/`bm_units_answer`, so they answer the same.
"""

import asyncio
import json
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import to_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from windhash_common.settlement_calendar import dates_between, settlement_periods
from windhash_sim_support.request_counts import RequestCounts

from windhash_elexon_sim.answers import (
    JSON_HEADER,
    SYNTHETIC_LABEL,
    Answer,
    prepare_fault,
    send_in_pieces,
    streaming_fault,
)
from windhash_elexon_sim.faults import Endpoint, FaultBook, FaultRule
from windhash_elexon_sim.generation import checked_range, fuelhh_rows, wind_and_solar_rows
from windhash_elexon_sim.generator import DEFAULT_SEED, Side, settlement_stack, shared_stack
from windhash_elexon_sim.market_index import MARKET_INDEX_PATH, QueryProblem, market_index
from windhash_elexon_sim.units import bm_unit_reference, wind_unit_ids

API_PREFIX = "/bmrs/api/v1"
STACK_PATH = API_PREFIX + "/balancing/settlement/stack/all/"
BM_UNITS_PATH = API_PREFIX + "/reference/bmunits/all"
FUELHH_PATH = API_PREFIX + "/datasets/FUELHH"
WIND_AND_SOLAR_PATH = API_PREFIX + "/generation/actual/per-type/wind-and-solar"
_LABEL = SYNTHETIC_LABEL
_JSON = JSON_HEADER
_STACK_METADATA = {"datasets": ["ISPSTACK"], "synthetic": True}


@dataclass
class SimState:
    """Everything the server remembers; tests in the same process may change it directly."""

    seed: int = DEFAULT_SEED
    latency_s: float = 0.0
    faults: FaultBook = field(default_factory=FaultBook)
    _revisions: dict[tuple[date, int], int] = field(default_factory=dict)
    _served: RequestCounts = field(default_factory=RequestCounts)
    # Bid-stack bodies rendered ahead of the first request (`prerender`), served while the period is neither
    # revised nor hit by a fault.
    _prerendered: dict[tuple[date, int], bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Units the reference endpoint no longer lists (a farm Elexon retired): their stack rows are still served.
    withdrawn_units: set[str] = field(default_factory=set)

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

    def prerender(self, first: date, last: date) -> int:
        """Render the bid stacks of every period from `first` to `last` now, so serving them later costs only
        the sending: the benchmark times windhash's pipeline, not the simulator's data generation (which the
        real Elexon does on its own servers). Returns the number of bodies held."""
        for day in dates_between(first, last):
            for period in settlement_periods(day):
                rows = shared_stack(day, period, "bid", 0, self.seed)
                self._prerendered[(day, period)] = _stack_body(rows)
        return len(self._prerendered)

    def prerendered(self, side: Side, settlement_date: date, settlement_period: int) -> bytes | None:
        if side != "bid":
            return None
        return self._prerendered.get((settlement_date, settlement_period))

    def count(self, key: str) -> None:
        self._served.count(key)

    def served(self) -> dict[str, int]:
        return self._served.served()

    def reset(self) -> None:
        self.faults.clear()
        self._served.clear()
        with self._lock:
            self._revisions.clear()
            self.withdrawn_units.clear()


class _RevisionRequest(BaseModel):
    settlement_date: date = Field(alias="date")
    period: int


_RULES = TypeAdapter(FaultRule | list[FaultRule])


def _json(value: Any) -> bytes:
    # pydantic-core's serialiser, in under a third of json.dumps's CPU, and the same bytes as
    # json.dumps(value, separators=(",", ":")) for what is served here: ASCII text, and numbers rounded to at
    # most 7 decimals that are 0 or at least 1e-4 in size, which both write as repr does (they differ below).
    return to_json(value)


def _stack_body(rows: Sequence[dict[str, Any]]) -> bytes:
    return _json({"data": rows, "metadata": _STACK_METADATA})


def _problem(errors: dict[str, list[str]]) -> Answer:
    body = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": errors,
    }
    return Answer(400, _json(body))


def _parse_stack_path(side_text: str, date_text: str, period_text: str) -> tuple[Side, date, int] | Answer:
    if side_text not in ("bid", "offer"):
        return _problem({"bidOffer": [f"The value '{side_text}' is not valid; use bid or offer."]})
    side: Side = "bid" if side_text == "bid" else "offer"
    try:
        settlement_date = date.fromisoformat(date_text)
    except ValueError:
        return _problem({"settlementDate": ["The settlement date must be in the format yyyy-MM-dd."]})
    try:
        settlement_period = int(period_text)
    except ValueError:
        return _problem({"settlementPeriod": ["The settlement period must be an integer."]})
    return side, settlement_date, settlement_period


def _damage_rows(rows: list[dict[str, Any]], rule: FaultRule) -> None:
    wind = wind_unit_ids()
    targets = rows
    if not rule.all_rows:
        candidates = [r for r in rows if r["id"] in wind and r["soFlag"] is True and r["volume"] < 0]
        targets = candidates or rows[:1]
    _damage(targets, rule)


def _damage(rows: list[dict[str, Any]], rule: FaultRule) -> None:
    """`missing_field` drops the rule's field from each row, `null_field` sets it to null."""
    for row in rows:
        if rule.kind == "missing_field":
            row.pop(rule.field, None)
        else:
            row[rule.field] = None


async def _answer_before_body(state: SimState, rule: FaultRule | None) -> Answer | None:
    """The server's latency, then the answer a rule gives instead of the body (`status`, `payload`), after
    its delay (`slow`); None: the body is to be made."""
    if state.latency_s > 0:
        await asyncio.sleep(state.latency_s)
    if rule is None:
        return None
    if rule.kind == "slow":
        await asyncio.sleep(rule.delay_s)
    if rule.kind == "status":
        return _fault_answer(rule)
    if rule.kind == "payload":
        return Answer(200, rule.body)
    return None


def _body_answer(rule: FaultRule | None, body: bytes) -> Answer:
    """The body as the rule has it served: cut in half (`malformed`) or shaped in transit (bombs, oversized,
    trickle)."""
    if rule is not None and rule.kind == "malformed":
        body = body[: len(body) // 2]
    if rule is not None:
        return streaming_fault(rule, body) or Answer(200, body)
    return Answer(200, body)


def _fault_answer(rule: FaultRule) -> Answer:
    headers = () if rule.retry_after is None else ((b"retry-after", f"{rule.retry_after:g}".encode()),)
    body = {"status": rule.status, "title": "Injected fault (windhash-elexon-sim)"}
    return Answer(rule.status, _json(body), headers)


async def stack_answer(state: SimState, side_text: str, date_text: str, period_text: str) -> Answer:
    """`GET /balancing/settlement/stack/all/{side_text}/{date_text}/{period_text}`, faults applied."""
    parsed = _parse_stack_path(side_text, date_text, period_text)
    if isinstance(parsed, Answer):
        return parsed
    side, settlement_date, settlement_period = parsed
    state.count("stack")
    rule = state.faults.take("stack", settlement_date, settlement_period, side)
    if (instead := await _answer_before_body(state, rule)) is not None:
        return instead
    revision = state.revision(settlement_date, settlement_period)
    if rule is None and revision == 0:
        ready = state.prerendered(side, settlement_date, settlement_period)
        if ready is not None:
            return Answer(200, ready)
    rows: tuple[dict[str, Any], ...] | list[dict[str, Any]]
    try:
        if rule is not None and rule.kind in ("missing_field", "null_field"):
            rows = settlement_stack(settlement_date, settlement_period, side, revision, state.seed)
            _damage_rows(rows, rule)
        else:  # only read: the generator's cached rows, not a copy
            rows = shared_stack(settlement_date, settlement_period, side, revision, state.seed)
    except ValueError as error:
        return _problem({"settlementPeriod": [str(error)]})
    return _body_answer(rule, _stack_body(rows))


async def bm_units_answer(state: SimState) -> Answer:
    """`GET /reference/bmunits/all`, faults applied."""
    state.count("bmunits")
    rule = state.faults.take("bmunits")
    if rule is not None and rule.kind == "status":
        return _fault_answer(rule)
    units = bm_unit_reference(state.seed)
    if state.withdrawn_units:
        units = [unit for unit in units if unit["elexonBmUnit"] not in state.withdrawn_units]
    if rule is not None and rule.kind == "payload":
        return Answer(200, rule.body)
    return _body_answer(rule, _json(units))


async def market_index_answer(state: SimState, params: dict[str, str], providers: list[str]) -> Answer:
    """`GET /balancing/pricing/market-index`, faults applied."""
    state.count("market_index")
    rule = state.faults.take("market_index")
    if state.latency_s > 0:
        await asyncio.sleep(state.latency_s)
    if rule is not None and rule.kind == "status":
        return _fault_answer(rule)
    if rule is not None and rule.kind == "slow":
        await asyncio.sleep(rule.delay_s)
    try:
        rows = market_index(params, providers, state.seed)
    except QueryProblem as problem:
        return _problem({problem.field: [str(problem)]})
    body = _json({"data": rows, "metadata": {"datasets": ["MID"], "synthetic": True}})
    if rule is not None and rule.kind == "malformed":
        body = body[: len(body) // 2]
    return Answer(200, body)


async def generation_answer(
    state: SimState, endpoint: Endpoint, first_day: date, rows: list[dict[str, Any]]
) -> Answer:
    """A FUELHH or AGWS answer (`{"data": rows}`), faults applied: a rule's `date` matches the first day
    asked; `missing_field` / `null_field` damage `field` in the first row, or in every row with `all_rows`."""
    state.count(endpoint)
    rule = state.faults.take(endpoint, first_day)
    if (instead := await _answer_before_body(state, rule)) is not None:
        return instead
    if rule is not None and rule.kind in ("missing_field", "null_field"):
        _damage(rows if rule.all_rows else rows[:1], rule)
    return _body_answer(rule, _json({"data": rows}))


def _response(answer: Answer) -> Response:
    headers = {name.decode(): value.decode() for name, value in answer.headers}
    return Response(answer.body, status_code=answer.status, media_type="application/json", headers=headers)


class SimApp:
    """The ASGI app: a GET of an Elexon endpoint is answered here, anything else by the Starlette app (the
    admin endpoints, HEAD, 404s, 405s). Every response is labelled synthetic, errors included."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self.starlette = _starlette_app(state)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answering = self._elexon(scope)
        if answering is None:
            await self.starlette(scope, receive, send)
            return
        try:
            answer = await answering
        except Exception:
            # What Starlette's ServerErrorMiddleware would send, labelled; uvicorn logs the error.
            await _send(
                send, 500, b"Internal Server Error", ((b"content-type", b"text/plain; charset=utf-8"),)
            )
            raise
        if answer.chunk:
            await send_in_pieces(send, receive, answer)
            return
        await _send(send, answer.status, answer.body, (_JSON, *answer.headers))

    def _elexon(self, scope: Scope) -> Coroutine[Any, Any, Answer] | None:
        """The answer to come, for a GET of an Elexon endpoint (the paths Starlette's routes would match)."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if path.startswith(STACK_PATH):
            parts = path[len(STACK_PATH) :].split("/")
            if len(parts) == 3 and all(parts):
                return stack_answer(self.state, *parts)
        elif path == BM_UNITS_PATH:
            return bm_units_answer(self.state)
        return None


async def _send(send: Send, status: int, body: bytes, headers: tuple[tuple[bytes, bytes], ...]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", b"%d" % len(body)), *headers, _LABEL],
        }
    )
    await send({"type": "http.response.body", "body": body})


def build_app(state: SimState) -> SimApp:
    return SimApp(state)


def _starlette_app(state: SimState) -> Starlette:
    async def stack(request: Request) -> Response:
        params = request.path_params
        answer = await stack_answer(
            state, params["side"], params["settlement_date"], params["settlement_period"]
        )
        return _response(answer)

    async def bm_units(request: Request) -> Response:
        return _response(await bm_units_answer(state))

    async def market_index_route(request: Request) -> Response:
        providers = [
            name for value in request.query_params.getlist("dataProviders") for name in value.split(",")
        ]
        params = {key: value for key, value in request.query_params.items() if key != "dataProviders"}
        return _response(await market_index_answer(state, params, [name for name in providers if name]))

    async def fuel_outturn(request: Request) -> Response:
        query = request.query_params
        asked = checked_range(query.get("settlementDateFrom"), query.get("settlementDateTo"))
        if isinstance(asked, str):
            return _response(_problem({"settlementDate": [asked]}))
        rows = fuelhh_rows(state.seed, *asked, query.get("fuelType"))
        return _response(await generation_answer(state, "fuelhh", asked[0], rows))

    async def wind_and_solar(request: Request) -> Response:
        query = request.query_params
        asked = checked_range(query.get("from"), query.get("to"))
        if isinstance(asked, str):
            return _response(_problem({"from": [asked]}))
        try:
            periods = int(query.get("settlementPeriodFrom", "1")), int(query.get("settlementPeriodTo", "50"))
        except ValueError:
            return _response(_problem({"settlementPeriod": ["send whole numbers"]}))
        rows = wind_and_solar_rows(state.seed, *asked, *periods)
        return _response(await generation_answer(state, "wind_and_solar", asked[0], rows))

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
                await prepare_fault(rule)
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
        Route(STACK_PATH + "{side}/{settlement_date}/{settlement_period}", stack),
        Route(BM_UNITS_PATH, bm_units),
        Route(API_PREFIX + MARKET_INDEX_PATH, market_index_route),
        Route(FUELHH_PATH, fuel_outturn),
        Route(WIND_AND_SOLAR_PATH, wind_and_solar),
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
                message["headers"] = [*message.get("headers", []), _LABEL]
            await send(message)

        await self.app(scope, receive, labelled)
