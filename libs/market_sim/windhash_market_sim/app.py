"""The synthetic market server as a Starlette app: a mempool.space-style explorer and a CoinGecko-style price
API on one port, every answer labelled `X-Windhash-Synthetic: true`.

Explorer (mempool.space's paths and JSON):
- `GET /api/v1/mining/difficulty-adjustments/{1m|3m|6m|1y|2y|3y|all}` → `[[unix, height, difficulty,
  change]]`, newest first;
- `GET /api/v1/mining/hashrate/{3d|1w|1m|3m|6m|1y|2y|3y|all}` → `{"hashrates": [{"timestamp", "avgHashrate"}],
  "difficulty": [{"time", "height", "difficulty", "adjustment"}], "currentHashrate", "currentDifficulty"}`;
- `GET /api/v1/mining/blocks/timestamp/{unix}` → `{"height", "hash", "timestamp"}` (the last block at or
  before that time; 404 before the synthetic history starts).
Price API (CoinGecko's v3 paths and JSON):
- `GET /api/v3/simple/price?ids=bitcoin&vs_currencies=usd,gbp&include_24hr_vol=true
  &include_last_updated_at=true`;
- `GET /api/v3/coins/bitcoin/market_chart/range?vs_currency=usd|gbp&from=UNIX&to=UNIX` → `{"prices",
  "market_caps", "total_volumes"}`: 5-minute points for a range within a day, hourly up to 90 days, daily
  (00:00 UTC) beyond, none after now.
Admin: `POST|GET|DELETE /_sim/faults`, `GET /_sim/stats`, `POST /_sim/reset`, `GET /_sim/health`.
"""

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from windhash_sim_support.request_counts import RequestCounts

from windhash_market_sim import generator as market
from windhash_market_sim.faults import Endpoint, FaultBook, FaultRule, rewrite

SYNTHETIC_HEADER = "X-Windhash-Synthetic"
_LABEL = {SYNTHETIC_HEADER: "true"}
_PERIOD_DAYS = {
    "3d": 3,
    "1w": 7,
    "1m": 30,
    "3m": 90,
    "6m": 180,
    "1y": 365,
    "2y": 730,
    "3y": 1095,
    "all": None,
}
_ADJUSTMENT_PERIODS = ("1m", "3m", "6m", "1y", "2y", "3y", "all")
_COINS_IN_CIRCULATION = Decimal(19_600_000)
_MAX_CHART_POINTS = 20_000
_RULES = TypeAdapter(FaultRule | list[FaultRule])


@dataclass
class SimState:
    seed: int = market.DEFAULT_SEED
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    faults: FaultBook = field(default_factory=FaultBook)
    _served: RequestCounts = field(default_factory=RequestCounts)

    def count(self, key: str) -> None:
        self._served.count(key)

    def served(self) -> dict[str, int]:
        return self._served.served()

    def reset(self) -> None:
        self.faults.clear()
        self._served.clear()


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_number).encode()


def _answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(_encode(value), status, {**_LABEL, **(headers or {})}, media_type="application/json")


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def adjustments_body(state: SimState, period: str, now: datetime) -> Any:
    days = _PERIOD_DAYS[period]
    first = market.ANCHOR_TIME if days is None else now - timedelta(days=days)
    found = market.adjustments_between(state.seed, first, now)
    return [[_unix(a.at), a.height, a.difficulty, a.change] for a in reversed(found)]


def hashrate_body(state: SimState, period: str, now: datetime) -> Any:
    days = _PERIOD_DAYS[period]
    first = market.ANCHOR_TIME if days is None else now - timedelta(days=days)
    day = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    hashrates = []
    while day <= now:
        hashrates.append({"timestamp": _unix(day), "avgHashrate": market.hashrate_hs(state.seed, day)})
        day += timedelta(days=1)
    adjustments = [
        {"time": _unix(a.at), "height": a.height, "difficulty": a.difficulty, "adjustment": a.change}
        for a in market.adjustments_between(state.seed, first, now)
    ]
    return {
        "hashrates": hashrates,
        "difficulty": adjustments,
        "currentHashrate": market.hashrate_hs(state.seed, now),
        "currentDifficulty": market.difficulty_at(state.seed, now),
    }


def block_body(at: datetime) -> Any:
    height = market.height_at(at)
    return {
        "height": height,
        "hash": hashlib.sha256(f"synthetic block {height}".encode()).hexdigest(),
        "timestamp": market.block_time(height).isoformat().replace("+00:00", ".000Z"),
    }


def price_body(state: SimState, at: datetime) -> Any:
    usd, gbp = market.price_usd(state.seed, at), market.price_gbp(state.seed, at)
    volume = market.volume_usd(state.seed, at)
    return {
        "bitcoin": {
            "usd": usd,
            "usd_24h_vol": volume,
            "gbp": gbp,
            "gbp_24h_vol": (volume * market.gbp_per_usd(at)).quantize(Decimal(1)),
            "last_updated_at": _unix(at),
        }
    }


def chart_body(state: SimState, currency: str, start: datetime, end: datetime) -> Any:
    span = end - start
    step = 300 if span <= timedelta(days=1) else 3600 if span <= timedelta(days=90) else 86400
    first = -(-_unix(start) // step) * step
    times = range(first, _unix(end) + 1, step)
    if len(times) > _MAX_CHART_POINTS:
        raise ValueError(f"a range of more than {_MAX_CHART_POINTS} points")
    prices, caps, volumes = [], [], []
    for unix in times:
        at = datetime.fromtimestamp(unix, tz=UTC)
        rate = Decimal(1) if currency == "usd" else market.gbp_per_usd(at)
        price = market.price_usd(state.seed, at) if currency == "usd" else market.price_gbp(state.seed, at)
        prices.append([unix * 1000, price])
        caps.append([unix * 1000, (price * _COINS_IN_CIRCULATION).quantize(Decimal(1))])
        volumes.append([unix * 1000, (market.volume_usd(state.seed, at) * rate).quantize(Decimal(1))])
    return {"prices": prices, "market_caps": caps, "total_volumes": volumes}


async def _faulted(state: SimState, endpoint: Endpoint, build: Callable[[datetime], Any]) -> Response:
    """The answer `build(now)` gives, as the first matching fault rule (if any) changes it."""
    state.count(endpoint)
    now = state.clock()
    rule = state.faults.take(endpoint)
    if rule is None:
        return _answer(200, build(now))
    if rule.kind == "status":
        headers = {"Retry-After": f"{rule.retry_after:g}"} if rule.retry_after is not None else {}
        return _answer(rule.status, {"error": f"synthetic fault: HTTP {rule.status}"}, headers)
    if rule.kind == "payload":
        return Response(rule.body, 200, _LABEL, media_type="application/json")
    if rule.kind == "slow":
        await asyncio.sleep(rule.delay_s)
    if rule.kind == "stale":
        return _answer(200, build(now - timedelta(seconds=rule.delay_s)))
    body = build(now)
    if rule.kind == "malformed":
        encoded = _encode(body)
        return Response(encoded[: len(encoded) // 2], 200, _LABEL, media_type="application/json")
    if rule.kind in ("value", "missing_field"):
        body = rewrite(json.loads(_encode(body)), rule)
    return _answer(200, body)


def _bad_request(message: str) -> Response:
    return _answer(400, {"error": message})


async def adjustments(request: Request) -> Response:
    state: SimState = request.app.state.sim
    period = request.path_params["period"]
    if period not in _ADJUSTMENT_PERIODS:
        return _bad_request(f"unknown period {period}")
    return await _faulted(state, "adjustments", lambda now: adjustments_body(state, period, now))


async def hashrate(request: Request) -> Response:
    state: SimState = request.app.state.sim
    period = request.path_params["period"]
    if period not in _PERIOD_DAYS:
        return _bad_request(f"unknown period {period}")
    return await _faulted(state, "hashrate", lambda now: hashrate_body(state, period, now))


async def block_at(request: Request) -> Response:
    state: SimState = request.app.state.sim
    try:
        at = datetime.fromtimestamp(int(request.path_params["timestamp"]), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return _bad_request("timestamp must be a unix time")
    if at < market.ANCHOR_TIME:
        return _answer(404, {"error": "before the synthetic history"})
    return await _faulted(state, "block", lambda now: block_body(min(at, now)))


async def simple_price(request: Request) -> Response:
    state: SimState = request.app.state.sim
    query = request.query_params
    currencies = set(query.get("vs_currencies", "").split(","))
    if query.get("ids") != "bitcoin" or not currencies <= {"usd", "gbp"}:
        return _bad_request("this server knows ids=bitcoin in usd and gbp")
    return await _faulted(state, "price", lambda now: price_body(state, now))


async def market_chart_range(request: Request) -> Response:
    state: SimState = request.app.state.sim
    query = request.query_params
    currency = query.get("vs_currency", "")
    try:
        start = datetime.fromtimestamp(int(query["from"]), tz=UTC)
        end = datetime.fromtimestamp(int(query["to"]), tz=UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        return _bad_request("from and to must be unix times")
    if currency not in ("usd", "gbp") or start > end:
        return _bad_request("vs_currency usd|gbp and from <= to")
    try:
        return await _faulted(
            state,
            "chart",
            lambda now: chart_body(state, currency, max(start, market.ANCHOR_TIME), min(end, now)),
        )
    except ValueError as error:
        return _bad_request(str(error))


async def faults(request: Request) -> Response:
    state: SimState = request.app.state.sim
    if request.method == "POST":
        try:
            parsed = _RULES.validate_json(await request.body())
        except ValidationError as error:
            return JSONResponse({"error": error.errors(include_url=False)}, 422)
        for rule in parsed if isinstance(parsed, list) else [parsed]:
            state.faults.add(rule)
    elif request.method == "DELETE":
        state.faults.clear()
    return JSONResponse([fault.model_dump(mode="json") for fault in state.faults.snapshot()])


async def stats(request: Request) -> Response:
    return JSONResponse(request.app.state.sim.served())


async def reset(request: Request) -> Response:
    request.app.state.sim.reset()
    return JSONResponse({"reset": True})


async def health(request: Request) -> Response:
    return _answer(200, {"status": "ok", "synthetic": True})


def build_app(state: SimState) -> Starlette:
    app = Starlette(
        routes=[
            Route("/api/v1/mining/difficulty-adjustments/{period}", adjustments),
            Route("/api/v1/mining/hashrate/{period}", hashrate),
            Route("/api/v1/mining/blocks/timestamp/{timestamp}", block_at),
            Route("/api/v3/simple/price", simple_price),
            Route("/api/v3/coins/bitcoin/market_chart/range", market_chart_range),
            Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
            Route("/_sim/stats", stats),
            Route("/_sim/reset", reset, methods=["POST"]),
            Route("/_sim/health", health),
        ]
    )
    app.state.sim = state
    return app
